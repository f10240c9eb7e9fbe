// INT8 formats on plain typed arrays: symmetric int8 rows with one scale per row (per output channel) or per
// Q8_0 block of QK8_0 = 32 values (ggml's names: a block has a scale `d` and quants `qs`; here the quants of all
// blocks form one int8 array [rows, Kp] and the scales another [rows, nb]). The CPU kernel and the weight
// quantizer both use quantizeBlock, so the two agree bit for bit.

/** Values per Q8_0 block (ggml's QK8_0). */
export const QK8_0 = 32;

/** How weights are quantized: one scale per output channel (row), or one per Q8_0 block of 32 values. */
export type WeightScheme = 'per-channel' | 'q8_0';

/** Scales below the smallest normal float32 mark an all-zero row or block: its scale becomes 1 (so q = 0). */
export const MIN_SCALE = 2 ** -126;

/** Round half away from zero (C's roundf, as ggml rounds). @example roundHalfAway(-2.5) // -3 */
export function roundHalfAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/**
 * Quantize src[srcOff .. srcOff+n) into dst[dstOff ..) with q = round(v / s) clamped to ±127 and returns s:
 * `fixed` when > 0, else max|v| / 127 as a float32 (1 when that is below MIN_SCALE). Values holding NaN or ±Inf
 * give NaN and zero quants.
 *
 * @example const d = quantizeBlock(row, 0, 32, qs, 0, 0);
 */
export function quantizeBlock(src: ArrayLike<number>, srcOff: number, n: number, dst: Int8Array | Int32Array | Float32Array, dstOff: number, fixed: number): number {
  let amax = 0, chk = 0;
  for (let i = 0; i < n; i++) {
    const v = src[srcOff + i]!;
    const a = Math.abs(v);
    if (a > amax) amax = a;
    chk += v * 0; // NaN when v is NaN or ±Inf
  }
  if (chk !== 0) {
    dst.fill(0, dstOff, dstOff + n);
    return NaN;
  }
  let s = fixed > 0 ? Math.fround(fixed) : Math.fround(amax / 127);
  if (s < MIN_SCALE) s = 1;
  for (let i = 0; i < n; i++) {
    const r = src[srcOff + i]! / s;
    const a = r < 0 ? -r : r;
    const k = a >= 127 ? 127 : Math.round(a); // half away from zero, on |r|
    dst[dstOff + i] = r < 0 ? -k : k;
  }
  return s;
}

/** Padded row length: a multiple of the block (Q8_0) or of 4 (per row), so that rows start on 32-bit words. @example paddedLength(9, 0) // 12 */
export function paddedLength(k: number, block: number): number {
  const m = block > 0 ? block : 4;
  return Math.ceil(k / m) * m;
}

/** Int8 rows and their scales: qs [rows, kp], d [rows, nb]. */
export interface QuantizedRows {
  qs: Int8Array;
  d: Float32Array;
  rows: number;
  k: number;
  kp: number;
  /** 0: one scale per row; else values per block. */
  block: number;
}

/**
 * Reference quantizer: rows of x [rows, k] (row-major) -> int8 quants padded to kp and scales per row or block.
 *
 * @example const { qs, d } = quantizeRowsRef(weights, 128, 64, 0); // per output channel
 */
export function quantizeRowsRef(x: ArrayLike<number>, rows: number, k: number, block: number): QuantizedRows {
  const kp = paddedLength(k, block);
  const bl = block > 0 ? block : kp;
  const nb = kp / bl;
  const qs = new Int8Array(rows * kp);
  const d = new Float32Array(rows * nb);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const k0 = b * bl, n = Math.max(0, Math.min(k, k0 + bl) - k0);
      d[r * nb + b] = quantizeBlock(x, r * k + k0, n, qs, r * kp + k0, 0);
    }
  }
  return { qs, d, rows, k, kp, block };
}

/**
 * Requantize `q` with its scales rounded to float16 (ggml stores Q8_0 scales as fp16); false (and `q` unchanged)
 * when a scale falls outside float16's normal range.
 *
 * @example if (roundScalesToF16(q, weights, (v) => f16ToF32(f32ToF16(v)))) storeAsF16(q.d);
 */
export function roundScalesToF16(q: QuantizedRows, x: ArrayLike<number>, toF16: (v: number) => number): boolean {
  const nb = q.d.length / q.rows, bl = q.block > 0 ? q.block : q.kp;
  for (const s of q.d) if (!(s === 1 || (s >= 2 ** -14 && s <= 65504))) return false;
  for (let r = 0; r < q.rows; r++) {
    for (let b = 0; b < nb; b++) {
      const k0 = b * bl, n = Math.max(0, Math.min(q.k, k0 + bl) - k0);
      const s16 = toF16(q.d[r * nb + b]!);
      q.d[r * nb + b] = quantizeBlock(x, r * q.k + k0, n, q.qs, r * q.kp + k0, s16);
    }
  }
  return true;
}

/**
 * Back to float: x[r, i] = qs[r, i] · d[r, block of i] for i < k.
 *
 * @example const w = dequantizeRowsRef(q); // Float32Array [rows, k]
 */
export function dequantizeRowsRef(q: QuantizedRows): Float32Array {
  const { qs, d, rows, k, kp, block } = q;
  const nb = d.length / rows, bl = block > 0 ? block : kp;
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) for (let i = 0; i < k; i++) out[r * k + i] = qs[r * kp + i]! * d[r * nb + Math.floor(i / bl)]!;
  return out;
}
