// CPU matrix products: a naive reference, two simple variants and the cache-blocked, register-tiled GEMM
// that the matmul and linear kernels use. Legend: C [M, N] = A [M, K] · B [K, N], all row-major; with transB,
// B is stored as [N, K]. Ba, Bb = batch counts of A and B (1 or B: broadcast). MR x NR = register tile.
import type { CpuKernel, NumArray } from '../types.js';

/** One matrix product, writing (not adding to) C [M, N] at `cOff`; A [M, K] at `aOff`; B [K, N] or [N, K] (transB). */
export type Gemm = (M: number, N: number, K: number, a: NumArray, aOff: number, b: NumArray, bOff: number, transB: boolean, c: NumArray, cOff: number) => void;

/** Strides of B[k, j] in its storage: along k and along j. */
const bStrides = (N: number, K: number, transB: boolean): [number, number] => (transB ? [1, K] : [N, 1]);

/** Textbook triple loop: one dot product per output, B read column-wise (the reference the others are checked against). */
export const matmulNaive: Gemm = (M, N, K, a, aOff, b, bOff, transB, c, cOff) => {
  const [rsB, csB] = bStrides(N, K, transB);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[aOff + i * K + k]! * b[bOff + k * rsB + j * csB]!;
      c[cOff + i * N + j] = s;
    }
  }
};

/** Loop order i-k-j: streams rows of B into a row accumulator (no tiling); transB uses contiguous row dot products. */
export const matmulIkj: Gemm = (M, N, K, a, aOff, b, bOff, transB, c, cOff) => {
  if (transB) {
    for (let i = 0; i < M; i++) {
      const ai = aOff + i * K;
      for (let j = 0; j < N; j++) {
        const bj = bOff + j * K;
        let s = 0;
        for (let k = 0; k < K; k++) s += a[ai + k]! * b[bj + k]!;
        c[cOff + i * N + j] = s;
      }
    }
    return;
  }
  const acc = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    acc.fill(0);
    for (let k = 0; k < K; k++) {
      const av = a[aOff + i * K + k]!;
      const bk = bOff + k * N;
      for (let j = 0; j < N; j++) acc[j]! += av * b[bk + j]!;
    }
    for (let j = 0; j < N; j++) c[cOff + i * N + j] = acc[j]!;
  }
};

// ---- register tiles read straight from the inputs (no packing) ----

/** 4x4 tile of C at (i0, j0): A rows at ia + r·K (step 1 along k); B columns at ib + s·csB (step rsB along k). */
function tile4x4(K: number, a: NumArray, ia: number, b: NumArray, ib: number, rsB: number, csB: number, c: NumArray, ic: number, N: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const K2 = 2 * K, K3 = 3 * K, cs2 = 2 * csB, cs3 = 3 * csB;
  for (let k = 0; k < K; k++, ia++, ib += rsB) {
    const b0 = b[ib]!, b1 = b[ib + csB]!, b2 = b[ib + cs2]!, b3 = b[ib + cs3]!;
    let v = a[ia]!;
    c00 += v * b0; c01 += v * b1; c02 += v * b2; c03 += v * b3;
    v = a[ia + K]!;
    c10 += v * b0; c11 += v * b1; c12 += v * b2; c13 += v * b3;
    v = a[ia + K2]!;
    c20 += v * b0; c21 += v * b1; c22 += v * b2; c23 += v * b3;
    v = a[ia + K3]!;
    c30 += v * b0; c31 += v * b1; c32 += v * b2; c33 += v * b3;
  }
  c[ic] = c00; c[ic + 1] = c01; c[ic + 2] = c02; c[ic + 3] = c03; ic += N;
  c[ic] = c10; c[ic + 1] = c11; c[ic + 2] = c12; c[ic + 3] = c13; ic += N;
  c[ic] = c20; c[ic + 1] = c21; c[ic + 2] = c22; c[ic + 3] = c23; ic += N;
  c[ic] = c30; c[ic + 1] = c31; c[ic + 2] = c32; c[ic + 3] = c33;
}

/** 1x4 tile: one row of A against four columns of B (matrix-vector products, row remainders). */
function tile1x4(K: number, a: NumArray, ia: number, b: NumArray, ib: number, rsB: number, csB: number, c: NumArray, ic: number): void {
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  const cs2 = 2 * csB, cs3 = 3 * csB;
  for (let k = 0; k < K; k++, ia++, ib += rsB) {
    const v = a[ia]!;
    c0 += v * b[ib]!; c1 += v * b[ib + csB]!; c2 += v * b[ib + cs2]!; c3 += v * b[ib + cs3]!;
  }
  c[ic] = c0; c[ic + 1] = c1; c[ic + 2] = c2; c[ic + 3] = c3;
}

/** 1x8 tile: one row of A against eight columns of B (matrix-vector products: 9 loads per 8 multiply-adds). */
function tile1x8(K: number, a: NumArray, ia: number, b: NumArray, ib: number, rsB: number, csB: number, c: NumArray, ic: number): void {
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
  const s2 = 2 * csB, s3 = 3 * csB, s4 = 4 * csB, s5 = 5 * csB, s6 = 6 * csB, s7 = 7 * csB;
  for (let k = 0; k < K; k++, ia++, ib += rsB) {
    const v = a[ia]!;
    c0 += v * b[ib]!; c1 += v * b[ib + csB]!; c2 += v * b[ib + s2]!; c3 += v * b[ib + s3]!;
    c4 += v * b[ib + s4]!; c5 += v * b[ib + s5]!; c6 += v * b[ib + s6]!; c7 += v * b[ib + s7]!;
  }
  c[ic] = c0; c[ic + 1] = c1; c[ic + 2] = c2; c[ic + 3] = c3; c[ic + 4] = c4; c[ic + 5] = c5; c[ic + 6] = c6; c[ic + 7] = c7;
}

/** 2x4 tile: two rows of A against four columns of B (row remainders of 2 or 3). */
function tile2x4(K: number, a: NumArray, ia: number, b: NumArray, ib: number, rsB: number, csB: number, c: NumArray, ic: number, N: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  const cs2 = 2 * csB, cs3 = 3 * csB;
  for (let k = 0; k < K; k++, ia++, ib += rsB) {
    const b0 = b[ib]!, b1 = b[ib + csB]!, b2 = b[ib + cs2]!, b3 = b[ib + cs3]!;
    let v = a[ia]!;
    c00 += v * b0; c01 += v * b1; c02 += v * b2; c03 += v * b3;
    v = a[ia + K]!;
    c10 += v * b0; c11 += v * b1; c12 += v * b2; c13 += v * b3;
  }
  c[ic] = c00; c[ic + 1] = c01; c[ic + 2] = c02; c[ic + 3] = c03; ic += N;
  c[ic] = c10; c[ic + 1] = c11; c[ic + 2] = c12; c[ic + 3] = c13;
}

/** 4x1 tile: four rows of A against one column of B (column remainders). */
function tile4x1(K: number, a: NumArray, ia: number, b: NumArray, ib: number, rsB: number, c: NumArray, ic: number, N: number): void {
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  const K2 = 2 * K, K3 = 3 * K;
  for (let k = 0; k < K; k++, ia++, ib += rsB) {
    const v = b[ib]!;
    c0 += a[ia]! * v; c1 += a[ia + K]! * v; c2 += a[ia + K2]! * v; c3 += a[ia + K3]! * v;
  }
  c[ic] = c0; c[ic + N] = c1; c[ic + 2 * N] = c2; c[ic + 3 * N] = c3;
}

/**
 * 4x4 register tiles read straight from A and B through their strides (no packing); 2x4/1x8/1x4/4x1/1x1 at the edges.
 * `ldc` (default N) is C's row stride, so that a product can fill a block of a wider matrix (conv2d's output bands).
 */
export function matmulTiled(M: number, N: number, K: number, a: NumArray, aOff: number, b: NumArray, bOff: number, transB: boolean, c: NumArray, cOff: number, ldc = N): void {
  const [rsB, csB] = bStrides(N, K, transB);
  const M4 = M - (M % 4), N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const ia = aOff + i * K;
    for (let j = 0; j < N4; j += 4) tile4x4(K, a, ia, b, bOff + j * csB, rsB, csB, c, cOff + i * ldc + j, ldc);
    for (let j = N4; j < N; j++) tile4x1(K, a, ia, b, bOff + j * csB, rsB, c, cOff + i * ldc + j, ldc);
  }
  const M2 = M - M4 >= 2 ? M4 + 2 : M4;
  if (M2 > M4) for (let j = 0; j < N4; j += 4) tile2x4(K, a, aOff + M4 * K, b, bOff + j * csB, rsB, csB, c, cOff + M4 * ldc + j, ldc);
  for (let i = M4; i < M; i++) {
    const ia = aOff + i * K;
    if (i >= M2) {
      let j = 0;
      for (; j + 8 <= N4; j += 8) tile1x8(K, a, ia, b, bOff + j * csB, rsB, csB, c, cOff + i * ldc + j);
      for (; j < N4; j += 4) tile1x4(K, a, ia, b, bOff + j * csB, rsB, csB, c, cOff + i * ldc + j);
    }
    for (let j = N4; j < N; j++) {
      let s = 0;
      for (let k = 0, p = ia, q = bOff + j * csB; k < K; k++, p++, q += rsB) s += a[p]! * b[q]!;
      c[cOff + i * ldc + j] = s;
    }
  }
}

// ---- packed, cache-blocked GEMM (GotoBLAS-style) ----

/** Block sizes: KC deep slices of A and B; MC rows of A packed per block (L2); NC columns of B packed per block. */
const KC = 256, MC = 64, NC = 512;
let packA = new Float64Array(0);
let packB = new Float64Array(0);
const tileBuf = new Float64Array(16);

/** Copy A[i0.., k0..k0+kc] into 4-row panels, k-major (4 values per k), zero-padding missing rows. */
function packPanelsA(a: NumArray, aOff: number, K: number, i0: number, mc: number, k0: number, kc: number, M: number): void {
  for (let ip = 0; ip < mc; ip += 4) {
    const base = ip * kc;
    for (let r = 0; r < 4; r++) {
      const i = i0 + ip + r;
      let q = base + r;
      if (i < M) for (let k = 0, p = aOff + i * K + k0; k < kc; k++, p++, q += 4) packA[q] = a[p]!;
      else for (let k = 0; k < kc; k++, q += 4) packA[q] = 0;
    }
  }
}

/** Copy B[k0..k0+kc, j0..j0+nc] into 4-column panels, k-major, zero-padding missing columns. */
function packPanelsB(b: NumArray, bOff: number, rsB: number, csB: number, j0: number, nc: number, k0: number, kc: number, N: number): void {
  for (let jp = 0; jp < nc; jp += 4) {
    const base = jp * kc;
    for (let s = 0; s < 4; s++) {
      const j = j0 + jp + s;
      let q = base + s;
      if (j < N) for (let k = 0, p = bOff + k0 * rsB + j * csB; k < kc; k++, p += rsB, q += 4) packB[q] = b[p]!;
      else for (let k = 0; k < kc; k++, q += 4) packB[q] = 0;
    }
  }
}

/** The inner kernel: a 4x4 tile over kc steps from packed panels at pa, pb, into tileBuf (16 accumulators). */
function micro4x4(kc: number, pa: number, pb: number): void {
  const A = packA, B = packB;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let k = 0; k < kc; k++, pa += 4, pb += 4) {
    const b0 = B[pb]!, b1 = B[pb + 1]!, b2 = B[pb + 2]!, b3 = B[pb + 3]!;
    let v = A[pa]!;
    c00 += v * b0; c01 += v * b1; c02 += v * b2; c03 += v * b3;
    v = A[pa + 1]!;
    c10 += v * b0; c11 += v * b1; c12 += v * b2; c13 += v * b3;
    v = A[pa + 2]!;
    c20 += v * b0; c21 += v * b1; c22 += v * b2; c23 += v * b3;
    v = A[pa + 3]!;
    c30 += v * b0; c31 += v * b1; c32 += v * b2; c33 += v * b3;
  }
  const t = tileBuf;
  t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03; t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
  t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23; t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
}

/** Write (first K block) or add tileBuf's h x w corner into C at ic. */
function storeTile(c: NumArray, ic: number, N: number, h: number, w: number, first: boolean): void {
  const t = tileBuf;
  for (let r = 0; r < h; r++, ic += N) {
    const tr = r * 4;
    if (first) for (let s = 0; s < w; s++) c[ic + s] = t[tr + s]!;
    else for (let s = 0; s < w; s++) c[ic + s] += t[tr + s]!;
  }
}

/** Packed panels (float64) + 4x4 register tile + K/M/N cache blocking, GotoBLAS-style; any strides via packing. */
export const matmulPacked: Gemm = (M, N, K, a, aOff, b, bOff, transB, c, cOff) => {
  const [rsB, csB] = bStrides(N, K, transB);
  if (K === 0) { c.fill(0, cOff, cOff + M * N); return; }
  if (packA.length < MC * KC) packA = new Float64Array(MC * KC);
  const ncMax = Math.min(NC, (N + 3) & ~3);
  if (packB.length < ncMax * KC) packB = new Float64Array(ncMax * KC);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    const first = k0 === 0;
    for (let j0 = 0; j0 < N; j0 += NC) {
      const nc = Math.min(NC, N - j0);
      packPanelsB(b, bOff, rsB, csB, j0, nc, k0, kc, N);
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = Math.min(MC, M - i0);
        packPanelsA(a, aOff, K, i0, mc, k0, kc, M);
        for (let jp = 0; jp < nc; jp += 4) {
          const w = Math.min(4, nc - jp);
          for (let ip = 0; ip < mc; ip += 4) {
            micro4x4(kc, ip * kc, jp * kc);
            storeTile(c, cOff + (i0 + ip) * N + j0 + jp, N, Math.min(4, mc - ip), w, first);
          }
        }
      }
    }
  }
};

/**
 * Below this many multiply-adds, or with a thin operand, the unpacked tiles win: packing costs more than it saves.
 * With transB (x·Wᵀ in linear) both operands are contiguous along K, so unpacked tiles keep up to M = 64.
 */
const PACK_MIN_WORK = 64 * 64 * 64;

/** The product the kernels use: unpacked tiles for thin or small products, packed blocking otherwise. */
export const gemm: Gemm = (M, N, K, a, aOff, b, bOff, transB, c, cOff) => {
  if (M === 0 || N === 0) return;
  if (K === 0) { c.fill(0, cOff, cOff + M * N); return; }
  if (M < 8 || N < 8 || M * N * K < PACK_MIN_WORK || (transB && M <= 64)) matmulTiled(M, N, K, a, aOff, b, bOff, transB, c, cOff);
  else matmulPacked(M, N, K, a, aOff, b, bOff, transB, c, cOff);
};

/** Every product variant with what it changes, for the benchmark and tests. */
export const MATMUL_VARIANTS: Record<string, { fn: Gemm; description: string }> = {
  naive: { fn: matmulNaive, description: 'textbook i-j-k triple loop, one dot product per output' },
  ikj: { fn: matmulIkj, description: 'i-k-j loop order: streams rows of B into a row accumulator, no tiling' },
  tiled: { fn: matmulTiled, description: '4x4 register tile (16 local accumulators) read straight from the inputs, no packing' },
  packed: { fn: matmulPacked, description: 'tiles + float64 packed panels + KC/MC/NC cache blocking (GotoBLAS-style)' },
  auto: { fn: gemm, description: 'what the kernel uses: tiled for thin/small products, packed otherwise' },
};

/** A batched matmul kernel from a product: a [Ba, M, K] · b [Bb, K, N] (or [Bb, N, K]) -> out [B, M, N]. */
export function batchedMatmul(prod: Gemm): CpuKernel<{ transB: boolean }> {
  return ([out], [a, b], { transB }) => {
    const [Bt, M, N] = out!.shape as [number, number, number];
    const K = a!.shape[2]!;
    const aStep = a!.shape[0] === 1 ? 0 : M * K;
    const bStep = b!.shape[0] === 1 ? 0 : K * N;
    for (let i = 0; i < Bt; i++) prod(M, N, K, a!.data, a!.offset + i * aStep, b!.data, b!.offset + i * bStep, transB, out!.data, i * M * N);
  };
}

/** matmul kernel: contiguous a [Ba, M, K], b [Bb, K, N] or [Bb, N, K] (transB) -> [B, M, N]. */
export const matmul = batchedMatmul(gemm);
