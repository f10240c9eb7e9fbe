// Normalization layers (inference): batchNorm with running statistics, layerNorm, rmsNorm and groupNorm.
// Parameters are cast to x's dtype when they differ; kernels take weight and bias as optional trailing inputs.
import { isFloatDType } from '../tensor/dtype.js';
import { shapeStr, shapesEqual } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { ones } from '../tensor/creation.js';
import type { OpAttrs } from './attrs.js';
import { runOp } from './dispatch.js';
import { cast } from './elementwise.js';

/** float32 machine epsilon (2^-23): rmsNorm's eps when none is given, as torch.nn.RMSNorm computes in float32. */
export const FLOAT32_EPS = 2 ** -23;

function checkX(op: string, x: Tensor, minRank: number): void {
  if (!isFloatDType(x.dtype)) throw new TypeError(`forwardpass: ${op}: x must be float32 or float16, got ${x.dtype}`);
  if (x.rank < minRank) throw new RangeError(`forwardpass: ${op}: x must have rank ${minRank} or more, got shape ${shapeStr(x.shape)}`);
}

function checkEps(op: string, eps: number): void {
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) throw new RangeError(`forwardpass: ${op}: eps must be a finite non-negative number, got ${eps}`);
}

/**
 * Run norm kernel `op` on x and the per-feature tensors `required`, then the optional weight and bias
 * (a weight of ones is supplied when only a bias is given), each checked to have shape `paramShape`.
 */
function runNorm<K extends 'batchNorm' | 'layerNorm' | 'rmsNorm' | 'groupNorm'>(
  op: K, x: Tensor, named: [string, Tensor | null | undefined][], paramShape: readonly number[], attrs: OpAttrs[K], why: string,
): Tensor {
  const temps: Tensor[] = [];
  try {
    const ins: Tensor[] = [x];
    const list = [...named];
    // drop a trailing missing bias, then a trailing missing weight; a missing weight before a bias becomes ones
    while (list.length && !list[list.length - 1]![1]) list.pop();
    for (const [name, t] of list) {
      if (!t) {
        const o = ones(paramShape, { dtype: x.dtype, device: x.device });
        temps.push(o);
        ins.push(o);
        continue;
      }
      if (!isFloatDType(t.dtype)) throw new TypeError(`forwardpass: ${op}: ${name} must be float32 or float16, got ${t.dtype}`);
      if (!shapesEqual(t.shape, paramShape)) throw new RangeError(`forwardpass: ${op}: ${name} must have shape ${shapeStr(paramShape)} (${why}), got ${shapeStr(t.shape)}`);
      if (t.dtype === x.dtype) ins.push(t);
      else {
        const c = cast(t, x.dtype);
        temps.push(c);
        ins.push(c);
      }
    }
    return runOp(op, ins, [{ shape: x.shape, dtype: x.dtype }], attrs)[0]!;
  } finally {
    temps.forEach((t) => t.dispose());
  }
}

/**
 * Batch normalization with running statistics (inference): x [N, C, ...], runningMean, runningVar, weight, bias [C].
 * y = (x - mean) / sqrt(var + eps) * weight + bias.
 *
 * @example batchNorm(x, bn.runningMean, bn.runningVar, bn.weight, bn.bias)
 */
export function batchNorm(x: Tensor, runningMean: Tensor, runningVar: Tensor, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const op = 'batchNorm';
  checkX(op, x, 2);
  checkEps(op, eps);
  const C = x.shape[1]!;
  if (!runningMean || !runningVar) throw new TypeError(`forwardpass: ${op}: runningMean and runningVar are required`);
  return runNorm(op, x, [['runningMean', runningMean], ['runningVar', runningVar], ['weight', weight], ['bias', bias]], [C], { eps }, `one value per channel of x ${shapeStr(x.shape)}`);
}

function normShape(op: string, x: Tensor, normalizedShape: number[] | number): number[] {
  const ns = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
  if (!Array.isArray(ns) || ns.length === 0 || ns.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`forwardpass: ${op}: normalizedShape must be a non-negative integer or a non-empty list of them, got ${JSON.stringify(normalizedShape)}`);
  }
  if (x.rank < ns.length || !shapesEqual(x.shape.slice(x.rank - ns.length), ns)) {
    throw new RangeError(`forwardpass: ${op}: the last dims of x ${shapeStr(x.shape)} must equal normalizedShape ${shapeStr(ns)}`);
  }
  return ns;
}

/**
 * Layer normalization over the last dims (biased variance): y = (x - mean) / sqrt(var + eps) * weight + bias.
 *
 * @example layerNorm(h, 64, ln.weight, ln.bias); layerNorm(x, [4, 4])
 */
export function layerNorm(x: Tensor, normalizedShape: number[] | number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const op = 'layerNorm';
  checkX(op, x, 1);
  checkEps(op, eps);
  const ns = normShape(op, x, normalizedShape);
  return runNorm(op, x, [['weight', weight], ['bias', bias]], ns, { eps, dims: ns.length }, 'normalizedShape');
}

/**
 * RMS normalization over the last dims, as torch.nn.RMSNorm: y = x / sqrt(mean(x²) + eps) * weight.
 * When `eps` is omitted it is float32 machine epsilon (2^-23 ≈ 1.19e-7), also for float16 inputs.
 *
 * @example rmsNorm(h, 64, norm.weight, 1e-6)
 */
export function rmsNorm(x: Tensor, normalizedShape: number[] | number, weight: Tensor | null = null, eps?: number): Tensor {
  const op = 'rmsNorm';
  const e = eps ?? FLOAT32_EPS;
  checkX(op, x, 1);
  checkEps(op, e);
  const ns = normShape(op, x, normalizedShape);
  return runNorm(op, x, [['weight', weight]], ns, { eps: e, dims: ns.length }, 'normalizedShape');
}

/**
 * Group normalization: x [N, C, ...] with C split into `numGroups` groups, each normalized over its channels
 * and all spatial positions (biased variance); weight and bias [C] apply per channel.
 *
 * @example groupNorm(x, 8, gn.weight, gn.bias)
 */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const op = 'groupNorm';
  checkX(op, x, 2);
  checkEps(op, eps);
  const C = x.shape[1]!;
  if (!Number.isInteger(numGroups) || numGroups < 1 || C % numGroups !== 0) {
    throw new RangeError(`forwardpass: ${op}: numGroups must be a positive integer dividing the ${C} channels of x ${shapeStr(x.shape)}, got ${numGroups}`);
  }
  return runNorm(op, x, [['weight', weight], ['bias', bias]], [C], { eps, groups: numGroups }, `one value per channel of x ${shapeStr(x.shape)}`);
}
