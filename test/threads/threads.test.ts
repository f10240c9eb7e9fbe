// Worker threads on the CPU fast path: a GEMM split across threads (linear, matmul, conv2d, fixture models) gives the
// same bits as one thread on awkward shapes, the trace names the thread count, setNumThreads and FORWARDPASS_THREADS
// reject bad values with one clear error, and 1,000 threaded runs leave memory() flat. With the fast path off
// (FORWARDPASS_WASM=0) nothing is split and no worker starts.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as fp from '../../src/node.js';
import { setGemmThreadsMinFlops } from '../../src/backends/cpu/wasm/gemm.js';
import { wasmHeapTop, wasmMemory, wasmScratch } from '../../src/backends/cpu/wasm/memory.js';
import { I32, ModuleBuilder } from '../../src/backends/cpu/wasm/assembler.js';
import { parallelFor, parseThreadsEnv, shareKernels, threadPoolInfo, whenThreadsReady } from '../../src/backends/cpu/wasm/threads.js';
import { fixturePath, randomArray } from '../helpers.js';

const rand = (shape: number[], seed: number) => fp.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), { shape });
const fast = fp.cpuFastPathEnabled(); // false under FORWARDPASS_WASM=0: then the ops run the typed-array kernels

/** The outputs of `f` and the kernel variants the trace names, with GEMMs split from `minFlops` FLOPs on. */
function run(minFlops: number, f: () => fp.Tensor | fp.Tensor[]): [Float32Array[], string[]] {
  const variants: string[] = [];
  const off = fp.addOpHook((e) => { if (e.variant) variants.push(e.variant); });
  setGemmThreadsMinFlops(minFlops);
  try {
    const out = f();
    return [(Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array), variants];
  } finally {
    off();
    setGemmThreadsMinFlops(0);
  }
}

/** The first index where the float32 bit patterns differ (NaN == NaN, -0 != +0), or -1. */
function firstBitDiff(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/**
 * `f` on one thread (no GEMM split: the one-thread code path, while the pool stays up) and on getNumThreads()
 * threads (every GEMM that can split does): the same bits (NaN == NaN, -0 != +0), and the threaded run's trace
 * names `-threadsT` on the `op` GEMMs (T from 2 to the thread count: a GEMM with fewer panels and row tiles splits less).
 */
function expectBitIdentical(f: () => fp.Tensor | fp.Tensor[], op: string, minFlops = 0): void {
  const [one, v1] = run(Infinity, f);
  const [many, vT] = run(minFlops, f);
  expect(many.length).toBe(one.length);
  for (let i = 0; i < one.length; i++) expect(firstBitDiff(many[i]!, one[i]!), `output ${i}`).toBe(-1);
  expect(v1.filter((v) => v.includes('-threads'))).toEqual([]);
  const split = vT.filter((v) => v.startsWith(`${op}-`)).map((v) => /^.*-wasm-(?:simd|relaxed)-4x8-threads(\d+)$/.exec(v)?.[1]).filter((t) => t !== undefined).map(Number);
  if (fast) {
    expect(split.length, `${op} variants: ${vT.join(', ')}`).toBeGreaterThan(0);
    for (const t of split) expect(t >= 2 && t <= fp.getNumThreads()).toBe(true);
  } else expect(split).toEqual([]);
}

const threads = async (n: number) => { fp.setNumThreads(n); await whenThreadsReady(); };
beforeAll(() => threads(2));
afterAll(() => { setGemmThreadsMinFlops(); fp.setNumThreads(1); });

describe('bit-identical to one thread', () => {
  for (const [M, N, K] of [[1, 17, 3], [3, 255, 17], [17, 1, 255], [255, 3, 1], [255, 255, 17], [64, 40, 784], [5, 9, 300]] as const) {
    test(`linear ${M}x${K} -> ${N}, with and without bias, relu / gelu / none`, () => {
      const x = rand([M, K], M + N), w = rand([N, K], K), b = rand([N], 7);
      for (const activation of ['relu', 'gelu', 'none'] as const) {
        expectBitIdentical(() => fp.linear(x, w, b, { activation }), 'linear');
        expectBitIdentical(() => fp.linear(x, w, null, { activation }), 'linear');
      }
    });
    test(`matmul ${M}x${K} · ${K}x${N}, batched and transposed`, () => {
      const a = rand([2, M, K], 1), b = rand([2, K, N], 2), bT = rand([N, K], 3);
      expectBitIdentical(() => fp.matmul(a, b), 'matmul');
      expectBitIdentical(() => fp.matmul(a, bT.transpose(0, 1)), 'matmul');
    });
  }

  test('a batch of GEMMs too small to split (attention heads) runs one GEMM per task: plain, transposed, broadcast', () => {
    // each 17x16 · 16x17 GEMM is 13,056 FLOPs (N padded to 24): below the 50,000 set here, the batch of 8 above it
    const q = rand([8, 17, 16], 41), k = rand([8, 16, 17], 42), kT = rand([8, 17, 16], 43), one = rand([1, 16, 17], 44);
    for (const f of [() => fp.matmul(q, k), () => fp.matmul(q, kT.transpose(1, 2)), () => fp.matmul(q, one), () => fp.matmul(one.transpose(1, 2), k)]) {
      expectBitIdentical(f, 'matmul', 50_000);
    }
  });

  test('NaN and infinities in the inputs land where one thread puts them', () => {
    const xd = randomArray(17 * 33, 9);
    xd[5] = NaN; xd[40] = Infinity; xd[100] = -Infinity;
    const x = fp.tensor(xd, { shape: [17, 33] }), w = rand([255, 33], 10);
    expectBitIdentical(() => fp.linear(x, w, null, { activation: 'relu' }), 'linear');
  });

  const convs: [string, number[], number[], fp.Conv2dOptions][] = [
    ['3x3 pad 1, 17 channels, odd size', [2, 17, 13, 11], [3, 17, 3, 3], { padding: 1 }],
    ['1x1, 255 outputs', [1, 3, 5, 7], [255, 3, 1, 1], {}],
    ['3x3 stride 2, asymmetric pad (im2col in JavaScript)', [1, 5, 17, 17], [17, 5, 3, 3], { stride: 2, padding: [0, 1, 2, 1] }],
    ['groups 2, dilation 2', [1, 8, 19, 9], [6, 4, 3, 3], { groups: 2, dilation: 2, padding: 2 }],
    ['32 -> 32 at 56x56 (the benchmark conv)', [1, 32, 56, 56], [32, 32, 3, 3], { padding: 1 }],
  ];
  for (const [name, xs, ws, opts] of convs) {
    test(`conv2d ${name}`, () => {
      const x = rand(xs, 11), w = rand(ws, 12), b = rand([ws[0]!], 13);
      expectBitIdentical(() => fp.conv2d(x, w, b, opts), 'conv2d');
      expectBitIdentical(() => fp.conv2d(x, w, null, opts), 'conv2d');
    });
  }

  test('a batch of convs too small to split each runs one (image, group) per task: Wasm im2col, 1x1, strided, grouped', () => {
    // [x shape, w shape, options, output size]; the minimum set is one FLOP above each image's product (so the batch is above it)
    const cases: [number[], number[], fp.Conv2dOptions, number][] = [
      [[6, 8, 14, 14], [16, 8, 3, 3], { padding: 1 }, 14 * 14],
      [[5, 16, 9, 9], [24, 16, 1, 1], {}, 9 * 9],
      [[7, 6, 15, 13], [10, 6, 3, 3], { stride: 2, padding: [1, 0, 1, 2] }, 8 * 7],
      [[4, 8, 12, 12], [12, 4, 3, 3], { groups: 2, padding: 1, dilation: 2 }, 10 * 10],
    ];
    for (const [xs, ws, opts, P] of cases) {
      const x = rand(xs, 51), w = rand(ws, 52), b = rand([ws[0]!], 53);
      const perImage = 2 * (ws[0]! / (opts.groups ?? 1)) * Math.ceil(P / 8) * 8 * ws[1]! * ws[2]! * ws[3]!;
      expectBitIdentical(() => fp.conv2d(x, w, b, opts), 'conv2d', perImage + 1);
    }
  });

  test('fixture models: cnn-mnist at batch 3 and tiny-gpt at batch 2 x 17 tokens', async () => {
    const cnn = await fp.loadModel(fixturePath('cnn-mnist'));
    const gpt = await fp.loadModel(fixturePath('tiny-gpt'));
    try {
      const img = rand([3, 1, 28, 28], 21);
      expectBitIdentical(() => Object.values(cnn.run({ input: img })), 'conv2d');
      const ids = fp.tensor(Int32Array.from({ length: 34 }, (_, i) => (i * 7 + 3) % 80), { shape: [2, 17], dtype: 'int32' });
      expectBitIdentical(() => Object.values(gpt.run({ input_ids: ids })), 'linear');
    } finally {
      cnn.dispose(); gpt.dispose();
    }
  });

  test('the shared memory grows while the worker holds an instance on it: the worker computes into the new pages', () => {
    const bytes = () => wasmMemory().buffer.byteLength;
    const n = Math.ceil(Math.sqrt(bytes() / 4)) + 64; // A alone needs more than the memory has now
    const a = rand([n, n], 61), b = rand([n, 40], 62);
    const before = bytes(), tasks0 = threadPoolInfo().tasksOnWorkers;
    const [one] = run(Infinity, () => fp.matmul(a, b));
    // tasks are claimed from a shared counter, so on a loaded machine the calling thread may finish them all before
    // the worker wakes: repeat (bounded) until the worker has computed a share into the grown memory
    for (let attempt = 0; attempt < 20; attempt++) {
      const [many] = run(0, () => fp.matmul(a, b));
      expect(firstBitDiff(many[0]!, one[0]!)).toBe(-1);
      if (!fast || threadPoolInfo().tasksOnWorkers > tasks0) break;
    }
    if (fast) {
      expect(bytes()).toBeGreaterThan(before);
      expect(wasmMemory().buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(threadPoolInfo().tasksOnWorkers).toBeGreaterThan(tasks0);
    }
  });

  test('the worker ran tasks (not only the calling thread); with the fast path off none starts', () => {
    const info = threadPoolInfo();
    if (fast) {
      expect(info).toMatchObject({ workers: 1, active: 1, ready: 1 });
      expect(info.tasksOnWorkers).toBeGreaterThan(0);
    } else expect(info.workers).toBe(0);
  });
});

describe('three threads, and setNumThreads(1)', () => {
  beforeAll(() => threads(3));
  afterAll(() => threads(2));

  test('linear, matmul and conv2d on 3 threads: the same bits as one', () => {
    const x = rand([17, 255], 31), w = rand([255, 255], 32), b = rand([255], 33);
    expectBitIdentical(() => fp.linear(x, w, b, { activation: 'relu' }), 'linear');
    expectBitIdentical(() => fp.matmul(x, w), 'matmul');
    expectBitIdentical(() => fp.conv2d(rand([2, 17, 13, 11], 34), rand([9, 17, 3, 3], 35), null, { padding: 1 }), 'conv2d');
    if (fast) expect(threadPoolInfo()).toMatchObject({ workers: 2, active: 2, ready: 2 });
  });

  test('setNumThreads(1) parks the workers (no task reaches them), with the same bits; 2 takes one back, 4 restarts the pool', async () => {
    const a = rand([64, 300], 36), b = rand([300, 200], 37);
    const [many] = run(0, () => fp.matmul(a, b));
    const before = threadPoolInfo();
    fp.setNumThreads(1);
    const [one, v1] = run(0, () => fp.matmul(a, b));
    expect(firstBitDiff(one[0]!, many[0]!)).toBe(-1);
    expect(v1.map((v) => v.replace('-relaxed-', '-simd-'))).toEqual(fast ? ['matmul-wasm-simd-4x8'] : []); // -relaxed- where the runtime has relaxed SIMD
    expect(threadPoolInfo()).toEqual({ ...before, active: 0 });
    fp.setNumThreads(2);
    if (fast) expect(threadPoolInfo()).toMatchObject({ workers: 2, active: 1 });
    await threads(4);
    if (fast) expect(threadPoolInfo()).toMatchObject({ workers: 3, active: 3, ready: 3 });
  });
});

describe('a kernel that traps', () => {
  test('on a worker or this thread: parallelFor throws after every task is done, and the pool keeps working', () => {
    // trap(x, dst): stores 1 at dst, or hits `unreachable` when x is 1
    const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
    m.func('trap', [I32, I32], [], (f, x, dst) => { f.get(x!).if(() => { f.op('unreachable'); }); f.get(dst!).i32(1).mem('i32.store'); });
    const module = new WebAssembly.Module(m.emit());
    const [id] = shareKernels(module, new WebAssembly.Instance(module, { env: { memory: wasmMemory() } }).exports, ['trap']) as [number];
    const dst = wasmScratch(64 * 4), flags = () => new Int32Array(wasmMemory().buffer, dst, 64);
    for (let round = 0; round < 20; round++) {
      flags().fill(0);
      expect(() => parallelFor(id, 64, (i, a) => a.set([i === round ? 1 : 0, dst + i * 4]))).toThrow(/unreachable|forwardpass: a CPU fast-path worker thread failed while running the Wasm kernel 'trap'/);
      expect(flags().reduce((p, v) => p + v, 0)).toBe(63); // every other task ran to the end before the throw
    }
    flags().fill(0);
    parallelFor(id, 64, (i, a) => a.set([0, dst + i * 4]));
    expect(flags().every((v) => v === 1)).toBe(true);
  });
});

describe('choosing the thread count', () => {
  test('setNumThreads: 0, negative, fractional, NaN, infinite, too many or not a number is one clear error; 1..256 are taken', async () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity, 257]) expect(() => fp.setNumThreads(bad)).toThrow(new RegExp(`^forwardpass: setNumThreads: expected a whole number of threads from 1 to 256, got ${String(bad)}$`));
    expect(() => fp.setNumThreads('2' as unknown as number)).toThrow(/^forwardpass: setNumThreads: expected a whole number of threads from 1 to 256, got string$/);
    fp.setNumThreads(256);
    expect(fp.getNumThreads()).toBe(256);
    await threads(2);
    expect(fp.getNumThreads()).toBe(2);
  });

  test('FORWARDPASS_THREADS: a whole number 1..256 (spaces around allowed); anything else is one clear error naming the value', () => {
    expect(parseThreadsEnv('4')).toBe(4);
    expect(parseThreadsEnv(' 2 ')).toBe(2);
    expect(parseThreadsEnv('256')).toBe(256);
    for (const bad of ['0', '-1', '1.5', 'abc', 'NaN', '2x', '257', ' ']) {
      expect(() => parseThreadsEnv(bad)).toThrow(`forwardpass: FORWARDPASS_THREADS: expected a whole number of threads from 1 to 256, got "${bad}"`);
    }
  });
});

describe('memory', () => {
  test('1,000 threaded runs of linear, matmul and conv2d leave memory() and the Wasm heap flat', () => {
    setGemmThreadsMinFlops(0); // these small GEMMs split too
    const x = rand([9, 40], 1), w = rand([29, 40], 2), b = rand([29], 3), img = rand([1, 3, 9, 6], 4), cw = rand([6, 3, 3, 3], 5), wt = w.transpose(0, 1);
    const step = () => {
      fp.linear(x, w, b, { activation: 'relu' }).dispose();
      fp.matmul(x, wt).dispose();
      fp.conv2d(img, cw, null, { padding: 1 }).dispose();
    };
    for (let i = 0; i < 20; i++) step();
    const m0 = fp.cpuBackend.memory(), top0 = wasmHeapTop(), tasks0 = threadPoolInfo().tasksOnWorkers;
    for (let i = 0; i < 1000; i++) step();
    expect(fp.cpuBackend.memory()).toEqual(m0);
    expect(wasmHeapTop()).toBe(top0);
    if (fast) expect(threadPoolInfo().tasksOnWorkers).toBeGreaterThan(tasks0);
    for (const t of [x, w, b, img, cw, wt]) t.dispose();
  });
});
