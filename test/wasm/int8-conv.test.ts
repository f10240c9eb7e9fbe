// conv2dInt8 on the Wasm fast path (wasm/int8-conv.ts: im2col into packed int8 panels, the int8 dot GEMM with output
// channels as rows, the twin's float64 rescale in the tile) against its typed-array twin (kernels/int8.ts): integer
// sums exact and the same float64 expression, so every output must be the twin's bit for bit.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { setGemmThreadsMinFlops } from '../../src/backends/cpu/wasm/gemm.js';
import { whenThreadsReady } from '../../src/backends/cpu/wasm/threads.js';
import { setInt8ConvPanelLimit, tapModuleBytes } from '../../src/backends/cpu/wasm/int8-conv.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

const i8 = (d: Int8Array, shape: number[]) => fp.tensor(d, { shape, dtype: 'int8' });
const f32 = (d: Float32Array, shape: number[]) => fp.tensor(d, { shape });
const bits = (t: fp.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

/** f on the fast path and on the twin: [fast bits, twin bits, fast values, twin values, variants seen with the path on]. */
function both(f: () => fp.Tensor): [number[], number[], Float32Array, Float32Array, string[]] {
  const variants: string[] = [];
  const off = fp.addOpHook((e) => { if (e.op === 'conv2dInt8') variants.push(e.variant ?? ''); });
  try {
    setCpuFastPath(true);
    const a = f();
    off();
    setCpuFastPath(false);
    const b = f();
    return [bits(a), bits(b), a.dataSync() as Float32Array, b.dataSync() as Float32Array, variants];
  } finally {
    off();
    setCpuFastPath(true);
  }
}

interface Case { N: number; C: number; H: number; W: number; O: number; k: [number, number]; stride?: number | [number, number]; padding?: number | [number, number, number, number]; dilation?: number | [number, number]; groups?: number }

/** Random int8 x (with -128 and 127), per-image scales, int8 weights [O, Kp] (zero past K), per-channel scales, bias. */
function inputs(c: Case, seed: number) {
  const G = c.groups ?? 1, K = (c.C / G) * c.k[0] * c.k[1], Kp = K + ((4 - (K % 4)) % 4);
  const rng = fp.makeRng(seed);
  const q = () => (rng() < 0.1 ? -128 : rng() < 0.1 ? 127 : Math.floor(rng() * 256) - 128);
  const x = i8(Int8Array.from({ length: c.N * c.C * c.H * c.W }, q), [c.N, c.C, c.H, c.W]);
  const wq = i8(Int8Array.from({ length: c.O * Kp }, (_, i) => (i % Kp >= K ? 0 : q())), [c.O, Kp]);
  const xs = f32(randomArray(c.N, seed + 1, 0.001, 0.05), [c.N, 1]), ws = f32(randomArray(c.O, seed + 2, 0.001, 0.05), [c.O, 1]);
  const bias = f32(randomArray(c.O, seed + 3), [c.O]);
  return { x, xs, wq, ws, bias };
}

const opts = (c: Case) => ({ kernel: c.k, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });

const cases: Case[] = [
  { N: 1, C: 1, H: 1, W: 1, O: 1, k: [1, 1] },
  { N: 1, C: 1, H: 5, W: 7, O: 3, k: [3, 3], padding: 1 },
  { N: 3, C: 3, H: 9, W: 11, O: 17, k: [3, 3] },
  { N: 3, C: 17, H: 7, W: 13, O: 5, k: [5, 5], padding: 2, stride: 2 },
  { N: 1, C: 3, H: 12, W: 10, O: 9, k: [3, 5], padding: [0, 2, 1, 1], stride: [2, 1] },
  { N: 3, C: 3, H: 11, W: 9, O: 8, k: [3, 3], dilation: 2, padding: 2 },
  { N: 1, C: 17, H: 6, W: 6, O: 33, k: [1, 1], stride: 2 },
  { N: 3, C: 6, H: 7, W: 9, O: 9, k: [3, 3], padding: 1, groups: 3 },
  { N: 1, C: 4, H: 5, W: 5, O: 4, k: [3, 3], padding: 1, groups: 4 },
  { N: 1, C: 1, H: 28, W: 28, O: 8, k: [5, 5] },
  { N: 2, C: 3, H: 4, W: 3, O: 2, k: [5, 5], padding: 3, dilation: [1, 2] },
];

describe('conv2dInt8 on the Wasm fast path', () => {
  test('the im2col module validates', () => {
    expect(WebAssembly.validate(tapModuleBytes())).toBe(true);
  });

  test.each(cases.map((c, i) => [i, c] as const))('case %i %o: bias or none, the twin bit for bit', (i, c) => {
    const { x, xs, wq, ws, bias } = inputs(c, 100 + i);
    for (const b of [bias, null]) {
      const [fast, ref, , , variants] = both(() => fp.conv2dInt8(x, xs, wq, ws, b, opts(c)));
      expect(variants[0]).toBe('conv2dInt8-wasm-simd-dot-4x8');
      expect(fast).toEqual(ref);
    }
  });

  test('bands of output rows (panels bounded to one or a few rows): the twin bit for bit', () => {
    try {
      for (const [limit, c] of [[1, cases[3]!], [1, cases[9]!], [2000, cases[5]!], [4000, cases[7]!]] as const) {
        setInt8ConvPanelLimit(limit);
        const { x, xs, wq, ws, bias } = inputs(c, 51);
        const [fast, ref, , , variants] = both(() => fp.conv2dInt8(x, xs, wq, ws, bias, opts(c)));
        expect(variants[0]).toBe('conv2dInt8-wasm-simd-dot-4x8');
        expect(fast).toEqual(ref);
      }
    } finally {
      setInt8ConvPanelLimit();
    }
  });

  test('float x (weight-only) stays on the twin, named nothing', () => {
    const c: Case = { N: 2, C: 3, H: 6, W: 5, O: 4, k: [3, 3], padding: 1 };
    const { wq, ws, xs, bias } = inputs(c, 7);
    const x = f32(randomArray(2 * 3 * 6 * 5, 8), [2, 3, 6, 5]);
    const [fast, ref, , , variants] = both(() => fp.conv2dInt8(x, xs, wq, ws, bias, opts(c)));
    expect(variants).toEqual(['']);
    expect(fast).toEqual(ref);
  });

  test('NaN or infinite scales and biases: NaN where the twin has NaN, the same bits elsewhere', () => {
    const c: Case = { N: 3, C: 2, H: 5, W: 6, O: 5, k: [3, 3], padding: 1 };
    const { x, wq } = inputs(c, 11);
    const xs = f32(Float32Array.from([0.01, NaN, 0.02]), [3, 1]);
    const ws = f32(Float32Array.from([0.01, Infinity, 0.03, NaN, -0.02]), [5, 1]);
    const bias = f32(Float32Array.from([NaN, 1, -Infinity, 0, -0]), [5]);
    for (const b of [bias, null]) {
      const [, , fast, ref] = both(() => fp.conv2dInt8(x, xs, wq, ws, b, opts(c)));
      expect(ref.some(Number.isNaN)).toBe(true);
      for (let i = 0; i < ref.length; i++) {
        if (Number.isNaN(ref[i])) expect(fast[i]).toBeNaN();
        else expect(Object.is(fast[i], ref[i])).toBe(true);
      }
    }
  });

  test('quantized input through QuantizedConv2d (quantizeRows then conv2dInt8): the twin bit for bit', async () => {
    const conv = new fp.nn.Conv2d(3, 7, 3, { padding: 1, stride: 2 });
    const q = await fp.QuantizedConv2d.fromConv2d(conv);
    const x = f32(randomArray(2 * 3 * 9 * 10, 21), [2, 3, 9, 10]);
    const [fast, ref] = both(() => q.forward(x));
    expect(fast).toEqual(ref);
    // float16 x: the output is float16 (written as float32 by the kernel, then narrowed by the backend)
    const h = fp.cast(x, 'float16');
    const run16 = (on: boolean) => { setCpuFastPath(on); const y = q.forward(h); expect(y.dtype).toBe('float16'); return Array.from(fp.cast(y, 'float32').dataSync() as Float32Array); };
    expect(run16(true)).toEqual(run16(false));
  });

  test('split across 2 threads: the same bits as one thread', async () => {
    fp.setNumThreads(2);
    await whenThreadsReady();
    try {
      for (const c of [cases[2]!, cases[3]!, cases[7]!, { N: 2, C: 8, H: 20, W: 19, O: 16, k: [3, 3], padding: 1 } as Case]) {
        const { x, xs, wq, ws, bias } = inputs(c, 31);
        const runWith = (minFlops: number): [number[], string] => {
          let variant = '';
          const off = fp.addOpHook((e) => { if (e.op === 'conv2dInt8') variant = e.variant ?? ''; });
          setGemmThreadsMinFlops(minFlops);
          try {
            return [bits(fp.conv2dInt8(x, xs, wq, ws, bias, opts(c))), variant];
          } finally {
            off();
          }
        };
        const [one, v1] = runWith(Infinity), [two, v2] = runWith(0);
        expect(two).toEqual(one);
        if (fp.cpuFastPathEnabled()) {
          expect(v1).toBe('conv2dInt8-wasm-simd-dot-4x8');
          expect(v2).toBe('conv2dInt8-wasm-simd-dot-4x8-threads2');
        } else expect([v1, v2]).toEqual(['', '']);
        setCpuFastPath(false);
        expect(bits(fp.conv2dInt8(x, xs, wq, ws, bias, opts(c)))).toEqual(one);
        setCpuFastPath(true);
      }
    } finally {
      setGemmThreadsMinFlops();
      fp.setNumThreads(1);
    }
  });

  test('the widened weights are cached once per weight, counted, and freed with it', () => {
    const c: Case = { N: 1, C: 3, H: 5, W: 5, O: 6, k: [3, 3] }; // K = 27, K2 = 28: 6 x 28 int16
    const { x, xs, wq, ws } = inputs(c, 41);
    const before = fp.cpuBackend.memory().cacheBytes!;
    fp.conv2dInt8(x, xs, wq, ws, null, opts(c)).dispose();
    fp.conv2dInt8(x, xs, wq, ws, null, opts(c)).dispose();
    if (fp.cpuFastPathEnabled()) expect(fp.cpuBackend.memory().cacheBytes! - before).toBe(6 * 28 * 2);
    wq.dispose();
    expect(fp.cpuBackend.memory().cacheBytes!).toBe(before);
  });

  test('the cnn-mnist fixture at int8 (loadOnnx precision int8): the tracer names the kernel on, none off, the same bits', async () => {
    const s = await fp.loadOnnx(new Uint8Array(readFileSync('test/fixtures/cnn-mnist/model.onnx')), { backend: 'cpu', precision: 'int8' });
    const name = s.inputs[0]!.name;
    const x = f32(Float32Array.from({ length: 3 * 784 }, (_, i) => ((i * 7919) % 256) / 255), [3, 1, 28, 28]);
    const traced = async (on: boolean): Promise<[string[], number[]]> => {
      setCpuFastPath(on);
      const t = await s.trace({ [name]: x });
      const out = await s.run({ [name]: x });
      return [t.records.filter((r) => r.op === 'conv2dInt8').map((r) => r.variant ?? ''), bits(Object.values(out)[0]!)];
    };
    const [on, fast] = await traced(true), [off, ref] = await traced(false);
    expect(on.length).toBeGreaterThan(0);
    for (const v of on) expect(v).toMatch(/^conv2dInt8-wasm-simd-dot-4x8(-threads\d+)?$/);
    expect(off.every((v) => v === '')).toBe(true);
    expect(fast).toEqual(ref);
    s.dispose();
  });
});
