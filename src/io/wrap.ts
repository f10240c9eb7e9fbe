// Tensors over existing storage arrays: zero-copy on the CPU backend (the tensor aliases the array, e.g. a
// view into file bytes), one copy on any other device. Used by the safetensors / .npy / fixture readers.
import { type DType, storageMatches, type StorageArray } from '../tensor/dtype.js';
import { checkShape, numel, shapeStr, type Shape } from '../tensor/shape.js';
import { Storage } from '../tensor/storage.js';
import { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../tensor/device.js';
import { fromData } from '../tensor/creation.js';
import type { Backend } from '../backends/backend.js';

/**
 * Storage the backend did not allocate: reference counting as usual, but the last release hands nothing back to
 * the backend (the memory belongs to the array's owner and is freed by the garbage collector). Such buffers are
 * not counted in `backend.memory()`.
 */
class ExternalStorage extends Storage {
  private holds = 1;
  constructor(backend: Backend, array: StorageArray, dtype: DType) {
    super(backend, array, dtype, array.length, false);
  }
  override get released(): boolean {
    return this.holds <= 0;
  }
  override retain(): void {
    if (this.holds <= 0) throw new Error('forwardpass: cannot make a view of a disposed tensor');
    this.holds++;
  }
  override release(): void {
    if (this.holds > 0) this.holds--;
  }
}

export interface WrapOptions {
  /** Backend name; default: the default device. */
  device?: string;
}

/**
 * A tensor over `store` (the dtype's storage array: Uint16Array halves for float16, Uint8Array 0/1 for bool).
 * On the CPU backend no copy is made: the tensor reads `store` directly, so later writes to `store` (or to the
 * ArrayBuffer under it) show through, and the memory is not counted by `memory()`. On other devices the values
 * are uploaded (a copy). Use it to build tensors over file bytes you keep unchanged.
 *
 * @example const t = wrapStorage(new Float32Array([1, 2, 3, 4]), [2, 2], 'float32');
 */
export function wrapStorage(store: StorageArray, shape: Shape, dtype: DType, opts: WrapOptions = {}): Tensor {
  checkShape(shape, 'wrapStorage shape');
  if (!storageMatches(dtype, store)) {
    throw new TypeError(`forwardpass: wrapStorage: a ${dtype} tensor needs ${dtype === 'float16' ? 'Uint16Array' : dtype} storage, got ${store.constructor.name}`);
  }
  const n = numel(shape);
  if (store.length !== n) throw new RangeError(`forwardpass: wrapStorage: ${store.length} elements do not fill shape ${shapeStr(shape)} (${n} elements)`);
  const backend = getBackend(opts.device);
  if (backend.name !== 'cpu') return fromData(store, shape, dtype, backend);
  return new Tensor(new ExternalStorage(backend, store, dtype), dtype, shape);
}

/**
 * The raw storage elements of `t` in row-major order (Uint16Array halves for float16), read back from its
 * device; a copy on every backend. `what` names the caller in errors.
 *
 * @example const halves = await readStorage(fp16Tensor, 'export') as Uint16Array;
 */
export async function readStorage(t: Tensor, what: string): Promise<StorageArray> {
  if (!t || (t as { __isTensor?: boolean }).__isTensor !== true) {
    throw new TypeError(`forwardpass: ${what}: expected a Tensor, got ${t === null ? 'null' : typeof t}`);
  }
  t.assertAlive(what);
  const c = t.isContiguous() ? t : t.contiguous();
  try {
    const raw = await c.storage.backend.read(c.storage.handle, c.dtype, c.storage.size);
    return raw.subarray(c.offset, c.offset + c.size) as StorageArray;
  } finally {
    if (c !== t) c.dispose();
  }
}
