// The int8 products under the CPU INT8 kernels: int32 dot products of int8 rows (4 int8 read per 32-bit word, split
// with shifts: (u << 24) >> 24 .. u >> 24 are its signed bytes, little-endian), register-tiled (2x4) like the
// float tiles of matmul.ts, and their weight-only float twins.
// Legend: A [M, Kp] = int8 activation rows (or float rows), B [N, Kp] = int8 weight rows, both read as words,
// Kw = Kp / 4 words per row, C [M, N] = A · Bᵀ; a K slice [kw0, kw1) (in words) serves Q8_0 blocks.

/** A view of int8 rows as 32-bit words (4 values each, little-endian): the data itself when 4-byte aligned, else a copy. */
export function int8Words(data: Int8Array, offset: number, length: number): Int32Array {
  const byte = data.byteOffset + offset;
  if (byte % 4 === 0) return new Int32Array(data.buffer, byte, length >> 2);
  const copy = new Int8Array(length);
  copy.set(data.subarray(offset, offset + length));
  return new Int32Array(copy.buffer);
}

/**
 * C[i, j] = Σ over words kw0..kw1 of A[i] · B[j] in int32, written to c [M, N] (row-major). A and B are int8 rows
 * read as words: A row i starts at word i·Kw, B row j at word j·Kw. 2x4 tiles (single dots at the last columns),
 * and a column-major matrix-vector pass for an odd last row (M = 1). Index sums are written `(a + b) | 0` so
 * that V8 drops their overflow checks.
 */
export function dotsI8(M: number, N: number, Kw: number, a: Int32Array, b: Int32Array, kw0: number, kw1: number, c: Int32Array): void {
  const M2 = M - (M % 2), N4 = N - (N % 4);
  for (let i = 0; i < M2; i += 2) {
    for (let j = 0; j < N4; j += 4) tile2x4(a, i * Kw, b, j * Kw, Kw, kw0, kw1, c, i * N + j, N);
  }
  if (M2 < M) rowTimesRows(a, M2 * Kw, b, N, Kw, kw0, kw1, c, M2 * N);
  if (N4 < N) {
    for (let i = 0; i < M2; i++) for (let j = N4; j < N; j++) c[i * N + j] = dot1(a, i * Kw, b, j * Kw, kw0, kw1);
  }
}

/** One int32 dot product of two word rows. */
function dot1(a: Int32Array, ia: number, b: Int32Array, ib: number, kw0: number, kw1: number): number {
  let s = 0;
  for (let kw = kw0, p = (ia + kw0) | 0, q = (ib + kw0) | 0; kw < kw1; kw = (kw + 1) | 0, p = (p + 1) | 0, q = (q + 1) | 0) {
    const v = a[p]!, u = b[q]!;
    s = (s + Math.imul((v << 24) >> 24, (u << 24) >> 24) + Math.imul((v << 16) >> 24, (u << 16) >> 24) + Math.imul((v << 8) >> 24, (u << 8) >> 24) + Math.imul(v >> 24, u >> 24)) | 0;
  }
  return s;
}

/**
 * Rows of B per pass of rowTimesRows: their cache lines at one column stay in L1 for the next columns. Kept small
 * because rows a power of two apart (K = 1024, 2048) fall into the same few L1 sets.
 */
const ROW_BLOCK = 32;
let rowSums = new Int32Array(ROW_BLOCK);

/**
 * One A row against every B row (matrix-vector), column-major over words: two A words are split once into eight
 * values for a whole block of B rows, whose running int32 sums live in a small array (few live values, so V8
 * keeps them in registers). Writes c[ic + j] for j < N.
 */
function rowTimesRows(a: Int32Array, ia: number, b: Int32Array, N: number, Kw: number, kw0: number, kw1: number, c: Int32Array, ic: number): void {
  if (rowSums.length < ROW_BLOCK) rowSums = new Int32Array(ROW_BLOCK);
  const acc = rowSums;
  const kPair = kw1 - ((kw1 - kw0) % 2);
  for (let j0 = 0; j0 < N; j0 += ROW_BLOCK) {
    const nr = Math.min(ROW_BLOCK, N - j0);
    acc.fill(0, 0, nr);
    for (let kw = kw0; kw < kPair; kw += 2) {
      const v = a[ia + kw]!, t = a[ia + kw + 1]!;
      const x0 = (v << 24) >> 24, x1 = (v << 16) >> 24, x2 = (v << 8) >> 24, x3 = v >> 24;
      const x4 = (t << 24) >> 24, x5 = (t << 16) >> 24, x6 = (t << 8) >> 24, x7 = t >> 24;
      for (let j = 0, q = j0 * Kw + kw; j < nr; j = (j + 1) | 0, q = (q + Kw) | 0) {
        const u = b[q]!, w = b[(q + 1) | 0]!;
        acc[j] = (acc[j]! + Math.imul(x0, (u << 24) >> 24) + Math.imul(x1, (u << 16) >> 24) + Math.imul(x2, (u << 8) >> 24) + Math.imul(x3, u >> 24)
          + Math.imul(x4, (w << 24) >> 24) + Math.imul(x5, (w << 16) >> 24) + Math.imul(x6, (w << 8) >> 24) + Math.imul(x7, w >> 24)) | 0;
      }
    }
    if (kPair < kw1) {
      const v = a[ia + kPair]!;
      const x0 = (v << 24) >> 24, x1 = (v << 16) >> 24, x2 = (v << 8) >> 24, x3 = v >> 24;
      for (let j = 0, q = j0 * Kw + kPair; j < nr; j = (j + 1) | 0, q = (q + Kw) | 0) {
        const u = b[q]!;
        acc[j] = (acc[j]! + Math.imul(x0, (u << 24) >> 24) + Math.imul(x1, (u << 16) >> 24) + Math.imul(x2, (u << 8) >> 24) + Math.imul(x3, u >> 24)) | 0;
      }
    }
    for (let j = 0; j < nr; j++) c[ic + j0 + j] = acc[j]!;
  }
}

/** 2x4 tile: two A rows against four B rows; each B word is split once per two A rows. */
function tile2x4(a: Int32Array, ia: number, b: Int32Array, ib: number, Kw: number, kw0: number, kw1: number, c: Int32Array, ic: number, N: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  const K2 = 2 * Kw, K3 = 3 * Kw, d = ia - ib, qEnd = ib + kw1;
  for (let q = ib + kw0; q < qEnd; q = (q + 1) | 0) {
    const u0 = b[q]!, u1 = b[(q + Kw) | 0]!, u2 = b[(q + K2) | 0]!, u3 = b[(q + K3) | 0]!;
    const p = (q + d) | 0;
    const v = a[p]!, t = a[(p + Kw) | 0]!;
    let b0 = (u0 << 24) >> 24, b1 = (u1 << 24) >> 24, b2 = (u2 << 24) >> 24, b3 = (u3 << 24) >> 24;
    let x = (v << 24) >> 24, y = (t << 24) >> 24;
    c00 = (c00 + Math.imul(x, b0)) | 0; c01 = (c01 + Math.imul(x, b1)) | 0; c02 = (c02 + Math.imul(x, b2)) | 0; c03 = (c03 + Math.imul(x, b3)) | 0;
    c10 = (c10 + Math.imul(y, b0)) | 0; c11 = (c11 + Math.imul(y, b1)) | 0; c12 = (c12 + Math.imul(y, b2)) | 0; c13 = (c13 + Math.imul(y, b3)) | 0;
    b0 = (u0 << 16) >> 24; b1 = (u1 << 16) >> 24; b2 = (u2 << 16) >> 24; b3 = (u3 << 16) >> 24;
    x = (v << 16) >> 24; y = (t << 16) >> 24;
    c00 = (c00 + Math.imul(x, b0)) | 0; c01 = (c01 + Math.imul(x, b1)) | 0; c02 = (c02 + Math.imul(x, b2)) | 0; c03 = (c03 + Math.imul(x, b3)) | 0;
    c10 = (c10 + Math.imul(y, b0)) | 0; c11 = (c11 + Math.imul(y, b1)) | 0; c12 = (c12 + Math.imul(y, b2)) | 0; c13 = (c13 + Math.imul(y, b3)) | 0;
    b0 = (u0 << 8) >> 24; b1 = (u1 << 8) >> 24; b2 = (u2 << 8) >> 24; b3 = (u3 << 8) >> 24;
    x = (v << 8) >> 24; y = (t << 8) >> 24;
    c00 = (c00 + Math.imul(x, b0)) | 0; c01 = (c01 + Math.imul(x, b1)) | 0; c02 = (c02 + Math.imul(x, b2)) | 0; c03 = (c03 + Math.imul(x, b3)) | 0;
    c10 = (c10 + Math.imul(y, b0)) | 0; c11 = (c11 + Math.imul(y, b1)) | 0; c12 = (c12 + Math.imul(y, b2)) | 0; c13 = (c13 + Math.imul(y, b3)) | 0;
    b0 = u0 >> 24; b1 = u1 >> 24; b2 = u2 >> 24; b3 = u3 >> 24;
    x = v >> 24; y = t >> 24;
    c00 = (c00 + Math.imul(x, b0)) | 0; c01 = (c01 + Math.imul(x, b1)) | 0; c02 = (c02 + Math.imul(x, b2)) | 0; c03 = (c03 + Math.imul(x, b3)) | 0;
    c10 = (c10 + Math.imul(y, b0)) | 0; c11 = (c11 + Math.imul(y, b1)) | 0; c12 = (c12 + Math.imul(y, b2)) | 0; c13 = (c13 + Math.imul(y, b3)) | 0;
  }
  c[ic] = c00; c[ic + 1] = c01; c[ic + 2] = c02; c[ic + 3] = c03; ic += N;
  c[ic] = c10; c[ic + 1] = c11; c[ic + 2] = c12; c[ic + 3] = c13;
}

/**
 * Q8_0 product: f[i, j] = Σ over blocks of int32(A[i] · B[j] over the block) · xs[i, blk] · ws[j, blk], the int
 * sums of each block of `bw` words scaled in float64 as they complete. xs [M, nb] and ws [N, nb] at offsets.
 */
export function dotsQ8(M: number, N: number, Kw: number, bw: number, a: Int32Array, b: Int32Array, xs: ArrayLike<number>, xso: number, ws: ArrayLike<number>, wso: number, f: Float64Array): void {
  const nb = Kw / bw, N4 = N - (N % 4);
  for (let i = 0; i < M; i++) {
    const ia = i * Kw, xr = xso + i * nb;
    for (let j = 0; j < N4; j += 4) {
      let f0 = 0, f1 = 0, f2 = 0, f3 = 0;
      const ib = j * Kw, K2 = 2 * Kw, K3 = 3 * Kw, w0 = wso + j * nb;
      for (let blk = 0; blk < nb; blk++) {
        let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        const qEnd = ib + (blk + 1) * bw, d = ia - ib;
        for (let q = ib + blk * bw; q < qEnd; q = (q + 1) | 0) {
          const v = a[(q + d) | 0]!;
          const x0 = (v << 24) >> 24, x1 = (v << 16) >> 24, x2 = (v << 8) >> 24, x3 = v >> 24;
          const u0 = b[q]!, u1 = b[(q + Kw) | 0]!, u2 = b[(q + K2) | 0]!, u3 = b[(q + K3) | 0]!;
          c0 = (c0 + Math.imul(x0, (u0 << 24) >> 24) + Math.imul(x1, (u0 << 16) >> 24) + Math.imul(x2, (u0 << 8) >> 24) + Math.imul(x3, u0 >> 24)) | 0;
          c1 = (c1 + Math.imul(x0, (u1 << 24) >> 24) + Math.imul(x1, (u1 << 16) >> 24) + Math.imul(x2, (u1 << 8) >> 24) + Math.imul(x3, u1 >> 24)) | 0;
          c2 = (c2 + Math.imul(x0, (u2 << 24) >> 24) + Math.imul(x1, (u2 << 16) >> 24) + Math.imul(x2, (u2 << 8) >> 24) + Math.imul(x3, u2 >> 24)) | 0;
          c3 = (c3 + Math.imul(x0, (u3 << 24) >> 24) + Math.imul(x1, (u3 << 16) >> 24) + Math.imul(x2, (u3 << 8) >> 24) + Math.imul(x3, u3 >> 24)) | 0;
        }
        const sx = xs[xr + blk]!;
        f0 += c0 * sx * ws[w0 + blk]!;
        f1 += c1 * sx * ws[w0 + nb + blk]!;
        f2 += c2 * sx * ws[w0 + 2 * nb + blk]!;
        f3 += c3 * sx * ws[w0 + 3 * nb + blk]!;
      }
      const o = i * N + j;
      f[o] = f0; f[o + 1] = f1; f[o + 2] = f2; f[o + 3] = f3;
    }
    for (let j = N4; j < N; j++) {
      let s = 0;
      for (let blk = 0; blk < nb; blk++) s += dot1(a, ia, b, j * Kw, blk * bw, (blk + 1) * bw) * xs[xr + blk]! * ws[wso + j * nb + blk]!;
      f[i * N + j] = s;
    }
  }
}

/**
 * Weight-only twin of dotsI8: C[i, j] = Σ over elements k0..k1 of A[i, k] · B[j, k] in float64, A float rows
 * (stride lda, from aOff), B int8 rows read as words (k0, k1 multiples of 4 except that k1 may end at K).
 */
export function dotsW8(M: number, N: number, Kw: number, a: ArrayLike<number>, aOff: number, lda: number, b: Int32Array, k0: number, k1: number, c: Float64Array): void {
  const N4 = N - (N % 4);
  const kFull = k1 - (k1 % 4);
  for (let i = 0; i < M; i++) {
    const ia = aOff + i * lda;
    for (let j = 0; j < N4; j += 4) {
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      const q0 = j * Kw;
      for (let k = k0, q = q0 + (k0 >> 2); k < kFull; k += 4, q++) {
        const x0 = a[ia + k]!, x1 = a[ia + k + 1]!, x2 = a[ia + k + 2]!, x3 = a[ia + k + 3]!;
        let u = b[q]!;
        c0 += x0 * ((u << 24) >> 24) + x1 * ((u << 16) >> 24) + x2 * ((u << 8) >> 24) + x3 * (u >> 24);
        u = b[q + Kw]!;
        c1 += x0 * ((u << 24) >> 24) + x1 * ((u << 16) >> 24) + x2 * ((u << 8) >> 24) + x3 * (u >> 24);
        u = b[q + 2 * Kw]!;
        c2 += x0 * ((u << 24) >> 24) + x1 * ((u << 16) >> 24) + x2 * ((u << 8) >> 24) + x3 * (u >> 24);
        u = b[q + 3 * Kw]!;
        c3 += x0 * ((u << 24) >> 24) + x1 * ((u << 16) >> 24) + x2 * ((u << 8) >> 24) + x3 * (u >> 24);
      }
      for (let k = kFull; k < k1; k++) {
        const x = a[ia + k]!, sh = 24 - 8 * (k & 3), q = q0 + (k >> 2);
        c0 += x * ((b[q]! << sh) >> 24); c1 += x * ((b[q + Kw]! << sh) >> 24);
        c2 += x * ((b[q + 2 * Kw]! << sh) >> 24); c3 += x * ((b[q + 3 * Kw]! << sh) >> 24);
      }
      const ic = i * N + j;
      c[ic] = c0; c[ic + 1] = c1; c[ic + 2] = c2; c[ic + 3] = c3;
    }
    for (let j = N4; j < N; j++) {
      let s = 0;
      for (let k = k0, q0 = j * Kw; k < k1; k++) s += a[ia + k]! * ((b[q0 + (k >> 2)]! << (24 - 8 * (k & 3))) >> 24);
      c[i * N + j] = s;
    }
  }
}
