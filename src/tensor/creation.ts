// Creating tensors: from typed or nested arrays, zeros/ones/full, arange, seeded random numbers.
import { allocStorage, type DataArray, type DType, dtypeOfArray, dtypeBytes, f32ArrayToF16, isDType, storageMatches, type StorageArray } from './dtype.js';
import { checkShape, numel, shapeStr, type Shape } from './shape.js';
import { Storage } from './storage.js';
import { Tensor, type NestedArray } from './tensor.js';
import { getBackend } from './device.js';
import type { Backend } from '../backends/backend.js';

export interface CreateOptions {
  dtype?: DType;
  /** Backend name; default: the default device ('cpu' unless changed). */
  device?: string;
}

export type TensorLike = NestedArray | ArrayLike<number> | ArrayBufferView;

/** The most elements one tensor may hold: the longest typed array JavaScript engines allocate (2^32). */
export const MAX_ELEMENTS = 2 ** 32;

/** '4.00 TB'-style size for messages. */
function bytesText(b: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let i = 0;
  while (b >= 1000 && i < units.length - 1) { b /= 1000; i++; }
  return `${i ? b.toFixed(2) : b} ${units[i]}`;
}

/**
 * Throws before any allocation when `shape` (valid) holds more elements than a tensor can: one sentence naming
 * the caller, the shape, the element count and the bytes.
 * @example checkSize('zeros', [1e6, 1e6], 'float32') // throws: ... 1e+12 elements (4.00 TB as float32) ...
 */
export function checkSize(what: string, shape: Shape, dtype: DType): void {
  const n = numel(shape);
  if (n <= MAX_ELEMENTS) return;
  const bytes = isDType(dtype) ? ` (${bytesText(n * dtypeBytes(dtype))} as ${dtype})` : '';
  throw new RangeError(`forwardpass: ${what}: shape ${shapeStr(shape)} holds ${n.toPrecision(4).replace(/\.?0+(e|$)/, '$1')} elements${bytes}, more than a tensor can hold (at most ${MAX_ELEMENTS}, the longest typed array)`);
}

/**
 * `data` (user-facing values: numbers for float16, a Uint16Array read as raw half bits) as the dtype's storage array:
 * the array itself when it already is one, else a converted copy (bool as 0/1).
 */
export function toStorageArray(data: ArrayLike<number>, dtype: DType): StorageArray {
  if (dtype === 'float16') return data instanceof Uint16Array ? data : f32ArrayToF16(data);
  if (storageMatches(dtype, data as unknown as ArrayBufferView)) return data as unknown as StorageArray;
  const n = data.length, store = allocStorage(dtype, n), bool = dtype === 'bool';
  for (let i = 0; i < n; i++) store[i] = bool ? (data[i] ? 1 : 0) : (data[i] as number);
  return store;
}

/** Wrap `data` (user-facing values: numbers for float16 too) as a tensor on `backend`. */
export function fromData(data: ArrayLike<number>, shape: Shape, dtype: DType, backend: Backend): Tensor {
  checkShape(shape);
  const n = numel(shape);
  if (data.length !== n) throw new RangeError(`forwardpass: tensor: ${data.length} values do not fill shape ${shapeStr(shape)} (${n} elements)`);
  const store = toStorageArray(data, dtype);
  const handle = backend.alloc(dtype, n);
  backend.write(handle, dtype, store);
  return new Tensor(new Storage(backend, handle, dtype, n), dtype, shape);
}

/**
 * A tensor from nested arrays, a typed array, or a flat array with a shape.
 * float16 tensors take float values (use `fromStorage` to pass raw 16-bit halves).
 *
 * @example tensor([[1, 2], [3, 4]]); tensor(new Float32Array(6), { shape: [2, 3] }); tensor([1, 0], { dtype: 'bool' })
 */
export function tensor(values: TensorLike, opts: CreateOptions & { shape?: Shape } = {}): Tensor {
  const backend = getBackend(opts.device);
  if (opts.dtype !== undefined && !isDType(opts.dtype)) throw new TypeError(`forwardpass: tensor: unknown dtype '${String(opts.dtype)}'; expected one of float32, float16, int32, int8, uint8, bool`);
  if (ArrayBuffer.isView(values)) {
    const dtype = opts.dtype ?? dtypeOfArray(values);
    const arr = values as unknown as ArrayLike<number | bigint>;
    const flat: ArrayLike<number> = typeof arr[0] === 'bigint' ? Array.from(arr as ArrayLike<bigint>, Number) : (arr as ArrayLike<number>);
    return fromData(flat, opts.shape ?? [flat.length], dtype, backend);
  }
  if (typeof values === 'number' || typeof values === 'boolean') {
    const dtype = opts.dtype ?? (typeof values === 'boolean' ? 'bool' : 'float32');
    return fromData([Number(values)], opts.shape ?? [], dtype, backend);
  }
  const { flat, shape, bool } = flattenNested(values as NestedArray[]);
  const dtype = opts.dtype ?? (bool ? 'bool' : 'float32');
  return fromData(flat, opts.shape ?? shape, dtype, backend);
}

/** Wrap a storage array (raw halves for float16) without conversion. */
export function fromStorage(store: StorageArray, shape: Shape, dtype: DType, device?: string): Tensor {
  if (!storageMatches(dtype, store)) throw new TypeError(`forwardpass: fromStorage: a ${dtype} tensor needs ${dtype === 'float16' ? 'Uint16Array' : dtype} storage, got ${store.constructor.name}`);
  return fromData(store as unknown as DataArray, shape, dtype, getBackend(device));
}

/**
 * A tensor that owns `store` from now on (the caller must not keep writing it): on a backend that adopts arrays (the
 * CPU) no copy is made and `memory()` counts the bytes like any tensor's; elsewhere the values are uploaded. For
 * loaders that decode weights into arrays of their own (compare io/wrap.ts's wrapStorage, whose memory stays the
 * caller's and is not counted).
 */
export function adoptStorage(store: StorageArray, shape: Shape, dtype: DType, device?: string): Tensor {
  if (!storageMatches(dtype, store)) throw new TypeError(`forwardpass: adoptStorage: a ${dtype} tensor needs ${dtype === 'float16' ? 'Uint16Array' : dtype} storage, got ${store.constructor.name}`);
  const n = numel(shape);
  if (store.length !== n) throw new RangeError(`forwardpass: adoptStorage: ${store.length} elements do not fill shape ${shapeStr(shape)} (${n} elements)`);
  const backend = getBackend(device);
  if (!backend.adopt) return fromData(store as unknown as DataArray, shape, dtype, backend);
  return new Tensor(new Storage(backend, backend.adopt(dtype, store), dtype, n), dtype, shape);
}

function flattenNested(values: NestedArray[]): { flat: number[]; shape: number[]; bool: boolean } {
  const shape: number[] = [];
  let cur: NestedArray = values;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as NestedArray;
  }
  const flat: number[] = [];
  let bool = false;
  const walk = (v: NestedArray, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (Array.isArray(v)) throw new RangeError(`forwardpass: tensor: ragged nested array at ${path}: expected a number, found an array`);
      if (typeof v === 'boolean') bool = true;
      else if (typeof v !== 'number') throw new TypeError(`forwardpass: tensor: expected numbers at ${path}, found ${typeof v}`);
      flat.push(Number(v));
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new RangeError(`forwardpass: tensor: ragged nested array at ${path}: expected ${shape[dim]} elements, found ${Array.isArray(v) ? v.length : typeof v}`);
    }
    v.forEach((x, i) => walk(x, dim + 1, `${path}[${i}]`));
  };
  walk(values, 0, 'values');
  return { flat, shape, bool };
}

/** A tensor filled with `value`. @example full([2, 3], 7) */
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  return filled('full', shape, value, opts);
}

function filled(what: string, shape: Shape, value: number, opts: CreateOptions): Tensor {
  checkShape(shape, `${what}: shape`);
  const dtype = opts.dtype ?? 'float32';
  checkSize(what, shape, dtype);
  const n = numel(shape);
  const backend = getBackend(opts.device);
  // the CPU backend's fresh arrays are already zero: no fill and no copy, so the pages of a large one cost no resident
  // memory until written (e.g. a model's initial weights that loadStateDict replaces, which never are)
  const direct = value === 0 && backend.name === 'cpu';
  let store: StorageArray;
  try {
    store = direct ? (backend.alloc(dtype, n) as StorageArray) : allocStorage(dtype, n);
  } catch (e) {
    throw new RangeError(`forwardpass: ${what}: cannot allocate shape ${shapeStr(shape)} (${n} elements, ${isDType(dtype) ? bytesText(n * dtypeBytes(dtype)) : '?'} as ${dtype}): ${(e as Error).message}`);
  }
  if (direct) return new Tensor(new Storage(backend, store, dtype, n), dtype, shape);
  store.fill(dtype === 'float16' ? f32ArrayToF16([value])[0]! : dtype === 'bool' ? (value ? 1 : 0) : value);
  return fromData(store as unknown as DataArray, shape, dtype, backend);
}

/** @example zeros([2, 3], { dtype: 'int32' }) */
export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  return filled('zeros', shape, 0, opts);
}

/** @example ones([4]) */
export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  return filled('ones', shape, 1, opts);
}

/**
 * Values `start, start+step, ...` below `end`, like torch.arange: `arange(5)` is 0..4 (int32 for integer
 * arguments, float32 otherwise). Options may come last in any form.
 *
 * @example arange(5); arange(6, { dtype: 'float32' }); arange(0, 1, 0.25)
 */
export function arange(end: number, opts?: CreateOptions): Tensor;
export function arange(start: number, end: number, opts?: CreateOptions): Tensor;
export function arange(start: number, end: number, step: number, opts?: CreateOptions): Tensor;
export function arange(a: number, b?: number | CreateOptions, c?: number | CreateOptions, d?: CreateOptions): Tensor {
  const nums = [a, b, c].filter((v): v is number => typeof v === 'number');
  const opts = ([b, c, d].find((v) => typeof v === 'object' && v !== null) ?? {}) as CreateOptions;
  const [start, end, step] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
  if (step === 0 || !Number.isFinite(step)) throw new RangeError(`forwardpass: arange: step must be a non-zero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  if (!(n <= MAX_ELEMENTS)) throw new RangeError(`forwardpass: arange: ${start} to ${end} by ${step} makes ${n} elements, more than a tensor can hold (at most ${MAX_ELEMENTS}, the longest typed array)`);
  const allInt = [start, end, step].every(Number.isInteger);
  const dtype = opts.dtype ?? (allInt ? 'int32' : 'float32');
  const vals = new Float64Array(n);
  for (let i = 0; i < n; i++) vals[i] = start + i * step;
  return fromData(vals, [n], dtype, getBackend(opts.device));
}

/** A small, fast, seedable PRNG (mulberry32), for reproducible test data and `rand`/`randn`. */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomOptions extends CreateOptions {
  seed?: number;
}

let autoSeed = 0x5eed;

/** Uniform values in [low, high). @example rand([2, 2], { seed: 1 }) */
export function rand(shape: Shape, opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checkShape(shape, 'rand: shape');
  checkSize('rand', shape, opts.dtype ?? 'float32');
  const rng = makeRng(opts.seed ?? autoSeed++);
  const lo = opts.low ?? 0;
  const hi = opts.high ?? 1;
  const vals = Float32Array.from({ length: numel(shape) }, () => lo + (hi - lo) * rng());
  return fromData(vals, shape, opts.dtype ?? 'float32', getBackend(opts.device));
}

/** Standard normal values (Box-Muller). @example randn([3, 4], { seed: 42 }) */
export function randn(shape: Shape, opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  checkShape(shape, 'randn: shape');
  checkSize('randn', shape, opts.dtype ?? 'float32');
  const rng = makeRng(opts.seed ?? autoSeed++);
  const n = numel(shape);
  const vals = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    vals[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) vals[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  const m = opts.mean ?? 0;
  const s = opts.std ?? 1;
  if (m !== 0 || s !== 1) for (let i = 0; i < n; i++) vals[i] = m + s * vals[i]!;
  return fromData(vals, shape, opts.dtype ?? 'float32', getBackend(opts.device));
}

/** Random integers in [low, high). */
export function randint(low: number, high: number, shape: Shape, opts: RandomOptions = {}): Tensor {
  checkShape(shape, 'randint: shape');
  checkSize('randint', shape, opts.dtype ?? 'int32');
  const rng = makeRng(opts.seed ?? autoSeed++);
  const vals = Int32Array.from({ length: numel(shape) }, () => low + Math.floor(rng() * (high - low)));
  return fromData(vals, shape, opts.dtype ?? 'int32', getBackend(opts.device));
}
