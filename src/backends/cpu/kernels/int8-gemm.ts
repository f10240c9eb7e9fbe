// The Q8_0 and weight-only int8 products of the CPU INT8 kernels: int32 dot products of int8 rows read 4 per 32-bit
// word (split with shifts: (u << 24) >> 24 .. u >> 24 are its signed bytes, little-endian), and the float twin.
// Per-channel int8 x int8 products (linearInt8 with block 0, conv2dInt8) use int8-packed.ts instead.
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
