// The INT8 ops: quantizeRows, linearInt8, linearW8 and conv2dInt8 on hand-checked cases and on random inputs
// against naive loops written here (awkward sizes, Q8_0 blocks, offsets, misaligned int8 storage, float16,
// NaN/Inf rows), and their shape / dtype errors.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { randomArray } from '../helpers.js';

const MIN_NORMAL = 2 ** -126;
const roundAway = (v: number) => Math.sign(v) * Math.floor(Math.abs(v) + 0.5);

/** Naive symmetric quantization of rows of x [M, K]: q [M, Kp], s [M, nb]. */
function naiveQuant(x: ArrayLike<number>, M: number, K: number, block: number, fixed = 0): { q: Int8Array; s: Float32Array; Kp: number; nb: number } {
  const Kp = Math.ceil(K / (block || 4)) * (block || 4);
  const bl = block || Kp, nb = Kp / bl;
  const q = new Int8Array(M * Kp), s = new Float32Array(M * nb);
  for (let m = 0; m < M; m++) {
    for (let b = 0; b < nb; b++) {
      const vals: number[] = [];
      for (let k = b * bl; k < Math.min(K, (b + 1) * bl); k++) vals.push(x[m * K + k]!);
      if (vals.some((v) => !Number.isFinite(v))) { s[m * nb + b] = NaN; continue; }
      let sc = fixed > 0 ? Math.fround(fixed) : Math.fround(Math.max(0, ...vals.map(Math.abs)) / 127);
      if (sc < MIN_NORMAL) sc = 1;
      s[m * nb + b] = sc;
      vals.forEach((v, i) => { q[m * Kp + b * bl + i] = Math.max(-127, Math.min(127, roundAway(v / sc))); });
    }
  }
  return { q, s, Kp, nb };
}

/** Naive y[m, n] = Σ_b (Σ_k xq·wq)·xs[m, b]·ws[n, b] + bias[n]. */
function naiveLinearInt8(xq: Int8Array, xs: Float32Array, wq: Int8Array, ws: Float32Array, bias: ArrayLike<number> | null, M: number, N: number, Kp: number, block: number): Float64Array {
  const bl = block || Kp, nb = Kp / bl;
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let acc = 0;
    for (let b = 0; b < nb; b++) {
      let dot = 0;
      for (let k = b * bl; k < (b + 1) * bl; k++) dot += xq[m * Kp + k]! * wq[n * Kp + k]!;
      acc += dot * xs[m * nb + b]! * ws[n * nb + b]!;
    }
    y[m * N + n] = acc + (bias ? bias[n]! : 0);
  }
  return y;
}

function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
  expect(worst).toBeLessThanOrEqual(tol);
}

const t = (data: ArrayLike<number>, shape: number[], dtype: fp.DType = 'float32') => fp.tensor(Float32Array.from(data), { shape, dtype });
const i8 = (data: ArrayLike<number>, shape: number[]) => fp.tensor(Int8Array.from(data), { shape, dtype: 'int8' });

describe('quantizeRows', () => {
  it('rounds half away from zero, clamps, pads rows to a multiple of 4 and gives zero rows the scale 1', async () => {
    // max |x| = 127 -> scale 1: values are rounded directly
    const [q, s] = fp.quantizeRows(t([127, 0.5, -0.5, 1.5, -2.5, 3], [1, 6]));
    expect(q.shape).toEqual([1, 8]);
    expect(Array.from(q.dataSync())).toEqual([127, 1, -1, 2, -3, 3, 0, 0]);
    expect(Array.from(s.dataSync())).toEqual([1]);
    const [q0, s0] = fp.quantizeRows(t([0, 0, 0, 0, 1e-40, 0, 0, 0], [2, 4]));
    expect(Array.from(s0.dataSync())).toEqual([1, 1]); // all zero, and a scale that would be subnormal
    expect(Array.from(q0.dataSync())).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // a constant row: q = ±127 exactly, s = |c| / 127
    const [qc, sc] = fp.quantizeRows(t([-2, -2, -2, -2], [1, 4]));
    expect(Array.from(qc.dataSync())).toEqual([-127, -127, -127, -127]);
    expect(sc.dataSync()[0]).toBe(Math.fround(2 / 127));
    // static: one scale everywhere, values beyond ±127·s saturate
    const [qs, ss] = fp.quantizeRows(t([0.1, -0.2, 5, -5], [2, 2]), { staticScale: 0.01 });
    expect(Array.from(qs.dataSync())).toEqual([10, -20, 0, 0, 127, -127, 0, 0]);
    expect(Array.from(ss.dataSync())).toEqual([Math.fround(0.01), Math.fround(0.01)]);
  });

  it('gives a row holding NaN or ±Inf the scale NaN and zero quants; other rows are untouched', async () => {
    const [q, s] = fp.quantizeRows(t([1, NaN, 2, 3, 1, 2, Infinity, 4, 1, 2, 3, 4], [3, 4]));
    const sd = s.dataSync();
    expect(Number.isNaN(sd[0]!) && Number.isNaN(sd[1]!)).toBe(true);
    expect(sd[2]).toBe(Math.fround(4 / 127));
    expect(Array.from(q.dataSync()).slice(0, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('matches the naive quantizer on random rows: per row and in Q8_0 blocks, static, offsets, float16', async () => {
    for (const [M, K, block, fixed, seed] of [[1, 1, 0, 0, 1], [3, 17, 0, 0, 2], [5, 64, 32, 0, 3], [2, 70, 32, 0, 4], [4, 33, 0, 0.004, 5], [2, 40, 8, 0, 6]] as const) {
      const x = randomArray(M * K, seed, -2, 2);
      const want = naiveQuant(x, M, K, block, fixed);
      const [q, s] = fp.quantizeRows(t(x, [M, K]), { block, staticScale: fixed });
      expect(q.shape).toEqual([M, want.Kp]);
      expect(Array.from(q.dataSync()), `M=${M} K=${K} block=${block}`).toEqual(Array.from(want.q));
      expect(Array.from(s.dataSync())).toEqual(Array.from(want.s));
    }
    // a contiguous view at an offset (rows 1..3 of 4)
    const x = randomArray(4 * 9, 7);
    const [q] = fp.quantizeRows(t(x, [4, 9]).narrow(0, 1, 3));
    expect(Array.from(q.dataSync())).toEqual(Array.from(naiveQuant(x.subarray(9), 3, 9, 0).q));
    // float16 input: quantized from its half values
    const h = t(x, [4, 9], 'float16');
    const [qh] = fp.quantizeRows(h);
    expect(Array.from(qh.dataSync())).toEqual(Array.from(naiveQuant(h.dataSync(), 4, 9, 0).q));
  });

  it('names what is wrong', () => {
    expect(() => fp.quantizeRows(t([1, 2], [2]))).toThrow(/^forwardpass: quantizeRows: x must have rank 2, got shape \[2\]$/);
    expect(() => fp.quantizeRows(fp.zeros([2, 2], { dtype: 'int32' }))).toThrow(/quantizeRows: x must be float32 or float16, got int32/);
    expect(() => fp.quantizeRows(t([1, 2], [1, 2]), { block: 6 })).toThrow(/block must be 0 \(one scale per row\) or a positive multiple of 4/);
    expect(() => fp.quantizeRows(t([1, 2], [1, 2]), { padTo: 3 })).toThrow(/padTo must be a positive multiple of 4, got 3/);
    expect(() => fp.quantizeRows(t([1, 2], [1, 2]), { staticScale: -1 })).toThrow(/staticScale must be 0 \(dynamic\) or a positive normal float32, got -1/);
    expect(() => fp.quantizeRows(fp.zeros([2, 0]))).toThrow(/x \[2, 0\] has empty rows/);
  });
});

describe('linearInt8', () => {
  it('hand-checked: int32 sums rescaled by both scales, bias fused, relu', async () => {
    const xq = i8([1, 2, 3, 4], [1, 4]), xs = t([0.5], [1, 1]);
    const wq = i8([1, 1, 1, 1, -1, 0, 0, 127], [2, 4]), ws = t([2, 0.25], [2, 1]);
    // row 0: (1+2+3+4)·0.5·2 = 10; row 1: (-1 + 4·127)·0.5·0.25 = 63.375
    expect(await fp.linearInt8(xq, xs, wq, ws, t([1, -100], [2])).toArray()).toEqual([[11, -36.625]]);
    expect(await fp.linearInt8(xq, xs, wq, ws, t([1, -100], [2]), { activation: 'relu' }).toArray()).toEqual([[11, 0]]);
    expect(await fp.linearInt8(xq, xs, wq, ws).toArray()).toEqual([[10, 63.375]]);
  });

  it('matches the naive product on random data (odd M, N % 4 != 0, N > 128, odd word counts, per row and Q8_0, with and without bias)', async () => {
    for (const [M, N, K, block, seed] of [[1, 7, 5, 0, 11], [3, 9, 64, 0, 12], [5, 12, 96, 32, 13], [2, 5, 37, 32, 14], [8, 16, 200, 0, 15], [1, 64, 512, 32, 16], [1, 6, 12, 0, 17], [3, 301, 20, 0, 18]] as const) {
      const xa = naiveQuant(randomArray(M * K, seed, -3, 3), M, K, block);
      const wa = naiveQuant(randomArray(N * K, seed + 100), N, K, block);
      const bias = seed % 2 ? randomArray(N, seed + 200) : null;
      const want = naiveLinearInt8(xa.q, xa.s, wa.q, wa.s, bias, M, N, xa.Kp, block);
      const y = fp.linearInt8(i8(xa.q, [M, xa.Kp]), t(xa.s, [M, xa.nb]), i8(wa.q, [N, wa.Kp]), t(wa.s, [N, wa.nb]), bias ? t(bias, [N]) : null, { block, k: K });
      expect(y.shape).toEqual([M, N]);
      expectNear(y.dataSync(), want, 1e-6);
    }
  });

  it('is exact over the whole int8 range (-128 included) across the 255-wide blocks of the packed CPU path, odd N, repeated calls', () => {
    for (const [M, N, K, seed] of [[1, 9, 1021, 31], [3, 5, 600, 32], [1, 2, 256, 33], [2, 11, 255, 34]] as const) {
      const Kp = K + ((4 - (K % 4)) % 4);
      const rng = fp.makeRng(seed);
      const extreme = (n: number, k: number) => Int8Array.from({ length: n * Kp }, (_, i) => (i % Kp >= k ? 0 : rng() < 0.5 ? -128 : Math.floor(rng() * 256) - 128));
      const xq = extreme(M, K), wq = extreme(N, K);
      const want = new Float32Array(M * N);
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < Kp; k++) s += xq[m * Kp + k]! * wq[n * Kp + k]!;
        want[m * N + n] = s * 0.5;
      }
      const w = i8(wq, [N, Kp]), ws = t(new Float32Array(N).fill(0.5), [N, 1]);
      const cached = fp.cpuBackend.memory().cacheBytes!;
      for (let rep = 0; rep < 2; rep++) {
        const y = fp.linearInt8(i8(xq, [M, Kp]), t(new Float32Array(M).fill(1), [M, 1]), w, ws, null, { k: K });
        expect(Array.from(y.dataSync())).toEqual(Array.from(want));
      }
      // the packed copy is built once and reported by the backend: two int8 weights per int32 lane pair (typed-array
      // kernel), or one byte a weight in 8-column panels with K rounded up to even (Wasm fast path)
      expect(fp.cpuBackend.memory().cacheBytes! - cached).toBe(fp.cpuFastPathEnabled() ? Math.ceil(N / 8) * 8 * (K + (K & 1)) : Math.ceil(N / 2) * K * 4);
    }
  });

  it('reads int8 weights at an offset that is not a multiple of 4 bytes (a view into a file)', async () => {
    const N = 6, Kp = 12;
    const raw = new Int8Array(3 + N * Kp);
    const w = naiveQuant(randomArray(N * Kp, 21), N, Kp, 0);
    raw.set(w.q, 3);
    const wq = fp.tensor(new Int8Array(raw.buffer, 3, N * Kp), { shape: [N, Kp], dtype: 'int8' });
    const x = naiveQuant(randomArray(2 * Kp, 22), 2, Kp, 0);
    const y = fp.linearInt8(i8(x.q, [2, Kp]), t(x.s, [2, 1]), wq, t(w.s, [N, 1]));
    expectNear(y.dataSync(), naiveLinearInt8(x.q, x.s, w.q, w.s, null, 2, N, Kp, 0), 1e-6);
  });

  it('turns a NaN activation scale into NaN outputs for that row only', async () => {
    const y = fp.linearInt8(i8([1, 1, 1, 1, 1, 1, 1, 1], [2, 4]), t([NaN, 1], [2, 1]), i8([1, 1, 1, 1], [1, 4]), t([1], [1, 1])).dataSync();
    expect(Number.isNaN(y[0]!)).toBe(true);
    expect(y[1]).toBe(4);
  });

  it('names what is wrong', () => {
    const xq = i8(new Int8Array(8), [2, 4]), xs = t([1, 1], [2, 1]), wq = i8(new Int8Array(12), [3, 4]), ws = t([1, 1, 1], [3, 1]);
    expect(() => fp.linearInt8(t(new Float32Array(8), [2, 4]), xs, wq, ws)).toThrow(/linearInt8: xq must be int8, got float32/);
    expect(() => fp.linearInt8(i8(new Int8Array(16), [2, 8]), xs, wq, ws)).toThrow(/xq \[2, 8\] and wq \[3, 4\] must have the same padded row length/);
    expect(() => fp.linearInt8(xq, t([1], [1, 1]), wq, ws)).toThrow(/xs must be \[2, 1\] for xq \[2, 4\] with block 0, got \[1, 1\]/);
    expect(() => fp.linearInt8(xq, xs, wq, t([1], [1, 1]))).toThrow(/ws must be \[3, 1\] for wq \[3, 4\] with block 0, got \[1, 1\]/);
    expect(() => fp.linearInt8(xq, xs, wq, ws, t([1], [1]))).toThrow(/bias must be \[3\], got \[1\]/);
    expect(() => fp.linearInt8(xq, xs, wq, ws, null, { block: 32 })).toThrow(/wq \[3, 4\] rows must be padded to a multiple of the block \(32\)/);
    expect(() => fp.linearInt8(i8(new Int8Array(6), [2, 3]), xs, i8(new Int8Array(9), [3, 3]), ws)).toThrow(/wq \[3, 3\] rows must be padded to a multiple of 4/);
    expect(() => fp.linearInt8(xq, xs, wq, ws, null, { k: 9 })).toThrow(/k must be an integer in 1\.\.4, got 9/);
    const big = fp.MAX_INT32_K + 3;
    const kp = big + 4 - (big % 4);
    expect(() => fp.linearInt8(i8(new Int8Array(kp), [1, kp]), t([1], [1, 1]), i8(new Int8Array(kp), [1, kp]), t([1], [1, 1]), null, { k: big }))
      .toThrow(/K = 133147 is too long for int32 sums with one scale per row \(at most 133144\); use Q8_0 blocks/);
  });
});

describe('linearW8', () => {
  it('matches x · (wq · ws)ᵀ + bias on random data (per row and Q8_0, K not a multiple of the padding)', async () => {
    for (const [M, N, K, block, seed] of [[1, 5, 3, 0, 31], [4, 9, 50, 0, 32], [3, 8, 70, 32, 33], [2, 4, 64, 32, 34]] as const) {
      const x = randomArray(M * K, seed);
      const w = naiveQuant(randomArray(N * K, seed + 1), N, K, block);
      const bias = randomArray(N, seed + 2);
      const bl = block || w.Kp;
      const want = new Float64Array(M * N);
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
        let s = bias[n]!;
        for (let k = 0; k < K; k++) s += x[m * K + k]! * w.q[n * w.Kp + k]! * w.s[n * w.nb + Math.floor(k / bl)]!;
        want[m * N + n] = Math.tanh(s);
      }
      const y = fp.linearW8(t(x, [M, K]), i8(w.q, [N, w.Kp]), t(w.s, [N, w.nb]), t(bias, [N]), { block, activation: 'tanh' });
      expectNear(y.dataSync(), want, 1e-5);
    }
  });

  it('keeps float16 activations in float16 and names shape mismatches', async () => {
    const w = i8([1, 2, 3, 0], [1, 4]);
    const y = fp.linearW8(t([1, 1, 1], [1, 3], 'float16'), w, t([0.5], [1, 1]));
    expect(y.dtype).toBe('float16');
    expect(Array.from(y.dataSync())).toEqual([3]);
    expect(() => fp.linearW8(t(new Float32Array(5), [1, 5]), w, t([1], [1, 1]))).toThrow(/linearW8: x \[1, 5\] does not match wq \[1, 4\] \(rows of 5 values pad to 8, not 4\)/);
  });
});

/** Naive conv over int8 x with one scale per image (or float x with xs = null), weights [O, Kp] in (c, kh, kw) order. */
function naiveConv(x: ArrayLike<number>, xs: ArrayLike<number> | null, dims: number[], wq: Int8Array, ws: ArrayLike<number>, bias: ArrayLike<number> | null, O: number, kH: number, kW: number, s: number, p: number, dl: number, G: number): { y: Float64Array; Ho: number; Wo: number } {
  const [N, C, H, W] = dims as [number, number, number, number];
  const Cg = C / G, Og = O / G, K = Cg * kH * kW, Kp = Math.ceil(K / 4) * 4;
  const Ho = Math.floor((H + 2 * p - dl * (kH - 1) - 1) / s) + 1, Wo = Math.floor((W + 2 * p - dl * (kW - 1) - 1) / s) + 1;
  const y = new Float64Array(N * O * Ho * Wo);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++) {
    let acc = 0;
    const g = Math.floor(o / Og);
    for (let c = 0; c < Cg; c++) for (let kh = 0; kh < kH; kh++) for (let kw = 0; kw < kW; kw++) {
      const ih = oh * s - p + kh * dl, iw = ow * s - p + kw * dl;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      acc += x[((n * C + g * Cg + c) * H + ih) * W + iw]! * wq[o * Kp + (c * kH + kh) * kW + kw]!;
    }
    y[((n * O + o) * Ho + oh) * Wo + ow] = acc * (xs ? xs[n]! : 1) * ws[o]! + (bias ? bias[o]! : 0);
  }
  return { y, Ho, Wo };
}

describe('conv2dInt8', () => {
  it('matches the naive convolution for int8 and float inputs (stride, padding, dilation, groups)', async () => {
    for (const [N, C, H, W, O, k, s, p, dl, G, seed] of [[1, 1, 5, 5, 3, 3, 1, 1, 1, 1, 41], [2, 4, 7, 6, 6, 3, 2, 1, 1, 2, 42], [1, 3, 9, 9, 5, 2, 1, 0, 2, 1, 43], [3, 6, 4, 5, 6, 1, 1, 0, 1, 6, 44]] as const) {
      const Cg = C / G, K = Cg * k * k;
      const w = naiveQuant(randomArray(O * K, seed), O, K, 0);
      const bias = randomArray(O, seed + 1);
      const xf = randomArray(N * C * H * W, seed + 2, -2, 2);
      const xq = naiveQuant(xf, N, C * H * W, 0);
      const xi = new Int8Array(N * C * H * W);
      for (let n = 0; n < N; n++) xi.set(xq.q.subarray(n * xq.Kp, n * xq.Kp + C * H * W), n * C * H * W);
      const opts = { kernel: [k, k] as [number, number], stride: s, padding: p, dilation: dl, groups: G };
      const wq = i8(w.q, [O, w.Kp]), ws = t(w.s, [O, 1]);
      const want = naiveConv(xi, xq.s, [N, C, H, W], w.q, w.s, bias, O, k, k, s, p, dl, G);
      const y = fp.conv2dInt8(i8(xi, [N, C, H, W]), t(xq.s, [N, 1]), wq, ws, t(bias, [O]), opts);
      expect(y.shape).toEqual([N, O, want.Ho, want.Wo]);
      expectNear(y.dataSync(), want.y, 1e-6);
      const wantF = naiveConv(xf, null, [N, C, H, W], w.q, w.s, null, O, k, k, s, p, dl, G);
      expectNear(fp.conv2dInt8(t(xf, [N, C, H, W]), ws, wq, ws, null, opts).dataSync(), wantF.y, 1e-5);
    }
  });

  it('names what is wrong', () => {
    const x = i8(new Int8Array(2 * 3 * 4 * 4), [2, 3, 4, 4]), xs = t([1, 1], [2, 1]);
    const wq = i8(new Int8Array(4 * 28), [4, 28]), ws = t([1, 1, 1, 1], [4, 1]);
    expect(() => fp.conv2dInt8(x, xs, wq, ws, null, { kernel: [3, 3] })).not.toThrow();
    expect(() => fp.conv2dInt8(x, xs, wq, ws, null, { kernel: [2, 2] })).toThrow(/conv2dInt8: wq \[4, 28\] does not fit x \[2, 3, 4, 4\] with kernel \[2, 2\] and groups 1 \(12 weights per channel pad to 12\)/);
    expect(() => fp.conv2dInt8(x, t([1], [1, 1]), wq, ws, null, { kernel: [3, 3] })).toThrow(/xs must be \[2, 1\] \(one scale per image of x \[2, 3, 4, 4\]\), got \[1, 1\]/);
    expect(() => fp.conv2dInt8(x, xs, wq, ws, null, { kernel: [3, 3], groups: 2 })).toThrow(/groups must be a positive integer dividing the 3 input and 4 output channels, got 2/);
    expect(() => fp.conv2dInt8(x, xs, wq, ws, null, { kernel: [3, 3], stride: 1, dilation: 3 })).toThrow(/is smaller than the kernel \[3, 3\] with dilation \[3, 3\]/);
    expect(() => fp.conv2dInt8(fp.zeros([2, 3, 4, 4], { dtype: 'int32' }), xs, wq, ws, null, { kernel: [3, 3] })).toThrow(/x must be int8 or float32 or float16, got int32/);
  });
});
