// WebGPU elementwise ops against the CPU reference: every unary, binary and comparison op, where, cast and
// copy, over awkward shapes, broadcasting, strided views and every dtype (16- and 8-bit ones packed).
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { BINARY_OPS, COMPARE_OPS, UNARY_OPS } from '../../src/ops/attrs.js';
import { maxAbsDiff, randomArray } from '../helpers.js';
import { webgpu } from '../webgpu.js';
import { both } from './helpers.js';

const PARAMS: Partial<Record<string, import("../../src/ops/attrs.js").UnaryAttrs>> = { clamp: { alpha: -0.5, beta: 0.75 }, leakyRelu: { alpha: 0.1 }, elu: { alpha: 1 }, hardSigmoid: { alpha: 1 / 6, beta: 0.5 } };
/**
 * Tolerance relative to max(1, |value|). WGSL only bounds transcendental precision loosely (sin/cos: 2^-11
 * absolute on [-pi, pi]; exp, log: a few ULP growing with |x|); erf is a 1.5e-7 polynomial approximation.
 */
const TOL: Partial<Record<string, number>> = { sin: 2 ** -11, cos: 2 ** -11, erf: 6e-7, gelu: 1e-6, hardSwish: 3e-7, hardSigmoid: 3e-7, geluTanh: 2e-6, tanh: 2e-6, exp: 4e-6, sigmoid: 1e-6, silu: 2e-6, elu: 2e-6, softplus: 2e-6, log: 2e-6, rsqrt: 2e-6, sqrt: 1e-6 };

/** Largest |got - want| / max(1, |want|). */
function maxRelDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (g === w || (Number.isNaN(g) && Number.isNaN(w))) continue;
    m = Math.max(m, Math.abs(g - w) / Math.max(1, Math.abs(w)));
  }
  return m;
}

describe.skipIf(!webgpu.gpu)(`webgpu elementwise (${webgpu.gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  for (const op of UNARY_OPS) {
    it(`unary ${op} matches the CPU on float32 and int32`, async () => {
      const positive = ['log', 'sqrt', 'rsqrt'].includes(op);
      const lim = op === 'sin' || op === 'cos' ? Math.PI : 6;
      const x = fp.tensor(randomArray(1000, 7, positive ? 0.01 : -lim, lim), { shape: [8, 125] });
      const [got, want] = await both((t) => fp.unary(op, t, PARAMS[op] ?? {}), x);
      expect(maxRelDiff(got, want)).toBeLessThanOrEqual(TOL[op] ?? 1e-7);
      const ilim = op === 'sin' || op === 'cos' ? 3 : 40;
      const xi = fp.tensor(Int32Array.from(randomArray(97, 3, positive ? 1 : -ilim, ilim), Math.round), { shape: [97] });
      const [gi, wi] = await both((t) => fp.unary(op, t, PARAMS[op] ?? {}), xi);
      expect(maxRelDiff(gi, wi)).toBeLessThanOrEqual(TOL[op] ?? 1e-7);
    });
  }

  it('softplus keeps its relative precision in the negative tail (e^x, not 0, once 1 + e^x rounds to 1) and its special values', async () => {
    // log(1 + exp(x)) in f32 gave 0 below x = -17 (the ONNX suite's Mish missed atol 1e-7 for it)
    const xs = [...Array.from({ length: 1101 }, (_, i) => -80 + i * 0.1), -Infinity, Infinity, Number.NaN, 0, 20, 20.5];
    const [got, want] = await both((t) => fp.softplus(t), fp.tensor(Float32Array.from(xs), { shape: [xs.length] }));
    let worst = 0;
    for (let i = 0; i < xs.length; i++) {
      const g = got[i]!, w = want[i]!;
      if (g === w || (Number.isNaN(g) && Number.isNaN(w))) continue;
      worst = Math.max(worst, Math.abs(g - w) / Math.abs(w));
    }
    expect(worst).toBeLessThan(1e-5);
    expect(Array.from(got).slice(-6)).toEqual([0, Infinity, Number.NaN, Math.fround(Math.LN2), 20, 20.5]);
  });

  for (const op of [...BINARY_OPS, ...COMPARE_OPS]) {
    it(`${op} with broadcasting and strided views matches the CPU`, async () => {
      const a = fp.tensor(randomArray(3 * 17 * 5, 1, 0.5, 3), { shape: [3, 17, 5] });
      const b = fp.tensor(randomArray(17, 2, 0.5, 3), { shape: [17, 1] });
      const f = (x: fp.Tensor, y: fp.Tensor) => (COMPARE_OPS.includes(op as never) ? fp.compare(op as never, x, y) : fp.binary(op as never, x, y));
      const [got, want] = await both(f, a, b);
      expect(maxAbsDiff(got, want)).toBeLessThan(op === 'pow' ? 1e-5 * 27 : 1e-6 * 9);
      const [g2, w2] = await both((x, y) => f(x.permute(2, 0, 1), y.transpose(0, 1)), a, b);
      expect(maxAbsDiff(g2, w2)).toBeLessThan(op === 'pow' ? 1e-5 * 27 : 1e-6 * 9);
      const ia = fp.tensor(Int32Array.from(randomArray(255, 4, -20, 20), Math.round), { shape: [255] });
      const ib = fp.tensor(Int32Array.from(randomArray(255, 5, 1, 6), Math.round), { shape: [255] });
      const [gi, wi] = await both(f, ia, ib);
      expect(maxAbsDiff(gi, wi)).toBe(0);
    });
  }

  it('where, cast and copy over every dtype, including packed float16, int8, uint8 and bool', async () => {
    const x = fp.tensor(randomArray(3 * 255, 9, -300, 300), { shape: [3, 255] });
    for (const dtype of fp.DTYPES) {
      const [got, want] = await both((t) => fp.cast(t, dtype), x);
      expect(maxAbsDiff(got, want)).toBe(0);
      const [g2, w2] = await both((t) => fp.cast(fp.cast(t, dtype).transpose(0, 1), 'float32'), x);
      expect(maxAbsDiff(g2, w2)).toBe(0);
    }
    const c = fp.gt(x, 0);
    const [gw, ww] = await both((cc, a) => fp.where(cc, a, fp.neg(a).narrow(0, 0, 1)), c, x);
    expect(maxAbsDiff(gw, ww)).toBe(0);
    const odd = fp.tensor(randomArray(17, 3), { shape: [17], dtype: 'float16' });
    const [go, wo] = await both((t) => fp.add(t, t), odd);
    expect(maxAbsDiff(go, wo)).toBe(0);
  });

  it('float16 overflow becomes infinity and NaN stays NaN, as on the CPU', async () => {
    const x = fp.tensor([70000, -70000, NaN, 65504, 1e-8], { device: 'webgpu' });
    expect(Array.from(await fp.cast(x, 'float16').data())).toEqual([Infinity, -Infinity, NaN, 65504, 0]);
    // NaN -> int is 0 and NaN -> bool is true, as on the CPU
    expect(Array.from(await fp.cast(x, 'int32').data())).toEqual(Array.from(fp.cast(await x.to('cpu'), 'int32').dataSync()));
    expect(Array.from(await fp.cast(x, 'bool').data())).toEqual([1, 1, 1, 1, 1]);
  });

  it('tensors stay on the device: mixing devices is a clear error', async () => {
    const g = fp.ones([2], { device: 'webgpu' });
    expect(() => fp.add(g, fp.ones([2]))).toThrow("forwardpass: add: all inputs must be on one device; input 0 is on 'webgpu', input 1 on 'cpu'");
  });
});
