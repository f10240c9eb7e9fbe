// WebGPU conv2dInt8 against a naive convolution written here and against the CPU kernel: int8 x with a scale per
// image (int32 sums) and float x (weight-only), stride, asymmetric padding, dilation and groups, every tile shape,
// dot4I8Packed and its portable twin, bias or not, and an int8 x that starts at an odd byte.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import type { Pad4 } from '../../src/ops/attrs.js';
import { withInt8Path } from '../../src/backends/webgpu/programs/int8.js';
import { randomArray } from '../helpers.js';
import { webgpu } from '../webgpu.js';
import { f32, i8, up, worst } from './helpers.js';

const gpu = webgpu.gpu;

interface Case {
  N: number; C: number; H: number; W: number; O: number; kH: number; kW: number;
  stride: [number, number]; padding: Pad4; dilation: [number, number]; groups: number;
}

/** Output channels per group 5, 10, 40, 1 and 24: the three tile shapes, grouped and depthwise-like convolutions. */
const CASES: Case[] = [
  { N: 2, C: 3, H: 7, W: 9, O: 5, kH: 3, kW: 3, stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 },
  { N: 1, C: 8, H: 6, W: 5, O: 20, kH: 3, kW: 2, stride: [2, 1], padding: [0, 1, 2, 0], dilation: [1, 2], groups: 2 },
  { N: 1, C: 4, H: 5, W: 5, O: 40, kH: 1, kW: 1, stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1 },
  { N: 2, C: 6, H: 9, W: 8, O: 6, kH: 3, kW: 3, stride: [2, 2], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 6 },
  { N: 1, C: 16, H: 5, W: 6, O: 24, kH: 3, kW: 3, stride: [1, 1], padding: [1, 0, 1, 0], dilation: [1, 1], groups: 1 },
];

function geometry(c: Case) {
  const Cg = c.C / c.groups, Og = c.O / c.groups, K = Cg * c.kH * c.kW, Kp = Math.ceil(K / 4) * 4;
  const Ho = Math.floor((c.H + c.padding[0] + c.padding[2] - c.dilation[0] * (c.kH - 1) - 1) / c.stride[0]) + 1;
  const Wo = Math.floor((c.W + c.padding[1] + c.padding[3] - c.dilation[1] * (c.kW - 1) - 1) / c.stride[1]) + 1;
  return { Cg, Og, K, Kp, Ho, Wo };
}

/** Naive y [N, O, Ho, Wo] = (Σ x·wq) · xs[n] · ws[o] + bias[o] in float64, and Σ|terms| + |bias| per output. */
function naiveConv(c: Case, x: ArrayLike<number>, xs: ArrayLike<number> | null, wq: Int8Array, ws: ArrayLike<number>, bias: ArrayLike<number> | null) {
  const { Cg, Og, Kp, Ho, Wo } = geometry(c);
  const y = new Float64Array(c.N * c.O * Ho * Wo), mag = new Float64Array(y.length);
  for (let n = 0; n < c.N; n++) for (let o = 0; o < c.O; o++) for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
    let s = 0, m = 0;
    for (let ci = 0; ci < Cg; ci++) for (let kh = 0; kh < c.kH; kh++) for (let kw = 0; kw < c.kW; kw++) {
      const ih = oh * c.stride[0] - c.padding[0] + kh * c.dilation[0], iw = ow * c.stride[1] - c.padding[1] + kw * c.dilation[1];
      if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
      const p = x[((n * c.C + Math.floor(o / Og) * Cg + ci) * c.H + ih) * c.W + iw]! * wq[o * Kp + (ci * c.kH + kh) * c.kW + kw]!;
      s += p;
      m += Math.abs(p);
    }
    const sc = (xs ? xs[n]! : 1) * ws[o]!, b = bias ? bias[o]! : 0, i = ((n * c.O + o) * Ho + oh) * Wo + ow;
    y[i] = s * sc + b;
    mag[i] = m * Math.abs(sc) + Math.abs(b);
  }
  return { y, mag };
}

function randomInt8(n: number, seed: number): Int8Array {
  const r = fp.makeRng(seed);
  return Int8Array.from({ length: n }, () => Math.floor(r() * 255) - 127);
}

/** Weights [O, Kp]: random in each row's first K entries, zero padding. */
function randomWeights(O: number, K: number, Kp: number, seed: number): Int8Array {
  const w = randomInt8(O * K, seed), out = new Int8Array(O * Kp);
  for (let o = 0; o < O; o++) out.set(w.subarray(o * K, (o + 1) * K), o * Kp);
  return out;
}

/** int32 sums are exact: only the rescale and bias round (float32). */
const tolInt = (mag: number) => 1e-6 * mag;
/** float sums over K taps, as the matmul suite's bound doubled. */
const tolFloat = (K: number, mag: number) => 2 ** -21 * Math.sqrt(K) * mag;

function attrs(c: Case) {
  const { K } = geometry(c);
  return { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, kernel: [c.kH, c.kW] as [number, number], k: K };
}

describe.skipIf(!gpu)(`webgpu conv2dInt8 (${gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  for (const dot4 of [true, false]) {
    it(`int8 x (scale per image) and float x, every case, ${dot4 ? 'dot4I8Packed' : 'portable twin'}: match naive and CPU`, async () => {
      for (const [ci, c] of CASES.entries()) {
        const { K, Kp, Ho, Wo } = geometry(c);
        const nx = c.N * c.C * c.H * c.W;
        const xq = randomInt8(nx, ci + 1), xf = randomArray(nx, ci + 2, -2, 2), wq = randomWeights(c.O, K, Kp, ci + 3);
        const xs = randomArray(c.N, ci + 4, 0.01, 0.1), ws = randomArray(c.O, ci + 5, 0.001, 0.05), bv = randomArray(c.O, ci + 6);
        const bias = ci % 2 === 0 ? bv : null;
        const out = [{ shape: [c.N, c.O, Ho, Wo], dtype: 'float32' as const }];
        for (const intX of [true, false]) {
          const cpuIns = [intX ? i8(xq, [c.N, c.C, c.H, c.W]) : f32(xf, [c.N, c.C, c.H, c.W]), f32(xs, [c.N, 1]), i8(wq, [c.O, Kp]), f32(ws, [c.O, 1]), ...(bias ? [f32(bias, [c.O])] : [])];
          const gpuIns = await Promise.all(cpuIns.map(up));
          const g = withInt8Path({ dot4 }, () => fp.runOp('conv2dInt8', gpuIns, out, attrs(c)))[0]!;
          const variant = gpu!.variant();
          expect(variant).toContain(`DOT4=${dot4}`);
          expect(variant).toContain(`XQ=${intX}`);
          expect(variant).toContain(`HAS_BIAS=${bias !== null}`);
          const want = await fp.runOp('conv2dInt8', cpuIns, out, attrs(c))[0]!.data();
          const ref = naiveConv(c, intX ? xq : xf, intX ? xs : null, wq, ws, bias);
          const tol = (i: number) => (intX ? tolInt(ref.mag[i]!) : tolFloat(K, ref.mag[i]!));
          const got = await g.data();
          const label = `case ${ci} ${intX ? 'int8' : 'float'} x`;
          expect(worst(got, ref.y, tol), label).toBeLessThanOrEqual(1);
          expect(worst(got, want, tol), `${label} vs CPU`).toBeLessThanOrEqual(1);
        }
      }
    });
  }

  it('an int8 x that starts at an odd byte and weights at an odd byte (realigned) give the same result', async () => {
    const c = CASES[1]!;
    const { K, Kp } = geometry(c);
    const nx = c.N * c.C * c.H * c.W;
    const xq = randomInt8(nx, 31), wq = randomWeights(c.O, K, Kp, 32), xs = randomArray(c.N, 33, 0.01, 0.1), ws = randomArray(c.O, 34, 0.001, 0.05);
    const shifted = (v: Int8Array) => { const b = new Int8Array(v.length + 1); b.set(v, 1); return b; };
    const x = (await up(i8(shifted(xq), [nx + 1]))).narrow(0, 1, nx).reshape([c.N, c.C, c.H, c.W]);
    const w = (await up(i8(shifted(wq), [c.O * Kp + 1]))).narrow(0, 1, c.O * Kp).reshape([c.O, Kp]);
    expect([x.offset, w.offset]).toEqual([1, 1]);
    const { Ho, Wo } = geometry(c);
    const y = fp.runOp('conv2dInt8', [x, await up(f32(xs, [c.N, 1])), w, await up(f32(ws, [c.O, 1]))], [{ shape: [c.N, c.O, Ho, Wo], dtype: 'float32' }], attrs(c))[0]!;
    const ref = naiveConv(c, xq, xs, wq, ws, null);
    expect(worst(await y.data(), ref.y, (i) => tolInt(ref.mag[i]!))).toBeLessThanOrEqual(1);
  });

  it('through the public op: float16 x (weight-only) and int8 x with a float16 output, within float16 rounding', async () => {
    const c = CASES[0]!;
    const { K, Kp } = geometry(c);
    const nx = c.N * c.C * c.H * c.W;
    const xh = fp.tensor(randomArray(nx, 51, -2, 2), { shape: [c.N, c.C, c.H, c.W], dtype: 'float16' });
    const xq = i8(randomInt8(nx, 52), [c.N, c.C, c.H, c.W]), xs = f32(randomArray(c.N, 53, 0.01, 0.1), [c.N, 1]);
    const wq = i8(randomWeights(c.O, K, Kp, 54), [c.O, Kp]), ws = f32(randomArray(c.O, 55, 0.001, 0.05), [c.O, 1]), b = f32(randomArray(c.O, 56), [c.O]);
    const opts = { kernel: [c.kH, c.kW] as [number, number], padding: 1, stride: 2 };
    const f = (x: fp.Tensor, q: fp.Tensor, s: fp.Tensor, w: fp.Tensor, sw: fp.Tensor, bb: fp.Tensor) =>
      [fp.conv2dInt8(x, s, w, sw, bb, opts), fp.conv2dInt8(q, s, w, sw, bb, { ...opts, dtype: 'float16' })];
    const want = await Promise.all(f(xh, xq, xs, wq, ws, b).map((t) => t.data()));
    const g = f(...(await Promise.all([xh, xq, xs, wq, ws, b].map(up))) as [fp.Tensor, fp.Tensor, fp.Tensor, fp.Tensor, fp.Tensor, fp.Tensor]);
    expect(g.map((t) => [t.device, t.dtype])).toEqual([['webgpu', 'float16'], ['webgpu', 'float16']]);
    const got = await Promise.all(g.map((t) => t.data()));
    for (const i of [0, 1]) expect(worst(got[i]!, want[i]!, (j) => 2 ** -10 * Math.max(1, Math.abs(want[i]![j]!)))).toBeLessThanOrEqual(1);
  });

  it('rejects k that does not match the kernel with one clear error', async () => {
    const c = CASES[0]!;
    const { K, Kp, Ho, Wo } = geometry(c);
    const ins = await Promise.all([i8(new Int8Array(c.N * c.C * c.H * c.W), [c.N, c.C, c.H, c.W]), fp.ones([c.N, 1]), i8(new Int8Array(c.O * Kp), [c.O, Kp]), fp.ones([c.O, 1])].map(up));
    expect(() => fp.runOp('conv2dInt8', ins, [{ shape: [c.N, c.O, Ho, Wo], dtype: 'float32' }], { ...attrs(c), k: K + 1 })).toThrow(/forwardpass: webgpu: conv2dInt8: k = 28 should be C\/groups·kH·kW = 3·3·3/);
  });
});
