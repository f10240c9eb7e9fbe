// INT8 ops: symmetric row quantization and the int8 products (int8 x int8 linear, weight-only linear, conv2d with
// int8 weights). Each validates its operands, infers the output shape and dispatches one kernel op (see
// Int8OpAttrs in attrs.ts for the layouts: int8 rows padded to Kp, float32 scales [rows, nb]).
import { isFloatDType, type DType } from '../tensor/dtype.js';
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ActivationName, Pad4 } from './attrs.js';
import { expectDType, expectRank, runOp } from './dispatch.js';
import { intPair, pad4, type Conv2dOptions } from './conv.js';

const ACTIVATIONS: readonly ActivationName[] = ['none', 'relu', 'gelu', 'geluTanh', 'silu', 'tanh', 'sigmoid'];
const FLOATS: readonly DType[] = ['float32', 'float16'];

/** Largest inner size whose int32 sums cannot overflow with one scale per row: 127·127·k < 2^31. */
export const MAX_INT32_K = Math.floor((2 ** 31 - 1) / (127 * 127));

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** `block` must be 0 (one scale per row) or a positive multiple of 4. */
function checkBlock(op: string, block: number): void {
  if (!Number.isInteger(block) || block < 0 || block % 4 !== 0) {
    throw new RangeError(`forwardpass: ${op}: block must be 0 (one scale per row) or a positive multiple of 4 (32 for Q8_0), got ${String(block)}`);
  }
}

function checkActivation(op: string, activation: ActivationName): void {
  if (!ACTIVATIONS.includes(activation)) throw new RangeError(`forwardpass: ${op}: activation must be one of ${ACTIVATIONS.join(', ')}, got '${String(activation)}'`);
}

/** Padded row length Kp for `k` values: a multiple of `block` (Q8_0) or of `padTo` (one scale per row). @example paddedK(70, 32) // 96 */
export function paddedK(k: number, block: number, padTo = 4): number {
  return roundUp(k, block > 0 ? block : padTo);
}

export interface QuantizeRowsOptions {
  /** 0 (default): one scale per row; else values per block with its own scale (32 = Q8_0). A multiple of 4. */
  block?: number;
  /** Rows are padded with zeros to a multiple of this when block = 0 (a positive multiple of 4; default 4). */
  padTo?: number;
  /** 0 (default): scales from each row's max |x| (dynamic); > 0: this one scale everywhere (static). */
  staticScale?: number;
}

/**
 * Symmetric int8 quantization of each row of x [M, K] (float): q [M, Kp] int8 and scales [M, nb] float32, with
 * q = round(x / s) clamped to ±127. Rows (or blocks) holding NaN or ±Inf get the scale NaN.
 *
 * @example const [q, s] = quantizeRows(x, { block: 32 }); // Q8_0 blocks: s is [M, K / 32]
 */
export function quantizeRows(x: Tensor, opts: QuantizeRowsOptions = {}): [Tensor, Tensor] {
  const op = 'quantizeRows';
  const { block = 0, padTo = 4, staticScale = 0 } = opts;
  expectRank(op, 'x', x, 2);
  expectDType(op, 'x', x, FLOATS);
  checkBlock(op, block);
  if (!Number.isInteger(padTo) || padTo < 4 || padTo % 4 !== 0) throw new RangeError(`forwardpass: ${op}: padTo must be a positive multiple of 4, got ${String(padTo)}`);
  if (typeof staticScale !== 'number' || !(staticScale === 0 || (staticScale >= 2 ** -126 && staticScale <= 3.4e38))) {
    throw new RangeError(`forwardpass: ${op}: staticScale must be 0 (dynamic) or a positive normal float32, got ${String(staticScale)}`);
  }
  const [M, K] = x.shape as [number, number];
  if (K === 0) throw new RangeError(`forwardpass: ${op}: x ${shapeStr(x.shape)} has empty rows`);
  const Kp = paddedK(K, block, padTo);
  const nb = block > 0 ? Kp / block : 1;
  const [q, s] = runOp(op, [x], [{ shape: [M, Kp], dtype: 'int8' }, { shape: [M, nb], dtype: 'float32' }], { block, padTo, staticScale });
  return [q!, s!];
}

/** Checks an int8 weight [N, Kp] and its scales [N, nb] against block; returns [N, Kp, nb]. */
function checkWeight(op: string, wq: Tensor, ws: Tensor, block: number): [number, number, number] {
  expectRank(op, 'wq', wq, 2);
  expectDType(op, 'wq', wq, ['int8']);
  expectRank(op, 'ws', ws, 2);
  expectDType(op, 'ws', ws, FLOATS);
  const [N, Kp] = wq.shape as [number, number];
  if (Kp % 4 !== 0 || (block > 0 && Kp % block !== 0)) {
    throw new RangeError(`forwardpass: ${op}: wq ${shapeStr(wq.shape)} rows must be padded to a multiple of ${block > 0 ? `the block (${block})` : 4}`);
  }
  const nb = block > 0 ? Kp / block : 1;
  if (ws.shape[0] !== N || ws.shape[1] !== nb) throw new RangeError(`forwardpass: ${op}: ws must be [${N}, ${nb}] for wq ${shapeStr(wq.shape)} with block ${block}, got ${shapeStr(ws.shape)}`);
  return [N, Kp, nb];
}

function checkBias(op: string, bias: Tensor | null | undefined, n: number): void {
  if (!bias) return;
  expectDType(op, 'bias', bias, FLOATS);
  if (bias.rank !== 1 || bias.shape[0] !== n) throw new RangeError(`forwardpass: ${op}: bias must be [${n}], got ${shapeStr(bias.shape)}`);
}

export interface Int8LinearOptions {
  /** 0 (default): one scale per row; else the block size of the scales (32 = Q8_0). */
  block?: number;
  /** True inner size K (default: the padded Kp). */
  k?: number;
  activation?: ActivationName;
  /** Output dtype (default float32). */
  dtype?: 'float32' | 'float16';
}

/**
 * W8A8 linear: y [M, N] = act(Σ int32(xq · wq) · xs · ws + bias) for xq [M, Kp] int8 with scales xs [M, nb] and
 * wq [N, Kp] int8 with scales ws [N, nb] (per output channel, or per block of `block`).
 *
 * @example const [xq, xs] = quantizeRows(x); const y = linearInt8(xq, xs, wq, ws, bias);
 */
export function linearInt8(xq: Tensor, xs: Tensor, wq: Tensor, ws: Tensor, bias: Tensor | null = null, opts: Int8LinearOptions = {}): Tensor {
  const op = 'linearInt8';
  const { block = 0, activation = 'none', dtype = 'float32' } = opts;
  checkBlock(op, block);
  checkActivation(op, activation);
  const [N, Kp, nb] = checkWeight(op, wq, ws, block);
  expectRank(op, 'xq', xq, 2);
  expectDType(op, 'xq', xq, ['int8']);
  const M = xq.shape[0]!;
  if (xq.shape[1] !== Kp) throw new RangeError(`forwardpass: ${op}: xq ${shapeStr(xq.shape)} and wq ${shapeStr(wq.shape)} must have the same padded row length`);
  expectRank(op, 'xs', xs, 2);
  expectDType(op, 'xs', xs, FLOATS);
  if (xs.shape[0] !== M || xs.shape[1] !== nb) throw new RangeError(`forwardpass: ${op}: xs must be [${M}, ${nb}] for xq ${shapeStr(xq.shape)} with block ${block}, got ${shapeStr(xs.shape)}`);
  checkBias(op, bias, N);
  const k = opts.k ?? Kp;
  if (!Number.isInteger(k) || k < 1 || k > Kp) throw new RangeError(`forwardpass: ${op}: k must be an integer in 1..${Kp}, got ${String(k)}`);
  if (block === 0 && k > MAX_INT32_K) {
    throw new RangeError(`forwardpass: ${op}: K = ${k} is too long for int32 sums with one scale per row (at most ${MAX_INT32_K}); use Q8_0 blocks`);
  }
  const ins = bias ? [xq, xs, wq, ws, bias] : [xq, xs, wq, ws];
  return runOp(op, ins, [{ shape: [M, N], dtype }], { block, k, activation })[0]!;
}

/**
 * Weight-only int8 linear: y [M, N] = act(x · (wq · ws)ᵀ + bias), x [M, K] float, wq [N, Kp] int8 (K ≤ Kp).
 *
 * @example const y = linearW8(x, wq, ws, bias, { activation: 'gelu' });
 */
export function linearW8(x: Tensor, wq: Tensor, ws: Tensor, bias: Tensor | null = null, opts: Omit<Int8LinearOptions, 'k' | 'dtype'> = {}): Tensor {
  const op = 'linearW8';
  const { block = 0, activation = 'none' } = opts;
  checkBlock(op, block);
  checkActivation(op, activation);
  const [N, Kp] = checkWeight(op, wq, ws, block);
  expectRank(op, 'x', x, 2);
  expectDType(op, 'x', x, FLOATS);
  const [M, K] = x.shape as [number, number];
  if (K < 1 || K > Kp || paddedK(K, block) !== Kp) {
    throw new RangeError(`forwardpass: ${op}: x ${shapeStr(x.shape)} does not match wq ${shapeStr(wq.shape)} (rows of ${K} values pad to ${paddedK(K, block)}, not ${Kp})`);
  }
  checkBias(op, bias, N);
  const ins = bias ? [x, wq, ws, bias] : [x, wq, ws];
  return runOp(op, ins, [{ shape: [M, N], dtype: x.dtype }], { block, k: K, activation })[0]!;
}

export interface Conv2dInt8Options extends Conv2dOptions {
  /** [kH, kW] of the quantized weight. */
  kernel: [number, number];
  /** Output dtype for int8 x (default float32; a float x gives its own dtype). */
  dtype?: 'float32' | 'float16';
}

/** Padding as [top, left, bottom, right], resolving 'valid' and 'same' (stride 1) as conv2d does. @example resolvePadding('same', [1, 1], [1, 1], [3, 3], 'op') // [1, 1, 1, 1] */
export function resolvePadding(p: Conv2dOptions['padding'], stride: [number, number], dilation: [number, number], k: [number, number], op: string): Pad4 {
  if (p === undefined || p === 'valid') return [0, 0, 0, 0];
  if (p === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) throw new RangeError(`forwardpass: ${op}: padding 'same' needs stride 1, got stride ${shapeStr(stride)}`);
    const th = dilation[0] * (k[0] - 1), tw = dilation[1] * (k[1] - 1);
    return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  }
  return pad4(p, op);
}

/**
 * conv2d with int8 weights wq [O, Kp] (each output channel's C/groups·kH·kW weights in (c, kh, kw) order) and
 * scales ws [O, 1]: x int8 [N, C, H, W] with one scale per image xs [N, 1] (int32 sums), or x float (weight-only;
 * xs is not read). -> [N, O, Ho, Wo] float32 (int8 x) or x's dtype.
 *
 * @example const y = conv2dInt8(xq, xs, wq, ws, bias, { kernel: [3, 3], padding: 1 });
 */
export function conv2dInt8(x: Tensor, xs: Tensor, wq: Tensor, ws: Tensor, bias: Tensor | null, opts: Conv2dInt8Options): Tensor {
  const op = 'conv2dInt8';
  expectRank(op, 'x', x, 4);
  expectDType(op, 'x', x, ['int8', ...FLOATS]);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Kp] = checkWeight(op, wq, ws, 0);
  const kernel = intPair(opts.kernel, 'kernel', op, 1);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0 || O % groups !== 0) {
    throw new RangeError(`forwardpass: ${op}: groups must be a positive integer dividing the ${C} input and ${O} output channels, got ${String(groups)}`);
  }
  const k = (C / groups) * kernel[0] * kernel[1];
  if (paddedK(k, 0) !== Kp) {
    throw new RangeError(`forwardpass: ${op}: wq ${shapeStr(wq.shape)} does not fit x ${shapeStr(x.shape)} with kernel ${shapeStr(kernel)} and groups ${groups} (${k} weights per channel pad to ${paddedK(k, 0)})`);
  }
  if (x.dtype === 'int8') {
    expectRank(op, 'xs', xs, 2);
    expectDType(op, 'xs', xs, FLOATS);
    if (xs.shape[0] !== N || xs.shape[1] !== 1) throw new RangeError(`forwardpass: ${op}: xs must be [${N}, 1] (one scale per image of x ${shapeStr(x.shape)}), got ${shapeStr(xs.shape)}`);
    if (k > MAX_INT32_K) throw new RangeError(`forwardpass: ${op}: ${k} weights per output channel are too many for int32 sums (at most ${MAX_INT32_K}); run this layer weight-only`);
  }
  checkBias(op, bias, O);
  const stride = intPair(opts.stride ?? 1, 'stride', op, 1);
  const dilation = intPair(opts.dilation ?? 1, 'dilation', op, 1);
  const padding = resolvePadding(opts.padding, stride, dilation, kernel, op);
  const Ho = Math.floor((H + padding[0] + padding[2] - dilation[0] * (kernel[0] - 1) - 1) / stride[0]) + 1;
  const Wo = Math.floor((W + padding[1] + padding[3] - dilation[1] * (kernel[1] - 1) - 1) / stride[1]) + 1;
  if (Ho < 1 || Wo < 1) throw new RangeError(`forwardpass: ${op}: x ${shapeStr(x.shape)} padded by ${shapeStr(padding)} is smaller than the kernel ${shapeStr(kernel)} with dilation ${shapeStr(dilation)}`);
  const dtype = isFloatDType(x.dtype) ? (x.dtype as 'float32' | 'float16') : opts.dtype ?? 'float32';
  const ins = bias ? [x, xs, wq, ws, bias] : [x, xs, wq, ws];
  return runOp(op, ins, [{ shape: [N, O, Ho, Wo], dtype }], { stride, padding, dilation, groups, kernel, k })[0]!;
}
