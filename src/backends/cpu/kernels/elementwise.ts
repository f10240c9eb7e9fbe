// CPU elementwise kernels: unary, binary, comparisons, where, cast and strided copy, all over broadcast views.
// Legend: out is contiguous [*shape]; inputs are views read through broadcast strides.
import { UNARY_OPS, BINARY_OPS, COMPARE_OPS, type UnaryAttrs, type UnaryOp, type BinaryOp, type CompareOp } from '../../../ops/attrs.js';
import { BINARY, COMPARE, UNARY } from '../../../ops/elementwise.js';
import { broadcastStrides, forEachStrided, isContiguous } from '../../../tensor/shape.js';
import type { CpuKernel, CpuTensor } from '../types.js';

/**
 * Whether `t` is contiguous with exactly `shape` (no broadcast). A plain loop, no closures: this runs on every small
 * elementwise op, where per-call allocations (and tsx's per-closure helper) showed up in the dispatch profile.
 */
function sameContiguous(t: CpuTensor, shape: readonly number[]): boolean {
  if (t.shape.length !== shape.length) return false;
  for (let i = 0; i < shape.length; i++) if (t.shape[i] !== shape[i]) return false;
  return isContiguous(t.shape, t.strides);
}

/** Row-major source indices of `t` read as `shape` (broadcast), or null when it is contiguous at that shape. */
function flatIndex(t: CpuTensor, shape: readonly number[], n: number): Int32Array | null {
  if (sameContiguous(t, shape)) return null;
  const idx = new Int32Array(n);
  forEachStrided(shape, broadcastStrides(t.shape, t.strides, shape), t.offset, (i, src) => { idx[i] = src; });
  return idx;
}

function unaryKernel(op: UnaryOp): CpuKernel<UnaryAttrs> {
  const f = UNARY[op].ref;
  return (outs, ins, attrs) => {
    const out = outs[0], x = ins[0]; // no array destructuring: it goes through the iterator protocol on every call
    const o = out!.data;
    const xd = x!.data;
    const a = attrs.alpha ?? 0;
    const b = attrs.beta ?? 0;
    const n = o.length;
    const idx = flatIndex(x!, out!.shape, n);
    if (op === 'relu' && !idx) {
      for (let i = 0, p = x!.offset; i < n; i++, p++) { const v = xd[p]!; o[i] = v < 0 ? 0 : v; } // NaN stays NaN
      return;
    }
    if (idx) for (let i = 0; i < n; i++) o[i] = f(xd[idx[i]!]!, a, b);
    else for (let i = 0, p = x!.offset; i < n; i++, p++) o[i] = f(xd[p]!, a, b);
  };
}

function binaryKernel(f: (a: number, b: number) => number): CpuKernel<{}> {
  return ([out], [x, y]) => {
    const o = out!.data;
    const n = o.length;
    const xd = x!.data;
    const yd = y!.data;
    const ix = flatIndex(x!, out!.shape, n);
    const iy = flatIndex(y!, out!.shape, n);
    const xo = x!.offset;
    const yo = y!.offset;
    if (!ix && !iy) for (let i = 0; i < n; i++) o[i] = f(xd[xo + i]!, yd[yo + i]!);
    else if (!ix) for (let i = 0; i < n; i++) o[i] = f(xd[xo + i]!, yd[iy![i]!]!);
    else if (!iy) for (let i = 0; i < n; i++) o[i] = f(xd[ix[i]!]!, yd[yo + i]!);
    else for (let i = 0; i < n; i++) o[i] = f(xd[ix[i]!]!, yd[iy[i]!]!);
  };
}

// Hot binary ops get their own loops (no call per element) for the common same-shape and row-broadcast cases.
function fastBinary(op: BinaryOp): CpuKernel<{}> {
  const generic = binaryKernel(BINARY[op].ref);
  if (op !== 'add' && op !== 'mul' && op !== 'sub') return generic;
  return (outs, ins, attrs) => {
    const out = outs[0], x = ins[0], y = ins[1];
    if (!sameContiguous(x!, out!.shape) || !sameContiguous(y!, out!.shape)) return generic(outs, ins, attrs);
    const o = out!.data, xd = x!.data, yd = y!.data, xo = x!.offset, yo = y!.offset, n = o.length;
    if (op === 'add') for (let i = 0; i < n; i++) o[i] = xd[xo + i]! + yd[yo + i]!;
    else if (op === 'mul') for (let i = 0; i < n; i++) o[i] = xd[xo + i]! * yd[yo + i]!;
    else for (let i = 0; i < n; i++) o[i] = xd[xo + i]! - yd[yo + i]!;
  };
}

function compareKernel(op: CompareOp): CpuKernel<{}> {
  const f = COMPARE[op];
  return binaryKernel((a, b) => (f(a, b) ? 1 : 0));
}

/** where: out[i] = cond[i] ? a[i] : b[i] (all broadcast). */
export const where: CpuKernel<{}> = ([out], [c, a, b]) => {
  const o = out!.data;
  const n = o.length;
  const read = (t: CpuTensor) => {
    const idx = flatIndex(t, out!.shape, n);
    return idx ? (i: number) => t.data[idx[i]!]! : (i: number) => t.data[t.offset + i]!;
  };
  const rc = read(c!), ra = read(a!), rb = read(b!);
  for (let i = 0; i < n; i++) o[i] = rc(i) ? ra(i) : rb(i);
};

/** copy: strided view -> contiguous. */
export const copy: CpuKernel<{}> = ([out], [x]) => {
  const o = out!.data;
  const xd = x!.data;
  if (isContiguous(x!.shape, x!.strides)) { o.set(xd.subarray(x!.offset, x!.offset + o.length)); return; }
  forEachStrided(x!.shape, x!.strides, x!.offset, (i, src) => { o[i] = xd[src]!; });
};

/** cast: float -> int truncates toward zero (NaN -> 0); anything -> bool is `!= 0`. */
export const cast: CpuKernel<{ dtype: string }> = ([out], [x], { dtype }) => {
  const o = out!.data;
  const xd = x!.data;
  const toBool = dtype === 'bool';
  const toInt = dtype === 'int32' || dtype === 'int8' || dtype === 'uint8';
  const conv = toBool ? (v: number) => (v !== 0 ? 1 : 0) : toInt ? (v: number) => (Number.isFinite(v) ? Math.trunc(v) : 0) : (v: number) => v;
  forEachStrided(x!.shape, x!.strides, x!.offset, (i, src) => { o[i] = conv(xd[src]!); });
};

export const unaryKernels = Object.fromEntries(UNARY_OPS.map((op) => [op, unaryKernel(op)])) as Record<UnaryOp, CpuKernel<UnaryAttrs>>;
export const binaryKernels = Object.fromEntries(BINARY_OPS.map((op) => [op, fastBinary(op)])) as Record<BinaryOp, CpuKernel<{}>>;
export const compareKernels = Object.fromEntries(COMPARE_OPS.map((op) => [op, compareKernel(op)])) as Record<CompareOp, CpuKernel<{}>>;
