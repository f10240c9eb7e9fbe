// The Tensor: dtype, shape, strides and offset over reference-counted device storage; views without copies.
import { type DataArray, type DType, f16ArrayToF32, allocData } from './dtype.js';
import { checkShape, contiguousStrides, isContiguous, normAxis, numel, shapeStr, type Shape } from './shape.js';
import { Storage } from './storage.js';
import { trackTensor } from './scope.js';
import { forgetTensor, noteTensor, trackingAllocations } from './lifetime.js';
import { formatTensor } from './format.js';
import { runOp } from '../ops/dispatch.js';
import { getBackend } from './device.js';
import { fromData } from './creation.js';

export type NestedArray = number | boolean | NestedArray[];

declare global {
  // Tensor has a [Symbol.dispose] method (`using`); declared here, as @types/node does, so the published .d.ts also
  // type-checks for consumers whose lib lacks esnext.disposable. It merges with that lib's identical declaration.
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

/** True for a forwardpass Tensor, also one made by another copy of the library (ESM and CJS builds mixed). */
export function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && (x as { __isTensor?: unknown }).__isTensor === true;
}

let nextId = 1;

/** Told of each storage whose values are read on the host (data, dataSync); see watchHostReads. */
let hostReads: ((s: Storage) => void) | undefined;

/**
 * Call `fn` with the storage of every tensor read on the host (`data()`, `dataSync()`) until the next call; undefined
 * stops. The ONNX graph capture listens while it records, to tell runs whose later ops depend on input values.
 */
export function watchHostReads(fn: ((s: Storage) => void) | undefined): void {
  hostReads = fn;
}

/**
 * An n-dimensional array on a device. Ops return new tensors at once; device work may be queued,
 * so read values with `await t.data()`. Views (reshape, permute, narrow, expand...) share storage.
 *
 * @example const t = tensor([[1, 2], [3, 4]]); console.log(t.transpose(0, 1).toString());
 */
export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  private _disposed = false;
  /** Marks tensors for duck-typed checks across bundles. */
  readonly __isTensor = true;

  /** Internal: wrap storage; use `tensor()`, `zeros()`... to create tensors. */
  constructor(
    readonly storage: Storage,
    readonly dtype: DType,
    shape: Shape,
    strides?: readonly number[],
    readonly offset = 0,
  ) {
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    trackTensor(this);
    if (storage.counted && trackingAllocations()) noteTensor(this);
  }

  /** Name of the backend the tensor lives on ('cpu', 'webgpu'). */
  get device(): string {
    return this.storage.backend.name;
  }
  get rank(): number {
    return this.shape.length;
  }
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }
  get disposed(): boolean {
    return this._disposed;
  }

  /** True when the elements are laid out row-major without gaps (the offset may be non-zero). */
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  /** Throws a clear error if the tensor was disposed; `what` names the operation attempted. */
  assertAlive(what: string): void {
    if (this._disposed || this.storage.released) {
      throw new Error(`forwardpass: ${what}: tensor #${this.id} ${shapeStr(this.shape)} ${this.dtype} was disposed`);
    }
  }

  /** Free this tensor's hold on its storage (freed when its last view is disposed). Idempotent. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    forgetTensor(this);
    this.storage.release();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---------------------------------------------------------------- views

  private view_(shape: Shape, strides: readonly number[], offset: number): Tensor {
    this.assertAlive('view');
    this.storage.retain();
    return new Tensor(this.storage, this.dtype, shape, strides, offset);
  }

  /** Same data, new shape; one dim may be -1. Copies only when the strides do not allow a view. */
  reshape(...shapeArg: (number | readonly number[])[]): Tensor {
    const shape = resolveShape(flatShapeArgs(shapeArg), this.size, this.shape);
    if (this.isContiguous()) return this.view_(shape, contiguousStrides(shape), this.offset);
    const strides = viewStrides(this.shape, this.strides, shape);
    if (strides) return this.view_(shape, strides, this.offset);
    const c = this.contiguous();
    const r = c.view_(shape, contiguousStrides(shape), c.offset);
    c.dispose();
    return r;
  }

  /** Like `reshape` but never copies: throws if the strides do not allow it (as PyTorch's view). */
  view(...shapeArg: (number | readonly number[])[]): Tensor {
    const shape = resolveShape(flatShapeArgs(shapeArg), this.size, this.shape);
    const strides = this.isContiguous() ? contiguousStrides(shape) : viewStrides(this.shape, this.strides, shape);
    if (!strides) throw new Error(`forwardpass: view: a tensor ${shapeStr(this.shape)} with strides ${shapeStr(this.strides)} cannot be viewed as ${shapeStr(shape)}; call reshape() or contiguous() first`);
    return this.view_(shape, strides, this.offset);
  }

  /** Reorder dims: `permute(0, 2, 1)`. */
  permute(...dimsArg: (number | readonly number[])[]): Tensor {
    const dims = flatShapeArgs(dimsArg).map((d) => normAxis(d, this.rank, 'permute'));
    if (dims.length !== this.rank || new Set(dims).size !== this.rank) {
      throw new RangeError(`forwardpass: permute: expected a permutation of ${this.rank} dims, got ${JSON.stringify(dimsArg.flat())}`);
    }
    return this.view_(dims.map((d) => this.shape[d]!), dims.map((d) => this.strides[d]!), this.offset);
  }

  /** Swap two dims (default: the last two). */
  transpose(a = -2, b = -1): Tensor {
    const r = this.rank;
    const i = normAxis(a, r, 'transpose');
    const j = normAxis(b, r, 'transpose');
    const dims = Array.from({ length: r }, (_, k) => k);
    dims[i] = j;
    dims[j] = i;
    return this.permute(dims);
  }

  /** Elements `start .. start+length-1` along `axis`, as a view. */
  narrow(axis: number, start: number, length: number): Tensor {
    const ax = normAxis(axis, this.rank, 'narrow');
    const dim = this.shape[ax]!;
    if (start < 0) start += dim;
    if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > dim) {
      throw new RangeError(`forwardpass: narrow: range ${start}..${start + length} is outside dim ${ax} of size ${dim}`);
    }
    const shape = [...this.shape];
    shape[ax] = length;
    return this.view_(shape, this.strides, this.offset + start * this.strides[ax]!);
  }

  /** Python-style slice `start:end:step` along `axis` (negative indices count from the end), as a view. */
  slice(axis: number, start = 0, end?: number, step = 1): Tensor {
    const ax = normAxis(axis, this.rank, 'slice');
    const dim = this.shape[ax]!;
    if (!Number.isInteger(step) || step <= 0) throw new RangeError(`forwardpass: slice: step must be a positive integer, got ${step}`);
    const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const s = clampIdx(start);
    const e = clampIdx(end ?? dim);
    const len = Math.max(0, Math.ceil((e - s) / step));
    const shape = [...this.shape];
    const strides = [...this.strides];
    shape[ax] = len;
    strides[ax] = this.strides[ax]! * step;
    return this.view_(shape, strides, this.offset + (len > 0 ? s * this.strides[ax]! : 0));
  }

  /** Index `i` along `axis`, dropping that dim (a view). */
  select(axis: number, index: number): Tensor {
    const ax = normAxis(axis, this.rank, 'select');
    const n = this.narrow(ax, index < 0 ? index + this.shape[ax]! : index, 1);
    const r = n.squeeze(ax);
    n.dispose();
    return r;
  }

  /** Broadcast to a larger shape without copying (stride 0 on expanded dims); -1 keeps a dim. */
  expand(...shapeArg: (number | readonly number[])[]): Tensor {
    const shape = flatShapeArgs(shapeArg);
    if (shape.length < this.rank) throw new RangeError(`forwardpass: expand: target ${shapeStr(shape)} has fewer dims than ${shapeStr(this.shape)}`);
    const lead = shape.length - this.rank;
    const out: number[] = [];
    const strides: number[] = [];
    for (let i = 0; i < shape.length; i++) {
      const src = i < lead ? 1 : this.shape[i - lead]!;
      const want = shape[i] === -1 ? src : shape[i]!;
      if (src !== want && src !== 1) throw new RangeError(`forwardpass: expand: cannot expand ${shapeStr(this.shape)} to ${shapeStr(shape)} (dim ${i} is ${src}, not 1)`);
      out.push(want);
      strides.push(i < lead || (src === 1 && want !== 1) ? 0 : this.strides[i - lead]!);
    }
    return this.view_(out, strides, this.offset);
  }

  /** Drop size-1 dims (all, or the given one). */
  squeeze(axis?: number): Tensor {
    if (axis === undefined) {
      const keep = this.shape.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
      return this.view_(keep.map((i) => this.shape[i]!), keep.map((i) => this.strides[i]!), this.offset);
    }
    const ax = normAxis(axis, this.rank, 'squeeze');
    if (this.shape[ax] !== 1) return this.view_(this.shape, this.strides, this.offset);
    return this.view_(this.shape.filter((_, i) => i !== ax), this.strides.filter((_, i) => i !== ax), this.offset);
  }

  /** Insert a size-1 dim at `axis` (-1 appends). */
  unsqueeze(axis: number): Tensor {
    const ax = normAxis(axis, this.rank + 1, 'unsqueeze');
    const shape = [...this.shape];
    const strides = [...this.strides];
    shape.splice(ax, 0, 1);
    strides.splice(ax, 0, ax < this.rank ? this.strides[ax]! * this.shape[ax]! : 1);
    return this.view_(shape, strides, this.offset);
  }

  /** Merge dims `start..end` (inclusive) into one. */
  flatten(start = 0, end = -1): Tensor {
    if (this.rank === 0) return this.reshape([1]);
    const s = normAxis(start, this.rank, 'flatten');
    const e = normAxis(end, this.rank, 'flatten');
    if (e < s) throw new RangeError(`forwardpass: flatten: end dim ${end} comes before start dim ${start}`);
    const shape = [...this.shape.slice(0, s), numel(this.shape.slice(s, e + 1)), ...this.shape.slice(e + 1)];
    return this.reshape(shape);
  }

  /** A row-major tensor with the same values: a new view when already contiguous, else a copy. */
  contiguous(): Tensor {
    this.assertAlive('contiguous');
    if (this.isContiguous()) return this.view_(this.shape, contiguousStrides(this.shape), this.offset);
    return runOp('copy', [this], [{ shape: this.shape, dtype: this.dtype }], {})[0]!;
  }

  /** A copy with its own storage. */
  clone(): Tensor {
    this.assertAlive('clone');
    return runOp('copy', [this], [{ shape: this.shape, dtype: this.dtype }], {})[0]!;
  }

  // ---------------------------------------------------------------- reading

  /** The values, row-major, as a new typed array (Float32Array for float16, Uint8Array 0/1 for bool). */
  async data(): Promise<DataArray> {
    this.assertAlive('data');
    hostReads?.(this.storage);
    const c = this.isContiguous() ? this : this.contiguous();
    try {
      const raw = await c.storage.backend.read(c.storage.handle, c.dtype, c.storage.size);
      return toData(c, raw);
    } finally {
      if (c !== this) c.dispose();
    }
  }

  /** Synchronous `data()`, for devices that allow it (CPU). */
  dataSync(): DataArray {
    this.assertAlive('dataSync');
    hostReads?.(this.storage);
    const b = this.storage.backend;
    if (!b.readSync) throw new Error(`forwardpass: dataSync: the ${b.name} backend reads asynchronously; use await t.data()`);
    const c = this.isContiguous() ? this : this.contiguous();
    try {
      return toData(c, b.readSync(c.storage.handle, c.dtype, c.storage.size));
    } finally {
      if (c !== this) c.dispose();
    }
  }

  /** Values as nested arrays (numbers; booleans for bool). */
  async toArray(): Promise<NestedArray> {
    return nest(await this.data(), this.shape, this.dtype === 'bool');
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new RangeError(`forwardpass: item: expected a tensor with one element, got shape ${shapeStr(this.shape)}`);
    return (await this.data())[0]!;
  }

  /** Copy to another device (`'cpu'`, `'webgpu'`). */
  async to(device: string): Promise<Tensor> {
    const target = getBackend(device);
    const data = await this.data();
    return fromData(data, this.shape, this.dtype, target);
  }

  /** PyTorch-like printout: values (summarized when large), then dtype and shape. */
  toString(): string {
    if (this._disposed) return `tensor(<disposed>, shape=${shapeStr(this.shape)}, dtype=${this.dtype})`;
    if (!this.storage.backend.readSync) return `tensor(<on ${this.device}: await data()>, shape=${shapeStr(this.shape)}, dtype=${this.dtype})`;
    return formatTensor(this.dataSync(), this.shape, this.dtype, this.device);
  }
}

function toData(c: Tensor, raw: ArrayBufferView): DataArray {
  const n = c.size;
  const arr = raw as unknown as { subarray(a: number, b: number): ArrayBufferView; slice(a: number, b: number): DataArray };
  if (c.dtype === 'float16') return f16ArrayToF32(arr.subarray(c.offset, c.offset + n) as Uint16Array);
  if (n === 0) return allocData(c.dtype, 0);
  return arr.slice(c.offset, c.offset + n);
}

function nest(data: DataArray, shape: Shape, bool: boolean): NestedArray {
  const conv = (v: number) => (bool ? v !== 0 : v);
  if (shape.length === 0) return conv(data[0]!);
  const rec = (dim: number, off: number): NestedArray[] => {
    const n = shape[dim]!;
    const step = numel(shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < n; i++) out.push(dim === shape.length - 1 ? conv(data[off + i]!) : rec(dim + 1, off + i * step));
    return out;
  };
  return rec(0, 0);
}

export function flatShapeArgs(args: readonly (number | readonly number[])[]): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as number[])] : (args as number[]);
}

/** Fill in one -1 and check the element count. */
export function resolveShape(shape: readonly number[], size: number, from: Shape): number[] {
  const out = [...shape];
  const neg = out.filter((d) => d === -1).length;
  if (neg > 1) throw new RangeError(`forwardpass: reshape: only one dim may be -1, got ${shapeStr(shape)}`);
  if (neg === 1) {
    const rest = numel(out.filter((d) => d !== -1));
    if (rest === 0 || size % rest !== 0) throw new RangeError(`forwardpass: reshape: cannot reshape ${shapeStr(from)} (${size} elements) to ${shapeStr(shape)}`);
    out[out.indexOf(-1)] = size / rest;
  }
  checkShape(out, 'reshape target');
  if (numel(out) !== size) throw new RangeError(`forwardpass: reshape: cannot reshape ${shapeStr(from)} (${size} elements) to ${shapeStr(shape)} (${numel(out)} elements)`);
  return out;
}

/**
 * Strides that view a strided tensor under a new shape without copying, or null if impossible
 * (the same rule as PyTorch's view: each group of merged/split dims must be contiguous among itself).
 */
function viewStrides(oldShape: Shape, oldStrides: readonly number[], newShape: Shape): number[] | null {
  const os = oldShape.filter((d) => d !== 1);
  const ost = oldStrides.filter((_, i) => oldShape[i] !== 1);
  const out = new Array<number>(newShape.length).fill(0);
  let oi = 0;
  let ni = 0;
  while (ni < newShape.length || oi < os.length) {
    if (ni < newShape.length && newShape[ni] === 1) { out[ni] = 1; ni++; continue; }
    if (oi >= os.length || ni >= newShape.length) return null;
    // take a group of old dims and new dims with equal products
    let po = os[oi]!;
    let pn = newShape[ni]!;
    const oStart = oi;
    const nStart = ni;
    while (po !== pn) {
      if (po < pn) { oi++; if (oi >= os.length) return null; po *= os[oi]!; }
      else { ni++; if (ni >= newShape.length) return null; pn *= newShape[ni]!; }
    }
    for (let k = oStart; k < oi; k++) if (ost[k] !== ost[k + 1]! * os[k + 1]!) return null;
    let stride = ost[oi]!;
    for (let k = ni; k >= nStart; k--) {
      out[k] = stride;
      stride *= newShape[k]!;
    }
    oi++;
    ni++;
  }
  return out;
}
