// Reference dequantizers of ggml's block formats, named like ggml's dequantize_row_* (one row of `k` values from
// its blocks' bytes): Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, the K-quants Q2_K .. Q8_K, and F16, BF16, F32. Each product is
// rounded to float32 in the order gguf-py's numpy dequantizer uses, so the results match it bit for bit.
import { f16ToF32 } from '../../tensor/dtype.js';
import { GGML_TYPES, type GgmlTypeName } from './types.js';

const f = Math.fround;
const QK_K = 256;

function h(b: Uint8Array, o: number): number {
  return f16ToF32(b[o]! | (b[o + 1]! << 8));
}

function check(name: GgmlTypeName, x: Uint8Array, k: number): Float32Array {
  const t = GGML_TYPES[name];
  if (!Number.isInteger(k) || k < 0 || k % t.blockSize !== 0) throw new RangeError(`forwardpass: dequantizeRow${name}Ref: k = ${k} must be a multiple of ${t.blockSize}`);
  const need = (k / t.blockSize) * t.typeSize;
  if (x.length < need) throw new RangeError(`forwardpass: dequantizeRow${name}Ref: ${k} values need ${need} bytes, got ${x.length}`);
  return new Float32Array(k);
}

/** Q8_0: f16 d, 32 int8 qs; y = d · qs. @example dequantizeRowQ8_0Ref(bytes, 64) */
export function dequantizeRowQ8_0Ref(x: Uint8Array, k: number): Float32Array {
  const y = check('Q8_0', x, k);
  for (let b = 0, o = 0; b < k / 32; b++, o += 34) {
    const d = h(x, o);
    for (let j = 0; j < 32; j++) y[b * 32 + j] = f(d * ((x[o + 2 + j]! << 24) >> 24));
  }
  return y;
}

/** Q4_0: f16 d, 16 bytes; y[j] = d · (lo nibble - 8), y[j + 16] = d · (hi nibble - 8). */
export function dequantizeRowQ4_0Ref(x: Uint8Array, k: number): Float32Array {
  const y = check('Q4_0', x, k);
  for (let b = 0, o = 0; b < k / 32; b++, o += 18) {
    const d = h(x, o);
    for (let j = 0; j < 16; j++) {
      const q = x[o + 2 + j]!;
      y[b * 32 + j] = f(d * ((q & 15) - 8));
      y[b * 32 + j + 16] = f(d * ((q >> 4) - 8));
    }
  }
  return y;
}

/** Q4_1: f16 d, f16 m, 16 bytes; y = d · nibble + m. */
export function dequantizeRowQ4_1Ref(x: Uint8Array, k: number): Float32Array {
  const y = check('Q4_1', x, k);
  for (let b = 0, o = 0; b < k / 32; b++, o += 20) {
    const d = h(x, o), m = h(x, o + 2);
    for (let j = 0; j < 16; j++) {
      const q = x[o + 4 + j]!;
      y[b * 32 + j] = f(f(d * (q & 15)) + m);
      y[b * 32 + j + 16] = f(f(d * (q >> 4)) + m);
    }
  }
  return y;
}

function q5(x: Uint8Array, k: number, name: 'Q5_0' | 'Q5_1'): Float32Array {
  const y = check(name, x, k);
  const one = name === 'Q5_1';
  const size = one ? 24 : 22;
  for (let b = 0, o = 0; b < k / 32; b++, o += size) {
    const d = h(x, o), m = one ? h(x, o + 2) : 0;
    const p = o + (one ? 4 : 2);
    const qh = (x[p]! | (x[p + 1]! << 8) | (x[p + 2]! << 16) | (x[p + 3]! << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const q = x[p + 4 + j]!;
      const lo = (q & 15) | (((qh >>> j) & 1) << 4);
      const hi = (q >> 4) | (((qh >>> (j + 16)) & 1) << 4);
      y[b * 32 + j] = one ? f(f(d * lo) + m) : f(d * (lo - 16));
      y[b * 32 + j + 16] = one ? f(f(d * hi) + m) : f(d * (hi - 16));
    }
  }
  return y;
}

/** Q5_0: f16 d, 32 high bits qh, 16 bytes of low nibbles; y = d · (q - 16). */
export const dequantizeRowQ5_0Ref = (x: Uint8Array, k: number) => q5(x, k, 'Q5_0');
/** Q5_1: f16 d, f16 m, qh, 16 bytes; y = d · q + m. */
export const dequantizeRowQ5_1Ref = (x: Uint8Array, k: number) => q5(x, k, 'Q5_1');

/** Q2_K: 16 scale bytes (4-bit scale, 4-bit min), 64 bytes of 2-bit quants, f16 d, f16 dmin. */
export function dequantizeRowQ2_KRef(x: Uint8Array, k: number): Float32Array {
  const y = check('Q2_K', x, k);
  for (let b = 0, o = 0; b < k / QK_K; b++, o += 84) {
    const d = h(x, o + 80), dmin = h(x, o + 82);
    let yi = b * QK_K, is = 0;
    for (let n = 0; n < 2; n++) {
      const q = o + 16 + 32 * n;
      for (let shift = 0; shift < 8; shift += 2) {
        for (let half = 0; half < 2; half++) {
          const sc = x[o + is++]!;
          const dl = f(d * (sc & 15)), ml = f(dmin * (sc >> 4));
          for (let l = 0; l < 16; l++) y[yi++] = f(f(dl * ((x[q + 16 * half + l]! >> shift) & 3)) - ml);
        }
      }
    }
  }
  return y;
}

/** Q3_K: 32 bytes of high bits, 64 bytes of 2-bit quants, 12 bytes of 6-bit scales, f16 d; y = d · (s - 32) · q. */
export function dequantizeRowQ3_KRef(x: Uint8Array, k: number): Float32Array {
  const y = check('Q3_K', x, k);
  for (let b = 0, o = 0; b < k / QK_K; b++, o += 110) {
    const d = h(x, o + 108);
    const s = x.subarray(o + 96, o + 108);
    const sc = new Int32Array(16);
    for (let j = 0; j < 16; j++) {
      const low = j < 8 ? s[j]! & 15 : s[j - 8]! >> 4;
      const high = (s[8 + (j % 4)]! >> (2 * Math.floor(j / 4))) & 3;
      sc[j] = (low | (high << 4)) - 32;
    }
    let yi = b * QK_K, is = 0, m = 1;
    for (let n = 0; n < 2; n++) {
      const q = o + 32 + 32 * n;
      for (let shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (let half = 0; half < 2; half++) {
          const dl = f(d * sc[is++]!);
          for (let l = 0; l < 16; l++) {
            const i = 16 * half + l;
            const v = ((x[q + i]! >> shift) & 3) - (x[o + i]! & m ? 0 : 4);
            y[yi++] = f(dl * v);
          }
        }
      }
    }
  }
  return y;
}

/** ggml's get_scale_min_k4: 6-bit scale and min j (0-7) from the 12 packed bytes at `p`. */
function scaleMin(x: Uint8Array, p: number, j: number): [number, number] {
  if (j < 4) return [x[p + j]! & 63, x[p + j + 4]! & 63];
  return [(x[p + j + 4]! & 15) | ((x[p + j - 4]! >> 6) << 4), (x[p + j + 4]! >> 4) | ((x[p + j]! >> 6) << 4)];
}

function qk45(x: Uint8Array, k: number, name: 'Q4_K' | 'Q5_K'): Float32Array {
  const y = check(name, x, k);
  const five = name === 'Q5_K';
  const size = five ? 176 : 144;
  for (let b = 0, o = 0; b < k / QK_K; b++, o += size) {
    const d = h(x, o), dmin = h(x, o + 2);
    const qh = o + 16, ql0 = o + (five ? 48 : 16);
    let yi = b * QK_K;
    for (let j = 0; j < 4; j++) {
      const ql = ql0 + 32 * j;
      for (let half = 0; half < 2; half++) {
        const [sc, mn] = scaleMin(x, o + 4, 2 * j + half);
        const d1 = f(d * sc), m1 = f(dmin * mn);
        const bit = 1 << (2 * j + half);
        for (let l = 0; l < 32; l++) {
          let q = half ? x[ql + l]! >> 4 : x[ql + l]! & 15;
          if (five && x[qh + l]! & bit) q += 16;
          y[yi++] = f(f(d1 * q) - m1);
        }
      }
    }
  }
  return y;
}

/** Q4_K: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles; y = d · s · q - dmin · m. */
export const dequantizeRowQ4_KRef = (x: Uint8Array, k: number) => qk45(x, k, 'Q4_K');
/** Q5_K: as Q4_K plus 32 bytes of fifth bits. */
export const dequantizeRowQ5_KRef = (x: Uint8Array, k: number) => qk45(x, k, 'Q5_K');

/** Q6_K: 128 bytes of low nibbles, 64 bytes of high 2 bits, 16 int8 scales, f16 d; y = d · s · (q - 32). */
export function dequantizeRowQ6_KRef(x: Uint8Array, k: number): Float32Array {
  const y = check('Q6_K', x, k);
  for (let b = 0, o = 0; b < k / QK_K; b++, o += 210) {
    const d = h(x, o + 208);
    for (let n = 0; n < 2; n++) {
      const ql = o + 64 * n, qh = o + 128 + 32 * n, sc = o + 192 + 8 * n, yi = b * QK_K + 128 * n;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const hb = x[qh + l]!;
        const q = [
          ((x[ql + l]! & 15) | ((hb & 3) << 4)) - 32,
          ((x[ql + l + 32]! & 15) | (((hb >> 2) & 3) << 4)) - 32,
          ((x[ql + l]! >> 4) | (((hb >> 4) & 3) << 4)) - 32,
          ((x[ql + l + 32]! >> 4) | (((hb >> 6) & 3) << 4)) - 32,
        ];
        for (let g = 0; g < 4; g++) y[yi + 32 * g + l] = f(f(d * ((x[sc + is + 2 * g]! << 24) >> 24)) * q[g]!);
      }
    }
  }
  return y;
}

/** Q8_K: f32 d, 256 int8 qs, 16 int16 block sums (not needed to dequantize); y = d · qs. */
export function dequantizeRowQ8_KRef(x: Uint8Array, k: number): Float32Array {
  const y = check('Q8_K', x, k);
  const dv = new DataView(x.buffer, x.byteOffset, x.byteLength);
  for (let b = 0, o = 0; b < k / QK_K; b++, o += 292) {
    const d = dv.getFloat32(o, true);
    for (let j = 0; j < QK_K; j++) y[b * QK_K + j] = f(d * ((x[o + 4 + j]! << 24) >> 24));
  }
  return y;
}

export function dequantizeRowF16Ref(x: Uint8Array, k: number): Float32Array {
  const y = check('F16', x, k);
  for (let i = 0; i < k; i++) y[i] = h(x, 2 * i);
  return y;
}

export function dequantizeRowBF16Ref(x: Uint8Array, k: number): Float32Array {
  const y = check('BF16', x, k);
  const u = new Uint32Array(y.buffer);
  for (let i = 0; i < k; i++) u[i] = ((x[2 * i]! | (x[2 * i + 1]! << 8)) << 16) >>> 0;
  return y;
}

export function dequantizeRowF32Ref(x: Uint8Array, k: number): Float32Array {
  const y = check('F32', x, k);
  const dv = new DataView(x.buffer, x.byteOffset, x.byteLength);
  for (let i = 0; i < k; i++) y[i] = dv.getFloat32(4 * i, true);
  return y;
}

/** Every float-valued type's dequantizer by ggml type name. */
export const DEQUANTIZE_ROW: Partial<Record<GgmlTypeName, (x: Uint8Array, k: number) => Float32Array>> = {
  F32: dequantizeRowF32Ref, F16: dequantizeRowF16Ref, BF16: dequantizeRowBF16Ref,
  Q4_0: dequantizeRowQ4_0Ref, Q4_1: dequantizeRowQ4_1Ref, Q5_0: dequantizeRowQ5_0Ref, Q5_1: dequantizeRowQ5_1Ref, Q8_0: dequantizeRowQ8_0Ref,
  Q2_K: dequantizeRowQ2_KRef, Q3_K: dequantizeRowQ3_KRef, Q4_K: dequantizeRowQ4_KRef, Q5_K: dequantizeRowQ5_KRef, Q6_K: dequantizeRowQ6_KRef, Q8_K: dequantizeRowQ8_KRef,
};

/**
 * Float32 values of `n` elements of a tensor of ggml type `type` (n a multiple of its block).
 *
 * @example const w = dequantizeGgml('Q4_K', ggufTensorBytes(file, name), rows * cols);
 */
export function dequantizeGgml(type: GgmlTypeName, x: Uint8Array, n: number): Float32Array {
  const fn = DEQUANTIZE_ROW[type];
  if (!fn) throw new Error(`forwardpass: gguf: tensors of type ${type} do not hold float values (no dequantizer)`);
  return fn(x, n);
}
