// Activations on the Wasm fast path (float32 exp / erfc polynomials) against the typed-array twins (float64 math):
// relu bit for bit; sigmoid, silu, gelu, geluTanh within |fast - twin| <= 2e-6·|twin| + 1e-12 over ±120 (stated
// in src/backends/cpu/wasm/unary.ts), with NaN, ±Inf, ±0, subnormals and the exp overflow/underflow edges.
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { unaryModuleBytes } from '../../src/backends/cpu/wasm/unary.js';

afterEach(() => setCpuFastPath(true));

const OPS = {
  relu: (x: fp.Tensor) => fp.relu(x),
  sigmoid: (x: fp.Tensor) => fp.sigmoid(x),
  silu: (x: fp.Tensor) => fp.silu(x),
  gelu: (x: fp.Tensor) => fp.gelu(x),
  geluTanh: (x: fp.Tensor) => fp.gelu(x, { approximate: 'tanh' }),
} as const;
const RTOL = 2e-6, ATOL = 1e-12;

function both(op: keyof typeof OPS, x: fp.Tensor): [Float32Array, Float32Array, string] {
  let variant = '';
  const off = fp.addOpHook((e) => { if (e.op === op) variant = e.variant ?? ''; });
  setCpuFastPath(true);
  const fast = OPS[op](x).dataSync() as Float32Array;
  off();
  setCpuFastPath(false);
  return [fast, OPS[op](x).dataSync() as Float32Array, variant];
}

const EDGES = [0, -0, Infinity, -Infinity, NaN, 88.7, 89, 88.72, -87.3, -87.4, -100, -103.9, -104, -105, 1e30, -1e30, 1e-40, -1e-40, 1e-45, 3.4e38, -3.4e38, 0.5, -0.5, 8.4, -8.4, -3, 3, 6, -6, -2.9999998, 3.0000002];

function wide(n: number, seed: number): Float32Array {
  const r = fp.makeRng(seed), d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = (r() * 2 - 1) * [120, 12, 1, 1e-3][i % 4]!;
  d.set(EDGES);
  return d;
}

describe('activations on the Wasm fast path', () => {
  test('the module validates', () => {
    expect(WebAssembly.validate(unaryModuleBytes())).toBe(true);
  });

  test.each(Object.keys(OPS) as (keyof typeof OPS)[])('%s: within the stated tolerance of the twin over ±120 and the edges; NaN where the twin has NaN', (op) => {
    const d = wide(1 << 16, 3);
    const [fast, ref, variant] = both(op, fp.tensor(d, { shape: [1 << 16] }));
    expect(variant).toBe(`${op}-wasm-simd`);
    let worst = 0;
    for (let i = 0; i < d.length; i++) {
      const a = fast[i]!, b = ref[i]!;
      if (Number.isNaN(b) || Number.isNaN(a)) { expect([i, a]).toEqual([i, b]); continue; }
      if (!Number.isFinite(b) || !Number.isFinite(a)) { expect([i, a]).toEqual([i, b]); continue; }
      const err = Math.abs(a - b) / (RTOL * Math.abs(b) + ATOL);
      if (err > worst) worst = err;
      if (err > 1) expect({ x: d[i], fast: a }).toEqual({ x: d[i], fast: b });
    }
    if (op === 'relu') expect(Array.from(fast)).toEqual(Array.from(ref)); // exact, -0 and NaN kept
    expect(worst).toBeLessThanOrEqual(1);
  });

  test('odd lengths and offsets (a slice of a bigger tensor, float16) follow the same kernel', () => {
    const d = wide(1000, 5);
    for (const n of [64, 67, 255, 999]) {
      for (const op of Object.keys(OPS) as (keyof typeof OPS)[]) {
        const x = fp.tensor(d, { shape: [1000] }).slice(0, 1, n + 1);
        const [fast, ref, variant] = both(op, x.contiguous());
        expect(variant).toBe(`${op}-wasm-simd`);
        for (let i = 0; i < n; i++) {
          if (Object.is(fast[i], ref[i]) || (Number.isNaN(ref[i]!) && Number.isNaN(fast[i]!))) continue;
          expect(Math.abs(fast[i]! - ref[i]!)).toBeLessThanOrEqual(RTOL * Math.abs(ref[i]!) + ATOL);
        }
      }
    }
    const h = fp.tensor(wide(300, 7).map((v) => Math.max(-6e4, Math.min(6e4, v))), { shape: [3, 100], dtype: 'float16' });
    const [fast, ref, variant] = both('gelu', h);
    expect(variant).toBe('gelu-wasm-simd');
    // at most one float16 step apart (the f32 error can tip a rounding): 2^-10 relative, 2^-24 near 0
    const off16 = Array.from(fast).filter((v, i) => !Object.is(v, ref[i]) && !(Number.isNaN(v) && Number.isNaN(ref[i]!)) && !(Math.abs(v - ref[i]!) <= 2 ** -10 * Math.abs(ref[i]!) + 2 ** -24));
    expect(off16).toEqual([]);
  });

  test('every size takes the kernel, so a value gives the same bits alone or in a big tensor (batch invariance)', () => {
    const d = wide(300, 9);
    for (const op of Object.keys(OPS) as (keyof typeof OPS)[]) {
      const all = both(op, fp.tensor(d, { shape: [300] }))[0];
      const [few, , variant] = both(op, fp.tensor(d.slice(0, 3), { shape: [3] }));
      expect(variant).toBe(`${op}-wasm-simd`);
      expect(Array.from(few)).toEqual(Array.from(all.slice(0, 3)));
    }
  });
});

// The exact ops of exported graphs: bit for bit with the twin (NaN for NaN, -0 and ±Inf kept), at 64 elements and up.
const EXACT: Record<string, [string, (x: fp.Tensor) => fp.Tensor]> = {
  neg: ['neg', (x) => fp.neg(x)],
  abs: ['abs', (x) => fp.abs(x)],
  sqrt: ['sqrt', (x) => fp.sqrt(x)],
  reciprocal: ['reciprocal', (x) => fp.reciprocal(x)],
  square: ['square', (x) => fp.square(x)],
  relu6: ['clamp', (x) => fp.relu6(x)],
  'clamp(-0.1, 0.3)': ['clamp', (x) => fp.clamp(x, -0.1, 0.3)],
  'clamp(-Inf, 1e300)': ['clamp', (x) => fp.clamp(x, -Infinity, 1e300)],
  'clamp(2, -2) (min above max)': ['clamp', (x) => fp.clamp(x, 2, -2)],
  'clamp(0, 1e-40) (subnormal bound)': ['clamp', (x) => fp.clamp(x, 0, 1e-40)],
  leakyRelu: ['leakyRelu', (x) => fp.leakyRelu(x)],
  'leakyRelu(0.2)': ['leakyRelu', (x) => fp.leakyRelu(x, 0.2)],
  hardSigmoid: ['hardSigmoid', (x) => fp.hardSigmoid(x)],
  'hardSigmoid(0.2, 0.5)': ['hardSigmoid', (x) => fp.hardSigmoid(x, 0.2, 0.5)],
  'hardSigmoid(-1e-300, -0) (products below float32)': ['hardSigmoid', (x) => fp.hardSigmoid(x, -1e-300, -0)],
  hardSwish: ['hardSwish', (x) => fp.hardSwish(x)],
};

function bothExact(name: string, x: fp.Tensor): [number[], number[], string] {
  const [op, f] = EXACT[name]!;
  let variant = '';
  const off = fp.addOpHook((e) => { if (e.op === op) variant = e.variant ?? ''; });
  setCpuFastPath(true);
  const fast = Array.from(f(x).dataSync() as Float32Array);
  off();
  setCpuFastPath(false);
  return [fast, Array.from(f(x).dataSync() as Float32Array), variant];
}
const bitDiffs = (a: number[], b: number[], x: Float32Array) => a.flatMap((v, i) => (Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i]!)) ? [] : [[x[i], v, b[i]]])).slice(0, 5);

describe('exact unary ops on the Wasm fast path', () => {
  test.each(Object.keys(EXACT))('%s: the twin bit for bit over ±120, the edges, and lengths 64, 67, 255, 4099', (name) => {
    const d = wide(4099, 11);
    for (const n of [64, 67, 255, 4099]) {
      const x = d.slice(n === 4099 ? 0 : 3, (n === 4099 ? 0 : 3) + n);
      const [fast, ref, variant] = bothExact(name, fp.tensor(x, { shape: [n] }));
      expect(variant).toBe(`${EXACT[name]![0]}-wasm-simd`);
      expect(bitDiffs(fast, ref, x)).toEqual([]);
    }
  });

  test('float16 and batch shapes; below 64 elements, strided views and int32 stay on the twin', () => {
    const h = fp.tensor(wide(3 * 100, 13).map((v) => Math.max(-6e4, Math.min(6e4, v))), { shape: [3, 100], dtype: 'float16' });
    const [fast, ref, variant] = bothExact('hardSigmoid', h);
    expect(variant).toBe('hardSigmoid-wasm-simd');
    expect(fast).toEqual(ref);
    expect(bothExact('sqrt', fp.tensor(wide(63, 14), { shape: [63] }))[2]).toBe('');
    expect(bothExact('neg', fp.tensor(wide(128, 15), { shape: [8, 16] }).transpose())[2]).toBe('');
    expect(bothExact('abs', fp.tensor(Int32Array.from({ length: 128 }, (_, i) => i - 64), { shape: [128], dtype: 'int32' }))[2]).toBe('');
  });
});
