// A size-bucketed pool of storage buffers: released buffers wait in their bucket for the next request of
// that bucket size instead of being destroyed, so a forward pass repeated in a loop allocates nothing.
import type { MemoryInfo } from '../backend.js';

/** Bucket size for a request: at least 256 bytes, then powers of two up to 1 MiB, then multiples of 1 MiB. */
export function bucketSize(bytes: number): number {
  const b = Math.max(256, bytes);
  if (b <= 1 << 20) return 2 ** Math.ceil(Math.log2(b));
  return Math.ceil(b / (1 << 20)) * (1 << 20);
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private live = 0;
  private liveBytes = 0;
  private pooled = 0;
  private pooledBytes = 0;

  constructor(private readonly device: GPUDevice, private readonly usage: GPUBufferUsageFlags) {}

  /** A buffer of at least `bytes` bytes (its real size is the bucket size). */
  acquire(bytes: number, label?: string): GPUBuffer {
    const size = bucketSize(bytes);
    const list = this.free.get(size);
    let buf = list?.pop();
    if (buf) {
      this.pooled--;
      this.pooledBytes -= size;
    } else {
      buf = this.device.createBuffer({ size, usage: this.usage, ...(label ? { label } : {}) });
    }
    this.live++;
    this.liveBytes += size;
    return buf;
  }

  /** Give a buffer back to its bucket. Work already recorded that uses it stays valid (later users are ordered after it). */
  release(buf: GPUBuffer): void {
    this.live--;
    this.liveBytes -= buf.size;
    const list = this.free.get(buf.size) ?? [];
    list.push(buf);
    this.free.set(buf.size, list);
    this.pooled++;
    this.pooledBytes += buf.size;
  }

  /** Destroy every pooled buffer (call when the queue is idle). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooled = 0;
    this.pooledBytes = 0;
  }

  memory(): MemoryInfo {
    return { liveBytes: this.liveBytes, liveBuffers: this.live, pooledBytes: this.pooledBytes, pooledBuffers: this.pooled };
  }
}
