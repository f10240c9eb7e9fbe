// Attention modules against a naive multi-head attention written here: CausalSelfAttention (fused c_attn,
// KV cache steps equal the full pass), SelfAttention with bool and additive padding masks, probs checkpoints.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { maxAbsDiff, randomArray } from '../helpers.js';

const { nn } = fp;

function randomize(m: fp.nn.Module, seed: number): void {
  const sd: Record<string, fp.Tensor> = {};
  m.namedParameters().forEach(([k, t], i) => { sd[k] = fp.tensor(randomArray(t.size, seed + i, -0.5, 0.5), { shape: t.shape }); });
  m.loadStateDict(sd);
}
const arr = (m: fp.nn.Module, k: string) => m.stateDict().get(k)!.dataSync() as Float32Array;

/** rows [M, K] · Wᵀ [N, K] + b. */
function lin(x: Float32Array, m: number, k: number, w: Float32Array, b: Float32Array, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = b[j]!;
    for (let t = 0; t < k; t++) s += x[i * k + t]! * w[j * k + t]!;
    out[i * n + j] = s;
  }
  return out;
}

/**
 * Naive attention: q, k, v as [B, T, ld] rows with head h at column off + h·D; allowed(b, i, j) says whether
 * query i may see key j; additive(b, j) is added to the score. Returns merged heads [B, T, H·D] and probs [B, H, T, T].
 */
function attnRef(B: number, T: number, H: number, D: number, q: Float32Array, k: Float32Array, v: Float32Array, ld: number, offs: [number, number, number],
  allowed: (b: number, i: number, j: number) => boolean, additive: (b: number, j: number) => number) {
  const merged = new Float32Array(B * T * H * D);
  const probs = new Float32Array(B * H * T * T);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    const sc: number[] = [];
    for (let j = 0; j < T; j++) {
      if (!allowed(b, i, j)) { sc.push(-Infinity); continue; }
      let s = 0;
      for (let d = 0; d < D; d++) s += q[(b * T + i) * ld + offs[0] + h * D + d]! * k[(b * T + j) * ld + offs[1] + h * D + d]!;
      sc.push(s / Math.sqrt(D) + additive(b, j));
    }
    const mx = Math.max(...sc);
    const e = sc.map((s) => Math.exp(s - mx));
    const z = e.reduce((a, c) => a + c, 0);
    for (let j = 0; j < T; j++) probs[((b * H + h) * T + i) * T + j] = e[j]! / z;
    for (let d = 0; d < D; d++) {
      let acc = 0;
      for (let j = 0; j < T; j++) acc += (e[j]! / z) * v[(b * T + j) * ld + offs[2] + h * D + d]!;
      merged[(b * T + i) * H * D + h * D + d] = acc;
    }
  }
  return { merged, probs };
}

describe('CausalSelfAttention', () => {
  const B = 2, T = 5, C = 12, H = 3, D = 4;
  const attn = new nn.CausalSelfAttention(C, H);
  randomize(attn, 100);
  const x = fp.tensor(randomArray(B * T * C, 101), { shape: [B, T, C] });
  const qkv = lin(x.dataSync() as Float32Array, B * T, C, arr(attn, 'c_attn.weight'), arr(attn, 'c_attn.bias'), 3 * C);
  const ref = attnRef(B, T, H, D, qkv, qkv, qkv, 3 * C, [0, C, 2 * C], (_b, i, j) => j <= i, () => 0);
  const out = lin(ref.merged, B * T, C, arr(attn, 'c_proj.weight'), arr(attn, 'c_proj.bias'), C);

  it('matches naive causal attention, with probs and merged checkpoints when hooked', async () => {
    const seen = new Map<string, Float32Array>();
    const h = attn.registerForwardHook((_m, path, _in, o) => { seen.set(path, (o as fp.Tensor).dataSync() as Float32Array); });
    const y = attn.forward(x);
    h.remove();
    expect(y.shape).toEqual([B, T, C]);
    expect(maxAbsDiff(await y.data(), out)).toBeLessThan(1e-5);
    expect([...seen.keys()]).toEqual(['c_attn', 'probs', 'merged', 'c_proj', '']);
    expect(maxAbsDiff(seen.get('probs')!, ref.probs)).toBeLessThan(1e-6);
    expect(maxAbsDiff(seen.get('merged')!, ref.merged)).toBeLessThan(1e-5);
  });

  it('with a KV cache, prefill then single steps give the rows of the full pass', async () => {
    const cache = new nn.LayerKV();
    const parts = [x.narrow(1, 0, 2), x.narrow(1, 2, 1), x.narrow(1, 3, 2)];
    const got: number[][] = [[], []];
    for (const p of parts) {
      const y = await fp.scope(() => attn.forward(p, cache).data());
      const n = p.shape[1]!;
      for (let b = 0; b < B; b++) got[b]!.push(...Array.from(y.slice(b * n * C, (b + 1) * n * C)));
    }
    expect(cache.length).toBe(T);
    expect(cache.k!.disposed).toBe(false);
    expect(maxAbsDiff(Float32Array.from(got.flat()), out)).toBeLessThan(1e-5);
    const old = cache.k!;
    cache.clear();
    expect(old.disposed).toBe(true);
    expect(() => attn.forward(fp.zeros([B, T, C + 1]))).toThrow(/CausalSelfAttention: expected an input \[B, T, 12\], got \[2, 5, 13\]/);
  });
});

describe('SelfAttention', () => {
  const B = 2, T = 4, C = 8, H = 2, D = 4;
  const attn = new nn.SelfAttention(C, H);
  randomize(attn, 200);
  const x = fp.tensor(randomArray(B * T * C, 201), { shape: [B, T, C] });
  const xv = x.dataSync() as Float32Array;
  const [q, k, v] = ['query', 'key', 'value'].map((n) => lin(xv, B * T, C, arr(attn, `${n}.weight`), arr(attn, `${n}.bias`), C)) as [Float32Array, Float32Array, Float32Array];
  const keep = [[1, 1, 1, 0], [1, 1, 0, 0]];

  it('attends to every position without a mask', async () => {
    const ref = attnRef(B, T, H, D, q, k, v, C, [0, 0, 0], () => true, () => 0);
    const out = lin(ref.merged, B * T, C, arr(attn, 'out.weight'), arr(attn, 'out.bias'), C);
    expect(maxAbsDiff(await attn.forward(x).data(), out)).toBeLessThan(1e-5);
  });

  it('masks padded keys with a bool [B, S] mask or an additive one', async () => {
    const ref = attnRef(B, T, H, D, q, k, v, C, [0, 0, 0], (b, _i, j) => keep[b]![j] === 1, () => 0);
    const out = lin(ref.merged, B * T, C, arr(attn, 'out.weight'), arr(attn, 'out.bias'), C);
    const boolMask = fp.tensor(keep.map((r) => r.map((m) => m === 1)));
    expect(maxAbsDiff(await attn.forward(x, boolMask).data(), out)).toBeLessThan(1e-5);
    const additive = fp.tensor(keep.map((r) => r.map((m) => (1 - m) * -10000)));
    const refAdd = attnRef(B, T, H, D, q, k, v, C, [0, 0, 0], () => true, (b, j) => (1 - keep[b]![j]!) * -10000);
    const outAdd = lin(refAdd.merged, B * T, C, arr(attn, 'out.weight'), arr(attn, 'out.bias'), C);
    expect(maxAbsDiff(await attn.forward(x, additive).data(), outAdd)).toBeLessThan(1e-5);
    expect(() => attn.forward(x, fp.ones([B, T + 1]))).toThrow(/a padding mask must be \[B, S\] = \[2, 4\], got \[2, 5\]/);
  });

  it('computes probs only when a hook listens', () => {
    const names: string[] = [];
    const events: string[] = [];
    const off = fp.addOpHook((e) => events.push(e.op));
    attn.forward(x);
    const unhooked = events.length;
    events.length = 0;
    const h = attn.registerForwardHook((_m, p) => names.push(p));
    attn.forward(x);
    h.remove();
    off();
    expect(names).toContain('probs');
    expect(events.length).toBeGreaterThan(unhooked);
    expect(() => new nn.SelfAttention(10, 3)).toThrow(/embedDim \(10\) must be a positive multiple of numHeads \(3\)/);
  });
});
