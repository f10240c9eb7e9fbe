// Reference-counted device storage shared by a tensor and its views.
import type { Backend } from '../backends/backend.js';
import type { DType } from './dtype.js';

/** A block of device memory holding `size` elements of `dtype`. Views share it; the last `release()` frees it. */
export class Storage {
  private refs = 1;
  constructor(
    readonly backend: Backend,
    readonly handle: unknown,
    readonly dtype: DType,
    readonly size: number,
  ) {}

  get released(): boolean {
    return this.refs <= 0;
  }

  retain(): void {
    if (this.refs <= 0) throw new Error('forwardpass: cannot make a view of a disposed tensor');
    this.refs++;
  }

  release(): void {
    if (this.refs <= 0) return;
    if (--this.refs === 0) this.backend.release(this.handle, this.dtype, this.size);
  }
}
