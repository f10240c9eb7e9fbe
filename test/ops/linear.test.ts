// linear: hand-checked cases, random cases against a naive loop (with and without bias, every fused
// activation), strided and float16 inputs, and the shape / dtype errors.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { randomArray } from '../helpers.js';

/** erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), independent of the library's. */
function erfApprox(x: number): number {
  const s = Math.sign(x), ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-ax * ax);
  return s * y;
}

const ACTS: Record<string, (v: number) => number> = {
  none: (v) => v,
  relu: (v) => (v > 0 ? v : 0),
  gelu: (v) => 0.5 * v * (1 + erfApprox(v / Math.SQRT2)),
  geluTanh: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
  silu: (v) => v / (1 + Math.exp(-v)),
  tanh: (v) => Math.tanh(v),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
};

/** Naive y[m, n] = act(sum_k x[m, k]·w[n, k] + b[n]) in float64. */
function naiveLinear(x: ArrayLike<number>, M: number, K: number, w: ArrayLike<number>, N: number, b: ArrayLike<number> | null, act = 'none'): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = b ? b[n]! : 0;
    for (let k = 0; k < K; k++) s += x[m * K + k]! * w[n * K + k]!;
    y[m * N + n] = ACTS[act]!(s);
  }
  return y;
}

/** Tolerance: 1e-5 · sqrt(K) (float32 sums of K terms of inputs in [-1, 1]; activations have slope <= 1.13). */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, K: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThanOrEqual(1e-5 * Math.sqrt(K));
}

const rand = (shape: number[], seed: number, dtype: fp.DType = 'float32') =>
  fp.tensor(randomArray(shape.reduce((x, y) => x * y, 1), seed), { shape, dtype });

describe('linear: hand-checked', () => {
  it('computes x·Wᵀ + b in nn.Linear layout, with a fused relu', async () => {
    const x = fp.tensor([[1, 2]]);
    const w = fp.tensor([[1, 0], [0, 1], [1, 1]]); // [3, 2]
    const b = fp.tensor([0.5, 0, -10]);
    expect(await fp.linear(x, w, b).toArray()).toEqual([[1.5, 2, -7]]);
    expect(await fp.linear(x, w).toArray()).toEqual([[1, 2, 3]]);
    expect(await fp.linear(x, w, b, { activation: 'relu' }).toArray()).toEqual([[1.5, 2, 0]]);
    expect(await fp.linear(fp.tensor([1, 2]), w, null).toArray()).toEqual([1, 2, 3]); // 1-D x
    expect(await fp.linear(fp.zeros([2, 0]), fp.zeros([3, 0]), b).toArray()).toEqual([[0.5, 0, -10], [0.5, 0, -10]]); // K = 0: bias only
    expect(fp.linear(fp.zeros([0, 2]), w, b).shape).toEqual([0, 3]);
  });
});

describe('linear: random against a naive loop', () => {
  it('over awkward M, K, N with and without bias, x of rank 1 to 3', async () => {
    let seed = 1;
    for (const M of [1, 3, 17, 65]) for (const K of [1, 33, 127]) for (const N of [1, 5, 66]) for (const withBias of [false, true]) {
      const x = rand([M, K], seed++), w = rand([N, K], seed++), b = withBias ? rand([N], seed++) : null;
      const y = fp.linear(x, w, b);
      expect(y.shape).toEqual([M, N]);
      expectClose(await y.data(), naiveLinear(await x.data(), M, K, await w.data(), N, b ? await b.data() : null), K);
    }
    const x3 = rand([2, 9, 33], 500), w = rand([17, 33], 501), b = rand([17], 502);
    const y3 = fp.linear(x3, w, b);
    expect(y3.shape).toEqual([2, 9, 17]);
    expectClose(await y3.data(), naiveLinear(await x3.data(), 18, 33, await w.data(), 17, await b.data()), 33);
  });

  it('applies every fused activation like the naive formula and like the separate op', async () => {
    const [M, K, N] = [9, 65, 33];
    const x = rand([M, K], 600), w = rand([N, K], 601), b = rand([N], 602);
    const xd = await x.data(), wd = await w.data(), bd = await b.data();
    const separate: Record<string, (t: fp.Tensor) => fp.Tensor> = {
      relu: fp.relu, gelu: (t) => fp.gelu(t), geluTanh: (t) => fp.gelu(t, { approximate: 'tanh' }), silu: fp.silu, tanh: fp.tanh, sigmoid: fp.sigmoid,
    };
    for (const act of ['relu', 'gelu', 'geluTanh', 'silu', 'tanh', 'sigmoid'] as const) {
      const y = fp.linear(x, w, b, { activation: act });
      expectClose(await y.data(), naiveLinear(xd, M, K, wd, N, bd, act), K);
      const plain = fp.linear(x, w, b);
      const want = separate[act]!(plain);
      expect(Array.from(await y.data())).toEqual(Array.from(await want.data()));
    }
  });

  it('reads strided inputs (a transposed weight, a sliced x) and float16', async () => {
    const wT = rand([33, 17], 700); // stored [K, N]: weight = wT.transpose(0, 1)
    const w = wT.transpose(0, 1);
    const x = rand([6, 66], 701).slice(1, 0, 66, 2); // [6, 33], column stride 2
    expectClose(await fp.linear(x, w).data(), naiveLinear(await x.data(), 6, 33, await w.data(), 17, null), 33);
    const xh = rand([5, 40], 702, 'float16'), wh = rand([7, 40], 703, 'float16'), bh = rand([7], 704, 'float16');
    const yh = fp.linear(xh, wh, bh, { activation: 'gelu' });
    expect(yh.dtype).toBe('float16');
    const want = naiveLinear(await xh.data(), 5, 40, await wh.data(), 7, await bh.data(), 'gelu');
    const got = await yh.data();
    // f16 output rounding (2^-11 relative) plus the float32 tolerance
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(2 ** -11 * Math.abs(want[i]!) + 1e-5 * Math.sqrt(40));
  });

  it('does not leak buffers', () => {
    const x = rand([2, 3, 8], 800), w = rand([4, 8], 801), b = rand([4], 802);
    const before = fp.cpuBackend.memory().liveBuffers;
    const y = fp.linear(x, w, b, { activation: 'silu' });
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before + 1);
    y.dispose();
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before);
  });
});

describe('linear: errors', () => {
  const w = fp.zeros([4, 3]);
  it('rejects K mismatch, a wrong bias, a weight not of rank 2 and unknown activations', () => {
    expect(() => fp.linear(fp.zeros([2, 5]), w)).toThrow(/^forwardpass: linear: x \[2, 5\] must end in in_features = 3 to match weight \[4, 3\]/);
    expect(() => fp.linear(fp.zeros([2, 3]), w, fp.zeros([3]))).toThrow(/^forwardpass: linear: bias must be \[4\] .*got shape \[3\]/);
    expect(() => fp.linear(fp.zeros([2, 3]), w, fp.zeros([1, 4]))).toThrow(/bias must be \[4\]/);
    expect(() => fp.linear(fp.zeros([2, 3]), fp.zeros([3]))).toThrow(/^forwardpass: linear: weight must be \[out_features, in_features\] \(rank 2\), got shape \[3\]/);
    expect(() => fp.linear(fp.zeros([2, 3]), fp.zeros([1, 4, 3]))).toThrow(/weight must be .* got shape \[1, 4, 3\]/);
    expect(() => fp.linear(fp.zeros([2, 3]), w, null, { activation: 'swish' as never })).toThrow(/activation must be one of none, relu/);
  });

  it('rejects integer operands', () => {
    expect(() => fp.linear(fp.zeros([2, 3], { dtype: 'int32' }), w)).toThrow(/^forwardpass: linear: x must be float32 or float16, got int32/);
    expect(() => fp.linear(fp.zeros([2, 3]), w, fp.zeros([4], { dtype: 'int8' }))).toThrow(/bias must be float32 or float16, got int8/);
  });
});
