// Output statistics for traces: min / max / mean / std over the finite values, NaN and Inf counts, and a
// histogram of the finite values; plus widening any dtype's data to float32.
import type { DataArray } from '../tensor/dtype.js';
import type { TensorStats } from './types.js';

/** `data` as float32 (float16 arrives already widened; ints and bools become their numbers). @example toFloat32(new Int32Array([1, 2])) */
export function toFloat32(data: DataArray): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/**
 * Statistics of `values` with a `bins`-bin histogram over [min, max] of the finite values (one pass for the
 * moments, one for the histogram; the mean and std are accumulated in float64).
 * @example tensorStats(new Float32Array([1, 2, NaN]), 4) // { min: 1, max: 2, mean: 1.5, nan: 1, ... }
 */
export function tensorStats(values: ArrayLike<number>, bins = 16): TensorStats {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`forwardpass: trace: bins must be a positive integer, got ${String(bins)}`);
  let min = Infinity, max = -Infinity, sum = 0, nan = 0, inf = 0, finite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v) { nan++; continue; }
    if (v === Infinity || v === -Infinity) { inf++; continue; }
    finite++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const counts = new Array<number>(bins).fill(0);
  if (finite === 0) return { count: values.length, min: NaN, max: NaN, mean: NaN, std: NaN, nan, inf, hist: { lo: NaN, hi: NaN, counts } };
  const mean = sum / finite;
  let sq = 0;
  const width = (max - min) / bins;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    sq += (v - mean) * (v - mean);
    const b = width > 0 ? Math.min(bins - 1, Math.floor((v - min) / width)) : 0;
    counts[b]!++;
  }
  return { count: values.length, min, max, mean, std: Math.sqrt(sq / finite), nan, inf, hist: { lo: min, hi: max, counts } };
}
