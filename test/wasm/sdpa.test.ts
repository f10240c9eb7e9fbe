// Fused attention (sdpa) on the Wasm fast path against the typed-array twin (kernels/sdpa.ts: float64 dots and
// Math.exp). The fast path's dots and p·v sums are float32 and its exp the float32 polynomial of unary.ts, so outputs
// agree within |fast - twin| <= 5e-6 · max|v| · (1 + |scores| / 8) (scores here up to ±12); NaN exactly where the
// twin has NaN: NaN in q, k or v, +Inf scores, fully masked rows (zeros, or NaN where v is not finite).
// Head dims 16, 32, 64, 80, 128 and odd ones, keys 1, 3, 17, 255, causal (T = S, T < S, T > S), bool and additive
// masks broadcast over batch and heads, strided q/k/v from a fused projection, batch and heads broadcast, float16.
// The kernel works in blocks of 4 query rows and tiles of 8 keys / 8 value dims: the shapes below cut those tiles at
// every remainder (T, S, D, Dv of 1, 3, 17, 197, 255, 80), and 1 vs 2 threads (row blocks split) are bit-identical.
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { sdpaModuleBytes } from '../../src/backends/cpu/wasm/sdpa.js';
import { setNumThreads, setOpThreadsMinWork, threadPoolInfo, whenThreadsReady } from '../../src/backends/cpu/wasm/threads.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

function both(run: () => fp.Tensor): [Float32Array, Float32Array, string] {
  let variant = '';
  const off = fp.addOpHook((e) => { if (e.op === 'sdpa') variant = e.variant ?? ''; });
  setCpuFastPath(true);
  const fast = run().dataSync() as Float32Array;
  off();
  setCpuFastPath(false);
  return [fast, run().dataSync() as Float32Array, variant];
}

function bad(a: Float32Array, b: Float32Array, vmax: number, smax = 12): number[][] {
  const tol = 5e-6 * vmax * (1 + smax / 8), out: number[][] = [];
  for (let i = 0; i < a.length && out.length < 5; i++) {
    if (Number.isNaN(a[i]!) || Number.isNaN(b[i]!)) { if (!(Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) out.push([i, a[i]!, b[i]!]); continue; }
    if (a[i] !== b[i] && !(Math.abs(a[i]! - b[i]!) <= tol)) out.push([i, a[i]!, b[i]!]); // equal infinities agree
  }
  return out;
}
const t = (shape: number[], seed: number, lo = -1, hi = 1) => fp.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed, lo, hi), { shape });

describe('sdpa on the Wasm fast path', () => {
  test('the module validates', () => {
    expect(WebAssembly.validate(sdpaModuleBytes())).toBe(true);
  });

  test.each([
    [1, 1, 1, 1, 16, 16], [2, 3, 17, 17, 32, 32], [1, 2, 5, 255, 64, 64], [2, 2, 33, 3, 80, 80], [1, 1, 9, 20, 128, 128], [3, 1, 7, 13, 5, 3],
  ])('B %i H %i T %i S %i D %i Dv %i: plain, causal, bool and additive masks', (B, H, T, S, D, Dv) => {
    const q = t([B, H, T, D], 1, -2, 2), k = t([B, H, S, D], 2, -2, 2), v = t([B, H, S, Dv], 3, -3, 3);
    const r = fp.makeRng(4);
    const boolMask = fp.tensor(Uint8Array.from({ length: B * S }, () => (r() < 0.7 ? 1 : 0)), { shape: [B, 1, 1, S], dtype: 'bool' });
    const addMask = t([1, 1, T, S], 5, -4, 1);
    const scale = Math.min(1, 6 / D); // keep scores within ±12
    for (const opts of [{ scale }, { scale, isCausal: true }, { scale, mask: boolMask }, { scale, mask: addMask, isCausal: true }]) {
      const [fast, ref, variant] = both(() => fp.scaledDotProductAttention(q, k, v, opts));
      expect(variant).toBe('sdpa-wasm-simd-fused');
      expect(bad(fast, ref, 3)).toEqual([]);
    }
  });

  test('strided q/k/v from one projection, broadcast heads, rank-3 inputs, float16', () => {
    const B = 2, T = 19, H = 4, Dh = 16, qkv = t([B, T, 3 * H * Dh], 6, -2, 2);
    const heads = (i: number) => qkv.narrow(2, i * H * Dh, H * Dh).reshape([B, T, H, Dh]).permute(0, 2, 1, 3);
    let [fast, ref, variant] = both(() => fp.scaledDotProductAttention(heads(0), heads(1), heads(2), { isCausal: true }));
    expect(variant).toBe('sdpa-wasm-simd-fused');
    expect(bad(fast, ref, 2)).toEqual([]);
    // one k/v head shared by every query head (broadcast, stride 0)
    const kv = t([B, 1, 11, Dh], 7, -2, 2);
    [fast, ref] = both(() => fp.scaledDotProductAttention(t([B, H, 5, Dh], 8, -2, 2), kv, kv));
    expect(bad(fast, ref, 2)).toEqual([]);
    [fast, ref] = both(() => fp.scaledDotProductAttention(t([3, 6, 8], 9), t([3, 7, 8], 10), t([3, 7, 4], 11)));
    expect(bad(fast, ref, 1)).toEqual([]);
    const h = (s: number[], seed: number) => fp.tensor(randomArray(s.reduce((a, b) => a * b, 1), seed), { shape: s, dtype: 'float16' });
    [fast, ref, variant] = both(() => fp.scaledDotProductAttention(h([1, 2, 6, 8], 12), h([1, 2, 9, 8], 13), h([1, 2, 9, 8], 14), { isCausal: true }));
    expect(variant).toBe('sdpa-wasm-simd-fused');
    for (let i = 0; i < fast.length; i++) expect(Math.abs(fast[i]! - ref[i]!)).toBeLessThanOrEqual(2 ** -10 * Math.abs(ref[i]!) + 2 ** -14);
  });

  test('NaN and infinities where the twin has them; fully masked rows; causal T > S', () => {
    const B = 1, H = 2, T = 6, S = 7, D = 8;
    const qd = randomArray(B * H * T * D, 15), kd = randomArray(B * H * S * D, 16), vd = randomArray(B * H * S * D, 17);
    qd[3] = NaN; // head 0, query 0: NaN row
    kd[S * D + 2 * D] = Infinity; // head 1, key 2: +Inf or NaN scores in every row of head 1 that sees it
    vd[5 * D + 1] = NaN; // head 0, key 5, value column 1
    const q = fp.tensor(qd, { shape: [B, H, T, D] }), k = fp.tensor(kd, { shape: [B, H, S, D] }), v = fp.tensor(vd, { shape: [B, H, S, D] });
    const mask = fp.tensor(Uint8Array.from({ length: T * S }, (_, i) => (Math.floor(i / S) === 3 ? 0 : 1)), { shape: [1, 1, T, S], dtype: 'bool' }); // query 3 sees no key
    const [fast, ref] = both(() => fp.scaledDotProductAttention(q, k, v, { mask }));
    expect(bad(fast, ref, 1)).toEqual([]);
    expect(Number.isNaN(fast[0])).toBe(true);
    expect(Number.isNaN(fast[3 * D + 1])).toBe(true); // fully masked row of head 0: 0·NaN in column 1
    expect(fast[3 * D]).toBe(0);
    const [f2, r2] = both(() => fp.scaledDotProductAttention(t([1, 1, 9, 8], 18), t([1, 1, 4, 8], 19), t([1, 1, 4, 8], 20), { isCausal: true }));
    expect(bad(f2, r2, 1)).toEqual([]);
    expect(Array.from(f2.subarray(0, 5 * 8))).toEqual(Array(40).fill(0)); // queries 0-4 see no key when T > S
  });

  test.each([1, 3, 17, 197, 255])('keys S = %i against head dims 1, 3, 17, 64, 80: every tile remainder', (S) => {
    for (const D of [1, 3, 17, 64, 80]) {
      const T = S <= 17 ? S : 37, Dv = D === 80 ? 19 : D; // T < S for the long rows: the causal shift S - T
      const q = t([1, 2, T, D], S + D, -2, 2), k = t([1, 2, S, D], S + D + 1, -2, 2), v = t([1, 2, S, Dv], S + D + 2, -3, 3);
      const addMask = t([1, 2, T, S], S + D + 3, -4, 1);
      const r = fp.makeRng(S + D);
      const boolMask = fp.tensor(Uint8Array.from({ length: T * S }, () => (r() < 0.8 ? 1 : 0)), { shape: [1, 1, T, S], dtype: 'bool' });
      const scale = Math.min(1, 6 / D);
      for (const opts of [{ scale }, { scale, isCausal: true }, { scale, mask: boolMask, isCausal: true }, { scale, mask: addMask }]) {
        const [fast, ref, variant] = both(() => fp.scaledDotProductAttention(q, k, v, opts));
        expect(variant).toBe('sdpa-wasm-simd-fused');
        expect(bad(fast, ref, 3), `S ${S} D ${D} ${JSON.stringify(Object.keys(opts))}`).toEqual([]);
      }
    }
  });

  test("DeiT-tiny's shape [1, 3, 197, 64], scores far below the row's max (p flushed to 0 under exp(-80))", () => {
    const q = t([1, 3, 197, 64], 30), k = t([1, 3, 197, 64], 31), v = t([1, 3, 197, 64], 32, -3, 3);
    let [fast, ref] = both(() => fp.scaledDotProductAttention(q, k, v));
    expect(bad(fast, ref, 3)).toEqual([]);
    // an additive mask of -85 .. -100 on most keys: their exp underflows below 2^-126 on the fast path (p = 0) and
    // is ~1e-37 in the twin; the outputs agree within the tolerance
    const m = fp.tensor(Float32Array.from({ length: 197 * 197 }, (_, i) => (i % 5 === 0 ? 0 : -85 - (i % 16))), { shape: [1, 1, 197, 197] });
    [fast, ref] = both(() => fp.scaledDotProductAttention(q, k, v, { mask: m }));
    expect(bad(fast, ref, 3)).toEqual([]);
  });

  test('causal with NaN and Inf in values past every row of a block: they still reach the rows (0·NaN), as in the twin', () => {
    const T = 9, S = 9, D = 8;
    const vd = randomArray(2 * S * D, 40);
    vd[8 * D + 2] = NaN; // head 0, last key: seen only by the last query, but 0·NaN in column 2 of every row
    vd[S * D + 7 * D + 5] = Infinity; // head 1, key 7
    const v = fp.tensor(vd, { shape: [1, 2, S, D] });
    const [fast, ref] = both(() => fp.scaledDotProductAttention(t([1, 2, T, D], 41), t([1, 2, S, D], 42), v, { isCausal: true }));
    expect(bad(fast, ref, 1)).toEqual([]);
    expect(Number.isNaN(fast[2])).toBe(true); // head 0, query 0, column 2
    expect(Number.isNaN(fast[3])).toBe(false);
    expect(Number.isNaN(fast[T * D + 5])).toBe(true); // head 1, query 0, column 5: 0·Inf
  });

  test('row blocks split over 2 threads: bit-identical to 1 thread', async () => {
    const cases: [number[], number[], number[], { isCausal?: boolean; mask?: fp.Tensor }][] = [
      [[2, 3, 197, 64], [2, 3, 197, 64], [2, 3, 197, 64], {}],
      [[1, 4, 128, 64], [1, 4, 128, 64], [1, 4, 128, 64], { isCausal: true }],
      [[3, 2, 17, 3], [3, 2, 255, 3], [3, 2, 255, 17], { mask: t([1, 1, 17, 255], 50, -4, 1) }],
      [[1, 1, 5, 80], [1, 1, 3, 80], [1, 1, 3, 80], { isCausal: true }],
    ];
    try {
      setNumThreads(2); await whenThreadsReady();
      const tasks0 = threadPoolInfo().tasksOnWorkers;
      for (const [qs, ks, vs, opts] of cases) {
        const q = t(qs, 51), k = t(ks, 52), v = t(vs, 53);
        const run = () => fp.scaledDotProductAttention(q, k, v, opts).dataSync() as Float32Array;
        setOpThreadsMinWork(Infinity);
        const one = run();
        setOpThreadsMinWork(0);
        // tasks are claimed from a shared counter, so on a loaded machine this thread may take them all, and a race
        // between tasks shows only when they overlap: repeat, until the worker has run several tasks of this case
        const before = threadPoolInfo().tasksOnWorkers;
        for (let attempt = 0; attempt < 40; attempt++) {
          const two = run();
          expect(two.length).toBe(one.length);
          for (let i = 0; i < one.length; i++) if (!Object.is(two[i], one[i])) expect([i, two[i]]).toEqual([i, one[i]]);
          if (attempt >= 8 && threadPoolInfo().tasksOnWorkers > before + 16) break;
        }
      }
      if (threadPoolInfo().workers > 0) expect(threadPoolInfo().tasksOnWorkers).toBeGreaterThan(tasks0);
    } finally {
      setOpThreadsMinWork(null); setNumThreads(1);
    }
  });
});
