// WebGPU scaledDotProductAttention (the fused sdpa kernel) against the CPU backend and a naive float64 reference:
// prefill and decode shapes, causal and padding masks, strided q/k/v split from a fused projection, D and Dv
// chunking, float16, fully masked rows, NaN propagation, and other workgroup sizes.
import { afterEach, describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { planSdpa, sdpaProgram } from '../../src/backends/webgpu/programs/attention.js';
import { programs } from '../../src/backends/webgpu/programs/index.js';
import { maxAbsDiff, randomArray } from '../helpers.js';
import { webgpu } from '../webgpu.js';
import { both } from './helpers.js';

/**
 * Tolerance (absolute; outputs are convex combinations of values in [-1, 1]): float32 scores with up to D = 160
 * products and a float32 online softmax differ from the CPU's float64 sums by ~1e-6; 1e-5 leaves headroom.
 */
const TOL = 1e-5;
/** float16 outputs: both sides round the same ~1e-6-close value to half, at most one half ulp (2^-11 below 1) apart. */
const TOL_F16 = 2 ** -11 + TOL;

type MaskFn = (b: number, h: number, t: number, s: number) => boolean | number;

/** Naive attention over contiguous arrays in float64; a row with every key removed gives zeros (as the CPU). */
function naive(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, [B, H, T, S, D, Dv]: number[], scale: number, causal: boolean, mask?: MaskFn): Float64Array {
  const out = new Float64Array(B! * H! * T! * Dv!);
  for (let b = 0; b < B!; b++) for (let h = 0; h < H!; h++) for (let t = 0; t < T!; t++) {
    const bh = b * H! + h;
    const sc: number[] = [];
    for (let s = 0; s < S!; s++) {
      let x = 0;
      for (let d = 0; d < D!; d++) x += q[(bh * T! + t) * D! + d]! * k[(bh * S! + s) * D! + d]!;
      x *= scale;
      const m = mask?.(b, h, t, s);
      if (m === false || (causal && s > t + S! - T!)) x = -Infinity;
      else if (typeof m === 'number') x += m;
      sc.push(x);
    }
    const mx = Math.max(-Infinity, ...sc);
    if (mx === -Infinity) continue;
    const e = sc.map((x) => Math.exp(x - mx));
    const sum = e.reduce((x, y) => x + y, 0);
    for (let s = 0; s < S!; s++) {
      if (e[s] === 0) continue;
      for (let d = 0; d < Dv!; d++) out[(bh * T! + t) * Dv! + d] += (e[s]! / sum) * v[(bh * S! + s) * Dv! + d]!;
    }
  }
  return out;
}

/** [B, L, C] -> [B, H, L, C / H] exactly as the attention modules split heads (a strided view). */
const heads = (x: fp.Tensor, h: number) => x.reshape([x.shape[0]!, x.shape[1]!, h, x.shape[2]! / h]).permute(0, 2, 1, 3);

/**
 * q, k, v as views of one fused projection [B, S, 2·H·D + H·Dv] (columns [q | k | v], like GPT-2's c_attn):
 * k and v over all S positions, q over the last T (a time-narrowed view with an offset).
 */
function splitQkv(proj: fp.Tensor, H: number, T: number, D: number, Dv: number): [fp.Tensor, fp.Tensor, fp.Tensor] {
  const S = proj.shape[1]!;
  const C = H * D;
  const q = heads(proj.narrow(1, S - T, T).narrow(2, 0, C), H);
  const k = heads(proj.narrow(2, C, C), H);
  const v = heads(proj.narrow(2, 2 * C, H * Dv), H);
  return [q, k, v];
}

interface Case { B: number; H: number; T: number; S: number; D: number; Dv: number; causal?: boolean; mask?: 'bool' | 'additive'; scale?: number }

/** One random case through splitQkv on both devices, checked against the CPU (and the naive reference when small). */
async function checkCase(c: Case, seed: number): Promise<number> {
  const { B, H, T, S, D, Dv } = c;
  const proj = fp.tensor(randomArray(B * S * (2 * H * D + H * Dv), seed), { shape: [B, S, 2 * H * D + H * Dv] });
  // bool: a padding mask [B, S] seen as [B, 1, 1, S] (batch b pads its last b + 2 keys); additive: [1, 1, T, S]
  const keepKey = (b: number, s: number) => s < S - (b + 2) || s === 0;
  const maskT = c.mask === 'bool'
    ? fp.tensor(Array.from({ length: B * S }, (_, i) => keepKey(Math.floor(i / S), i % S)), { shape: [B, S], dtype: 'bool' })
    : c.mask === 'additive' ? fp.tensor(randomArray(T * S, seed + 1, -3, 1), { shape: [1, 1, T, S] }) : null;
  const f = (p: fp.Tensor, m?: fp.Tensor) => {
    const [q, k, v] = splitQkv(p, H, T, D, Dv);
    const mask = !m ? null : c.mask === 'bool' ? m.reshape([B, 1, 1, S]) : m;
    return fp.scaledDotProductAttention(q, k, v, { isCausal: !!c.causal, mask, scale: c.scale });
  };
  const [got, want] = maskT ? await both(f, proj, maskT) : await both(f, proj);
  let err = maxAbsDiff(got, want);
  expect(err, JSON.stringify(c)).toBeLessThanOrEqual(TOL);
  if (B * H * T * S * Math.max(D, Dv) > 1e5) return err;
  const [q, k, v] = splitQkv(proj, H, T, D, Dv);
  const am = maskT && c.mask === 'additive' ? await maskT.data() : null;
  const mfn: MaskFn | undefined = c.mask === 'bool' ? (b, _h, _t, s) => keepKey(b, s) : am ? (_b, _h, t, s) => am[t * S + s]! : undefined;
  const ref = naive(await q.data(), await k.data(), await v.data(), [B, H, T, S, D, Dv], c.scale ?? 1 / Math.sqrt(D), !!c.causal, mfn);
  err = Math.max(err, maxAbsDiff(got, ref));
  expect(err, `${JSON.stringify(c)} vs naive`).toBeLessThanOrEqual(TOL);
  return err;
}

describe.skipIf(!webgpu.gpu)(`webgpu attention (${webgpu.gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  const defaultProgram = programs.sdpa;
  afterEach(() => {
    programs.sdpa = defaultProgram;
  });

  it('hand-checked: softmax weights 1/4, 3/4; a bool mask; causal rows', async () => {
    // scores 0 and ln 3 -> weights 1/4 and 3/4 -> 0.25·4 + 0.75·8 = 7
    const q = fp.tensor([1], { shape: [1, 1, 1, 1], device: 'webgpu' });
    const k = fp.tensor([0, Math.log(3)], { shape: [1, 1, 2, 1], device: 'webgpu' });
    const v = fp.tensor([4, 8], { shape: [1, 1, 2, 1], device: 'webgpu' });
    const y = fp.scaledDotProductAttention(q, k, v, { scale: 1 });
    expect((await y.data())[0]).toBeCloseTo(7, 5);
    const mask = fp.tensor([true, false], { shape: [1, 1, 1, 2], dtype: 'bool', device: 'webgpu' });
    expect((await fp.scaledDotProductAttention(q, k, v, { scale: 1, mask }).data())[0]).toBeCloseTo(4, 6);
    // T = S = 2, causal: row 0 sees key 0 only (-> 4), row 1 both (-> 7)
    const q2 = fp.tensor([1, 1], { shape: [1, 1, 2, 1], device: 'webgpu' });
    const y2 = await fp.scaledDotProductAttention(q2, k, v, { scale: 1, isCausal: true }).data();
    expect(y2[0]).toBeCloseTo(4, 6);
    expect(y2[1]).toBeCloseTo(7, 5);
  });

  for (const T of [1, 5, 16, 64]) {
    it(`T = ${T}: B in {1, 2}, H in {1, 4}, S in {T, T + 7}, D in {16, 33, 64}, plain, causal and masked, strided q/k/v`, async () => {
      let seed = 100 * T;
      let worst = 0;
      let n = 0;
      for (const B of [1, 2]) for (const H of [1, 4]) for (const S of [T, T + 7]) for (const D of [16, 33, 64]) {
        const Dv = (B + H + D) % 2 === 0 ? D : 24;
        // each shape: plain or causal, then a bool padding or additive mask, alone or with causal
        worst = Math.max(worst, await checkCase({ B, H, T, S, D, Dv, causal: n % 2 === 1 }, seed++));
        worst = Math.max(worst, await checkCase({ B, H, T, S, D, Dv, causal: n % 3 !== 0, mask: n % 2 === 0 ? 'bool' : 'additive' }, seed++));
        n++;
      }
      expect(worst).toBeGreaterThan(0); // the comparison really ran on different arithmetic
    });
  }

  it('decode steps against a contiguous KV cache: T = 1, S up to 130, causal with a padding mask', async () => {
    for (const [S, seed] of [[1, 1], [63, 2], [64, 3], [65, 4], [130, 5]] as const) {
      const B = 2, H = 4, D = 16;
      const x = fp.tensor(randomArray(B * 3 * H * D, seed), { shape: [B, 1, 3 * H * D] });
      const kc = fp.tensor(randomArray(B * H * S * D, seed + 10), { shape: [B, H, S, D] });
      const vc = fp.tensor(randomArray(B * H * S * D, seed + 20), { shape: [B, H, S, D] });
      const pad = fp.tensor(Array.from({ length: B * S }, (_, i) => i % S !== 1 || i < S), { shape: [B, S], dtype: 'bool' });
      const f = (xx: fp.Tensor, k: fp.Tensor, v: fp.Tensor, m: fp.Tensor) => {
        const q = heads(xx.narrow(2, 0, H * D), H);
        return fp.scaledDotProductAttention(q, k, v, { isCausal: true, mask: m.reshape([B, 1, 1, S]) });
      };
      const [got, want] = await both(f, x, kc, vc, pad);
      expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(TOL);
    }
  });

  it('D and Dv up to 160 and 200: D staged in chunks, Dv split over workgroups', async () => {
    // the cases below really take the chunked paths
    expect(planSdpa(5, 160, 200, 32768).nz).toBe(2);
    expect(planSdpa(5, 160, 200, 32768).dc).toBeLessThan(160);
    expect(planSdpa(1, 128, 200, 32768).acc).toBe(4);
    await checkCase({ B: 1, H: 2, T: 5, S: 12, D: 128, Dv: 128, causal: true }, 7);
    await checkCase({ B: 1, H: 2, T: 5, S: 12, D: 160, Dv: 200, mask: 'additive' }, 8);
    await checkCase({ B: 1, H: 2, T: 1, S: 70, D: 128, Dv: 200, mask: 'bool' }, 9);
    await checkCase({ B: 1, H: 1, T: 3, S: 9, D: 0, Dv: 5, scale: 1 }, 10);
  });

  it('float16 q, k, v and mask: unpacked, attended, packed back like the CPU', async () => {
    const B = 2, H = 4, T = 16, S = 16, D = 16;
    const proj = fp.tensor(randomArray(B * T * 3 * H * D, 11), { shape: [B, T, 3 * H * D], dtype: 'float16' });
    const am = fp.tensor(randomArray(T * S, 12, -2, 0), { shape: [T, S], dtype: 'float16' });
    const f = (p: fp.Tensor, m: fp.Tensor) => {
      const [q, k, v] = splitQkv(p, H, T, D, D);
      return fp.scaledDotProductAttention(q, k, v, { isCausal: true, mask: m });
    };
    const [got, want] = await both(f, proj, am);
    expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(TOL_F16);
  });

  it('fully masked rows give zeros (bool mask, additive -Infinity, causal with T > S); a masked key\'s inf value gives NaN (0·inf, as PyTorch)', async () => {
    const B = 2, H = 2, T = 6, S = 6, D = 8;
    const q = fp.tensor(randomArray(B * H * T * D, 13), { shape: [B, H, T, D] });
    const k = fp.tensor(randomArray(B * H * S * D, 14), { shape: [B, H, S, D] });
    const vData = randomArray(B * H * S * D, 15);
    vData[S * D - 1] = Infinity; // key S-1 of (b 0, h 0), masked for query 2 below
    const v = fp.tensor(vData, { shape: [B, H, S, D] });
    // bool [B, 1, T, S]: query 2 of batch 0 attends nothing but key 0; query 4 nothing at all
    const bm = fp.tensor(Array.from({ length: B * T * S }, (_, i) => { const t = Math.floor(i / S) % T; return t === 4 ? false : t === 2 ? i % S === 0 : true; }), { shape: [B, 1, T, S], dtype: 'bool' });
    const [g1, w1] = await both((a, b, c, m) => fp.scaledDotProductAttention(a, b, c, { mask: m }), q, k, v, bm);
    expect(maxAbsDiff(g1, w1)).toBeLessThanOrEqual(TOL);
    // p·v multiplies masked keys' values by 0 too: column D-1 (the inf) is NaN in both rows, the rest as before
    expect(Array.from(g1).slice(4 * D, 5 * D)).toEqual([...new Array(D - 1).fill(0), NaN]);
    expect(Array.from(g1).slice(2 * D, 3 * D - 1).every(Number.isFinite)).toBe(true);
    expect(g1[3 * D - 1]).toBeNaN();
    // additive: row 3 all -Infinity
    const am = fp.tensor(Array.from({ length: T * S }, (_, i) => (Math.floor(i / S) === 3 ? -Infinity : 0)), { shape: [T, S] });
    const [g2, w2] = await both((a, b, c, m) => fp.scaledDotProductAttention(a, b, c, { mask: m }), q, k, fp.tanh(v), am);
    expect(maxAbsDiff(g2, w2)).toBeLessThanOrEqual(TOL);
    expect(Array.from(g2).slice(3 * D, 4 * D)).toEqual(new Array(D).fill(0));
    // causal with T > S: queries 0 and 1 see no key
    const k4 = k.narrow(2, 0, S - 2);
    const [g3, w3] = await both((a, b, c) => fp.scaledDotProductAttention(a, b, c, { isCausal: true }), q, k4, fp.tanh(v).narrow(2, 0, S - 2));
    expect(maxAbsDiff(g3, w3)).toBeLessThanOrEqual(TOL);
    expect(Array.from(g3).slice(0, 2 * D)).toEqual(new Array(2 * D).fill(0));
    // S = 0: every row is zeros
    const [g4, w4] = await both((a, b, c) => fp.scaledDotProductAttention(a, b, c), q, k.narrow(2, 0, 0), v.narrow(2, 0, 0));
    expect(Array.from(g4)).toEqual(Array.from(w4));
    expect(Array.from(g4).every((x) => x === 0)).toBe(true);
  });

  it('a NaN score makes exactly the rows that see it NaN, as on the CPU', async () => {
    const T = 7, S = 7, D = 5;
    const kData = randomArray(2 * T * D, 16);
    kData[3 * D + 1] = NaN; // key 3 of head 0
    const q = fp.tensor(randomArray(2 * T * D, 17), { shape: [1, 2, T, D] });
    const k = fp.tensor(kData, { shape: [1, 2, S, D] });
    const v = fp.tensor(randomArray(2 * S * D, 18), { shape: [1, 2, S, D] });
    const [got, want] = await both((a, b, c) => fp.scaledDotProductAttention(a, b, c, { isCausal: true }), q, k, v);
    expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(TOL);
    const nanRows = Array.from({ length: 2 * T }, (_, r) => Number.isNaN(got[r * D]!));
    expect(nanRows).toEqual(Array.from({ length: 2 * T }, (_, r) => r < T && r >= 3));
  });

  for (const wg of [32, 128]) {
    it(`workgroup size ${wg} (the WG override) gives the same numbers`, async () => {
      programs.sdpa = sdpaProgram(wg);
      await checkCase({ B: 2, H: 2, T: 1, S: 40, D: 16, Dv: 16, causal: true, mask: 'bool' }, 20 + wg);
      await checkCase({ B: 2, H: 2, T: 19, S: 23, D: 33, Dv: 40, causal: true, mask: 'additive' }, 21 + wg);
      await checkCase({ B: 1, H: 1, T: 9, S: 9, D: 64, Dv: 150 }, 22 + wg);
    });
  }

  it('plans fit the workgroup-memory limit and never split D or Dv needlessly; bad workgroup sizes are refused', () => {
    expect(() => sdpaProgram(12)).toThrow('forwardpass: sdpa: the workgroup size must be a positive multiple of 8, got 12');
    for (const [T, D, Dv] of [[1, 16, 16], [64, 64, 64], [1, 128, 128], [64, 160, 200], [5, 1000, 7]] as const) {
      for (const limit of [16384, 32768, 4096]) {
        const p = planSdpa(T, D, Dv, limit);
        expect(p.sharedBytes).toBeLessThanOrEqual(limit);
        expect(p.rows * p.bk).toBe(p.wg);
        expect(p.acc * p.bk * p.nz).toBeGreaterThanOrEqual(Dv);
        expect(p.nqb * p.rows).toBeGreaterThanOrEqual(T);
      }
    }
    expect(planSdpa(1, 16, 16, 16384)).toMatchObject({ rows: 1, bk: 64, ktile: false, dc: 16, acc: 1, nz: 1 });
    expect(planSdpa(64, 65, 64, 16384)).toMatchObject({ rows: 8, bk: 8, ktile: true, dc: 22, acc: 16, nz: 1 });
  });
});
