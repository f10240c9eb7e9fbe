// 2-D pooling over NCHW tensors: max (with dilation), average (countIncludePad), global average; PyTorch's
// output-size rule, ceilMode included (the last window must start inside the input or the left padding).
import { isFloatDType } from '../tensor/dtype.js';
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Pad4, Pool2dAttrs } from './attrs.js';
import { intPair, pad4, type Padding2d } from './conv.js';
import { expectRank, runOp } from './dispatch.js';
import { mean } from './reduce.js';

export interface MaxPool2dOptions {
  kernelSize: number | [number, number];
  /** Default: kernelSize. */
  stride?: number | [number, number];
  /** A number, [pH, pW] or [top, left, bottom, right]; each at most half the (dilated) kernel (see padLimit). Pads never win. */
  padding?: Padding2d;
  dilation?: number | [number, number];
  ceilMode?: boolean;
  /** How large a pad may be: 'half' (default, PyTorch) at most half the (dilated) kernel; 'kernel' (ONNX) less than it. */
  padLimit?: PadLimit;
}

export interface AvgPool2dOptions {
  kernelSize: number | [number, number];
  /** Default: kernelSize. */
  stride?: number | [number, number];
  /** A number, [pH, pW] or [top, left, bottom, right]; each at most half the kernel (see padLimit). */
  padding?: Padding2d;
  ceilMode?: boolean;
  /** Count zero padding in the divisor (default true, as PyTorch). Windows that overhang the padding in ceilMode never count the overhang. */
  countIncludePad?: boolean;
  /** How large a pad may be: 'half' (default, PyTorch) at most half the kernel; 'kernel' (ONNX) less than it. */
  padLimit?: PadLimit;
}

/**
 * 'half': each pad at most half the (dilated) kernel (PyTorch); 'kernel': each pad less than the (dilated) kernel
 * (ONNX), so every window of an average pool still covers part of the input.
 */
export type PadLimit = 'half' | 'kernel';

/** PyTorch's pooling output length, ceilMode rule included. */
function poolLength(n: number, before: number, after: number, k: number, s: number, d: number, ceilMode: boolean): number {
  const span = n + before + after - d * (k - 1) - 1;
  let out = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceilMode && (out - 1) * s >= n + before) out--;
  return out;
}

function poolAttrs(op: string, x: Tensor, opts: MaxPool2dOptions & { countIncludePad?: boolean }, dilationAllowed: boolean): [Pool2dAttrs, number[]] {
  expectRank(op, 'x', x, 4);
  if (opts === undefined || opts === null || opts.kernelSize === undefined) throw new TypeError(`forwardpass: ${op}: opts.kernelSize is required`);
  const kernel = intPair(opts.kernelSize, 'kernelSize', op, 1);
  const stride = intPair(opts.stride ?? kernel, 'stride', op, 1);
  const dilation = dilationAllowed ? intPair(opts.dilation ?? 1, 'dilation', op, 1) : ([1, 1] as [number, number]);
  const padding: Pad4 = pad4(opts.padding ?? 0, op);
  const eff = [dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1];
  const limit = opts.padLimit ?? 'half';
  if (limit !== 'half' && limit !== 'kernel') throw new TypeError(`forwardpass: ${op}: opts.padLimit must be 'half' or 'kernel', got ${JSON.stringify(limit)}`);
  for (let i = 0; i < 4; i++) {
    const e = eff[i % 2]!;
    if (limit === 'half' ? padding[i]! > Math.floor(e / 2) : padding[i]! >= e) {
      const rule = limit === 'half' ? 'at most half' : 'less than';
      throw new RangeError(`forwardpass: ${op}: padding ${shapeStr(padding)} must be ${rule} the ${dilationAllowed ? 'dilated ' : ''}kernel size ${shapeStr(eff)}`);
    }
  }
  const ceilMode = opts.ceilMode ?? false;
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const Ho = poolLength(H, padding[0], padding[2], kernel[0], stride[0], dilation[0], ceilMode);
  const Wo = poolLength(W, padding[1], padding[3], kernel[1], stride[1], dilation[1], ceilMode);
  if (Ho < 1 || Wo < 1) {
    throw new RangeError(`forwardpass: ${op}: x ${shapeStr(x.shape)} padded by ${shapeStr(padding)} is smaller than the ${dilationAllowed ? 'dilated ' : ''}kernel ${shapeStr(eff)} (output would be ${Ho}x${Wo})`);
  }
  return [{ kernel, stride, padding, dilation, ceilMode, countIncludePad: opts.countIncludePad ?? true }, [N, C, Ho, Wo]];
}

/**
 * Max pooling: x [N, C, H, W] -> [N, C, Ho, Wo]. Padded positions never win; NaN propagates.
 *
 * @example maxPool2d(x, { kernelSize: 2 }); maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true })
 */
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): Tensor {
  if (x.dtype === 'bool') throw new TypeError(`forwardpass: maxPool2d: x must be a numeric dtype, got bool`);
  const [attrs, shape] = poolAttrs('maxPool2d', x, opts, true);
  return runOp('maxPool2d', [x], [{ shape, dtype: x.dtype }], attrs)[0]!;
}

/**
 * Average pooling: x [N, C, H, W] -> [N, C, Ho, Wo]; the divisor counts zero padding unless
 * `countIncludePad: false`.
 *
 * @example avgPool2d(x, { kernelSize: 2 }); avgPool2d(x, { kernelSize: 3, padding: 1, countIncludePad: false })
 */
export function avgPool2d(x: Tensor, opts: AvgPool2dOptions): Tensor {
  if (!isFloatDType(x.dtype)) throw new TypeError(`forwardpass: avgPool2d: x must be float32 or float16, got ${x.dtype}`);
  const [attrs, shape] = poolAttrs('avgPool2d', x, opts, false);
  return runOp('avgPool2d', [x], [{ shape, dtype: x.dtype }], attrs)[0]!;
}

/**
 * Mean over the spatial dims, keeping them: [N, C, H, W] -> [N, C, 1, 1].
 *
 * @example globalAvgPool2d(features).flatten(1)
 */
export function globalAvgPool2d(x: Tensor): Tensor {
  expectRank('globalAvgPool2d', 'x', x, 4);
  return mean(x, { axis: [2, 3], keepdim: true });
}
