// Reductions over any axes (keepdim), argmax/argmin, variance, softmax and logSoftmax.
import { isFloatDType } from '../tensor/dtype.js';
import { normAxes, normAxis, shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ReduceOp } from './attrs.js';
import { runOp } from './dispatch.js';
import { cast } from './elementwise.js';

export interface ReduceOptions {
  /** Axis or axes to reduce (negative counts from the end); default: all. */
  axis?: number | number[];
  /** Keep reduced dims as size 1. */
  keepdim?: boolean;
}

function reducedShape(shape: readonly number[], axes: number[], keepdim: boolean): number[] {
  return keepdim ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function reduce(op: ReduceOp, x: Tensor, opts: ReduceOptions): Tensor {
  const axes = normAxes(opts.axis, x.rank, op);
  const keepdim = opts.keepdim ?? false;
  if ((op === 'max' || op === 'min') && axes.some((a) => x.shape[a] === 0)) {
    throw new RangeError(`forwardpass: ${op}: cannot reduce an empty dim of a tensor ${shapeStr(x.shape)}`);
  }
  let dtype = x.dtype;
  if (op === 'mean' && !isFloatDType(dtype)) dtype = 'float32';
  if ((op === 'sum' || op === 'prod') && (dtype === 'bool' || dtype === 'int8' || dtype === 'uint8')) dtype = 'int32';
  const src = dtype !== x.dtype && op !== 'max' && op !== 'min' ? cast(x, dtype) : x;
  try {
    return runOp(op, [src], [{ shape: reducedShape(x.shape, axes, keepdim), dtype }], { axes, keepdim })[0]!;
  } finally {
    if (src !== x) src.dispose();
  }
}

/** @example sum(x, { axis: -1, keepdim: true }) */
export const sum = (x: Tensor, opts: ReduceOptions = {}) => reduce('sum', x, opts);
export const mean = (x: Tensor, opts: ReduceOptions = {}) => reduce('mean', x, opts);
export const max = (x: Tensor, opts: ReduceOptions = {}) => reduce('max', x, opts);
export const min = (x: Tensor, opts: ReduceOptions = {}) => reduce('min', x, opts);
export const prod = (x: Tensor, opts: ReduceOptions = {}) => reduce('prod', x, opts);

/** Variance; `correction` 1 (default, unbiased, as torch.var) or 0 (biased). */
export function variance(x: Tensor, opts: ReduceOptions & { correction?: number } = {}): Tensor {
  const axes = normAxes(opts.axis, x.rank, 'var');
  const keepdim = opts.keepdim ?? false;
  const src = isFloatDType(x.dtype) ? x : cast(x, 'float32');
  try {
    return runOp('var', [src], [{ shape: reducedShape(x.shape, axes, keepdim), dtype: src.dtype }], { axes, keepdim, correction: opts.correction ?? 1 })[0]!;
  } finally {
    if (src !== x) src.dispose();
  }
}

function argReduce(op: 'argmax' | 'argmin', x: Tensor, opts: { axis?: number; keepdim?: boolean }): Tensor {
  if (opts.axis === undefined) {
    const flat = x.reshape([-1]);
    try {
      return argReduce(op, flat, { axis: 0, keepdim: false });
    } finally {
      flat.dispose();
    }
  }
  const axis = normAxis(opts.axis, x.rank, op);
  if (x.shape[axis] === 0) throw new RangeError(`forwardpass: ${op}: cannot reduce an empty dim of a tensor ${shapeStr(x.shape)}`);
  const keepdim = opts.keepdim ?? false;
  return runOp(op, [x], [{ shape: reducedShape(x.shape, [axis], keepdim), dtype: 'int32' }], { axis, keepdim })[0]!;
}

/** Index of the first maximum along `axis` (flattened when omitted), int32. @example argmax(logits, { axis: -1 }) */
export const argmax = (x: Tensor, opts: { axis?: number; keepdim?: boolean } = {}) => argReduce('argmax', x, opts);
export const argmin = (x: Tensor, opts: { axis?: number; keepdim?: boolean } = {}) => argReduce('argmin', x, opts);

function softmaxLike(op: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  const ax = normAxis(axis, x.rank, op);
  const src = isFloatDType(x.dtype) ? x : cast(x, 'float32');
  try {
    return runOp(op, [src], [{ shape: x.shape, dtype: src.dtype }], { axis: ax })[0]!;
  } finally {
    if (src !== x) src.dispose();
  }
}

/** Softmax along `axis` (default last). @example softmax(scores, -1) */
export const softmax = (x: Tensor, axis = -1) => softmaxLike('softmax', x, axis);
/** log(softmax(x)), computed stably. */
export const logSoftmax = (x: Tensor, axis = -1) => softmaxLike('logSoftmax', x, axis);
