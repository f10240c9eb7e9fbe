// WebGPU INT8 kernels (quantizeRows, linearInt8, linearW8) against naive references written here and against the
// CPU kernels: awkward shapes with row padding, per-row and Q8_0 scales, static and dynamic quantization, every
// activation, bias or not, offset views, on the GEMM and matrix-vector paths, each with dot4I8Packed and its twin.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import type { ActivationName, OpName } from '../../src/ops/attrs.js';
import { UNARY } from '../../src/ops/elementwise.js';
import { chooseInt8Path, withInt8Path, type Int8Path } from '../../src/backends/webgpu/programs/int8.js';
import { randomArray } from '../helpers.js';
import { webgpu } from '../webgpu.js';
import { f32, i8, up, worst } from './helpers.js';

const gpu = webgpu.gpu;
const ACTIVATIONS: ActivationName[] = ['none', 'relu', 'gelu', 'geluTanh', 'silu', 'tanh', 'sigmoid'];
const DOT4 = [true, false] as const;
const PATHS: Int8Path[] = ['gemm', 'matvec'];
/**
 * M x N x K triples over M in {1, 3, 17}, N in {1, 5, 33}, K in {1, 3, 4, 31, 32, 33, 100}, and a long K (more
 * chunks than the matrix-vector kernel has threads: each thread takes several, all of the tree reduction is used).
 */
const SHAPES: [number, number, number][] = [[1, 5, 100], [3, 33, 31], [17, 1, 33], [1, 1, 1], [3, 5, 3], [17, 33, 4], [1, 33, 32], [17, 5, 100], [3, 1, 33], [2, 6, 4100]];

const roundAway = (v: number) => (v < 0 ? -Math.round(-v) : Math.round(v));
const padTo = (k: number, m: number) => Math.ceil(k / m) * m;

/** Naive symmetric quantization of rows x [M, K] (the contract of quantizeRows, in plain loops). */
function naiveQuantize(x: ArrayLike<number>, M: number, K: number, Kp: number, block: number, staticScale: number) {
  const bl = block > 0 ? block : Kp, nb = Kp / bl;
  const q = new Int8Array(M * Kp), s = new Float32Array(M * nb);
  for (let m = 0; m < M; m++) {
    for (let b = 0; b < nb; b++) {
      const vals = Array.from({ length: Math.max(0, Math.min(K, (b + 1) * bl) - b * bl) }, (_, i) => x[m * K + b * bl + i]!);
      if (vals.some((v) => !Number.isFinite(v))) { s[m * nb + b] = NaN; continue; }
      let sc = staticScale > 0 ? Math.fround(staticScale) : Math.fround(Math.max(0, ...vals.map(Math.abs)) / 127);
      if (sc < 2 ** -126) sc = 1;
      s[m * nb + b] = sc;
      vals.forEach((v, i) => { q[m * Kp + b * bl + i] = Math.max(-127, Math.min(127, roundAway(v / sc))); });
    }
  }
  return { q, s };
}

/** Move a[i] one float32 step toward zero. */
function towardZero(a: Float32Array, i: number): void {
  const bits = new Uint32Array(a.buffer, a.byteOffset + 4 * i, 1);
  if ((bits[0]! & 0x7fffffff) !== 0) bits[0]! -= 1;
}

/** Seeded int8 rows [R, Kp]: values in [-127, 127] up to k, zero padding after. */
function randomInt8(R: number, k: number, Kp: number, seed: number): Int8Array {
  const r = fp.makeRng(seed);
  const q = new Int8Array(R * Kp);
  for (let i = 0; i < R; i++) for (let j = 0; j < k; j++) q[i * Kp + j] = Math.floor(r() * 255) - 127;
  return q;
}

/**
 * Naive y = act(Σ_blocks (Σ a·b) · sa · sb + bias) over rows a [M, *] (stride lda) and b [N, Kp], in float64,
 * with Σ|terms| + |bias| per output (the error scale). `sa` null: float a without row scales (weight-only).
 */
function naiveLinear(a: ArrayLike<number>, lda: number, sa: ArrayLike<number> | null, b: ArrayLike<number>, sb: ArrayLike<number>, bias: ArrayLike<number> | null, M: number, N: number, k: number, Kp: number, block: number, act: ActivationName) {
  const bl = block > 0 ? block : Kp, nb = Kp / bl;
  const y = new Float64Array(M * N), mag = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let t = bias ? bias[n]! : 0, g = Math.abs(t);
      for (let j = 0; j < nb; j++) {
        let d = 0, dm = 0;
        for (let kk = j * bl; kk < Math.min(k, (j + 1) * bl); kk++) {
          d += a[m * lda + kk]! * b[n * Kp + kk]!;
          dm += Math.abs(a[m * lda + kk]! * b[n * Kp + kk]!);
        }
        const sc = (sa ? sa[m * nb + j]! : 1) * sb[n * nb + j]!;
        t += d * sc;
        g += dm * Math.abs(sc);
      }
      y[m * N + n] = act === 'none' ? t : UNARY[act].ref(t, 0, 0);
      mag[m * N + n] = g;
    }
  }
  return { y, mag };
}

/** Tolerances: linearInt8 sums are exact int32, so only the float rescale, bias and activation round. */
const tolInt8 = (mag: number, y: number, act: ActivationName) => 1e-6 * mag + (act === 'none' ? 0 : 2e-6 * Math.max(1, Math.abs(y)));
/** linearW8 sums floats like a matmul: 2^-21 · sqrt(K) of the terms' magnitude (the matmul suite's bound, doubled). */
const tolW8 = (K: number, mag: number, y: number, act: ActivationName) => 2 ** -21 * Math.sqrt(Math.max(1, K)) * mag + (act === 'none' ? 0 : 2e-6 * Math.max(1, Math.abs(y)));


/** Run one op on the CPU and on WebGPU (path / dot4 forced), returning both outputs' data and the GPU variant. */
async function run(op: OpName, ins: (fp.Tensor | null)[], outs: { shape: number[]; dtype: fp.DType }[], attrs: object, o: { path?: Int8Path; dot4?: boolean } = {}) {
  const cpuIns = ins.filter((t): t is fp.Tensor => t !== null);
  const gpuIns = await Promise.all(cpuIns.map(up));
  const g = withInt8Path(o, () => fp.runOp(op as 'linearInt8', gpuIns, outs, attrs as never));
  const variant = gpu!.variant();
  const c = fp.runOp(op as 'linearInt8', cpuIns, outs, attrs as never);
  const got = await Promise.all(g.map((t) => t.data()));
  const want = await Promise.all(c.map((t) => t.data()));
  return { got, want, variant };
}

describe('chooseInt8Path', () => {
  it('takes the matrix-vector kernel up to 4 rows and the tiled GEMM beyond', () => {
    expect([1, 4, 5, 64].map(chooseInt8Path)).toEqual(['matvec', 'matvec', 'gemm', 'gemm']);
  });
});

describe.skipIf(!gpu)(`webgpu INT8 kernels (${gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  it('the adapter here has the packed_4x8_integer_dot_product language feature (SwiftShader does)', () => {
    if (gpu!.setup.adapter.isSoftware) expect(gpu!.setup.features.packed_4x8_integer_dot_product).toBe(true);
  });

  it('quantizeRows: hand-checked ties away from zero, saturation, zero, NaN and Inf rows, padding', async () => {
    // row 0: max 254 -> s = 2: 1 / 2 and 3 / 2 are ties; row 1 zero -> s = 1; row 2 NaN -> s = NaN, q = 0; row 3 Inf
    const x = f32([2, 1, -1, 3, -254, 0, 0, 0, 0, 0, 1, NaN, 2, 3, 4, 1, -Infinity, 0, 0, 0], [4, 5]);
    const { got, want } = await run('quantizeRows', [x], [{ shape: [4, 8], dtype: 'int8' }, { shape: [4, 1], dtype: 'float32' }], { block: 0, padTo: 8, staticScale: 0 });
    const q = [1, 1, -1, 2, -127, 0, 0, 0, ...new Array(24).fill(0)];
    expect(Array.from(got[0]!)).toEqual(q);
    expect(Array.from(got[1]!)).toEqual([2, 1, NaN, NaN]);
    expect(Array.from(want[0]!)).toEqual(q);
    // static scale 0.5: 3 / 0.5 = 6, -254 saturates; the NaN row still gets s = NaN
    const st = await run('quantizeRows', [x], [{ shape: [4, 8], dtype: 'int8' }, { shape: [4, 1], dtype: 'float32' }], { block: 0, padTo: 8, staticScale: 0.5 });
    expect(Array.from(st.got[0]!.slice(0, 8))).toEqual([4, 2, -2, 6, -127, 0, 0, 0]);
    expect(Array.from(st.got[1]!)).toEqual([0.5, 0.5, NaN, NaN]);
  });

  it('quantizeRows: random rows, per row, Q8_0 blocks and static scales, match the naive quantizer and the CPU bit for bit', async () => {
    for (const K of [1, 3, 4, 31, 32, 33, 100]) {
      for (const M of [1, 3, 17]) {
        const xv = randomArray(M * K, 7 * K + M, -3, 3);
        // a row of exact ties and of values one float below (toward zero) a tie: max 127 / 8 -> s = 1/8,
        // values (n + 1/2) / 8
        if (M === 3) for (let j = 0; j < K; j++) xv[K + j] = j === 0 ? 127 / 8 : ((j % 60) - 30 + 0.5) / 8;
        if (M === 3) for (let j = 2; j < K; j += 2) towardZero(xv, K + j);
        const x = f32(xv, [M, K]);
        for (const [block, staticScale] of [[0, 0], [32, 0], [0, 0.02], [32, 0.02]] as const) {
          const Kp = block > 0 ? padTo(K, block) : padTo(K, 4);
          const nb = block > 0 ? Kp / block : 1;
          const { got, want } = await run('quantizeRows', [x], [{ shape: [M, Kp], dtype: 'int8' }, { shape: [M, nb], dtype: 'float32' }], { block, padTo: 4, staticScale });
          const ref = naiveQuantize(xv, M, K, Kp, block, staticScale);
          const label = `M ${M} K ${K} block ${block} static ${staticScale}`;
          expect(Array.from(got[0]!), label).toEqual(Array.from(ref.q));
          expect(Array.from(got[1]!), label).toEqual(Array.from(ref.s));
          expect(Array.from(got[0]!), `${label} vs CPU`).toEqual(Array.from(want[0]!));
          expect(Array.from(got[1]!), `${label} vs CPU`).toEqual(Array.from(want[1]!));
        }
      }
    }
  });

  it('quantizeRows: scales and quotients exact over magnitudes from 1e-30 to 1e30 (rows [max, smaller value])', async () => {
    const r = fp.makeRng(5);
    const M = 400;
    const xv = new Float32Array(M * 2);
    for (let m = 0; m < M; m++) {
      const big = 10 ** (60 * r() - 30);
      xv[2 * m] = (r() < 0.5 ? -1 : 1) * big;
      xv[2 * m + 1] = (r() - 0.5) * big * 2 ** (-12 * r());
    }
    const { got } = await run('quantizeRows', [f32(xv, [M, 2])], [{ shape: [M, 4], dtype: 'int8' }, { shape: [M, 1], dtype: 'float32' }], { block: 0, padTo: 4, staticScale: 0 });
    const ref = naiveQuantize(xv, M, 2, 4, 0, 0);
    expect(Array.from(got[1]!)).toEqual(Array.from(ref.s));
    expect(Array.from(got[0]!)).toEqual(Array.from(ref.q));
  });

  for (const path of PATHS) {
    for (const dot4 of DOT4) {
      it(`linearInt8 on ${path}, ${dot4 ? 'dot4I8Packed' : 'portable twin'}: awkward shapes, per-row and Q8_0 scales, match naive and CPU`, async () => {
        for (const [M, N, K] of SHAPES) {
          for (const block of [0, 32]) {
            const Kp = block > 0 ? padTo(K, block) : padTo(K, 4), nb = block > 0 ? Kp / block : 1;
            const xq = randomInt8(M, K, Kp, M * 100 + K), wq = randomInt8(N, K, Kp, N * 100 + K + 1);
            const xs = randomArray(M * nb, K + 2, 0.001, 0.1), ws = randomArray(N * nb, K + 3, 0.001, 0.1), bias = randomArray(N, K + 4);
            const { got, want, variant } = await run('linearInt8', [i8(xq, [M, Kp]), f32(xs, [M, nb]), i8(wq, [N, Kp]), f32(ws, [N, nb]), f32(bias, [N])],
              [{ shape: [M, N], dtype: 'float32' }], { block, k: K, activation: 'none' }, { path, dot4 });
            expect(variant).toContain(path === 'gemm' ? 'linear-int8.wgsl' : 'linear-int8-matvec.wgsl');
            expect(variant).toContain(`DOT4=${dot4}`);
            const ref = naiveLinear(xq, Kp, xs, wq, ws, bias, M, N, K, Kp, block, 'none');
            const label = `${M}x${N}x${K} block ${block}`;
            expect(worst(got[0]!, ref.y, (i) => tolInt8(ref.mag[i]!, ref.y[i]!, 'none')), label).toBeLessThanOrEqual(1);
            expect(worst(got[0]!, want[0]!, (i) => tolInt8(ref.mag[i]!, ref.y[i]!, 'none')), `${label} vs CPU`).toBeLessThanOrEqual(1);
          }
        }
      });
    }
  }

  it('linearInt8: with unit scales the int32 sums come out exactly (both paths, dot4 and twin)', async () => {
    const [M, N, K] = [5, 6, 100];
    const Kp = padTo(K, 4);
    const xq = randomInt8(M, K, Kp, 1), wq = randomInt8(N, K, Kp, 2);
    const ins = [i8(xq, [M, Kp]), fp.ones([M, 1]), i8(wq, [N, Kp]), fp.ones([N, 1])];
    const ref = naiveLinear(xq, Kp, null, wq, new Float32Array(N).fill(1), null, M, N, K, Kp, 0, 'none');
    for (const path of PATHS) {
      for (const dot4 of DOT4) {
        const { got } = await run('linearInt8', ins, [{ shape: [M, N], dtype: 'float32' }], { block: 0, k: K, activation: 'none' }, { path, dot4 });
        expect(Array.from(got[0]!), `${path} dot4=${dot4}`).toEqual(Array.from(ref.y));
      }
    }
  });

  it('linearInt8 and linearW8: every activation, bias or not, all-zero rows (the two cases on alternate paths)', async () => {
    const [M, N, K, block] = [5, 7, 70, 32];
    const Kp = padTo(K, block), nb = Kp / block;
    const xq = randomInt8(M, K, Kp, 3), wq = randomInt8(N, K, Kp, 4);
    xq.fill(0, Kp, 2 * Kp); // row 1 all zero: y = act(bias)
    const xs = randomArray(M * nb, 5, 0.001, 0.05), ws = randomArray(N * nb, 6, 0.001, 0.05), bv = randomArray(N, 7, -1, 1);
    const xv = randomArray(M * K, 8, -2, 2);
    for (const [ai, activation] of ACTIVATIONS.entries()) {
      for (const [bi, b] of [null, bv].entries()) {
        {
          const path = PATHS[(ai + bi) % 2]!;
          const label = `${activation} bias=${b !== null} ${path}`;
          const bias = b ? f32(b, [N]) : null;
          const r8 = await run('linearInt8', [i8(xq, [M, Kp]), f32(xs, [M, nb]), i8(wq, [N, Kp]), f32(ws, [N, nb]), bias], [{ shape: [M, N], dtype: 'float32' }], { block, k: K, activation }, { path });
          expect(r8.variant).toContain(`HAS_BIAS=${b !== null}`);
          const ref8 = naiveLinear(xq, Kp, xs, wq, ws, b, M, N, K, Kp, block, activation);
          expect(worst(r8.got[0]!, ref8.y, (i) => tolInt8(ref8.mag[i]!, ref8.y[i]!, activation)), `int8 ${label}`).toBeLessThanOrEqual(1);
          expect(worst(r8.got[0]!, r8.want[0]!, (i) => tolInt8(ref8.mag[i]!, ref8.y[i]!, activation)), `int8 ${label} vs CPU`).toBeLessThanOrEqual(1);
          const rw = await run('linearW8', [f32(xv, [M, K]), i8(wq, [N, Kp]), f32(ws, [N, nb]), bias], [{ shape: [M, N], dtype: 'float32' }], { block, k: K, activation }, { path });
          const refw = naiveLinear(xv, K, null, wq, ws, b, M, N, K, Kp, block, activation);
          expect(worst(rw.got[0]!, refw.y, (i) => tolW8(K, refw.mag[i]!, refw.y[i]!, activation)), `w8 ${label}`).toBeLessThanOrEqual(1);
          expect(worst(rw.got[0]!, rw.want[0]!, (i) => tolW8(K, refw.mag[i]!, refw.y[i]!, activation)), `w8 ${label} vs CPU`).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  for (const path of PATHS) {
    for (const dot4 of DOT4) {
      it(`linearW8 on ${path}, ${dot4 ? 'unpack4xI8' : 'portable twin'}: awkward shapes, per-row and Q8_0 scales, match naive and CPU`, async () => {
        for (const [M, N, K] of SHAPES) {
          for (const block of [0, 32]) {
            const Kp = block > 0 ? padTo(K, block) : padTo(K, 4), nb = block > 0 ? Kp / block : 1;
            const xv = randomArray(M * K, M + K), wq = randomInt8(N, K, Kp, N * 10 + K);
            const ws = randomArray(N * nb, K + 9, 0.001, 0.1);
            const { got, want, variant } = await run('linearW8', [f32(xv, [M, K]), i8(wq, [N, Kp]), f32(ws, [N, nb]), null],
              [{ shape: [M, N], dtype: 'float32' }], { block, k: K, activation: 'none' }, { path, dot4 });
            expect(variant).toContain(path === 'gemm' ? 'linear-w8.wgsl' : 'linear-int8-matvec.wgsl');
            expect(variant).toContain(`DOT4=${dot4}`);
            const ref = naiveLinear(xv, K, null, wq, ws, null, M, N, K, Kp, block, 'none');
            const label = `${M}x${N}x${K} block ${block}`;
            expect(worst(got[0]!, ref.y, (i) => tolW8(K, ref.mag[i]!, 0, 'none')), label).toBeLessThanOrEqual(1);
            expect(worst(got[0]!, want[0]!, (i) => tolW8(K, ref.mag[i]!, 0, 'none')), `${label} vs CPU`).toBeLessThanOrEqual(1);
          }
        }
      });
    }
  }

  it('other block sizes (4, 12, 64): quantizeRows bit for bit, linearInt8 and linearW8 on both paths', async () => {
    for (const block of [4, 12, 64]) {
      for (const [M, N, K] of [[3, 5, 70], [6, 9, 131]] as const) {
        const Kp = padTo(K, block), nb = Kp / block;
        const xv = randomArray(M * K, block + K, -3, 3), wv = randomArray(N * K, block + K + 1, -1, 1);
        const outs = (R: number) => [{ shape: [R, Kp], dtype: 'int8' as const }, { shape: [R, nb], dtype: 'float32' as const }];
        const qx = await run('quantizeRows', [f32(xv, [M, K])], outs(M), { block, padTo: 4, staticScale: 0 });
        const qw = await run('quantizeRows', [f32(wv, [N, K])], outs(N), { block, padTo: 4, staticScale: 0 });
        const rx = naiveQuantize(xv, M, K, Kp, block, 0), rw = naiveQuantize(wv, N, K, Kp, block, 0);
        expect([Array.from(qx.got[0]!), Array.from(qx.got[1]!)]).toEqual([Array.from(rx.q), Array.from(rx.s)]);
        expect([Array.from(qw.got[0]!), Array.from(qw.got[1]!)]).toEqual([Array.from(rw.q), Array.from(rw.s)]);
        const bias = randomArray(N, 9);
        const ref8 = naiveLinear(rx.q, Kp, rx.s, rw.q, rw.s, bias, M, N, K, Kp, block, 'none');
        const refw = naiveLinear(xv, K, null, rw.q, rw.s, bias, M, N, K, Kp, block, 'none');
        for (const path of PATHS) {
          const label = `block ${block} ${M}x${N}x${K} ${path}`;
          const y8 = await run('linearInt8', [i8(rx.q, [M, Kp]), f32(rx.s, [M, nb]), i8(rw.q, [N, Kp]), f32(rw.s, [N, nb]), f32(bias, [N])], [{ shape: [M, N], dtype: 'float32' }], { block, k: K, activation: 'none' }, { path });
          expect(worst(y8.got[0]!, ref8.y, (i) => tolInt8(ref8.mag[i]!, 0, 'none')), label).toBeLessThanOrEqual(1);
          expect(worst(y8.got[0]!, y8.want[0]!, (i) => tolInt8(ref8.mag[i]!, 0, 'none')), `${label} vs CPU`).toBeLessThanOrEqual(1);
          const yw = await run('linearW8', [f32(xv, [M, K]), i8(rw.q, [N, Kp]), f32(rw.s, [N, nb]), f32(bias, [N])], [{ shape: [M, N], dtype: 'float32' }], { block, k: K, activation: 'none' }, { path });
          expect(worst(yw.got[0]!, refw.y, (i) => tolW8(K, refw.mag[i]!, 0, 'none')), `w8 ${label}`).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('int8 inputs at offsets: word-aligned row views read in place, a view at an odd byte is realigned', async () => {
    const [M, N, K] = [6, 5, 33];
    const Kp = padTo(K, 4);
    const xq = randomInt8(M + 1, K, Kp, 11), wq = randomInt8(N, K, Kp, 12);
    const xs = randomArray(M, 13, 0.01, 0.1), ws = randomArray(N, 14, 0.01, 0.1);
    // rows 1.. of xq (offset Kp: aligned); wq behind one extra byte (offset 1: realigned)
    const xView = (await up(i8(xq, [M + 1, Kp]))).narrow(0, 1, M);
    const wBytes = new Int8Array(1 + N * Kp);
    wBytes.set(wq, 1);
    const wView = (await up(i8(wBytes, [1 + N * Kp]))).narrow(0, 1, N * Kp).reshape([N, Kp]);
    const ref = naiveLinear(xq.subarray(Kp), Kp, xs, wq, ws, null, M, N, K, Kp, 0, 'none');
    for (const path of PATHS) {
      const ins = [xView, await up(f32(xs, [M, 1])), wView, await up(f32(ws, [N, 1]))];
      expect(ins[0]!.offset).toBe(Kp);
      expect(ins[2]!.offset).toBe(1);
      const g = withInt8Path({ path }, () => fp.runOp('linearInt8', ins, [{ shape: [M, N], dtype: 'float32' }], { block: 0, k: K, activation: 'none' }));
      expect(worst(await g[0]!.data(), ref.y, (i) => tolInt8(ref.mag[i]!, 0, 'none')), path).toBeLessThanOrEqual(1);
    }
  });

  it('through the public ops with float16 activations, scales and outputs: quantizeRows exact, products within float16 rounding', async () => {
    const [M, N, K] = [3, 10, 45];
    const x = fp.tensor(randomArray(M * K, 41, -2, 2), { shape: [M, K], dtype: 'float16' });
    const w = f32(randomArray(N * K, 42, -0.5, 0.5), [N, K]);
    const bias = fp.tensor(randomArray(N, 43), { dtype: 'float16' });
    const pipeline = (xx: fp.Tensor, ww: fp.Tensor, bb: fp.Tensor) => {
      const [wq, ws] = fp.quantizeRows(ww, { block: 32 });
      const [xq, xs] = fp.quantizeRows(xx, { block: 32 });
      const xs16 = fp.cast(xs, 'float16');
      return [xq, xs, fp.linearInt8(xq, xs16, wq, ws, bb, { block: 32, k: K, activation: 'silu', dtype: 'float16' }), fp.linearW8(xx, wq, ws, bb, { block: 32, activation: 'gelu' })];
    };
    const want = await Promise.all(pipeline(x, w, bias).map((t) => t.data()));
    const g = pipeline(await up(x), await up(w), await up(bias));
    expect(g.map((t) => [t.device, t.dtype])).toEqual([['webgpu', 'int8'], ['webgpu', 'float32'], ['webgpu', 'float16'], ['webgpu', 'float16']]);
    const got = await Promise.all(g.map((t) => t.data()));
    expect(Array.from(got[0]!)).toEqual(Array.from(want[0]!));
    expect(Array.from(got[1]!)).toEqual(Array.from(want[1]!));
    // float16 outputs: the two sides may round a value to neighbouring halves
    for (const i of [2, 3]) expect(worst(got[i]!, want[i]!, (j) => 2 ** -10 * Math.max(1, Math.abs(want[i]![j]!)))).toBeLessThanOrEqual(1);
  });

  it('a backend without the language feature runs the portable twin', async () => {
    const off = new fp.WebGPUBackend({ ...gpu!.setup, features: { ...gpu!.setup.features, packed_4x8_integer_dot_product: false } });
    const [M, N, K] = [3, 4, 16];
    const xq = randomInt8(M, K, K, 21), wq = randomInt8(N, K, K, 22);
    const ref = naiveLinear(xq, K, null, wq, new Float32Array(N).fill(1), null, M, N, K, K, 0, 'none');
    const variants: string[] = [];
    const unhook = fp.addOpHook((e) => { if (e.variant) variants.push(e.variant); });
    fp.registerBackend(off);
    try {
      const ins = await Promise.all([i8(xq, [M, K]), fp.ones([M, 1]), i8(wq, [N, K]), fp.ones([N, 1])].map(up));
      const y = fp.runOp('linearInt8', ins, [{ shape: [M, N], dtype: 'float32' }], { block: 0, k: K, activation: 'none' })[0]!;
      expect(Array.from(await y.data())).toEqual(Array.from(ref.y));
    } finally {
      fp.registerBackend(gpu!);
      unhook();
    }
    expect(variants.some((v) => v.includes('linear-int8') && v.includes('DOT4=false'))).toBe(true);
  });

  it('rejects scale blocks that split words with one clear error', async () => {
    const ins = await Promise.all([i8(new Int8Array(12), [1, 12]), fp.ones([1, 2]), i8(new Int8Array(12), [1, 12]), fp.ones([1, 2])].map(up));
    expect(() => fp.runOp('linearInt8', ins, [{ shape: [1, 1], dtype: 'float32' }], { block: 6, k: 12, activation: 'none' })).toThrow(/forwardpass: webgpu: linearInt8: a scale block must be a multiple of 4 values on WebGPU/);
  });
});
