// WebGPU maxPool2d / avgPool2d against a naive float64 pooling written here and against the CPU backend:
// strides, symmetric and asymmetric padding, dilation, ceilMode, countIncludePad, int32, NaN, float16, offsets.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { randomArray } from '../helpers.js';
import { webgpu } from '../webgpu.js';

type Pad4 = [number, number, number, number];
interface Opts { kernelSize: [number, number]; stride: [number, number]; padding: Pad4; dilation: [number, number]; ceilMode: boolean; countIncludePad: boolean }

/** PyTorch's rule for the output length (ceilMode: the last window must start inside the input or the left padding). */
function outLen(n: number, before: number, after: number, k: number, s: number, d: number, ceil: boolean): number {
  const span = n + before + after - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= n + before) o--;
  return o;
}

/** Naive pooling over x [N, C, H, W] in float64. */
function naivePool(op: 'max' | 'avg', x: ArrayLike<number>, shape: number[], o: Opts): { out: number[]; shape: number[] } {
  const [N, C, H, W] = shape as [number, number, number, number];
  const [kH, kW] = o.kernelSize, [sH, sW] = o.stride, [pT, pL, pB, pR] = o.padding, [dH, dW] = o.dilation;
  const Ho = outLen(H, pT, pB, kH, sH, dH, o.ceilMode), Wo = outLen(W, pL, pR, kW, sW, dW, o.ceilMode);
  const out: number[] = [];
  for (let p = 0; p < N * C; p++) for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
    const vals: number[] = [];
    let padded = 0;
    for (let kh = 0; kh < kH; kh++) for (let kw = 0; kw < kW; kw++) {
      const ih = oh * sH - pT + kh * dH, iw = ow * sW - pL + kw * dW;
      if (ih >= -pT && ih < H + pB && iw >= -pL && iw < W + pR) padded++;
      if (ih >= 0 && ih < H && iw >= 0 && iw < W) vals.push(x[(p * H + ih) * W + iw]!);
    }
    if (op === 'max') out.push(vals.some(Number.isNaN) ? NaN : Math.max(...vals));
    else out.push(vals.reduce((a, b) => a + b, 0) / (o.countIncludePad ? padded : vals.length));
  }
  return { out, shape: [N, C, Ho, Wo] };
}

const run = (op: 'max' | 'avg', x: fp.Tensor, o: Opts) => (op === 'max' ? fp.maxPool2d(x, o) : fp.avgPool2d(x, { ...o, dilation: undefined } as never));

/** Compare GPU with the naive pooling (tolerance `tol`, relative to max(1, |value|)) and with the CPU. */
async function check(op: 'max' | 'avg', cpuX: fp.Tensor, o: Opts, tol: number): Promise<void> {
  const ref = naivePool(op, await cpuX.contiguous().data(), [...cpuX.shape], o);
  const want = run(op, cpuX, o);
  const got = run(op, await cpuX.to('webgpu'), o);
  expect(got.shape).toEqual(ref.shape);
  expect(got.dtype).toBe(cpuX.dtype);
  const g = await got.data(), c = await want.data();
  for (let i = 0; i < ref.out.length; i++) {
    const r = ref.out[i]!;
    // (a dilated window can miss the input entirely: -Infinity on every backend)
    const ok = Number.isNaN(r) ? Number.isNaN(g[i]!) : g[i] === r || Math.abs(g[i]! - r) <= tol * Math.max(1, Math.abs(r));
    const okCpu = Number.isNaN(c[i]!) ? Number.isNaN(g[i]!) : g[i] === c[i] || Math.abs(g[i]! - c[i]!) <= 2 * tol * Math.max(1, Math.abs(r));
    if (!ok || !okCpu) throw new Error(`${op} ${JSON.stringify(o)} x ${JSON.stringify(cpuX.shape)}: output ${i} is ${g[i]}, naive ${r}, CPU ${c[i]}`);
  }
}

const opts = (k: number | [number, number], s: number | [number, number], p: number | Pad4, d: number, ceilMode: boolean, countIncludePad: boolean): Opts => ({
  kernelSize: typeof k === 'number' ? [k, k] : k,
  stride: typeof s === 'number' ? [s, s] : s,
  padding: typeof p === 'number' ? [p, p, p, p] : p,
  dilation: [d, d],
  ceilMode,
  countIncludePad,
});

describe.skipIf(!webgpu.gpu)('webgpu pooling', () => {
  it('hand-checked: 2x2 max and average of a 3x3 ramp, ceilMode keeps the ragged last window', async () => {
    const x = fp.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 1, 3, 3], device: 'webgpu' });
    expect(Array.from(await fp.maxPool2d(x, { kernelSize: 2, ceilMode: true }).data())).toEqual([5, 6, 8, 9]);
    expect(Array.from(await fp.avgPool2d(x, { kernelSize: 2, ceilMode: true }).data())).toEqual([3, 4.5, 7.5, 9]);
    expect(Array.from(await fp.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }).data())).toEqual([12 / 9, 16 / 9, 24 / 9, 28 / 9].map(Math.fround));
  });

  it('max and average over strides, paddings (incl. asymmetric), dilation, ceilMode, countIncludePad and odd sizes', async () => {
    let seed = 1, n = 0;
    for (const [H, W] of [[1, 1], [5, 3], [17, 17], [8, 13]] as [number, number][]) {
      const x = fp.tensor(randomArray(2 * 3 * H * W, seed++, -4, 4), { shape: [2, 3, H, W] });
      for (const k of [1, 2, 3]) for (const s of [1, 2, 3]) for (const ceil of [false, true]) {
        const pads: (number | Pad4)[] = k === 1 ? [0] : [0, 1, [1, 0, 0, 1]];
        for (const p of pads) {
          // max with dilation 1 and 2 in turn, avg with countIncludePad true and false in turn
          n++;
          const d = 1 + (n % 2);
          const om = opts(k, s, p, d, ceil, true);
          if (outLen(H, om.padding[0], om.padding[2], k, s, d, ceil) >= 1 && outLen(W, om.padding[1], om.padding[3], k, s, d, ceil) >= 1) await check('max', x, om, 0);
          const oa = opts(k, s, p, 1, ceil, Math.floor(n / 2) % 2 === 0);
          if (outLen(H, oa.padding[0], oa.padding[2], k, s, 1, ceil) >= 1 && outLen(W, oa.padding[1], oa.padding[3], k, s, 1, ceil) >= 1) await check('avg', x, oa, 4e-7);
        }
      }
    }
  });

  it('rectangular windows and strides, int32 max pooling, NaN propagation, padding never wins', async () => {
    const x = fp.tensor(randomArray(2 * 2 * 9 * 11, 50, -4, 4), { shape: [2, 2, 9, 11] });
    await check('max', x, opts([3, 2], [2, 3], [1, 1, 0, 1], 1, true, true), 0);
    await check('avg', x, opts([2, 4], [1, 2], [1, 2, 0, 1], 1, true, false), 4e-7);
    const xi = fp.tensor(Int32Array.from(randomArray(2 * 9 * 11, 51, -1e6, 1e6), Math.round), { shape: [1, 2, 9, 11] });
    await check('max', xi, opts(3, 2, 1, 2, false, true), 0);
    // all-negative input: zero padding must never become the maximum
    await check('max', fp.tensor(randomArray(2 * 5 * 5, 52, -9, -1), { shape: [1, 2, 5, 5] }), opts(3, 1, 1, 1, false, true), 0);
    const withNaN = fp.tensor([1, NaN, 3, 4, 5, 6, 7, 8, NaN, 0, 0, 0, 0, 0, 0, 0], { shape: [1, 1, 4, 4] });
    await check('max', withNaN, opts(2, 2, 0, 1, false, true), 0);
    await check('avg', withNaN, opts(2, 2, 0, 1, false, true), 4e-7);
  });

  it("the fixture's 2x2 max pool on [4, 32, 14, 14]", async () => {
    await check('max', fp.tensor(randomArray(4 * 32 * 14 * 14, 70, -2, 2), { shape: [4, 32, 14, 14] }), opts(2, 2, 0, 1, false, true), 0);
  });

  it('float16 and inputs at an offset or as non-contiguous views', async () => {
    const x = fp.tensor(randomArray(3 * 2 * 7 * 9, 60, -3, 3), { shape: [3, 2, 7, 9] });
    await check('max', fp.cast(x, 'float16'), opts(3, 2, 1, 1, true, true), 0);
    // avg of halves: f32 sums then one rounding to half on both backends (may differ by one half step, 2^-10 relative)
    await check('avg', fp.cast(x, 'float16'), opts(3, 2, 1, 1, true, false), 2 ** -10);
    await check('max', x.narrow(0, 1, 2), opts(2, 1, 1, 2, false, true), 0);
    await check('avg', x.transpose(2, 3), opts(3, 2, 0, 1, true, true), 4e-7);
  });
});
