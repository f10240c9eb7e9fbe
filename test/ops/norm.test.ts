// batchNorm, layerNorm, rmsNorm, groupNorm: hand-checked values, random inputs against naive loops (float32 and
// float16), optional weight/bias, and error messages.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { maxAbsDiff, randomArray } from '../helpers.js';

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Naive normalization of consecutive blocks of `D` values (layer/rms/group norm share this), then an affine map. */
function naiveBlocks(x: Float32Array, D: number, eps: number, rms: boolean, scale: (block: number, i: number) => number, shift: (block: number, i: number) => number): Float64Array {
  const out = new Float64Array(x.length);
  for (let blk = 0; blk * D < x.length; blk++) {
    const vals = Array.from(x.subarray(blk * D, (blk + 1) * D));
    const mean = rms ? 0 : vals.reduce((a, b) => a + b, 0) / D;
    const v = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / D;
    vals.forEach((val, i) => { out[blk * D + i] = ((val - mean) / Math.sqrt(v + eps)) * scale(blk, i) + shift(blk, i); });
  }
  return out;
}

describe('batchNorm', () => {
  it('normalizes with running statistics (hand-checked)', async () => {
    const x = fp.tensor([[[1, 3], [5, 7]]]); // [N=1, C=2, L=2]
    const y = fp.batchNorm(x, fp.tensor([2, 6]), fp.tensor([4, 1]), fp.tensor([1, 2]), fp.tensor([0, 10]), 0);
    // channel 0: (x - 2) / 2 -> -0.5, 0.5; channel 1: (x - 6) / 1 * 2 + 10 -> 8, 12
    expect(await y.toArray()).toEqual([[[-0.5, 0.5], [8, 12]]]);
  });

  it('matches naive loops for rank 2, 3 and 4 inputs, with and without affine parameters', async () => {
    for (const [i, shape] of [[4, 3], [2, 3, 5], [2, 4, 3, 3]].entries()) {
      const C = shape[1]!;
      const S = prod(shape.slice(2));
      const xa = randomArray(prod(shape), 10 + i, -3, 3);
      const m = randomArray(C, 20 + i), v = randomArray(C, 30 + i, 0.1, 2), w = randomArray(C, 40 + i), b = randomArray(C, 50 + i);
      const ref = new Float64Array(xa.length);
      const refPlain = new Float64Array(xa.length);
      for (let j = 0; j < xa.length; j++) {
        const c = Math.floor(j / S) % C;
        refPlain[j] = (xa[j]! - m[c]!) / Math.sqrt(v[c]! + 1e-5);
        ref[j] = refPlain[j]! * w[c]! + b[c]!;
      }
      const x = fp.tensor(xa, { shape });
      expect(maxAbsDiff(await fp.batchNorm(x, fp.tensor(m), fp.tensor(v), fp.tensor(w), fp.tensor(b)).data(), ref)).toBeLessThan(1e-5);
      expect(maxAbsDiff(await fp.batchNorm(x, fp.tensor(m), fp.tensor(v)).data(), refPlain)).toBeLessThan(1e-5);
    }
  });

  it('checks parameter shapes and x', () => {
    const x = fp.zeros([2, 3, 4]);
    expect(() => fp.batchNorm(x, fp.zeros([4]), fp.ones([3]))).toThrow('forwardpass: batchNorm: runningMean must have shape [3] (one value per channel of x [2, 3, 4]), got [4]');
    expect(() => fp.batchNorm(x, fp.zeros([3]), fp.ones([3]), fp.ones([1, 3]))).toThrow('forwardpass: batchNorm: weight must have shape [3] (one value per channel of x [2, 3, 4]), got [1, 3]');
    expect(() => fp.batchNorm(fp.zeros([3]), fp.zeros([3]), fp.ones([3]))).toThrow('forwardpass: batchNorm: x must have rank 2 or more, got shape [3]');
    expect(() => fp.batchNorm(x, fp.zeros([3]), fp.ones([3]), null, null, -1)).toThrow('forwardpass: batchNorm: eps must be a finite non-negative number, got -1');
    expect(() => fp.batchNorm(x, fp.zeros([3], { dtype: 'int32' }), fp.ones([3]))).toThrow('forwardpass: batchNorm: runningMean must be float32 or float16, got int32');
  });
});

describe('layerNorm and rmsNorm', () => {
  it('hand-checked values', async () => {
    const s = Math.sqrt(1.5); // 1/sqrt(var) for [1, 2, 3] is 1/sqrt(2/3)
    const ln = await fp.layerNorm(fp.tensor([[1, 2, 3]]), 3, null, null, 0).data();
    expect(maxAbsDiff(ln, [-s, 0, s])).toBeLessThan(1e-6);
    const rms = await fp.rmsNorm(fp.tensor([3, 4]), 2, fp.tensor([1, 2]), 0).data();
    expect(maxAbsDiff(rms, [3 / Math.sqrt(12.5), 8 / Math.sqrt(12.5)])).toBeLessThan(1e-6);
  });

  it('rmsNorm uses float32 machine epsilon when eps is omitted', async () => {
    expect(fp.FLOAT32_EPS).toBe(1.1920928955078125e-7);
    const y = await fp.rmsNorm(fp.tensor([1e-4, 1e-4]), [2]).data();
    const want = 1e-4 / Math.sqrt(1e-8 + 2 ** -23); // ~0.278, far from 1 without eps
    expect(maxAbsDiff(y, [want, want])).toBeLessThan(1e-5);
  });

  it('matches naive loops over one or two normalized dims, f32 and f16, with optional weight/bias', async () => {
    const shape = [2, 3, 4, 5];
    const xa = randomArray(prod(shape), 1, -2, 2);
    for (const ns of [[5], [4, 5]]) {
      const D = prod(ns);
      const wa = randomArray(D, 2), ba = randomArray(D, 3);
      const x = fp.tensor(xa, { shape });
      const w = fp.tensor(wa, { shape: ns }), b = fp.tensor(ba, { shape: ns });
      const full = naiveBlocks(xa, D, 1e-5, false, (_, i) => wa[i]!, (_, i) => ba[i]!);
      expect(maxAbsDiff(await fp.layerNorm(x, ns, w, b).data(), full)).toBeLessThan(1e-5);
      expect(maxAbsDiff(await fp.layerNorm(x, ns).data(), naiveBlocks(xa, D, 1e-5, false, () => 1, () => 0))).toBeLessThan(1e-5);
      expect(maxAbsDiff(await fp.layerNorm(x, ns, null, b).data(), naiveBlocks(xa, D, 1e-5, false, () => 1, (_, i) => ba[i]!))).toBeLessThan(1e-5);
      const rmsRef = naiveBlocks(xa, D, 1e-6, true, (_, i) => wa[i]!, () => 0);
      expect(maxAbsDiff(await fp.rmsNorm(x, ns, w, 1e-6).data(), rmsRef)).toBeLessThan(1e-5);
      // float16 input and parameters: the result is float16 and within half precision of the f32 reference
      const y16 = fp.layerNorm(fp.cast(x, 'float16'), ns, fp.cast(w, 'float16'), b);
      expect(y16.dtype).toBe('float16');
      expect(maxAbsDiff(await y16.data(), full)).toBeLessThan(1e-2);
      expect(maxAbsDiff(await fp.rmsNorm(fp.cast(x, 'float16'), ns, w, 1e-6).data(), rmsRef)).toBeLessThan(1e-2);
    }
  });

  it('reads non-contiguous inputs', async () => {
    const xa = randomArray(12, 5);
    const t = fp.tensor(xa, { shape: [3, 4] }).transpose(0, 1); // [4, 3]
    const rows = new Float32Array(12);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) rows[i * 3 + j] = xa[j * 4 + i]!;
    expect(maxAbsDiff(await fp.layerNorm(t, 3).data(), naiveBlocks(rows, 3, 1e-5, false, () => 1, () => 0))).toBeLessThan(1e-5);
  });

  it('checks normalizedShape against x and the parameters', () => {
    const x = fp.zeros([2, 3, 4]);
    expect(() => fp.layerNorm(x, [2, 4])).toThrow('forwardpass: layerNorm: the last dims of x [2, 3, 4] must equal normalizedShape [2, 4]');
    expect(() => fp.layerNorm(x, 4, fp.ones([3]))).toThrow('forwardpass: layerNorm: weight must have shape [4] (normalizedShape), got [3]');
    expect(() => fp.layerNorm(x, 4, null, fp.ones([3, 4]))).toThrow('forwardpass: layerNorm: bias must have shape [4] (normalizedShape), got [3, 4]');
    expect(() => fp.layerNorm(x, [])).toThrow('forwardpass: layerNorm: normalizedShape must be a non-negative integer or a non-empty list of them, got []');
    expect(() => fp.rmsNorm(x, [5])).toThrow('forwardpass: rmsNorm: the last dims of x [2, 3, 4] must equal normalizedShape [5]');
    expect(() => fp.rmsNorm(fp.zeros([4], { dtype: 'int32' }), 4)).toThrow('forwardpass: rmsNorm: x must be float32 or float16, got int32');
  });
});

describe('groupNorm', () => {
  it('normalizes each group over its channels and positions (hand-checked)', async () => {
    // 2 groups of 2 channels with 1 position: group 0 = [1, 3] -> [-1, 1]; group 1 = [5, 9] -> [-1, 1]; then * weight + bias
    const y = fp.groupNorm(fp.tensor([[1, 3, 5, 9]]), 2, fp.tensor([1, 2, 1, 1]), fp.tensor([0, 0, 0, 7]), 0);
    expect(await y.toArray()).toEqual([[-1, 2, -1, 8]]);
  });

  it('matches naive loops (f32 and f16) with per-channel affine parameters', async () => {
    const shape = [2, 6, 3, 2];
    const C = shape[1]!;
    const S = 6;
    const xa = randomArray(prod(shape), 8, -2, 2);
    const wa = randomArray(C, 9), ba = randomArray(C, 10);
    for (const G of [1, 2, 3, 6]) {
      const D = (C / G) * S;
      const chan = (blk: number, i: number) => (blk % G) * (C / G) + Math.floor(i / S);
      const ref = naiveBlocks(xa, D, 1e-5, false, (blk, i) => wa[chan(blk, i)]!, (blk, i) => ba[chan(blk, i)]!);
      const x = fp.tensor(xa, { shape });
      expect(maxAbsDiff(await fp.groupNorm(x, G, fp.tensor(wa), fp.tensor(ba)).data(), ref)).toBeLessThan(1e-5);
      expect(maxAbsDiff(await fp.groupNorm(fp.cast(x, 'float16'), G, fp.tensor(wa), fp.tensor(ba)).data(), ref)).toBeLessThan(1e-2);
    }
  });

  it('checks the group count and parameter shapes', () => {
    const x = fp.zeros([2, 6, 4]);
    expect(() => fp.groupNorm(x, 4)).toThrow('forwardpass: groupNorm: numGroups must be a positive integer dividing the 6 channels of x [2, 6, 4], got 4');
    expect(() => fp.groupNorm(x, 3, fp.ones([3]))).toThrow('forwardpass: groupNorm: weight must have shape [6] (one value per channel of x [2, 6, 4]), got [3]');
  });
});
