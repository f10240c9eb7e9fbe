// WebGPU matmul and linear against a naive product written here and against the CPU backend: every path
// (tiled GEMM, matvec, split-K, naive) forced on awkward shapes, transB, batches, activations, float16, offsets.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import type { ActivationName } from '../../src/ops/attrs.js';
import { chooseMatmulPath, withMatmulPath, type MatmulPath } from '../../src/backends/webgpu/programs/matmul.js';
import { randomArray } from '../helpers.js';
import { webgpu } from '../webgpu.js';

const gpu = webgpu.gpu;
const PATHS: MatmulPath[] = ['gemm', 'matvec', 'splitk', 'naive'];
const KERNEL: Record<MatmulPath, string> = { gemm: 'matmul.wgsl', matvec: 'matvec.wgsl', splitk: 'matmul-splitk.wgsl', naive: 'matmul-naive.wgsl' };
const ACTIVATIONS: ActivationName[] = ['none', 'relu', 'gelu', 'geluTanh', 'silu', 'tanh', 'sigmoid'];

/**
 * Tolerance of one output: f32 sums of K products drift like a random walk, so the bound is
 * 2^-22 · sqrt(K) · (Σ_k |a_ik·b_kj| + |bias_j|) (four f32 ulps per sqrt(K) of the terms' magnitude), plus
 * 2e-6 · max(1, |y|) for the activation formulas (the elementwise tests' bound for gelu/tanh/silu).
 */
const tol = (K: number, mag: number, y: number) => 2 ** -22 * Math.sqrt(Math.max(1, K)) * mag + 2e-6 * Math.max(1, Math.abs(y));

/** Naive batched product: y [B, M, N] and Σ|a·b| per output, from row-major a [Ba, M, K] and b [Bb, K, N] or [Bb, N, K]. */
function naive(a: ArrayLike<number>, b: ArrayLike<number>, B: number, M: number, N: number, K: number, opts: { ba?: number; bb?: number; transB?: boolean } = {}) {
  const { ba = B, bb = B, transB = false } = opts;
  const y = new Float64Array(B * M * N), mag = new Float64Array(B * M * N);
  for (let t = 0; t < B; t++) {
    const ao = (ba === 1 ? 0 : t) * M * K, bo = (bb === 1 ? 0 : t) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0, m = 0;
        for (let k = 0; k < K; k++) {
          const p = a[ao + i * K + k]! * b[bo + (transB ? j * K + k : k * N + j)]!;
          s += p;
          m += Math.abs(p);
        }
        y[(t * M + i) * N + j] = s;
        mag[(t * M + i) * N + j] = m;
      }
    }
  }
  return { y, mag };
}

/** Worst |got - want| / tolerance (<= 1 passes), NaN-aware. */
function worst(got: ArrayLike<number>, want: ArrayLike<number>, mag: ArrayLike<number>, K: number): number {
  expect(got.length).toBe(want.length);
  let w = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, y = want[i]!;
    if (Number.isNaN(g) || Number.isNaN(y)) return Infinity;
    w = Math.max(w, Math.abs(g - y) / tol(K, mag[i]!, y));
  }
  return w;
}

const up = (t: fp.Tensor) => t.to('webgpu');

/** Run `f` on WebGPU (on `path`, or the automatic choice), returning the result and the kernel that ran last. */
async function onGpu(f: () => fp.Tensor, path?: MatmulPath, opts: { subgroups?: boolean; vec4?: boolean } = {}): Promise<{ data: ArrayLike<number>; kernel: string; t: fp.Tensor }> {
  const t = path ? withMatmulPath({ path, ...opts }, f) : withMatmulPath(opts, f);
  const kernel = gpu!.variant();
  expect(t.device).toBe('webgpu');
  return { data: await t.data(), kernel, t };
}

/** M, N, K triples from {1, 3, 17, 33, 64, 127, 255}: none a multiple of any tile, some of 4. */
const SHAPES: [number, number, number][] = [
  [17, 33, 64], [33, 17, 127], [3, 255, 17], [64, 64, 64], [127, 1, 33], [1, 127, 255], [255, 3, 1], [33, 64, 255], [1, 1, 1],
];

describe('chooseMatmulPath', () => {
  it('picks matvec for few rows, split-K for small outputs with a long K, the tiled GEMM otherwise', () => {
    expect(chooseMatmulPath({ B: 1, M: 1, N: 4096, K: 4096, transB: true })).toBe('matvec');
    expect(chooseMatmulPath({ B: 1, M: 4, N: 255, K: 17, transB: false })).toBe('matvec');
    expect(chooseMatmulPath({ B: 1, M: 2, N: 3, K: 2048, transB: false })).toBe('splitk');
    expect(chooseMatmulPath({ B: 1, M: 64, N: 64, K: 4096, transB: true })).toBe('splitk');
    expect(chooseMatmulPath({ B: 1, M: 5, N: 64, K: 64, transB: false })).toBe('gemm');
    expect(chooseMatmulPath({ B: 8, M: 512, N: 512, K: 512, transB: false })).toBe('gemm');
  });
});

describe.skipIf(!gpu)(`webgpu matmul and linear (${gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  it('a hand-checked product and linear layer', async () => {
    const a = fp.tensor([[1, 2], [3, 4]], { device: 'webgpu' });
    const b = fp.tensor([[5, 6], [7, 8]], { device: 'webgpu' });
    expect(await fp.matmul(a, b).toArray()).toEqual([[19, 22], [43, 50]]);
    const w = fp.tensor([[1, -1], [2, 0], [0, 0.5]], { device: 'webgpu' });
    const bias = fp.tensor([0.5, -10, 1], { device: 'webgpu' });
    // x·wᵀ = [[-1, 2, 1], [-1, 6, 2]] + bias, then relu
    expect(await fp.linear(a, w, bias, { activation: 'relu' }).toArray()).toEqual([[0, 0, 2], [0, 0, 3]]);
  });

  for (const path of PATHS) {
    it(`${path}: awkward shapes, b plain and transposed (transB), match a naive product`, async () => {
      for (const [M, N, K] of SHAPES) {
        const av = randomArray(M * K, M + 7 * K), bv = randomArray(K * N, N + 3 * K);
        const a = fp.tensor(av, { shape: [M, K] });
        const b = fp.tensor(bv, { shape: [K, N] });
        const bt = fp.tensor(bv, { shape: [N, K] }); // read as bᵀ: a transposed view, run with transB
        const [ga, gb, gbt] = await Promise.all([up(a), up(b), up(bt)]);
        const { y, mag } = naive(av, bv, 1, M, N, K);
        const g = await onGpu(() => fp.matmul(ga, gb), path);
        expect(g.kernel.startsWith(KERNEL[path]), g.kernel).toBe(true);
        expect(worst(g.data, y, mag, K), `${path} ${M}x${N}x${K}`).toBeLessThanOrEqual(1);
        const r = naive(av, bv, 1, M, N, K, { transB: true });
        const gt = await onGpu(() => fp.matmul(ga, gbt.transpose(0, 1)), path);
        if (N > 1 && K > 1 && path !== 'splitk') expect(gt.kernel, 'transposed b runs with transB').toContain('TRANS_B=true');
        expect(worst(gt.data, r.y, r.mag, K), `${path} transB ${M}x${N}x${K}`).toBeLessThanOrEqual(1);
      }
    });
  }

  it('every activation, with and without bias, matches the CPU linear (on split-K, then on each path)', async () => {
    const [M, N, K] = [5, 7, 300];
    const xv = randomArray(M * K, 11, -2, 2), wv = randomArray(N * K, 12, -0.3, 0.3), bv = randomArray(N, 13, -1, 1);
    const x = fp.tensor(xv, { shape: [M, K] }), w = fp.tensor(wv, { shape: [N, K] }), bias = fp.tensor(bv, { shape: [N] });
    const [gx, gw, gb] = await Promise.all([up(x), up(w), up(bias)]);
    const { mag } = naive(xv, wv, 1, M, N, K, { transB: true });
    const withBias = Float64Array.from(mag, (m, i) => m + Math.abs(bv[i % N]!));
    for (const activation of ACTIVATIONS) {
      for (const b of [null, bias]) {
        const want = await fp.linear(x, w, b, { activation }).data();
        const g = await onGpu(() => fp.linear(gx, gw, b ? gb : null, { activation }), 'splitk');
        expect(g.kernel, activation).toContain(`HAS_BIAS=${b !== null}`);
        expect(worst(g.data, want, b ? withBias : mag, K), `${activation} bias=${b !== null}`).toBeLessThanOrEqual(1);
      }
    }
    // the epilogue of each path, with scalar (N = 7) and vec4 (N = 8) stores
    const w8v = randomArray(8 * K, 14, -0.3, 0.3), b8v = randomArray(8, 15, -1, 1);
    const w8 = fp.tensor(w8v, { shape: [8, K] }), bias8 = fp.tensor(b8v, { shape: [8] });
    const [gw8, gb8] = await Promise.all([up(w8), up(bias8)]);
    const mag8 = naive(xv, w8v, 1, M, 8, K, { transB: true }).mag.map((m, i) => m + Math.abs(b8v[i % 8]!));
    for (const path of PATHS) {
      for (const [cw, cb, gwi, gbi, m, out4] of [[w, bias, gw, gb, withBias, false], [w8, bias8, gw8, gb8, mag8, true]] as const) {
        const want = await fp.linear(x, cw, cb, { activation: 'gelu' }).data();
        const g = await onGpu(() => fp.linear(gx, gwi, gbi, { activation: 'gelu' }), path);
        expect(g.kernel.startsWith(KERNEL[path]), g.kernel).toBe(true);
        if (path === 'gemm' || path === 'matvec') expect(g.kernel).toContain(`OUT4=${out4}`);
        expect(worst(g.data, want, m, K), `gelu on ${path}, N = ${cw.shape[0]}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('matvec: the subgroup reduction and its portable twin agree with the naive product', async () => {
    for (const [M, N, K] of [[1, 17, 255], [3, 64, 256], [1, 5, 1]] as const) {
      const xv = randomArray(M * K, K, -1, 1), wv = randomArray(N * K, N);
      const [gx, gw] = await Promise.all([up(fp.tensor(xv, { shape: [M, K] })), up(fp.tensor(wv, { shape: [N, K] }))]);
      const { y, mag } = naive(xv, wv, 1, M, N, K, { transB: true });
      for (const subgroups of [true, false]) {
        const g = await onGpu(() => fp.linear(gx, gw), undefined, { subgroups });
        expect(g.kernel).toContain(`SUBGROUPS=${subgroups && gpu!.setup.features.subgroups}`);
        expect(worst(g.data, y, mag, K), `${M}x${N}x${K} subgroups=${subgroups}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('batched products with broadcast batches and transposed b, on every path and with the large GEMM tiles', async () => {
    const cases: { a: number[]; b: number[]; transB?: boolean; B: number; ba: number; bb: number }[] = [
      { a: [3, 17, 33], b: [3, 33, 17], B: 3, ba: 3, bb: 3 },
      { a: [1, 3, 33], b: [3, 33, 17], B: 3, ba: 1, bb: 3 },
      { a: [3, 17, 64], b: [1, 64, 5], B: 3, ba: 3, bb: 1 },
      { a: [3, 2, 64], b: [3, 17, 64], transB: true, B: 3, ba: 3, bb: 3 },
    ];
    for (const path of PATHS) {
      for (const c of cases) {
        const [M, K] = c.a.slice(-2) as [number, number];
        const N = c.transB ? c.b[1]! : c.b[2]!;
        const av = randomArray(c.ba * M * K, 21), bv = randomArray(c.bb * K * N, 22);
        const [ga, gb] = await Promise.all([up(fp.tensor(av, { shape: c.a })), up(fp.tensor(bv, { shape: c.b }))]);
        const g = await onGpu(() => fp.matmul(ga, c.transB ? gb.transpose(1, 2) : gb), path);
        expect(g.t.shape).toEqual([c.B, M, N]);
        const { y, mag } = naive(av, bv, c.B, M, N, K, c);
        expect(worst(g.data, y, mag, K), `${path} ${JSON.stringify(c)}`).toBeLessThanOrEqual(1);
      }
    }
    // batch dims that broadcast against each other ([2, 1] with [3]) are expanded by the op layer
    const av = randomArray(2 * 5 * 33, 23), bv = randomArray(3 * 33 * 7, 24);
    const [ga, gb] = await Promise.all([up(fp.tensor(av, { shape: [2, 1, 5, 33] })), up(fp.tensor(bv, { shape: [3, 33, 7] }))]);
    const g = await onGpu(() => fp.matmul(ga, gb));
    expect(g.t.shape).toEqual([2, 3, 5, 7]);
    const aRep = new Float32Array(6 * 5 * 33), bRep = new Float32Array(6 * 33 * 7);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        aRep.set(av.subarray(i * 165, (i + 1) * 165), (i * 3 + j) * 165);
        bRep.set(bv.subarray(j * 231, (j + 1) * 231), (i * 3 + j) * 231);
      }
    }
    const r6 = naive(aRep, bRep, 6, 5, 7, 33);
    expect(worst(g.data, r6.y, r6.mag, 33)).toBeLessThanOrEqual(1);
    // 8 x 127 x 255 gives 64 tiles of 64 x 64: the 16 x 16-thread configuration
    const [B, M, N, K] = [8, 127, 255, 64];
    const xv = randomArray(B * M * K, 25), wv = randomArray(K * N, 26);
    const [gx, gw] = await Promise.all([up(fp.tensor(xv, { shape: [B, M, K] })), up(fp.tensor(wv, { shape: [1, K, N] }))]);
    const gg = await onGpu(() => fp.matmul(gx, gw.expand([B, K, N])), 'gemm');
    expect(gg.kernel).toContain('WG_X=16');
    const r = naive(xv, Float32Array.from({ length: B * K * N }, (_, i) => wv[i % (K * N)]!), B, M, N, K);
    expect(worst(gg.data, r.y, r.mag, K)).toBeLessThanOrEqual(1);
  });

  it('split-K: chosen for small outputs with a long K, exact over uneven slices and K not a multiple of 4', async () => {
    for (const [M, N, K, auto] of [[2, 3, 2048, true], [33, 8, 1000, false], [3, 17, 1027, true]] as const) {
      const av = randomArray(M * K, K, -1, 1), bv = randomArray(K * N, K + 1);
      const [ga, gb] = await Promise.all([up(fp.tensor(av, { shape: [M, K] })), up(fp.tensor(bv, { shape: [K, N] }))]);
      const g = await onGpu(() => fp.matmul(ga, gb), auto ? undefined : 'splitk');
      expect(g.kernel.startsWith('matmul-splitk.wgsl'), g.kernel).toBe(true);
      const { y, mag } = naive(av, bv, 1, M, N, K);
      expect(worst(g.data, y, mag, K), `${M}x${N}x${K}`).toBeLessThanOrEqual(1);
    }
  });

  it('M = 1 takes the matvec path, K = 1 and K = 0 work, and empty outputs dispatch nothing', async () => {
    const x = fp.tensor(randomArray(255, 31), { shape: [1, 255] }), w = fp.tensor(randomArray(64 * 255, 32), { shape: [64, 255] });
    const [gx, gw] = await Promise.all([up(x), up(w)]);
    const g = await onGpu(() => fp.linear(gx, gw));
    expect(g.kernel.startsWith('matvec.wgsl'), g.kernel).toBe(true);
    const r = naive(x.dataSync(), w.dataSync(), 1, 1, 64, 255, { transB: true });
    expect(worst(g.data, r.y, r.mag, 255)).toBeLessThanOrEqual(1);
    // K = 0: zeros, plus the bias through the activation
    const e = await onGpu(() => fp.linear(fp.zeros([5, 0], { device: 'webgpu' }), fp.zeros([6, 0], { device: 'webgpu' }), fp.tensor([1, -2, 3, -4, 5, -6], { device: 'webgpu' }), { activation: 'relu' }));
    expect(Array.from(e.data)).toEqual([1, 0, 3, 0, 5, 0, 1, 0, 3, 0, 5, 0, 1, 0, 3, 0, 5, 0, 1, 0, 3, 0, 5, 0, 1, 0, 3, 0, 5, 0]);
    const k1 = await onGpu(() => fp.matmul(fp.tensor([[2], [3]], { device: 'webgpu' }), fp.tensor([[4, 5, 6]], { device: 'webgpu' })), 'gemm');
    expect(Array.from(k1.data)).toEqual([8, 10, 12, 12, 15, 18]);
    const [za, zb] = [fp.zeros([0, 4], { device: 'webgpu' }), fp.zeros([4, 3], { device: 'webgpu' })];
    const before = gpu!.dispatches;
    const z = fp.matmul(za, zb);
    expect(z.shape).toEqual([0, 3]);
    expect(gpu!.dispatches - before).toBe(0);
  });

  it('float16 operands match the CPU float16 results', async () => {
    const [M, N, K] = [17, 33, 64];
    const x = fp.tensor(randomArray(M * K, 41), { shape: [M, K], dtype: 'float16' });
    const w = fp.tensor(randomArray(N * K, 42), { shape: [N, K], dtype: 'float16' });
    const bias = fp.tensor(randomArray(N, 43), { shape: [N], dtype: 'float16' });
    const [gx, gw, gb] = await Promise.all([up(x), up(w), up(bias)]);
    const { mag } = naive(x.dataSync(), w.dataSync(), 1, M, N, K, { transB: true });
    const bv = bias.dataSync();
    const withBias = Float64Array.from(mag, (m, i) => m + Math.abs(bv[i % N]!));
    for (const [path, f] of [['gemm', (a: fp.Tensor, b: fp.Tensor, c: fp.Tensor) => fp.linear(a, b, c, { activation: 'silu' })], ['matvec', (a: fp.Tensor, b: fp.Tensor) => fp.matmul(a, b.transpose(0, 1))]] as const) {
      const want = await f(x, w, bias).data();
      const g = await onGpu(() => f(gx, gw, gb), path);
      expect(g.t.dtype).toBe('float16');
      // both round an f32 result to half: at most one half ulp (2^-10 relative) apart, plus the f32 bound
      let bad = 0;
      for (let i = 0; i < want.length; i++) if (Math.abs(g.data[i]! - want[i]!) > 2 ** -10 * Math.abs(want[i]!) + tol(K, path === 'gemm' ? withBias[i]! : mag[i]!, want[i]!)) bad++;
      expect(bad, path).toBe(0);
    }
  });

  it('operands at element offsets (narrowed views) use the scalar loads when misaligned, vec4 loads when aligned', async () => {
    const [M, N, K] = [17, 64, 64];
    const flatA = randomArray(M * K + 4, 51), flatB = randomArray(K * N + 4, 52);
    const [ga, gb] = await Promise.all([up(fp.tensor(flatA)), up(fp.tensor(flatB))]);
    for (const path of PATHS) {
      for (const [oa, ob, vec4] of [[1, 4, false], [4, 4, true], [0, 3, false]] as const) {
        const av = flatA.subarray(oa, oa + M * K), bv = flatB.subarray(ob, ob + K * N);
        const g = await onGpu(() => fp.matmul(ga.narrow(0, oa, M * K).reshape([M, K]), gb.narrow(0, ob, K * N).reshape([K, N])), path);
        if (path === 'gemm' || path === 'matvec') expect(g.kernel).toContain(`VEC4=${vec4}`);
        const { y, mag } = naive(av, bv, 1, M, N, K);
        expect(worst(g.data, y, mag, K), `${path} offsets ${oa}, ${ob}`).toBeLessThanOrEqual(1);
      }
    }
    const forced = await onGpu(() => fp.matmul(ga.narrow(0, 0, M * K).reshape([M, K]), gb.narrow(0, 0, K * N).reshape([K, N])), 'gemm', { vec4: false });
    expect(forced.kernel).toContain('VEC4=false');
    const r = naive(flatA, flatB, 1, M, N, K);
    expect(worst(forced.data, r.y, r.mag, K)).toBeLessThanOrEqual(1);
  });
});
