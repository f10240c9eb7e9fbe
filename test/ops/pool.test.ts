// maxPool2d, avgPool2d, globalAvgPool2d: hand-checked windows (ceilMode, padding), random cases against naive loops, errors.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { makeRng } from '../../src/index.js';
import { maxAbsDiff, randomArray } from '../helpers.js';

type Pad4 = [number, number, number, number];
interface PoolCase { k: [number, number]; s: [number, number]; p: Pad4; d: [number, number]; ceil: boolean; incl: boolean }

/** Output length as PyTorch documents it, with the ceil-mode rule that a window must start inside input or left padding. */
function outLen(n: number, before: number, after: number, k: number, s: number, d: number, ceil: boolean): number {
  const exact = (n + before + after - d * (k - 1) - 1) / s;
  let len = (ceil ? Math.ceil(exact) : Math.floor(exact)) + 1;
  if (ceil && (len - 1) * s >= n + before) len -= 1;
  return len;
}

/** Naive pooling: walks every window; 'max' ignores padding, 'avg' divides by the window part inside the padded input. */
function naivePool(kind: 'max' | 'avg', x: Float32Array, [N, C, H, W]: number[], c: PoolCase): { data: Float64Array; shape: number[] } {
  const Ho = outLen(H, c.p[0], c.p[2], c.k[0], c.s[0], c.d[0], c.ceil);
  const Wo = outLen(W, c.p[1], c.p[3], c.k[1], c.s[1], c.d[1], c.ceil);
  const out = new Float64Array(N * C * Ho * Wo);
  let q = 0;
  for (let nc = 0; nc < N * C; nc++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
    let best = -Infinity, sum = 0, valid = 0, inPadded = 0;
    for (let a = 0; a < c.k[0]; a++) for (let b = 0; b < c.k[1]; b++) {
      const r = i * c.s[0] - c.p[0] + a * c.d[0];
      const col = j * c.s[1] - c.p[1] + b * c.d[1];
      if (r >= -c.p[0] && r < H + c.p[2] && col >= -c.p[1] && col < W + c.p[3]) inPadded++;
      if (r < 0 || r >= H || col < 0 || col >= W) continue;
      const v = x[(nc * H + r) * W + col]!;
      best = Math.max(best, v);
      sum += v;
      valid++;
    }
    out[q++] = kind === 'max' ? best : sum / (c.incl ? inPadded : valid);
  }
  return { data: out, shape: [N, C, Ho, Wo] };
}

const grid = (h: number, w: number) => fp.arange(h * w, { dtype: 'float32' }).reshape([1, 1, h, w]);

describe('maxPool2d', () => {
  it('takes 2x2 maxima (stride defaults to the kernel size)', async () => {
    expect(await fp.maxPool2d(grid(4, 4), { kernelSize: 2 }).toArray()).toEqual([[[[5, 7], [13, 15]]]]);
    expect(await fp.maxPool2d(grid(4, 4), { kernelSize: 2, stride: 1 }).toArray()).toEqual([[[[5, 6, 7], [9, 10, 11], [13, 14, 15]]]]);
  });

  it('keeps partial windows in ceilMode, and drops a window that would start in the right padding', async () => {
    // 5x5, k2 s2: floor gives 2x2; ceil gives 3x3 whose last row/column windows hold one row/column
    expect(await fp.maxPool2d(grid(5, 5), { kernelSize: 2, ceilMode: true }).toArray()).toEqual([[[[6, 8, 9], [16, 18, 19], [21, 23, 24]]]]);
    expect(fp.maxPool2d(grid(5, 5), { kernelSize: 2 }).shape).toEqual([1, 1, 2, 2]);
    // 3x3, k2 s2 p1: (3 + 2 - 2) / 2 = 1.5 -> ceil 3, but window 3 would start at 4 - 1 = 3 >= 3: dropped
    expect(await fp.maxPool2d(grid(3, 3), { kernelSize: 2, padding: 1, ceilMode: true }).toArray()).toEqual([[[[0, 2], [6, 8]]]]);
  });

  it('never lets padding win, propagates NaN, and pools int32', async () => {
    const neg = fp.tensor([[[[-5, -6], [-7, -8]]]]);
    expect(await fp.maxPool2d(neg, { kernelSize: 3, stride: 1, padding: 1 }).toArray()).toEqual([[[[-5, -5], [-5, -5]]]]);
    const withNaN = await fp.maxPool2d(fp.tensor([[[[1, NaN], [3, 4]]]]), { kernelSize: 2 }).data();
    expect(Number.isNaN(withNaN[0])).toBe(true);
    const ints = fp.maxPool2d(fp.tensor([[[[1, 9], [3, 4]]]], { dtype: 'int32' }), { kernelSize: 2 });
    expect(ints.dtype).toBe('int32');
    expect(await ints.toArray()).toEqual([[[[9]]]]);
  });

  it('dilates the window', async () => {
    // k2 d2 on 4x4: taps (i, j), (i, j+2), (i+2, j), (i+2, j+2); stride 1 -> 2x2 output
    expect(await fp.maxPool2d(grid(4, 4), { kernelSize: 2, stride: 1, dilation: 2 }).toArray()).toEqual([[[[10, 11], [14, 15]]]]);
  });
});

describe('avgPool2d', () => {
  it('divides by the padded window, or by the valid part with countIncludePad false', async () => {
    const x = fp.ones([1, 1, 3, 3]);
    expect(await fp.avgPool2d(x, { kernelSize: 3, stride: 1, padding: 1 }).toArray()).toEqual([[[[4 / 9, 6 / 9, 4 / 9], [6 / 9, 1, 6 / 9], [4 / 9, 6 / 9, 4 / 9]]]].map((a) => a.map((b) => b.map((r) => r.map((v) => Math.fround(v))))));
    expect(await fp.avgPool2d(x, { kernelSize: 3, stride: 1, padding: 1, countIncludePad: false }).toArray()).toEqual([[[[1, 1, 1], [1, 1, 1], [1, 1, 1]]]]);
  });

  it('in ceilMode, does not count the overhang past the input and padding', async () => {
    // 5x5 arange, k2 s2 ceil: the last column window holds column 4 of two rows: (4 + 9) / 2
    expect(await fp.avgPool2d(grid(5, 5), { kernelSize: 2, ceilMode: true }).toArray()).toEqual([[[[3, 5, 6.5], [13, 15, 16.5], [20.5, 22.5, 24]]]]);
  });

  it('reduces spatial dims with globalAvgPool2d', async () => {
    const g = fp.globalAvgPool2d(fp.tensor([[[[1, 2], [3, 4]], [[0, 0], [0, 8]]]]));
    expect(g.shape).toEqual([1, 2, 1, 1]);
    expect(await g.toArray()).toEqual([[[[2.5]], [[2]]]]);
    expect(() => fp.globalAvgPool2d(fp.zeros([2, 3]))).toThrow('forwardpass: globalAvgPool2d: x must have rank 4, got shape [2, 3]');
  });
});

describe('pooling: random cases against naive loops', () => {
  const rng = makeRng(21);
  const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)]!;
  const cases: { kind: 'max' | 'avg'; shape: number[]; c: PoolCase }[] = [];
  for (let i = 0; i < 80; i++) {
    const kind = i % 2 ? 'max' : 'avg';
    const k: [number, number] = [pick([1, 2, 3, 4]), pick([1, 2, 3])];
    const d: [number, number] = kind === 'max' ? [pick([1, 2]), pick([1, 2])] : [1, 1];
    const half = (j: number) => Math.floor((d[j]! * (k[j]! - 1) + 1) / 2);
    const p: Pad4 = [Math.min(pick([0, 1, 2]), half(0)), Math.min(pick([0, 1]), half(1)), Math.min(pick([0, 1, 2]), half(0)), Math.min(pick([0, 1]), half(1))];
    const H = Math.max(pick([1, 3, 5, 17]), d[0] * (k[0] - 1) + 1);
    const W = Math.max(pick([1, 3, 5, 17]), d[1] * (k[1] - 1) + 1);
    cases.push({ kind, shape: [pick([1, 2]), pick([1, 3]), H, W], c: { k, s: [pick([1, 2, 3]), pick([1, 2, 3])], p, d, ceil: rng() < 0.5, incl: rng() < 0.5 } });
  }

  it.each(cases.map((c, i) => [i, c.kind, c] as const))('case %i (%s)', async (i, kind, { shape, c }) => {
    const xa = randomArray(shape.reduce((a, b) => a * b), 500 + i);
    const x = fp.tensor(xa, { shape });
    const ref = naivePool(kind, xa, shape, c);
    const y = kind === 'max'
      ? fp.maxPool2d(x, { kernelSize: c.k, stride: c.s, padding: c.p, dilation: c.d, ceilMode: c.ceil })
      : fp.avgPool2d(x, { kernelSize: c.k, stride: c.s, padding: c.p, ceilMode: c.ceil, countIncludePad: c.incl });
    expect(y.shape).toEqual(ref.shape);
    expect(maxAbsDiff(await y.data(), ref.data)).toBeLessThan(1e-6);
  });

  it('pools float16 within half precision', async () => {
    const xa = randomArray(2 * 3 * 7 * 6, 9);
    const c: PoolCase = { k: [3, 2], s: [2, 2], p: [1, 1, 1, 1], d: [1, 1], ceil: true, incl: false };
    const x = fp.tensor(xa, { shape: [2, 3, 7, 6], dtype: 'float16' });
    const y = fp.avgPool2d(x, { kernelSize: c.k, stride: c.s, padding: 1, ceilMode: true, countIncludePad: false });
    expect(y.dtype).toBe('float16');
    expect(maxAbsDiff(await y.data(), naivePool('avg', xa, [2, 3, 7, 6], c).data)).toBeLessThan(2e-3);
  });
});

describe('pooling: errors', () => {
  const x = fp.zeros([1, 2, 4, 4]);
  it('names the problem and the shapes', () => {
    expect(() => fp.maxPool2d(x, { kernelSize: 2, padding: 2 })).toThrow('forwardpass: maxPool2d: padding [2, 2, 2, 2] must be at most half the dilated kernel size [2, 2]');
    expect(() => fp.avgPool2d(x, { kernelSize: 3, padding: [0, 0, 2, 0] })).toThrow('forwardpass: avgPool2d: padding [0, 0, 2, 0] must be at most half the kernel size [3, 3]');
    expect(() => fp.maxPool2d(x, { kernelSize: 5 })).toThrow('forwardpass: maxPool2d: x [1, 2, 4, 4] padded by [0, 0, 0, 0] is smaller than the dilated kernel [5, 5] (output would be 0x0)');
    expect(() => fp.maxPool2d(x, {} as never)).toThrow('forwardpass: maxPool2d: opts.kernelSize is required');
    expect(() => fp.maxPool2d(x, { kernelSize: 0 })).toThrow('forwardpass: maxPool2d: kernelSize must be a positive integer or a pair of them, got 0');
    expect(() => fp.avgPool2d(x, { kernelSize: 2, stride: [1, 0] })).toThrow('forwardpass: avgPool2d: stride must be a positive integer or a pair of them, got [1,0]');
    expect(() => fp.maxPool2d(fp.zeros([2, 4, 4]), { kernelSize: 2 })).toThrow('forwardpass: maxPool2d: x must have rank 4, got shape [2, 4, 4]');
    expect(() => fp.avgPool2d(fp.zeros([1, 1, 2, 2], { dtype: 'int32' }), { kernelSize: 2 })).toThrow('forwardpass: avgPool2d: x must be float32 or float16, got int32');
    expect(() => fp.maxPool2d(fp.zeros([1, 1, 2, 2], { dtype: 'bool' }), { kernelSize: 2 })).toThrow('forwardpass: maxPool2d: x must be a numeric dtype, got bool');
  });
});
