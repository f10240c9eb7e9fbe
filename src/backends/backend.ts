// The backend interface: the few things every device must do (allocate, write, read, run a kernel, release).
import type { DType, StorageArray } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import type { OpAttrs, OpName } from '../ops/attrs.js';

/** Live and pooled memory of a backend, in bytes and buffer counts. */
export interface MemoryInfo {
  liveBytes: number;
  liveBuffers: number;
  pooledBytes: number;
  pooledBuffers: number;
  /** Bytes of kernel-specific copies derived from live tensors (CPU: lane-packed int8 weights, 2 bytes a weight). */
  cacheBytes?: number;
  /**
   * Buffers (and bytes) of tensors the garbage collector freed without dispose(): they no longer count as live, so
   * liveBuffers + leaked moves only with allocations and dispose(), whenever the collector runs. leakReport() says
   * how many tensors that was and where they were made.
   */
  leaked?: number;
  leakedBytes?: number;
}

/**
 * A device that stores tensors and runs kernels. Kernels receive the input tensors (views with
 * shape/strides/offset over `storage.handle`) and freshly allocated contiguous outputs.
 */
export interface Backend {
  /** 'cpu', 'webgpu', ... */
  readonly name: string;
  /**
   * The garbage collector frees this backend's handles by itself (CPU typed arrays): storage collected without
   * dispose() is then released with an undefined handle, only to be taken off the counts, and the handle is not
   * kept alive until that happens. Otherwise the handle itself is released (WebGPU: back to the buffer pool).
   */
  readonly collectsHandles?: boolean;
  /** Allocate room for `size` elements of `dtype`; returns an opaque handle (a typed array on CPU). */
  alloc(dtype: DType, size: number): unknown;
  /**
   * Take ownership of a storage array the caller made (a loader's decoded weights) as a handle, without a copy, and
   * count it like alloc's. Backends whose handles are not typed arrays leave it out (the caller uploads instead).
   */
  adopt?(dtype: DType, store: StorageArray): unknown;
  /** Copy `data` (the dtype's storage array, `size` elements) into a handle. */
  write(handle: unknown, dtype: DType, data: StorageArray): void;
  /** Read a whole handle back as the dtype's storage array (a copy). */
  read(handle: unknown, dtype: DType, size: number): Promise<StorageArray>;
  /** Synchronous read, where the device allows it (CPU). */
  readSync?(handle: unknown, dtype: DType, size: number): StorageArray;
  /** Run kernel `op`, writing `outputs` from `inputs`. */
  run<K extends OpName>(op: K, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: OpAttrs[K]): void;
  /** Give a handle back (to a pool or the garbage collector). */
  release(handle: unknown, dtype: DType, size: number): void;
  /** Live/pooled memory accounting. */
  memory(): MemoryInfo;
  /** Wait until queued work is done (no-op on CPU). */
  sync?(): Promise<void>;
  /** Kernel variant that `run` would use for `op` (for traces), when the backend has several. */
  variant?(op: OpName, inputs: readonly Tensor[], attrs: unknown): string;
}
