// Shape-moving ops: gather / embedding, concat (cat) / stack, split / chunk (views), and pad
// (constant, reflect, replicate; negative pads crop).
import { type DType, isIntDType, promoteTypes } from '../tensor/dtype.js';
import { normAxis, shapeStr, shapesEqual } from '../tensor/shape.js';
import { isTensor, type Tensor } from '../tensor/tensor.js';
import { expectRank, runOp } from './dispatch.js';
import { cast } from './elementwise.js';

/**
 * Pick slices of `x` along `axis` by integer `indices` (ONNX Gather): the result has shape
 * x.shape[:axis] + indices.shape + x.shape[axis+1:]. Negative indices count from the end; an index out of
 * range throws an error naming it. Indices are int32 (int8/uint8 are widened).
 *
 * @example gather(x, tensor([2, 0], { dtype: 'int32' }), 1)
 */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  return gatherImpl('gather', x, indices, axis, true);
}

function gatherImpl(op: 'gather' | 'embedding', x: Tensor, indices: Tensor, axis: number, negativeIndices: boolean, name: string = op): Tensor {
  if (!isTensor(indices)) throw new TypeError(`forwardpass: ${op}: indices must be a Tensor of int32, got ${typeof indices}`);
  if (x.rank < 1) throw new RangeError(`forwardpass: ${op}: x must have rank 1 or more, got shape ${shapeStr(x.shape)}`);
  if (!isIntDType(indices.dtype)) throw new TypeError(`forwardpass: ${op}: indices must be int32, got ${indices.dtype}`);
  const ax = normAxis(axis, x.rank, op);
  const shape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
  const idx = indices.dtype === 'int32' ? indices : cast(indices, 'int32');
  try {
    return runOp('gather', [x, idx], [{ shape, dtype: x.dtype }], { axis: ax, negativeIndices, name })[0]!;
  } finally {
    if (idx !== indices) idx.dispose();
  }
}

/**
 * Look up rows of an embedding table (torch.nn.functional.embedding): indices [...] and weight [V, D] -> [..., D].
 * Ids must lie in 0..V-1 (negative ids are an error, as in PyTorch); `opts.name` is what an out-of-range id's
 * error calls the lookup (default 'embedding').
 *
 * @example embedding(tensor([[1, 3]], { dtype: 'int32' }), wte)
 */
export function embedding(indices: Tensor, weight: Tensor, opts: { name?: string } = {}): Tensor {
  expectRank('embedding', 'weight', weight, 2);
  return gatherImpl('embedding', weight, indices, 0, false, opts.name ?? 'embedding');
}

/** Cast tensors to their common dtype; returns the list and the casts made (to dispose). */
function promoteAll(tensors: readonly Tensor[]): [Tensor[], Tensor[]] {
  const dtype = tensors.reduce<DType>((d, t) => promoteTypes(d, t.dtype), tensors[0]!.dtype);
  const casts: Tensor[] = [];
  const list = tensors.map((t) => (t.dtype === dtype ? t : (casts.push(cast(t, dtype)), casts[casts.length - 1]!)));
  return [list, casts];
}

function checkList(op: string, tensors: readonly Tensor[]): void {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new RangeError(`forwardpass: ${op}: expected a non-empty array of tensors`);
  tensors.forEach((t, i) => {
    if (!isTensor(t)) throw new TypeError(`forwardpass: ${op}: item ${i} is not a Tensor`);
  });
}

/**
 * Join tensors along an existing axis; all other dims must match. Mixed dtypes are promoted.
 *
 * @example concat([a, b], 1)
 */
export function concat(tensors: Tensor[], axis = 0): Tensor {
  const op = 'concat';
  checkList(op, tensors);
  const first = tensors[0]!;
  if (first.rank === 0) throw new RangeError(`forwardpass: ${op}: cannot concatenate 0-d tensors; use stack`);
  const ax = normAxis(axis, first.rank, op);
  let total = 0;
  tensors.forEach((t, i) => {
    const same = t.rank === first.rank && t.shape.every((d, k) => k === ax || d === first.shape[k]);
    if (!same) throw new RangeError(`forwardpass: ${op}: tensor ${i} has shape ${shapeStr(t.shape)} but tensor 0 has ${shapeStr(first.shape)}; they must match except along axis ${ax}`);
    total += t.shape[ax]!;
  });
  const shape = [...first.shape];
  shape[ax] = total;
  const [list, casts] = promoteAll(tensors);
  try {
    return runOp(op, list, [{ shape, dtype: list[0]!.dtype }], { axis: ax })[0]!;
  } finally {
    casts.forEach((t) => t.dispose());
  }
}

/** Alias of `concat`. @example cat([a, b], -1) */
export const cat = concat;

/**
 * Join equal-shaped tensors along a new axis.
 *
 * @example stack([a, b]) // two [3] tensors -> [2, 3]
 */
export function stack(tensors: Tensor[], axis = 0): Tensor {
  const op = 'stack';
  checkList(op, tensors);
  const first = tensors[0]!;
  tensors.forEach((t, i) => {
    if (!shapesEqual(t.shape, first.shape)) throw new RangeError(`forwardpass: ${op}: tensor ${i} has shape ${shapeStr(t.shape)} but tensor 0 has ${shapeStr(first.shape)}; all must be equal`);
  });
  const ax = normAxis(axis, first.rank + 1, op);
  const views = tensors.map((t) => t.unsqueeze(ax));
  try {
    return concat(views, ax);
  } finally {
    views.forEach((t) => t.dispose());
  }
}

/**
 * Split into views along `axis` (torch.split): a number gives pieces of that size (the last may be smaller),
 * a list gives the size of each piece and must add up to the dim.
 *
 * @example split(x, 2, 1); split(x, [1, 3], -1)
 */
export function split(x: Tensor, splitSizeOrSections: number | number[], axis = 0): Tensor[] {
  const op = 'split';
  const ax = normAxis(axis, x.rank, op);
  if (x.rank === 0) throw new RangeError(`forwardpass: ${op}: cannot split a 0-d tensor`);
  const dim = x.shape[ax]!;
  let sizes: number[];
  if (typeof splitSizeOrSections === 'number') {
    const s = splitSizeOrSections;
    if (!Number.isInteger(s) || s < 0 || (s === 0 && dim > 0)) throw new RangeError(`forwardpass: ${op}: split size must be a positive integer, got ${s}`);
    sizes = [];
    for (let start = 0; start < dim; start += s) sizes.push(Math.min(s, dim - start));
    if (sizes.length === 0) sizes.push(0);
  } else {
    sizes = [...splitSizeOrSections];
    const sum = sizes.reduce((a, b) => a + b, 0);
    if (sizes.some((s) => !Number.isInteger(s) || s < 0) || sum !== dim) {
      throw new RangeError(`forwardpass: ${op}: sections ${JSON.stringify(splitSizeOrSections)} must be non-negative integers adding up to dim ${ax} of x ${shapeStr(x.shape)} (${dim})`);
    }
  }
  const out: Tensor[] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(x.narrow(ax, start, s));
    start += s;
  }
  return out;
}

/**
 * Split into `chunks` views of ceil(dim / chunks) along `axis` (torch.chunk: may return fewer pieces).
 *
 * @example const [q, k, v] = chunk(qkv, 3, -1)
 */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  const op = 'chunk';
  if (!Number.isInteger(chunks) || chunks < 1) throw new RangeError(`forwardpass: ${op}: chunks must be a positive integer, got ${chunks}`);
  const ax = normAxis(axis, x.rank, op);
  if (x.rank === 0) throw new RangeError(`forwardpass: ${op}: cannot chunk a 0-d tensor`);
  const dim = x.shape[ax]!;
  if (dim === 0) return split(x, new Array<number>(chunks).fill(0), ax);
  return split(x, Math.ceil(dim / chunks), ax);
}

export interface PadOptions {
  /** 'constant' (default), 'reflect' (mirror without repeating the edge) or 'replicate' (repeat the edge). */
  mode?: 'constant' | 'reflect' | 'replicate';
  /** Fill value for 'constant' (default 0). */
  value?: number;
}

/**
 * Pad (or, with negative amounts, crop) the last dims, in torch.nn.functional.pad's order: pairs from the
 * LAST dim backwards, [left, right, top, bottom, ...].
 *
 * With all amounts zero the result is `x.contiguous()` (a view of x when x is contiguous).
 *
 * @example pad(img, [1, 1, 2, 0]); pad(x, [2, 2], { mode: 'reflect' })
 */
export function pad(x: Tensor, pads: number[], opts: PadOptions = {}): Tensor {
  const op = 'pad';
  const mode = opts.mode ?? 'constant';
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'replicate') throw new RangeError(`forwardpass: ${op}: mode must be 'constant', 'reflect' or 'replicate', got ${JSON.stringify(mode)}`);
  if (!Array.isArray(pads) || pads.length % 2 !== 0 || pads.length / 2 > x.rank || pads.some((p) => !Number.isInteger(p))) {
    throw new RangeError(`forwardpass: ${op}: pads must be an even-length list of integers with at most 2 per dim of x ${shapeStr(x.shape)}, got ${JSON.stringify(pads)}`);
  }
  const value = opts.value ?? 0;
  if (typeof value !== 'number') throw new TypeError(`forwardpass: ${op}: value must be a number, got ${typeof value}`);
  const perDim = new Array<number>(2 * x.rank).fill(0);
  for (let i = 0; i < pads.length / 2; i++) {
    const d = x.rank - 1 - i;
    perDim[2 * d] = pads[2 * i]!;
    perDim[2 * d + 1] = pads[2 * i + 1]!;
  }
  const shape = x.shape.map((n, d) => n + perDim[2 * d]! + perDim[2 * d + 1]!);
  shape.forEach((n, d) => {
    const [b, a] = [perDim[2 * d]!, perDim[2 * d + 1]!];
    if (n < 0) throw new RangeError(`forwardpass: ${op}: pads [${b}, ${a}] crop dim ${d} of x ${shapeStr(x.shape)} below zero`);
    const size = x.shape[d]!;
    if (mode === 'reflect' && ((b > 0 && b >= size) || (a > 0 && a >= size))) {
      throw new RangeError(`forwardpass: ${op}: reflect pads [${b}, ${a}] must each be smaller than dim ${d} of x ${shapeStr(x.shape)} (size ${size})`);
    }
    if (mode === 'replicate' && size === 0 && (b > 0 || a > 0)) throw new RangeError(`forwardpass: ${op}: cannot replicate-pad the empty dim ${d} of x ${shapeStr(x.shape)}`);
  });
  // Nothing to pad or crop (ONNX exporters emit all-zero Pad nodes, e.g. before an AvgPool): x itself, contiguous
  // (a view when it already is), instead of a kernel pass that copies every element.
  if (perDim.every((p) => p === 0)) return x.contiguous();
  return runOp(op, [x], [{ shape, dtype: x.dtype }], { pads: perDim, mode: mode === 'replicate' ? 'edge' : mode, value })[0]!;
}
