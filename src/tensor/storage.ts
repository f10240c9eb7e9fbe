// Reference-counted device storage shared by a tensor and its views; storage the garbage collector frees without
// dispose() is given back to its backend (see lifetime.ts).
import type { Backend } from '../backends/backend.js';
import type { DType } from './dtype.js';
import { unwatchStorage, watchStorage } from './lifetime.js';

let nextSerial = 0;

/** The serial number the next storage made will have (storages are numbered in order of creation). */
export function nextStorageSerial(): number {
  return nextSerial;
}

/** A block of device memory holding `size` elements of `dtype`. Views share it; the last `release()` frees it. */
export class Storage {
  /** Tensors holding this storage (shared with its finalizer, which counts them as leaked). */
  private readonly refs = { n: 1 };
  /** Order of creation: tells storages made during a span of time (an ONNX graph capture) from older ones. */
  readonly serial = nextSerial++;
  /**
   * @param counted the backend allocated `handle` and counts it in memory(): a storage collected without dispose()
   *   is then released to it (false for memory owned elsewhere, see wrapStorage).
   */
  constructor(
    readonly backend: Backend,
    readonly handle: unknown,
    readonly dtype: DType,
    readonly size: number,
    readonly counted = true,
  ) {
    if (counted) watchStorage(this, backend, handle, dtype, size, this.refs);
  }

  get released(): boolean {
    return this.refs.n <= 0;
  }

  retain(): void {
    if (this.refs.n <= 0) throw new Error('forwardpass: cannot make a view of a disposed tensor');
    this.refs.n++;
  }

  release(): void {
    if (this.refs.n <= 0) return;
    if (--this.refs.n === 0) {
      if (this.counted) unwatchStorage(this);
      this.backend.release(this.handle, this.dtype, this.size);
    }
  }
}
