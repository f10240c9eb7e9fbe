// scaledDotProductAttention and attentionProbs against a naive implementation: masks (bool, additive,
// broadcast padding), causal (T == S, T < S, T > S), strided q/k/v split from a fused projection, rank-3 inputs,
// float16, fully masked rows (zeros, documented), NaN propagation and errors.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { randomArray } from '../helpers.js';

type MaskFn = (b: number, h: number, t: number, s: number) => boolean | number;
interface NaiveOpts { mask?: MaskFn; causal?: boolean; scale?: number }

/**
 * Naive attention from contiguous [B, H, T, D] / [B, H, S, D] / [B, H, S, Dv] arrays, in float64. A bool mask
 * value false (or a causal position) removes the key; a number is added to the score. Returns the probabilities
 * [B, H, T, S] and the output [B, H, T, Dv]; a row with every key removed gives zero probabilities and output.
 */
function naiveAttention(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, [B, H, T, S, D, Dv]: number[], o: NaiveOpts = {}) {
  const scale = o.scale ?? 1 / Math.sqrt(D);
  const probs = new Float64Array(B * H * T * S);
  const out = new Float64Array(B * H * T * Dv);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
    const sc: number[] = [];
    for (let s = 0; s < S; s++) {
      let x = 0;
      for (let d = 0; d < D; d++) x += q[((b * H + h) * T + t) * D + d]! * k[((b * H + h) * S + s) * D + d]!;
      x *= scale;
      const m = o.mask?.(b, h, t, s);
      if (m === false || (o.causal && s > t + (S - T))) x = -Infinity;
      else if (typeof m === 'number') x += m;
      sc.push(x);
    }
    const mx = Math.max(...sc);
    if (mx === -Infinity) continue; // fully masked: zeros
    const e = sc.map((x) => Math.exp(x - mx));
    const sum = e.reduce((x, y) => x + y, 0);
    const row = ((b * H + h) * T + t);
    for (let s = 0; s < S; s++) {
      const p = e[s]! / sum;
      probs[row * S + s] = p;
      for (let d = 0; d < Dv; d++) out[row * Dv + d] += p * v[((b * H + h) * S + s) * Dv + d]!;
    }
  }
  return { probs, out };
}

/** Tolerance: 1e-5 · sqrt(max(D, S)), float32 sums of products of values in [-1, 1]. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, n: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThanOrEqual(1e-5 * Math.sqrt(n));
}

const rand = (shape: number[], seed: number, dtype: fp.DType = 'float32') =>
  fp.tensor(randomArray(shape.reduce((x, y) => x * y, 1), seed, -2, 2), { shape, dtype });

async function checkAgainstNaive(dims: number[], opts: fp.AttentionOptions, naive: NaiveOpts, seed: number) {
  const [B, H, T, S, D, Dv] = dims as [number, number, number, number, number, number];
  const q = rand([B, H, T, D], seed), k = rand([B, H, S, D], seed + 1), v = rand([B, H, S, Dv], seed + 2);
  const want = naiveAttention(await q.data(), await k.data(), await v.data(), dims, naive);
  const y = fp.scaledDotProductAttention(q, k, v, opts);
  expect(y.shape).toEqual([B, H, T, Dv]);
  expectClose(await y.data(), want.out, Math.max(D, S));
  const p = fp.attentionProbs(q, k, opts);
  expect(p.shape).toEqual([B, H, T, S]);
  expectClose(await p.data(), want.probs, Math.max(D, S));
}

describe('scaledDotProductAttention: hand-checked', () => {
  it('returns v for a single key, the mean of v for equal scores, and a causal first row of v[0]', async () => {
    const v = fp.tensor([[[[1, 2, 3]]]]); // [1, 1, 1, 3]
    expect(await fp.scaledDotProductAttention(fp.tensor([[[[5, -1]]]]), fp.tensor([[[[0.3, 2]]]]), v).toArray()).toEqual([[[[1, 2, 3]]]]);
    const q0 = fp.zeros([1, 1, 1, 2]), k2 = fp.randn([1, 1, 2, 2], { seed: 1 });
    const v2 = fp.tensor([[[[0, 10], [4, 20]]]]);
    expect(await fp.scaledDotProductAttention(q0, k2, v2).toArray()).toEqual([[[[2, 15]]]]);
    // causal, T = S = 2, q = k = [[1, 0], [0, 1]], scale 1: row 0 sees key 0 only; row 1 sees softmax([0, 1])
    const qk = fp.tensor([[[[1, 0], [0, 1]]]]);
    const y = await fp.scaledDotProductAttention(qk, qk, v2, { isCausal: true, scale: 1 }).data();
    const p1 = Math.E / (1 + Math.E);
    // within 2 float32 ulps: the CPU fast path's fused kernel (float32 exp and sums) may round the last bit otherwise
    [0, 10, 4 * p1, 10 * (1 - p1) + 20 * p1].forEach((want, i) => expect(Math.abs(y[i]! - want)).toBeLessThanOrEqual(2 ** -22 * Math.abs(want)));
  });
});

describe('scaledDotProductAttention: random against a naive implementation', () => {
  const dims = [2, 3, 5, 7, 8, 6]; // B, H, T, S, D, Dv
  it('without a mask, with a custom scale', async () => {
    await checkAgainstNaive(dims, {}, {}, 10);
    await checkAgainstNaive([1, 2, 17, 33, 16, 3], { scale: 0.37 }, { scale: 0.37 }, 20);
  });

  it('with a full bool mask and with a broadcast additive mask', async () => {
    const [B, H, T, S] = dims as [number, number, number, number];
    const bits = Array.from(randomArray(B * H * T * S, 30), (x) => x > -0.3);
    for (let r = 0; r < B * H * T; r++) bits[r * S + (r % S)] = true; // no fully masked row here
    const mask = fp.tensor(bits, { shape: [B, H, T, S], dtype: 'bool' });
    await checkAgainstNaive(dims, { mask }, { mask: (b, h, t, s) => bits[((b * H + h) * T + t) * S + s]! }, 40);
    const add = randomArray(T * S, 50, -3, 1);
    await checkAgainstNaive(dims, { mask: fp.tensor(add, { shape: [T, S] }) }, { mask: (_b, _h, t, s) => add[t * S + s]! }, 60);
  });

  it('causal with T == S, T < S (KV cache), T > S, and causal combined with a mask', async () => {
    await checkAgainstNaive([2, 2, 6, 6, 4, 5], { isCausal: true }, { causal: true }, 70);
    await checkAgainstNaive([2, 2, 3, 7, 4, 5], { isCausal: true }, { causal: true }, 80);
    await checkAgainstNaive([1, 2, 1, 9, 4, 5], { isCausal: true }, { causal: true }, 85);
    await checkAgainstNaive([1, 2, 5, 3, 4, 2], { isCausal: true }, { causal: true }, 90); // first rows fully masked
    const add = randomArray(6, 95, -1, 1);
    await checkAgainstNaive([1, 1, 6, 6, 4, 5], { isCausal: true, mask: fp.tensor(add, { shape: [6] }) }, { causal: true, mask: (_b, _h, _t, s) => add[s]! }, 96);
  });

  it('with a [B, 1, 1, S] padding mask', async () => {
    const [B, S] = [3, 7];
    const lens = [7, 4, 1];
    const bits = Array.from({ length: B * S }, (_, i) => i % S < lens[Math.floor(i / S)]!);
    const mask = fp.tensor(bits, { shape: [B, 1, 1, S], dtype: 'bool' });
    await checkAgainstNaive([B, 2, 5, S, 8, 8], { mask }, { mask: (b, _h, _t, s) => s < lens[b]! }, 100);
  });

  it('heads broadcast: one k/v head shared by all query heads', async () => {
    const q = rand([2, 4, 5, 8], 110), k = rand([2, 1, 6, 8], 111), v = rand([2, 1, 6, 3], 112);
    const ke = k.expand([2, 4, 6, 8]), ve = v.expand([2, 4, 6, 3]);
    const want = naiveAttention(await q.data(), await ke.data(), await ve.data(), [2, 4, 5, 6, 8, 3]);
    expectClose(await fp.scaledDotProductAttention(q, k, v).data(), want.out, 8);
  });
});

describe('scaledDotProductAttention: layouts', () => {
  it('reads q, k, v split from a fused [B, T, 3C] projection and permuted, without copies', async () => {
    const [B, T, H, Dh] = [2, 7, 3, 4];
    const C = H * Dh;
    const qkv = rand([B, T, 3 * C], 120);
    const heads = (i: number) => qkv.narrow(-1, i * C, C).reshape([B, T, H, Dh]).permute(0, 2, 1, 3);
    const [q, k, v] = [heads(0), heads(1), heads(2)];
    expect(q.isContiguous()).toBe(false);
    let sameStorage = false;
    const off = fp.addOpHook((e) => { if (e.op === 'sdpa') sameStorage = e.inputs.every((t) => t.storage === qkv.storage); });
    let y: fp.Tensor;
    try {
      y = fp.scaledDotProductAttention(q, k, v, { isCausal: true });
    } finally {
      off();
    }
    expect(sameStorage).toBe(true);
    const want = naiveAttention(await q.data(), await k.data(), await v.data(), [B, H, T, T, Dh, Dh], { causal: true });
    expectClose(await y.data(), want.out, T);
    // the usual merge back: [B, H, T, Dh] -> [B, T, C]
    expect(y.permute(0, 2, 1, 3).reshape([B, T, C]).shape).toEqual([B, T, C]);
  });

  it('reads views whose last dim is not contiguous: transposed k, v and additive mask', async () => {
    const [B, H, T, S, D, Dv] = [2, 2, 4, 6, 5, 3];
    const q = rand([B, H, T, D], 125);
    const k = rand([B, H, D, S], 126).transpose(-2, -1), v = rand([B, H, Dv, S], 127).transpose(-2, -1);
    const addT = rand([S, T], 128);
    const mask = addT.transpose(0, 1); // [T, S] with strides [1, T]
    const md = await mask.data();
    const want = naiveAttention(await q.data(), await k.data(), await v.data(), [B, H, T, S, D, Dv], { mask: (_b, _h, t, s) => md[t * S + s]! });
    expectClose(await fp.scaledDotProductAttention(q, k, v, { mask }).data(), want.out, S);
    expectClose(await fp.attentionProbs(q, k, { mask }).data(), want.probs, S);
  });

  it('accepts rank-3 [B, T, D] inputs and a rank-3 [B, T, S] mask', async () => {
    const q = rand([2, 4, 5], 130), k = rand([2, 6, 5], 131), v = rand([2, 6, 3], 132);
    const bits = Array.from(randomArray(2 * 4 * 6, 133), (x) => x > -0.5);
    for (let r = 0; r < 8; r++) bits[r * 6] = true;
    const mask = fp.tensor(bits, { shape: [2, 4, 6], dtype: 'bool' });
    const y = fp.scaledDotProductAttention(q, k, v, { mask });
    expect(y.shape).toEqual([2, 4, 3]);
    const want = naiveAttention(await q.data(), await k.data(), await v.data(), [2, 1, 4, 6, 5, 3], { mask: (b, _h, t, s) => bits[(b * 4 + t) * 6 + s]! });
    expectClose(await y.data(), want.out, 6);
    expect(fp.attentionProbs(q, k, { mask }).shape).toEqual([2, 4, 6]);
  });

  it('computes float16 inputs in float32 and rounds the output to float16', async () => {
    const q = rand([1, 2, 5, 8], 140, 'float16'), k = rand([1, 2, 9, 8], 141, 'float16'), v = rand([1, 2, 9, 4], 142, 'float16');
    const y = fp.scaledDotProductAttention(q, k, v, { isCausal: true });
    expect(y.dtype).toBe('float16');
    const want = naiveAttention(await q.data(), await k.data(), await v.data(), [1, 2, 5, 9, 8, 4], { causal: true });
    const got = await y.data();
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want.out[i]!)).toBeLessThanOrEqual(2 ** -11 * Math.abs(want.out[i]!) + 1e-5 * 3);
  });
});

describe('scaledDotProductAttention: special rows', () => {
  it('gives zeros (not NaN, unlike PyTorch) for a query whose keys are all masked, in output and probabilities', async () => {
    const q = rand([1, 1, 3, 4], 150), k = rand([1, 1, 5, 4], 151), v = rand([1, 1, 5, 2], 152);
    const mask = fp.tensor([[true, true, false, false, false], [false, false, false, false, false], [true, false, false, false, true]], { dtype: 'bool' });
    const y = await fp.scaledDotProductAttention(q, k, v, { mask }).data();
    expect(Array.from(y.slice(2, 4))).toEqual([0, 0]);
    expect(y.slice(0, 2).every((x) => Number.isFinite(x) && x !== 0)).toBe(true);
    const p = await fp.attentionProbs(q, k, { mask }).data();
    expect(Array.from(p.slice(5, 10))).toEqual([0, 0, 0, 0, 0]);
    const minusInf = fp.full([3, 5], -Infinity);
    expect(Array.from(await fp.scaledDotProductAttention(q, k, v, { mask: minusInf }).data())).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('handles zero keys (every row fully masked) and zero queries', async () => {
    const q = rand([1, 2, 3, 4], 155), k0 = fp.zeros([1, 2, 0, 4]), v0 = fp.zeros([1, 2, 0, 5]);
    expect(await fp.scaledDotProductAttention(q, k0, v0).toArray()).toEqual([[new Array(3).fill([0, 0, 0, 0, 0]), new Array(3).fill([0, 0, 0, 0, 0])]]);
    expect(fp.attentionProbs(q, k0).shape).toEqual([1, 2, 3, 0]);
    expect(fp.scaledDotProductAttention(fp.zeros([1, 2, 0, 4]), rand([1, 2, 3, 4], 156), rand([1, 2, 3, 5], 157)).shape).toEqual([1, 2, 0, 5]);
  });

  it('gives NaN for D = 0 with the default scale 1/sqrt(0) = Infinity (0 · Infinity), as PyTorch', async () => {
    const y = await fp.scaledDotProductAttention(fp.zeros([1, 1, 2, 0]), fp.zeros([1, 1, 3, 0]), rand([1, 1, 3, 2], 158)).data();
    expect(y.length).toBe(4);
    expect(y.every((x) => Number.isNaN(x))).toBe(true);
  });

  it('propagates NaN from the inputs', async () => {
    const q = fp.tensor([[[[NaN, 1]]]]), k = rand([1, 1, 3, 2], 160), v = rand([1, 1, 3, 2], 161);
    const y = await fp.scaledDotProductAttention(q, k, v).data();
    expect(y.every((x) => Number.isNaN(x))).toBe(true);
    expect((await fp.attentionProbs(q, k).data()).every((x) => Number.isNaN(x))).toBe(true);
  });

  it('agrees with attentionProbs · v and does not leak buffers', async () => {
    const q = rand([2, 2, 4, 8], 170), k = rand([2, 2, 6, 8], 171), v = rand([2, 2, 6, 5], 172);
    const before = fp.cpuBackend.memory().liveBuffers;
    const y = fp.scaledDotProductAttention(q, k, v, { isCausal: true });
    const p = fp.attentionProbs(q, k, { isCausal: true });
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before + 2);
    const pv = fp.matmul(p, v);
    expectClose(await y.data(), await pv.data(), 6);
    for (const t of [y, p, pv]) t.dispose();
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before);
  });
});

describe('scaledDotProductAttention: errors', () => {
  const q = fp.zeros([1, 2, 3, 4]), k = fp.zeros([1, 2, 5, 4]), v = fp.zeros([1, 2, 5, 6]);
  it('rejects mismatched D, S and ranks', () => {
    expect(() => fp.scaledDotProductAttention(q, fp.zeros([1, 2, 5, 3]), v)).toThrow(/^forwardpass: scaledDotProductAttention: q \[1, 2, 3, 4\] and k \[1, 2, 5, 3\] must have the same last dim/);
    expect(() => fp.scaledDotProductAttention(q, k, fp.zeros([1, 2, 4, 6]))).toThrow(/k \[1, 2, 5, 4\] and v \[1, 2, 4, 6\] must have the same number of keys/);
    expect(() => fp.scaledDotProductAttention(fp.zeros([3, 4]), k, v)).toThrow(/q must be \[B, H, L, E\] or \[B, L, E\], got shape \[3, 4\]/);
    expect(() => fp.scaledDotProductAttention(fp.zeros([2, 3, 4]), k, v)).toThrow(/must have the same rank/);
    expect(() => fp.scaledDotProductAttention(q, fp.zeros([1, 3, 5, 4]), v)).toThrow(/^forwardpass: scaledDotProductAttention: the batch and head dims of q \[1, 2, 3, 4\], k \[1, 3, 5, 4\], v \[1, 2, 5, 6\] cannot be broadcast/);
  });

  it('rejects a mask of the wrong shape or dtype, and integer inputs', () => {
    expect(() => fp.scaledDotProductAttention(q, k, v, { mask: fp.zeros([3, 4], { dtype: 'bool' }) })).toThrow(/^forwardpass: scaledDotProductAttention: mask \[3, 4\] cannot be broadcast to the scores \[B, H, T, S\] = \[1, 2, 3, 5\]/);
    expect(() => fp.scaledDotProductAttention(q, k, v, { mask: fp.zeros([1, 1, 1, 1, 5], { dtype: 'bool' }) })).toThrow(/cannot be broadcast/);
    expect(() => fp.scaledDotProductAttention(q, k, v, { mask: fp.zeros([5], { dtype: 'int32' }) })).toThrow(/mask must be bool .* or float .*, got int32/);
    expect(() => fp.attentionProbs(fp.zeros([1, 2, 3, 4], { dtype: 'int32' }), k)).toThrow(/^forwardpass: attentionProbs: q must be float32 or float16, got int32/);
  });
});
