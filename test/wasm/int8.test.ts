// W8A8 linear on the Wasm fast path (i32x4.dot_i16x8_s) against its typed-array twin (kernels/int8.ts, linearInt8
// with one scale per row): integer sums exact, so every output must be the twin's bit for bit, -128 included.
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { int8ModuleBytes } from '../../src/backends/cpu/wasm/int8.js';
import { setGemmThreadsMinFlops } from '../../src/backends/cpu/wasm/gemm.js';
import { whenThreadsReady } from '../../src/backends/cpu/wasm/threads.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

const i8 = (d: Int8Array, shape: number[]) => fp.tensor(d, { shape, dtype: 'int8' });
const f32 = (d: Float32Array, shape: number[]) => fp.tensor(d, { shape });

function both(f: () => fp.Tensor): [number[], number[], string[]] {
  const variants: string[] = [];
  const off = fp.addOpHook((e) => { if (e.op === 'linearInt8') variants.push(e.variant ?? ''); });
  try {
    setCpuFastPath(true);
    const fast = Array.from(f().dataSync() as Float32Array);
    setCpuFastPath(false);
    return [fast, Array.from(f().dataSync() as Float32Array), variants];
  } finally {
    off();
    setCpuFastPath(true);
  }
}

describe('linearInt8 on the Wasm fast path', () => {
  test('the module validates', () => {
    expect(WebAssembly.validate(int8ModuleBytes())).toBe(true);
  });

  test.each([[1, 1, 1], [1, 9, 1021], [3, 5, 600], [17, 33, 255], [4, 8, 8], [6, 17, 3], [70, 10, 64], [2, 11, 131]])(
    'M=%i N=%i K=%i, the full int8 range, bias and every activation: the twin bit for bit', (M, N, K) => {
      const Kp = K + ((4 - (K % 4)) % 4);
      const rng = fp.makeRng(M * 1000 + N * 10 + K);
      const q = (rows: number) => Int8Array.from({ length: rows * Kp }, (_, i) => (i % Kp >= K ? 0 : rng() < 0.2 ? -128 : Math.floor(rng() * 256) - 128));
      const xq = i8(q(M), [M, Kp]), wq = i8(q(N), [N, Kp]);
      const xs = f32(randomArray(M, 1, 0.001, 0.02), [M, 1]), ws = f32(randomArray(N, 2, 0.001, 0.02), [N, 1]);
      const bias = f32(randomArray(N, 3), [N]);
      for (const activation of ['none', 'relu', 'gelu', 'silu', 'sigmoid'] as const) {
        for (const b of [bias, null]) {
          const [fast, ref, variants] = both(() => fp.linearInt8(xq, xs, wq, ws, b, { k: K, activation }));
          expect(variants[0]).toBe('linearInt8-wasm-simd-dot-4x8');
          expect(fast).toEqual(ref);
        }
      }
    });

  test('quantizeRows then linearInt8 over float inputs, per row and in Q8_0 blocks (int8-block.ts): the twin bit for bit', () => {
    const M = 9, K = 70, N = 13;
    const x = f32(randomArray(M * K, 4), [M, K]);
    const w = f32(randomArray(N * K, 5), [N, K]);
    const [wq, ws] = fp.quantizeRows(w);
    const [fast, ref] = both(() => { const [xq, xs] = fp.quantizeRows(x); return fp.linearInt8(xq, xs, wq, ws, null, { k: K }); });
    expect(fast).toEqual(ref);
    const [wqb, wsb] = fp.quantizeRows(w, { block: 32 });
    const [fastB, refB, variants] = both(() => { const [xq, xs] = fp.quantizeRows(x, { block: 32 }); return fp.linearInt8(xq, xs, wqb, wsb, null, { block: 32, k: K }); });
    expect(variants[0]).toBe('linearInt8-wasm-simd-q8-block32-4x8');
    expect(fastB).toEqual(refB);
  });

  test('packed int8 panels are counted (N rounded up to 8 times K rounded up to even, a byte each) and freed', () => {
    const M = 2, N = 10, K = 7, Kp = 8;
    const before = fp.cpuBackend.memory().cacheBytes!;
    const wq = i8(new Int8Array(N * Kp).fill(3), [N, Kp]);
    fp.linearInt8(i8(new Int8Array(M * Kp).fill(-2), [M, Kp]), f32(new Float32Array(M).fill(1), [M, 1]), wq, f32(new Float32Array(N).fill(1), [N, 1]), null, { k: K }).dispose();
    expect(fp.cpuBackend.memory().cacheBytes! - before).toBe(16 * 8);
    wq.dispose();
    expect(fp.cpuBackend.memory().cacheBytes!).toBe(before);
  });

  test('split across 2 threads (panels, or row tiles when there are few panels): the same bits as one thread', async () => {
    fp.setNumThreads(2);
    await whenThreadsReady();
    try {
      for (const [M, N, K] of [[1, 130, 33], [3, 9, 1021], [17, 40, 255], [70, 3, 64], [9, 17, 7], [64, 64, 512]] as const) {
        const Kp = K + ((4 - (K % 4)) % 4);
        const rng = fp.makeRng(M * 7 + N * 3 + K);
        const q = (rows: number) => Int8Array.from({ length: rows * Kp }, (_, i) => (i % Kp >= K ? 0 : Math.floor(rng() * 256) - 128));
        const xq = i8(q(M), [M, Kp]), wq = i8(q(N), [N, Kp]);
        const xs = f32(randomArray(M, 6, 0.001, 0.02), [M, 1]), ws = f32(randomArray(N, 7, 0.001, 0.02), [N, 1]), bias = f32(randomArray(N, 8), [N]);
        const runWith = (minFlops: number): [Float32Array, string] => {
          let variant = '';
          const off = fp.addOpHook((e) => { if (e.op === 'linearInt8') variant = e.variant ?? ''; });
          setGemmThreadsMinFlops(minFlops);
          try {
            return [fp.linearInt8(xq, xs, wq, ws, bias, { k: K, activation: 'relu' }).dataSync() as Float32Array, variant];
          } finally {
            off();
          }
        };
        const [one, v1] = runWith(Infinity), [two, v2] = runWith(0);
        expect(new Uint32Array(two.buffer)).toEqual(new Uint32Array(one.buffer));
        if (fp.cpuFastPathEnabled()) {
          expect(v1).toBe('linearInt8-wasm-simd-dot-4x8');
          expect(v2).toBe('linearInt8-wasm-simd-dot-4x8-threads2');
        } else expect([v1, v2]).toEqual(['', '']);
      }
    } finally {
      setGemmThreadsMinFlops();
      fp.setNumThreads(1);
    }
  });
});
