// How threaded work is cut: GEMMs split by panels or by row tiles (splitByPanels picks; setGemmSplit forces either
// for these tests), the Wasm im2col at every column stride, split by channels or by (channel, kernel row), and the
// row-wise ops (softmax, layerNorm, rmsNorm) split by rows and the window ops (pools, depthwise conv) by planes give the one-thread bits on 1, 2 and 3 threads on awkward shapes. With the fast path off (FORWARDPASS_WASM=0) nothing
// splits and the outputs are the typed-array kernels' (compared the same way, trivially equal).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as fp from '../../src/node.js';
import { setGemmSplit, setGemmThreadsMinFlops, splitByPanels } from '../../src/backends/cpu/wasm/gemm.js';
import { setWasmIm2col } from '../../src/backends/cpu/wasm/conv.js';
import { chunkStart, parallelFor, setOpThreadsMinWork, setThreadSpin, shareKernels, whenThreadsReady } from '../../src/backends/cpu/wasm/threads.js';
import { I32, ModuleBuilder } from '../../src/backends/cpu/wasm/assembler.js';
import { wasmMemory, wasmScratch } from '../../src/backends/cpu/wasm/memory.js';
import { randomArray } from '../helpers.js';

const rand = (shape: number[], seed: number) => fp.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), { shape });

/** The first index where the float32 bit patterns differ (NaN == NaN, -0 != +0), or -1. */
function firstBitDiff(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** f's output with nothing split (the one-thread code path). */
function oneThread(f: () => fp.Tensor): Float32Array {
  setGemmThreadsMinFlops(Infinity);
  try { return f().dataSync() as Float32Array; } finally { setGemmThreadsMinFlops(0); }
}

/** f on 1, 2 and 3 threads, everything that can split split (and each GEMM split every way): the one-thread bits. */
async function expectSameBits(f: () => fp.Tensor, ref = oneThread(f)): Promise<void> {
  for (const T of [1, 2, 3]) {
    fp.setNumThreads(T); await whenThreadsReady();
    for (const split of [null, 'panels', 'rows'] as const) {
      setGemmSplit(split);
      expect(firstBitDiff(f().dataSync() as Float32Array, ref), `${T} threads, split ${split ?? 'auto'}`).toBe(-1);
    }
  }
  setGemmSplit(null);
}

beforeAll(async () => { fp.setNumThreads(2); await whenThreadsReady(); setGemmThreadsMinFlops(0); });
afterAll(() => { setGemmSplit(null); setGemmThreadsMinFlops(); setOpThreadsMinWork(null); fp.setNumThreads(1); });

describe('cutting work into tasks', () => {
  test('chunkStart: chunks cover 0..n in order, the bigger ones first, sizes within one', () => {
    for (const [n, tasks] of [[7, 7], [25, 8], [98, 8], [3, 2], [1568, 8], [1, 1], [64, 3]] as const) {
      const sizes = Array.from({ length: tasks }, (_, i) => chunkStart(i + 1, n, tasks) - chunkStart(i, n, tasks));
      expect(chunkStart(0, n, tasks)).toBe(0);
      expect(chunkStart(tasks, n, tasks)).toBe(n);
      expect(sizes.every((s, i) => s >= 1 && (i === 0 || s <= sizes[i - 1]!))).toBe(true);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  test('splitByPanels: the split whose busiest thread does less (panels on a tie), and whichever dimension has enough units', () => {
    expect(splitByPanels(512, 7, 2)).toBe(false); // ResNet-18's last stage: 4 of 7 panels against 64 of 128 row tiles
    expect(splitByPanels(256, 25, 2)).toBe(false); // 13 of 25 panels against 32 of 64 tiles
    expect(splitByPanels(64, 392, 2)).toBe(true); // 196 of 392 panels: even
    expect(splitByPanels(128, 48, 2)).toBe(true); // a tie: 24 panels or 16 tiles of 4 rows (of 48 panels)
    expect(splitByPanels(1, 125, 4)).toBe(true); // one row tile
    expect(splitByPanels(1000, 1, 2)).toBe(false); // one panel
  });
});

describe('parallelFor with `after`', () => {
  test('after(i) runs once per task on this thread, after task i wrote its result, on 1, 2 and 3 threads, over several jobs', async () => {
    // put(dst, v): stores v at dst, after a busy loop of v % 7 · 10,000 steps (tasks finish out of order)
    const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
    m.func('put', [I32, I32], [], (f, dst, v) => {
      const k = f.local(I32);
      f.forRange(k, () => f.i32(0), () => f.get(v!).i32(7).op('i32.and').i32(10000).op('i32.mul'), 1, () => {});
      f.get(dst!).get(v!).mem('i32.store');
    });
    const module = new WebAssembly.Module(m.emit());
    const [id] = shareKernels(module, new WebAssembly.Instance(module, { env: { memory: wasmMemory() } }).exports, ['put']) as [number];
    const count = 300, dst = wasmScratch(count * 4); // 300 tasks: two jobs of the pool
    for (const T of [1, 2, 3]) {
      fp.setNumThreads(T); await whenThreadsReady();
      new Int32Array(wasmMemory().buffer, dst, count).fill(0);
      const seen: number[] = [];
      parallelFor(id, count, (i, a) => a.set([dst + i * 4, i + 1]), (i) => { seen.push(i); expect(new Int32Array(wasmMemory().buffer, dst, count)[i]).toBe(i + 1); });
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
    }
  });
});

describe('polling before sleeping (setThreadSpin)', () => {
  test('no polls, the default and many: the one-thread bits; a bad count is one clear error', async () => {
    const x = rand([67, 90], 1), w = rand([130, 90], 2);
    const ref = oneThread(() => fp.linear(x, w, null));
    for (const polls of [0, undefined, 1 << 20]) {
      setThreadSpin(polls);
      await expectSameBits(() => fp.linear(x, w, null), ref);
    }
    setThreadSpin();
    for (const bad of [-1, 1.5, NaN, 2 ** 31]) expect(() => setThreadSpin(bad)).toThrow(`forwardpass: setThreadSpin: expected a whole number of polls from 0 to 2^30, got ${bad}`);
  });
});

describe('bit-identical to one thread, every split', () => {
  // [M, N, K]: 7 panels / 128 tiles (rows win), 25 panels / 64 tiles, odd tails (M % 4, N % 8), one row tile
  for (const [M, N, K] of [[512, 56, 40], [255, 200, 17], [130, 17, 300], [3, 255, 65], [17, 9, 1]] as const) {
    test(`linear ${M}x${K} -> ${N} (bias, relu) and matmul`, async () => {
      const x = rand([M, K], M), w = rand([N, K], N), b = rand([N], K);
      await expectSameBits(() => fp.linear(x, w, b, { activation: 'relu' }));
      await expectSameBits(() => fp.matmul(x, w.transpose(0, 1)));
    });
  }

  // the Wasm im2col at column strides 1, 2 and 3; with fewer channels than 2 a thread it splits by (channel, kernel row)
  const convs: [string, number[], number[], fp.Conv2dOptions][] = [
    ['a 7x7 stride-2 RGB stem, pad 3', [1, 3, 37, 29], [16, 3, 7, 7], { stride: 2, padding: 3 }],
    ['1 channel, stride 3, pad larger than the overhang', [1, 1, 17, 16], [5, 1, 3, 3], { stride: 3, padding: [2, 2, 1, 3] }],
    ['stride [1, 2], dilation 2', [1, 2, 15, 18], [9, 2, 3, 3], { stride: [1, 2], dilation: 2, padding: 2 }],
    ['stride [2, 3], 9 channels, 1-wide input', [1, 9, 11, 1], [4, 9, 3, 3], { stride: [2, 3], padding: 1 }],
    ['stride 2, 17 channels, batch 2, groups 1', [2, 17, 13, 11], [8, 17, 3, 3], { stride: 2, padding: [0, 1, 2, 1] }],
    ['stride 2, groups 3', [1, 6, 12, 10], [9, 2, 3, 3], { stride: 2, groups: 3, padding: 1 }],
    ['100x100, 10,000 positions (C goes out task by task: pieces of 512 floats and more)', [1, 2, 100, 100], [5, 2, 3, 3], { padding: 1 }],
  ];
  for (const [name, xs, ws, opts] of convs) {
    test(`conv2d ${name}: the JavaScript packCols' bits`, async () => {
      const x = rand(xs, 3), w = rand(ws, 4), b = rand([ws[0]!], 5);
      setWasmIm2col(false);
      let ref: Float32Array;
      try { ref = oneThread(() => fp.conv2d(x, w, b, opts)); } finally { setWasmIm2col(true); }
      await expectSameBits(() => fp.conv2d(x, w, b, opts), ref);
    });
  }

  test('NaN in an input pixel lands where one thread puts it (a strided conv)', async () => {
    const xd = randomArray(2 * 15 * 15, 8); xd[100] = NaN; xd[300] = Infinity;
    const x = fp.tensor(xd, { shape: [1, 2, 15, 15] }), w = rand([6, 2, 5, 5], 9);
    await expectSameBits(() => fp.conv2d(x, w, null, { stride: 2, padding: 2 }));
  });
});

describe('row-wise ops split by rows: the one-thread bits', () => {
  // window ops split by planes: each task pads its planes and runs the window pass (column strides 1, 2 and 3)
  const windows: [string, number[], fp.MaxPool2dOptions][] = [
    ['3x3 stride 2 pad 1 (the ResNet pool), 17 planes', [1, 17, 15, 13], { kernelSize: 3, stride: 2, padding: 1 }],
    ['2x2 stride 1, 3 planes of 1x5', [3, 1, 2, 5], { kernelSize: [1, 2], stride: 1 }],
    ['3x2 stride 3, dilation 2, ceil mode, 2 images x 5 planes', [2, 5, 17, 16], { kernelSize: [3, 2], stride: 3, dilation: 2, ceilMode: true, padding: [1, 1] }],
    ['5x5 stride [1, 2] pad 2, 255 planes of 3x3', [1, 255, 3, 3], { kernelSize: 5, stride: [1, 2], padding: 2 }],
  ];
  for (const [name, xs, opts] of windows) {
    test(`maxPool2d, avgPool2d and a depthwise conv: ${name}, NaN in a plane`, async () => {
      const d = randomArray(xs.reduce((a, b) => a * b, 1), xs[1]!);
      d[1] = NaN; d[d.length - 1] = -Infinity;
      const x = fp.tensor(d, { shape: xs });
      await expectRowsSplitSame(() => fp.maxPool2d(x, opts));
      if (!opts.dilation) {
        await expectRowsSplitSame(() => fp.avgPool2d(x, { kernelSize: opts.kernelSize, stride: opts.stride, padding: opts.padding, ceilMode: opts.ceilMode }));
        await expectRowsSplitSame(() => fp.avgPool2d(x, { kernelSize: opts.kernelSize, stride: opts.stride, padding: opts.padding, countIncludePad: false }));
      }
      const C = xs[1]!, k = opts.kernelSize, [kh, kw] = typeof k === 'number' ? [k, k] : k;
      const w = rand([2 * C, 1, kh, kw], 6), b = rand([2 * C], 7); // 2 outputs per channel: each input plane read twice
      await expectRowsSplitSame(() => fp.conv2d(x, w, b, { groups: C, stride: opts.stride, padding: opts.padding, dilation: opts.dilation }));
      await expectRowsSplitSame(() => fp.conv2d(x, rand([C, 1, kh, kw], 8), null, { groups: C, stride: opts.stride, padding: opts.padding }));
    });
  }

  for (const [R, D] of [[2, 1], [3, 3], [17, 17], [5, 255], [255, 4], [64, 384]] as const) {
    test(`layerNorm and rmsNorm of ${R} rows of ${D}, with and without weight and bias, NaN and infinity in rows`, async () => {
      const d = randomArray(R * D, R * D);
      d[0] = NaN; if (R > 2) d[2 * D] = Infinity;
      const x = fp.tensor(d, { shape: [R, D] }), w = rand([D], 1), b = rand([D], 2);
      await expectRowsSplitSame(() => fp.layerNorm(x, D, w, b, 1e-5));
      await expectRowsSplitSame(() => fp.layerNorm(x, D, null, null, 0.25));
      await expectRowsSplitSame(() => fp.rmsNorm(x, D, w));
      await expectRowsSplitSame(() => fp.rmsNorm(x.reshape([R, 1, D]), [1, D], null, 1e-3));
    });
  }

  /** f with no op split (setOpThreadsMinWork(Infinity)), then on 1, 2, 3 threads with every op that can split split. */
  async function expectRowsSplitSame(f: () => fp.Tensor): Promise<void> {
    setOpThreadsMinWork(Infinity);
    let ref: Float32Array;
    try { ref = f().dataSync() as Float32Array; } finally { setOpThreadsMinWork(0); }
    for (const T of [1, 2, 3]) {
      fp.setNumThreads(T); await whenThreadsReady();
      expect(firstBitDiff(f().dataSync() as Float32Array, ref), `${T} threads`).toBe(-1);
    }
    setOpThreadsMinWork(null);
  }

  for (const [R, L] of [[1, 17], [3, 1], [17, 3], [5, 255], [255, 17], [64, 128]] as const) {
    test(`softmax of ${R} rows of ${L}, with NaN and infinities in some rows`, async () => {
      const d = randomArray(R * L, R + L);
      if (R > 2) { d[L] = NaN; d[2 * L] = Infinity; d[2 * L + (L > 1 ? 1 : 0)] = Infinity; }
      if (R > 4) d[4 * L] = -Infinity;
      const x = fp.tensor(d.map((v) => v * 8), { shape: [R, L] });
      await expectRowsSplitSame(() => fp.softmax(x, -1));
    });
  }
});
