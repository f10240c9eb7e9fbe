// Block-scaled int8 linear layers on the Wasm fast path (int8-block.ts) against their typed-array twins
// (kernels/int8.ts): linearInt8 with Q8_0 blocks must equal the twin bit for bit (exact int32 block sums, then the
// twin's own float64 scaling order); linearW8 sums in f32 where the twin sums in float64, so it must stay within
// the f32 summation bound (K + 8)·2^-24·Σ|x·w·s| of the twin. Awkward shapes, the full int8 range (-128
// included), NaN rows, float16 scales (as GGUF files store them), per-row and per-block scales.
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { int8BlockModuleBytes } from '../../src/backends/cpu/wasm/int8-block.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

const i8 = (d: Int8Array, shape: number[]) => fp.tensor(d, { shape, dtype: 'int8' });
const f32 = (d: Float32Array, shape: number[]) => fp.tensor(d, { shape });

/** Run f with the fast path on, then off: both results and the variant names the op hook saw for `op`. */
function both(op: string, f: () => fp.Tensor): { fast: number[]; ref: number[]; variants: string[] } {
  const variants: string[] = [];
  const off = fp.addOpHook((e) => { if (e.op === op) variants.push(e.variant ?? ''); });
  try {
    setCpuFastPath(true);
    const fast = Array.from(f().dataSync() as Float32Array);
    setCpuFastPath(false);
    return { fast, ref: Array.from(f().dataSync() as Float32Array), variants };
  } finally {
    off();
    setCpuFastPath(true);
  }
}

/** Random int8 rows [rows, K] over the full range, a fifth of them -128. */
function int8Rows(rows: number, K: number, seed: number): Int8Array {
  const rng = fp.makeRng(seed);
  return Int8Array.from({ length: rows * K }, () => (rng() < 0.2 ? -128 : Math.floor(rng() * 256) - 128));
}

/** x [M, K] in [-2, 2] with row 1 (when there is one) holding a NaN in its last block. */
function floatRows(M: number, K: number, seed: number): Float32Array {
  const x = randomArray(M * K, seed, -2, 2);
  if (M > 1) x[2 * K - 1] = NaN;
  return x;
}

const SHAPES: [number, number][] = [];
for (const M of [1, 3, 17, 255]) for (const N of [1, 3, 17, 255]) SHAPES.push([M, N]);

describe('block-scaled int8 on the Wasm fast path', () => {
  test('the module validates', () => {
    expect(WebAssembly.validate(int8BlockModuleBytes())).toBe(true);
  });

  test.each(SHAPES)('linearInt8 Q8_0 blocks, M=%i N=%i, K 32 / 96 / 4096: the twin bit for bit, NaN rows NaN', (M, N) => {
    const Ks = M * N <= 17 * 255 ? [32, 96, 4096] : [32, 96];
    for (const K of Ks) {
      const nb = K / 32;
      const wq = i8(int8Rows(N, K, M + 7 * N + K), [N, K]);
      const ws = fp.tensor(randomArray(N * nb, N + K, 0.001, 0.02), { shape: [N, nb], dtype: 'float16' });
      const x = f32(floatRows(M, K, M * 31 + K), [M, K]);
      const bias = f32(randomArray(N, 3), [N]);
      for (const [b, activation] of [[bias, 'none'], [null, 'silu'], [bias, 'gelu']] as const) {
        const { fast, ref, variants } = both('linearInt8', () => {
          const [xq, xs] = fp.quantizeRows(x, { block: 32 });
          return fp.linearInt8(xq, xs, wq, ws, b, { block: 32, k: K, activation });
        });
        expect(variants[0]).toBe('linearInt8-wasm-simd-q8-block32-4x8');
        expect(variants[1]).toBe('');
        expect(fast).toEqual(ref); // toEqual: NaN equals NaN
        if (M > 1) expect(fast.slice(N, 2 * N).every(Number.isNaN)).toBe(true);
        expect(fast.slice(0, N).every(Number.isFinite)).toBe(true);
      }
    }
  });

  test('linearInt8 with raw int8 activations at -128 and other blocks (8, 64): bit for bit', () => {
    for (const [M, N, K, block] of [[5, 9, 64, 8], [2, 17, 128, 64], [19, 4, 96, 32]] as const) {
      const nb = K / block;
      const xq = i8(int8Rows(M, K, 1 + K), [M, K]), wq = i8(int8Rows(N, K, 2 + K), [N, K]);
      const xs = f32(randomArray(M * nb, 3, 0.001, 0.05), [M, nb]), ws = f32(randomArray(N * nb, 4, 0.001, 0.05), [N, nb]);
      const { fast, ref, variants } = both('linearInt8', () => fp.linearInt8(xq, xs, wq, ws, null, { block }));
      expect(variants[0]).toBe(`linearInt8-wasm-simd-q8-block${block}-4x8`);
      expect(fast).toEqual(ref);
    }
  });

  test.each(SHAPES)('linearW8 (weight-only), M=%i N=%i, K 32 / 96 / 4096, block 32 and per row: within f32 summation error', (M, N) => {
    const Ks = M * N <= 17 * 255 ? [32, 96, 4096] : [32, 96];
    for (const K of Ks) {
      for (const block of [32, 0]) {
        const nb = block ? K / block : 1;
        const q = int8Rows(N, K, M + 5 * N + K), s = randomArray(N * nb, N + K + 1, 0.001, 0.02);
        const wq = i8(q, [N, K]), ws = fp.tensor(s, { shape: [N, nb], dtype: block ? 'float16' : 'float32' });
        const xd = floatRows(M, K, M * 17 + K), x = f32(xd, [M, K]);
        const bd = randomArray(N, 5), bias = f32(bd, [N]);
        const { fast, ref, variants } = both('linearW8', () => fp.linearW8(x, wq, ws, bias, { block }));
        expect(variants[0]).toBe('linearW8-wasm-simd-f32-4x8');
        expect(variants[1]).toBe('');
        const sw = Array.from(ws.dataSync() as Float32Array);
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) {
            const got = fast[m * N + n]!, want = ref[m * N + n]!;
            if (m === 1) { expect(got).toBeNaN(); expect(want).toBeNaN(); continue; }
            let mag = Math.abs(bd[n]!);
            for (let k = 0; k < K; k++) mag += Math.abs(xd[m * K + k]! * q[n * K + k]! * sw[n * nb + (block ? Math.floor(k / block) : 0)]!);
            expect(Math.abs(got - want)).toBeLessThanOrEqual((K + 8) * 2 ** -24 * mag);
          }
        }
      }
    }
  });

  test('linearW8 with K below the padded row (per-row scales, K = 70 in rows of 72) and fused activations', () => {
    const M = 6, N = 11, K = 70, Kp = 72;
    const q = int8Rows(N, Kp, 9);
    for (let n = 0; n < N; n++) q.fill(0, n * Kp + K, (n + 1) * Kp);
    const wq = i8(q, [N, Kp]), ws = f32(randomArray(N, 6, 0.001, 0.02), [N, 1]), x = f32(randomArray(M * K, 7), [M, K]);
    for (const activation of ['relu', 'gelu', 'silu', 'sigmoid'] as const) {
      const { fast, ref, variants } = both('linearW8', () => fp.linearW8(x, wq, ws, null, { activation }));
      expect(variants[0]).toBe('linearW8-wasm-simd-f32-4x8');
      for (let i = 0; i < fast.length; i++) expect(Math.abs(fast[i]! - ref[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(ref[i]!)));
    }
  });

  test('linearW8 does not depend on the batch: 17 rows together (dequantized panels + f32 GEMM) equal each row alone, and rows 0..2 (the fused few-row kernel), bit for bit', () => {
    for (const [N, K, block] of [[37, 96, 32], [255, 4096, 32], [9, 72, 0]] as const) {
      const M = 17, nb = block ? K / block : 1;
      const wq = i8(int8Rows(N, K, N + K), [N, K]), ws = fp.tensor(randomArray(N * nb, 3, 0.001, 0.02), { shape: [N, nb], dtype: 'float16' });
      const x = f32(floatRows(M, K, 11), [M, K]), bias = f32(randomArray(N, 4), [N]);
      const all = Array.from(fp.linearW8(x, wq, ws, bias, { block }).dataSync() as Float32Array);
      for (const rows of [[0, 1], [0, 3], [5, 6], [16, 17]]) {
        const part = Array.from(fp.linearW8(x.narrow(0, rows[0]!, rows[1]! - rows[0]!).contiguous(), wq, ws, bias, { block }).dataSync() as Float32Array);
        expect(part).toEqual(all.slice(rows[0]! * N, rows[1]! * N));
      }
    }
  });

  test('packed weights are counted once per weight and layout, and freed with the weight', () => {
    const M = 2, N = 10, K = 64;
    const before = fp.cpuBackend.memory().cacheBytes!;
    const wq = i8(new Int8Array(N * K).fill(3), [N, K]), ws = f32(new Float32Array(N * 2).fill(0.5), [N, 2]);
    const x = f32(randomArray(M * K, 8), [M, K]);
    const run = () => {
      const [xq, xs] = fp.quantizeRows(x, { block: 32 });
      fp.linearInt8(xq, xs, wq, ws, null, { block: 32 }).dispose();
      fp.linearW8(x, wq, ws, null, { block: 32 }).dispose();
    };
    run();
    // two layouts, each: 2 panels of 8 columns x 2 blocks x (32 values x 8 columns + 8 f32 scales)
    const per = 2 * 2 * (32 * 8 + 32);
    expect(fp.cpuBackend.memory().cacheBytes! - before).toBe(2 * per);
    run();
    expect(fp.cpuBackend.memory().cacheBytes! - before).toBe(2 * per);
    wq.dispose();
    expect(fp.cpuBackend.memory().cacheBytes!).toBe(before);
  });
});
