// The Wasm SIMD linear and matmul against their typed-array twins (kernels/linear.ts, kernels/matmul.ts, run with
// the fast path off): awkward shapes, strided views, broadcast batch, every fused activation, NaN, float16.
// Tolerance: the twin sums in float64, the Wasm kernel in float32 in another order, so each output may differ by
// (K + 2)·2⁻²⁴·(Σ_k |x_k·w_k| + |b|) (the recursive-summation bound) plus the twin's own final rounding.
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { cpuFastPathEnabled, setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

/** Run `f` with the fast path on, then off (the twin); both results as float32 arrays. */
function both(f: () => fp.Tensor): [Float32Array, Float32Array] {
  setCpuFastPath(true);
  expect(cpuFastPathEnabled()).toBe(true);
  const t1 = f(), fast = t1.dataSync() as Float32Array;
  setCpuFastPath(false);
  const t0 = f(), ref = t0.dataSync() as Float32Array;
  setCpuFastPath(true);
  t1.dispose(); t0.dispose();
  return [fast, ref];
}

const U = 2 ** -24;
const rand = (shape: number[], seed: number) => fp.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), { shape });
const ACTS = ['none', 'relu', 'gelu', 'geluTanh', 'silu', 'tanh', 'sigmoid'] as const;

/** Σ_k |x[i, k]·w[j, k]| + |b[j]| for x [M, K], w [N, K] (the scale of each output's rounding error). */
function absScale(x: Float32Array, w: Float32Array, b: Float32Array | null, M: number, N: number, K: number): Float64Array {
  const s = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let t = b ? Math.abs(b[j]!) : 0;
    for (let k = 0; k < K; k++) t += Math.abs(x[i * K + k]! * w[j * K + k]!);
    s[i * N + j] = t;
  }
  return s;
}

/** act: the fused activation runs the Wasm activation kernels on the fast path (within 2e-6·|twin| + 1e-12, test/wasm/unary.test.ts). */
function expectWithin(fast: Float32Array, ref: Float32Array, scale: Float64Array, K: number, act = false): void {
  expect(fast.length).toBe(ref.length);
  for (let p = 0; p < ref.length; p++) {
    const tol = (K + 2) * U * scale[p]! + (act ? 2e-6 + U : U) * Math.abs(ref[p]!) + (act ? 1e-12 : 0);
    if (!(Math.abs(fast[p]! - ref[p]!) <= tol)) throw new Error(`output ${p}: fast ${fast[p]} vs twin ${ref[p]} (tolerance ${tol})`);
  }
}

const SHAPES: [number, number, number][] = [[1, 1, 1], [1, 3, 17], [3, 17, 1], [3, 1, 9], [5, 17, 255], [17, 255, 3], [4, 8, 8], [9, 300, 23], [70, 520, 33], [1, 784, 512], [6, 255, 17], [2, 17, 9]];

describe('linear on the Wasm fast path against the typed-array twin', () => {
  test.each(SHAPES)('M=%i K=%i N=%i, with and without bias, every activation', (M, K, N) => {
    const x = rand([M, K], M * 7 + K), w = rand([N, K], N * 13 + K), b = rand([N], N);
    const xd = x.dataSync() as Float32Array, wd = w.dataSync() as Float32Array, bd = b.dataSync() as Float32Array;
    const scaleB = absScale(xd, wd, bd, M, N, K), scale = absScale(xd, wd, null, M, N, K);
    for (const activation of ACTS) {
      const [f1, r1] = both(() => fp.linear(x, w, b, { activation }));
      expectWithin(f1, r1, scaleB, K, activation !== 'none' && activation !== 'relu');
    }
    const [f2, r2] = both(() => fp.linear(x, w));
    expectWithin(f2, r2, scale, K);
  });

  test('batch invariance: each row of a 37-row product has the bits of the same row computed alone', () => {
    const K = 600, N = 21, x = rand([37, K], 40), w = rand([N, K], 41), b = rand([N], 42);
    const all = fp.linear(x, w, b, { activation: 'gelu' }).dataSync();
    for (const i of [0, 3, 4, 35, 36]) {
      const row = fp.linear(x.slice(0, i, i + 1), w, b, { activation: 'gelu' }).dataSync();
      expect(Array.from(row)).toEqual(Array.from(all.slice(i * N, (i + 1) * N)));
    }
  });

  test('fusing changes no bits: linear(x, w, b, relu) equals relu(matmul(x, wᵀ) + b) (ONNX Gemm fusion relies on it)', () => {
    for (const [M, K, N] of [[1, 600, 21], [7, 33, 9], [64, 300, 40]] as const) {
      const x = rand([M, K], 50 + M), w = rand([N, K], 51), b = rand([N], 52);
      const wt = w.transpose(0, 1);
      const plain = fp.relu(fp.add(fp.matmul(x, wt), b)).dataSync();
      expect(Array.from(fp.linear(x, w, b, { activation: 'relu' }).dataSync())).toEqual(Array.from(plain));
      expect(Array.from(fp.linear(x, w, b).dataSync())).toEqual(Array.from(fp.add(fp.matmul(x, wt), b).dataSync()));
    }
  });

  test('the tracer-facing variant names the Wasm kernel, and the off switch names none', () => {
    const x = rand([2, 3], 1), w = rand([4, 3], 2);
    const kind = fp.wasmRelaxedSimdEnabled() ? 'relaxed' : 'simd'; // relaxed where relaxed SIMD is on (test/wasm/relaxed.test.ts)
    expect(fp.cpuBackend.variant!('linear', [x, w], { activation: 'none' })).toBe(`linear-wasm-${kind}-4x8`);
    expect(fp.cpuBackend.variant!('matmul', [rand([1, 2, 3], 3), rand([1, 3, 4], 4)], { transB: false })).toBe(`matmul-wasm-${kind}-4x8`);
    setCpuFastPath(false);
    expect(fp.cpuBackend.variant!('linear', [x, w], { activation: 'none' })).toBe('');
  });

  test('NaN propagates through every epilogue, relu included (as PyTorch: relu(NaN) = NaN)', () => {
    const K = 5, N = 10;
    const xv = randomArray(3 * K, 5); xv[K + 2] = NaN; // row 1 is all NaN after the product
    const x = fp.tensor(xv, { shape: [3, K] }), w = rand([N, K], 6), b = rand([N], 7);
    for (const activation of ACTS) {
      const y = fp.linear(x, w, b, { activation }).dataSync() as Float32Array;
      for (let j = 0; j < N; j++) {
        expect(Number.isNaN(y[N + j]!)).toBe(true);
        expect(Number.isNaN(y[j]!)).toBe(false);
      }
    }
    const bn = fp.tensor(Array.from({ length: N }, (_, j) => (j === 3 ? NaN : 0)));
    const y = fp.linear(rand([2, K], 8), w, bn, { activation: 'relu' }).dataSync() as Float32Array;
    expect([Number.isNaN(y[3]!), Number.isNaN(y[N + 3]!), Number.isNaN(y[4]!)]).toEqual([true, true, false]);
  });

  test('strided x, a transposed weight view, a sliced weight and float16 match the twin', () => {
    const K = 19, N = 13;
    const xt = rand([K, 6], 9).transpose(0, 1); // [6, K] strided view
    const wt = rand([K, N], 10).transpose(0, 1); // [N, K] strided view
    const wbig = rand([2 * N, K], 11), wslice = wbig.slice(0, N, 2 * N); // offset view into one storage
    const b = rand([N], 12);
    for (const w of [wt, wslice, wbig.slice(0, 0, N)]) {
      const xd = xt.contiguous().dataSync() as Float32Array, wd = w.contiguous().dataSync() as Float32Array;
      const [f, r] = both(() => fp.linear(xt, w, b, { activation: 'silu' }));
      expectWithin(f, r, absScale(xd, wd, b.dataSync() as Float32Array, 6, N, K), K);
    }
    const x16 = fp.cast(rand([5, K], 13), 'float16'), w16 = fp.cast(rand([N, K], 14), 'float16');
    const [f, r] = both(() => fp.linear(x16, w16));
    expect(f.length).toBe(5 * N);
    const xd = fp.cast(x16, 'float32').dataSync() as Float32Array, wd = fp.cast(w16, 'float32').dataSync() as Float32Array;
    // float16 outputs: the rounding to half (2⁻¹¹ relative) dominates
    for (let p = 0; p < r.length; p++) expect(Math.abs(f[p]! - r[p]!)).toBeLessThanOrEqual(2 ** -10 * Math.abs(r[p]!) + (K + 2) * U * absScale(xd, wd, null, 5, N, K)[p]! + 1e-7);
  });
});

describe('matmul on the Wasm fast path against the typed-array twin', () => {
  const absScaleMM = (a: Float32Array, bT: Float32Array, M: number, N: number, K: number) => absScale(a, bT, null, M, N, K);

  test.each(SHAPES)('M=%i K=%i N=%i', (M, K, N) => {
    const a = rand([M, K], M + 3 * K), b = rand([K, N], N + 5 * K);
    const bT = b.transpose(0, 1).contiguous().dataSync() as Float32Array;
    const [f, r] = both(() => fp.matmul(a, b));
    expectWithin(f, r, absScaleMM(a.dataSync() as Float32Array, bT, M, N, K), K);
    // transB: a contiguous b read as [N, K] (k.transpose(-2, -1) in attention)
    const bt = rand([N, K], 17);
    const [f2, r2] = both(() => fp.matmul(a, bt.transpose(0, 1)));
    expectWithin(f2, r2, absScaleMM(a.dataSync() as Float32Array, bt.dataSync() as Float32Array, M, N, K), K);
  });

  test('batched and broadcast batch dims: [2, 3, M, K] · [3, K, N], [1, M, K] · [4, K, N], strided a', () => {
    const cases: [fp.Tensor, fp.Tensor][] = [
      [rand([2, 3, 5, 17], 20), rand([3, 17, 9], 21)],
      [rand([1, 6, 11], 22), rand([4, 11, 10], 23)],
      [rand([4, 6, 11], 24), rand([1, 11, 10], 25)],
      [rand([3, 11, 7], 26).transpose(1, 2), rand([3, 11, 12], 27)],
    ];
    for (const [a, b] of cases) {
      const [f, r] = both(() => fp.matmul(a, b));
      const K = a.shape[a.rank - 1]!;
      // per-output scale bounded by K·max|a|·max|b| (inputs in [-1, 1])
      for (let p = 0; p < r.length; p++) expect(Math.abs(f[p]! - r[p]!)).toBeLessThanOrEqual((K + 2) * U * K);
    }
  });
});
