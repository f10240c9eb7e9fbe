// Matmul and linear benchmark: GFLOP/s of every CPU product variant on square float32 matrices (64..1024) and
// of the linear kernel at M = 1, 8, 64 with K = N = 512. Every variant is checked against the naive product first.
import { MATMUL_VARIANTS, matmulNaive, type Gemm } from '../src/backends/cpu/kernels/matmul.js';
import { linearWith } from '../src/backends/cpu/kernels/linear.js';
import type { CpuTensor } from '../src/backends/cpu/types.js';
import * as fp from '../src/index.js';
import { measureRounds, type BenchRow, type BenchSuite, type Timing } from './run.js';

const SIZES = [64, 128, 256, 512, 1024];
const LINEAR_M = [1, 8, 64];
const LINEAR_KN = 512;
/** Variants are timed round-robin in this many passes; the lowest per-pass median is kept. */
const ROUNDS = 3;

function randomF32(n: number, seed: number): Float32Array {
  const rng = fp.makeRng(seed);
  return Float32Array.from({ length: n }, () => rng() * 2 - 1);
}

/** Throws unless `got` matches `want` within 1e-5·sqrt(K) (inputs in [-1, 1]). */
function check(what: string, got: Float32Array, want: Float32Array, K: number): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  if (!(worst <= 1e-5 * Math.sqrt(K))) throw new Error(`bench: ${what} differs from the naive product by ${worst}`);
}

const cpu = (data: Float32Array, shape: number[]): CpuTensor => ({ data, dtype: 'float32', shape, strides: fp.contiguousStrides(shape), offset: 0 });

const suite: BenchSuite = {
  name: 'matmul',
  description: 'float32 matrix products on one CPU thread: square C = A·B for each product variant, and linear (x·Wᵀ + b) at K = N = 512.',
  variants: {
    ...Object.fromEntries(Object.entries(MATMUL_VARIANTS).map(([k, v]) => [k, v.description])),
    'fp.matmul': 'the public matmul(): auto plus op dispatch and output allocation',
    'linear/<variant>': 'the linear kernel (x [M, K] · w [N, K]ᵀ + bias) on that product variant with transB',
    'fp.linear': 'the public linear(): the linear kernel plus op dispatch and output allocation',
  },
  notes: [
    'GFLOP/s = 2·M·N·K / time. The variants of one problem are timed round-robin in 3 passes (tinybench each time) so bursts of load hit them alike; "median" is the lowest per-pass median call time, "best" the fastest call.',
    'Values are computed in float64 registers from float32 inputs and rounded to float32 on store.',
    'The machine is a 2-core VM shared with other jobs: figures vary by ±20% from run to run; the load average is recorded.',
  ],
  async run(log) {
    const rows: BenchRow[] = [];
    const add = (group: string, variant: string, flops: number, t: Timing) => {
      const row: BenchRow = { group, variant, ...t, value: flops / t.medianMs / 1e6, best: flops / t.minMs / 1e6, unit: 'GFLOP/s' };
      rows.push(row);
      log(`  ${group.padEnd(24)} ${variant.padEnd(16)} ${row.value.toFixed(2)} GFLOP/s (best ${row.best.toFixed(2)})`);
    };
    for (const n of SIZES) {
      const a = randomF32(n * n, n), b = randomF32(n * n, n + 1), c = new Float32Array(n * n);
      const want = new Float32Array(n * n);
      matmulNaive(n, n, n, a, 0, b, 0, false, want, 0);
      const slow = n * n * n > 300 ** 3;
      const tasks: { name: string; fn: () => void; minSamples?: number }[] = [];
      for (const [name, { fn }] of Object.entries(MATMUL_VARIANTS)) {
        c.fill(NaN);
        fn(n, n, n, a, 0, b, 0, false, c, 0);
        check(`${name} at ${n}`, c, want, n);
        tasks.push({ name, fn: () => fn(n, n, n, a, 0, b, 0, false, c, 0), minSamples: slow && (name === 'naive' || name === 'ikj') ? 1 : 3 });
      }
      const ta = fp.tensor(a, { shape: [n, n] }), tb = fp.tensor(b, { shape: [n, n] });
      const r = fp.matmul(ta, tb);
      check(`fp.matmul at ${n}`, r.dataSync() as Float32Array, want, n);
      r.dispose();
      tasks.push({ name: 'fp.matmul', fn: () => fp.matmul(ta, tb).dispose() });
      const times = await measureRounds(tasks, { rounds: ROUNDS, timeMs: 450 });
      for (const t of tasks) add(`matmul ${n}x${n}x${n}`, t.name, 2 * n * n * n, times.get(t.name)!);
      ta.dispose();
      tb.dispose();
    }
    const K = LINEAR_KN, N = LINEAR_KN;
    const w = randomF32(N * K, 7), bias = randomF32(N, 8);
    const linVariants: [string, Gemm][] = [['naive', MATMUL_VARIANTS.naive!.fn], ['tiled', MATMUL_VARIANTS.tiled!.fn], ['packed', MATMUL_VARIANTS.packed!.fn], ['auto', MATMUL_VARIANTS.auto!.fn]];
    for (const M of LINEAR_M) {
      const x = randomF32(M * K, 100 + M);
      const want = new Float32Array(M * N);
      matmulNaive(M, N, K, x, 0, w, 0, true, want, 0);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) want[i * N + j] += bias[j]!;
      const ins = [cpu(x, [M, K]), cpu(w, [N, K]), cpu(bias, [N])];
      const tasks: { name: string; fn: () => void }[] = [];
      for (const [name, prod] of linVariants) {
        const kernel = linearWith(prod);
        const out = cpu(new Float32Array(M * N), [M, N]);
        kernel([out], ins, { activation: 'none' });
        check(`linear/${name} at M=${M}`, out.data as Float32Array, want, K);
        tasks.push({ name: `linear/${name}`, fn: () => kernel([out], ins, { activation: 'none' }) });
      }
      const tx = fp.tensor(x, { shape: [M, K] }), tw = fp.tensor(w, { shape: [N, K] }), tbias = fp.tensor(bias, { shape: [N] });
      const y = fp.linear(tx, tw, tbias);
      check(`fp.linear at M=${M}`, y.dataSync() as Float32Array, want, K);
      y.dispose();
      tasks.push({ name: 'fp.linear', fn: () => fp.linear(tx, tw, tbias).dispose() });
      const times = await measureRounds(tasks, { rounds: ROUNDS, timeMs: 450 });
      for (const t of tasks) add(`linear M=${M} K=N=${K}`, t.name, 2 * M * N * K, times.get(t.name)!);
      for (const t of [tx, tw, tbias]) t.dispose();
    }
    return rows;
  },
};

export default suite;
