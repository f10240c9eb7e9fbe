// Convolutions: conv2d (NCHW, PyTorch weight layout; stride, symmetric or asymmetric padding, dilation, groups)
// and conv1d as a view of it with height 1. Also the option parsers the pooling ops share.
import { isFloatDType } from '../tensor/dtype.js';
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Pad4 } from './attrs.js';
import { expectRank, runOp } from './dispatch.js';
import { cast, relu, relu6 } from './elementwise.js';

/** Padding of the two spatial dims: one number, [pH, pW] (symmetric) or [top, left, bottom, right]. */
export type Padding2d = number | [number, number] | [number, number, number, number];

export interface Conv2dOptions {
  stride?: number | [number, number];
  /** A number, [pH, pW], [top, left, bottom, right], 'valid' (none) or 'same' (stride 1 only; extra on bottom/right). */
  padding?: Padding2d | 'valid' | 'same';
  dilation?: number | [number, number];
  groups?: number;
  /**
   * An activation applied to the result (bias included): 'relu' or 'relu6' (clamp to [0, 6]), NaN kept. The CPU
   * backend applies it to each output block while it is still in its kernel's memory (ONNX Conv + Relu / Clip fuse
   * to this); other backends run it as the separate op.
   */
  activation?: 'none' | 'relu' | 'relu6';
}

export interface Conv1dOptions {
  stride?: number;
  /** A number, [left, right], 'valid' or 'same'. */
  padding?: number | [number, number] | 'valid' | 'same';
  dilation?: number;
  groups?: number;
}

/** A non-negative (min 0) or positive (min 1) integer, or a pair of them, as [h, w]. */
export function intPair(v: unknown, what: string, op: string, min: number): [number, number] {
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new RangeError(`forwardpass: ${op}: ${what} must be a ${min === 0 ? 'non-negative' : 'positive'} integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return [p[0] as number, p[1] as number];
}

/** Padding as [top, left, bottom, right] from a number, [pH, pW] or a 4-tuple. */
export function pad4(v: unknown, op: string): Pad4 {
  if (Array.isArray(v) && v.length === 4) {
    if (v.some((d) => !Number.isInteger(d) || d < 0)) throw new RangeError(`forwardpass: ${op}: padding must hold non-negative integers, got ${JSON.stringify(v)}`);
    return [v[0], v[1], v[2], v[3]];
  }
  const [h, w] = intPair(v, 'padding (a number, [pH, pW] or [top, left, bottom, right])', op, 0);
  return [h, w, h, w];
}

/** Output length of a sliding window: floor((n + padding - dilated kernel) / stride) + 1. */
function outLength(n: number, before: number, after: number, k: number, stride: number, dilation: number): number {
  return Math.floor((n + before + after - dilation * (k - 1) - 1) / stride) + 1;
}

function expectFloat(op: string, arg: string, t: Tensor): void {
  if (!isFloatDType(t.dtype)) throw new TypeError(`forwardpass: ${op}: ${arg} must be float32 or float16, got ${t.dtype}`);
}

/**
 * 2-D convolution (cross-correlation, as PyTorch): x [N, C, H, W], weight [O, C/groups, kH, kW], bias [O]
 * -> [N, O, Ho, Wo]. weight and bias are cast to x's dtype when they differ. groups == C is depthwise.
 *
 * @example conv2d(x, w, b, { stride: 2, padding: 1 }); conv2d(x, w, null, { padding: [0, 0, 1, 1] })
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  expectRank(op, 'x', x, 4);
  expectRank(op, 'weight', weight, 4);
  expectFloat(op, 'x', x);
  expectFloat(op, 'weight', weight);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`forwardpass: ${op}: groups must be a positive integer, got ${groups}`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Cg, kH, kW] = weight.shape as [number, number, number, number];
  if (C % groups !== 0) throw new RangeError(`forwardpass: ${op}: input channels ${C} of x ${shapeStr(x.shape)} are not divisible by groups=${groups}`);
  if (O % groups !== 0) throw new RangeError(`forwardpass: ${op}: output channels ${O} of weight ${shapeStr(weight.shape)} are not divisible by groups=${groups}`);
  if (Cg !== C / groups) {
    throw new RangeError(`forwardpass: ${op}: weight ${shapeStr(weight.shape)} has ${Cg} input channels per group, but x ${shapeStr(x.shape)} with groups=${groups} needs ${C / groups}`);
  }
  if (kH < 1 || kW < 1) throw new RangeError(`forwardpass: ${op}: weight ${shapeStr(weight.shape)} has an empty kernel`);
  if (bias) {
    expectFloat(op, 'bias', bias);
    if (bias.rank !== 1 || bias.shape[0] !== O) throw new RangeError(`forwardpass: ${op}: bias must have shape [${O}] for weight ${shapeStr(weight.shape)}, got ${shapeStr(bias.shape)}`);
  }
  const stride = intPair(opts.stride ?? 1, 'stride', op, 1);
  const dilation = intPair(opts.dilation ?? 1, 'dilation', op, 1);
  const padding = convPadding(opts.padding ?? 0, stride, dilation, [kH, kW], op);
  const Ho = outLength(H, padding[0], padding[2], kH, stride[0], dilation[0]);
  const Wo = outLength(W, padding[1], padding[3], kW, stride[1], dilation[1]);
  if (Ho < 1 || Wo < 1) {
    throw new RangeError(`forwardpass: ${op}: x ${shapeStr(x.shape)} padded by ${shapeStr(padding)} is smaller than the kernel of weight ${shapeStr(weight.shape)} with dilation ${shapeStr(dilation)} (output would be ${Ho}x${Wo})`);
  }
  const activation = opts.activation ?? 'none';
  if (!Object.hasOwn(CLAMPS, activation)) throw new RangeError(`forwardpass: ${op}: activation must be 'none', 'relu' or 'relu6', got ${JSON.stringify(activation)}`);
  const clamp = CLAMPS[activation], fused = clamp && x.device === 'cpu';
  const temps: Tensor[] = [];
  const like = (t: Tensor) => (t.dtype === x.dtype ? t : (temps.push(cast(t, x.dtype)), temps[temps.length - 1]!));
  try {
    const ins = bias ? [x, like(weight), like(bias)] : [x, like(weight)];
    const y = runOp(op, ins, [{ shape: [N, O, Ho, Wo], dtype: x.dtype }], { stride, padding, dilation, groups, ...(fused ? { clamp } : {}) })[0]!;
    if (!clamp || fused) return y;
    temps.push(y);
    return activation === 'relu' ? relu(y) : relu6(y);
  } finally {
    temps.forEach((t) => t.dispose());
  }
}

/** A fused activation's clamp bounds (conv2d's `clamp` attribute): relu is clamp to [0, inf], exactly as relu's reference. */
const CLAMPS: Record<string, [number, number] | undefined> = { none: undefined, relu: [0, Infinity], relu6: [0, 6] };

function convPadding(p: unknown, stride: [number, number], dilation: [number, number], k: [number, number], op: string): Pad4 {
  if (p === 'valid') return [0, 0, 0, 0];
  if (p === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) throw new RangeError(`forwardpass: ${op}: padding 'same' needs stride 1, got stride ${shapeStr(stride)}`);
    const th = dilation[0] * (k[0] - 1);
    const tw = dilation[1] * (k[1] - 1);
    return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  }
  return pad4(p, op);
}

/**
 * 1-D convolution: x [N, C, L], weight [O, C/groups, k], bias [O] -> [N, O, Lo]; runs the conv2d kernel on
 * height-1 views (no copies). A padding pair is [left, right].
 *
 * @example conv1d(x, w, b, { padding: 'same' })
 */
export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv1dOptions = {}): Tensor {
  const op = 'conv1d';
  expectRank(op, 'x', x, 3);
  expectRank(op, 'weight', weight, 3);
  const one = (v: unknown, what: string, min: number): number => {
    if (!Number.isInteger(v) || (v as number) < min) throw new RangeError(`forwardpass: ${op}: ${what} must be a ${min === 0 ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const stride = one(opts.stride ?? 1, 'stride', 1);
  const dilation = one(opts.dilation ?? 1, 'dilation', 1);
  const k = weight.shape[2]!;
  const p = opts.padding ?? 0;
  let left: number, right: number;
  if (p === 'valid') left = right = 0;
  else if (p === 'same') {
    if (stride !== 1) throw new RangeError(`forwardpass: ${op}: padding 'same' needs stride 1, got stride ${stride}`);
    left = Math.floor((dilation * (k - 1)) / 2);
    right = dilation * (k - 1) - left;
  } else if (Array.isArray(p)) {
    if (p.length !== 2) throw new RangeError(`forwardpass: ${op}: padding must be a number, [left, right], 'valid' or 'same', got ${JSON.stringify(p)}`);
    left = one(p[0], 'padding', 0);
    right = one(p[1], 'padding', 0);
  } else left = right = one(p, 'padding', 0);
  const Lo = k < 1 ? 1 : outLength( // (an empty kernel is reported by conv2d)
    x.shape[2]!, left, right, k, stride, dilation);
  if (Lo < 1) {
    throw new RangeError(`forwardpass: ${op}: x ${shapeStr(x.shape)} padded by [${left}, ${right}] is shorter than the kernel of weight ${shapeStr(weight.shape)} with dilation ${dilation} (output length would be ${Lo})`);
  }
  const x4 = x.unsqueeze(2);
  const w4 = weight.unsqueeze(2);
  let y4: Tensor | undefined;
  try {
    y4 = conv2d(x4, w4, bias, { stride: [1, stride], dilation: [1, dilation], padding: [0, left, 0, right], groups: opts.groups ?? 1 });
    return y4.squeeze(2);
  } catch (e) {
    // conv2d's messages name the 4-d views; restate them for the 3-d inputs.
    if (e instanceof Error) e.message = e.message.replace('conv2d:', `${op}:`).replace(shapeStr(x4.shape), shapeStr(x.shape)).replace(shapeStr(w4.shape), shapeStr(weight.shape));
    throw e;
  } finally {
    x4.dispose();
    w4.dispose();
    y4?.dispose();
  }
}
