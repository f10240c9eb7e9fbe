// Data types: names, element sizes, typed-array storage, float16 conversion and type promotion.

/** The element types a Tensor can hold. float16 is stored as raw 16-bit halves (Node 20 has no Float16Array). */
export type DType = 'float32' | 'float16' | 'int32' | 'int8' | 'uint8' | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float16', 'int32', 'int8', 'uint8', 'bool'];

/** The typed array that holds a dtype's raw elements. */
export type StorageArray = Float32Array | Uint16Array | Int32Array | Int8Array | Uint8Array;

/** The typed array user code reads and writes: float16 is widened to Float32Array, bool is Uint8Array of 0/1. */
export type DataArray = Float32Array | Int32Array | Int8Array | Uint8Array;

const BYTES: Record<DType, number> = { float32: 4, float16: 2, int32: 4, int8: 1, uint8: 1, bool: 1 };

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

/** Bytes per element of `dtype`. */
export function dtypeBytes(dtype: DType): number {
  return BYTES[dtype];
}

export function isFloatDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float16';
}

export function isIntDType(dtype: DType): boolean {
  return dtype === 'int32' || dtype === 'int8' || dtype === 'uint8';
}

/** A zeroed storage array holding `n` elements of `dtype`. */
export function allocStorage(dtype: DType, n: number): StorageArray {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float16': return new Uint16Array(n);
    case 'int32': return new Int32Array(n);
    case 'int8': return new Int8Array(n);
    case 'uint8': case 'bool': return new Uint8Array(n);
  }
}

/** A zeroed user-facing array of `n` elements for `dtype` (Float32Array for float16). */
export function allocData(dtype: DType, n: number): DataArray {
  return dtype === 'float16' ? new Float32Array(n) : (allocStorage(dtype, n) as DataArray);
}

/** Which storage array constructor matches `dtype`, to check arrays handed in by users. */
export function storageMatches(dtype: DType, arr: ArrayBufferView): boolean {
  switch (dtype) {
    case 'float32': return arr instanceof Float32Array;
    case 'float16': return arr instanceof Uint16Array;
    case 'int32': return arr instanceof Int32Array;
    case 'int8': return arr instanceof Int8Array;
    case 'uint8': case 'bool': return arr instanceof Uint8Array;
  }
}

/** The dtype a plain typed array implies when none is given. */
export function dtypeOfArray(arr: ArrayBufferView): DType {
  if (arr instanceof Float32Array || arr instanceof Float64Array) return 'float32';
  if (arr instanceof Int32Array || arr instanceof Uint32Array || arr instanceof Int16Array || arr instanceof Uint16Array) return 'int32';
  if (arr instanceof Int8Array) return 'int8';
  if (arr instanceof Uint8Array || arr instanceof Uint8ClampedArray) return 'uint8';
  if (arr instanceof BigInt64Array || arr instanceof BigUint64Array) return 'int32';
  throw new TypeError(`forwardpass: cannot infer a dtype from ${arr.constructor.name}; expected Float32Array, Int32Array, Int8Array or Uint8Array`);
}

// ---- float16 <-> float32 (IEEE-754 binary16, round to nearest even) ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 value -> float16 bits, rounding to nearest even; overflow gives ±Infinity, NaN stays NaN. */
export function f32ToF16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf or NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> ±0
    mant |= 0x800000; // implicit leading 1
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++; // may carry into exponent: correct (rounds up to Inf at the top)
  return sign | half;
}

/** float16 bits -> float32 value. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Bulk float32 -> float16 bits. */
export function f32ArrayToF16(src: ArrayLike<number>, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  for (let i = 0; i < src.length; i++) dst[i] = f32ToF16(src[i]!);
  return dst;
}

let F16_TABLE: Float32Array | null = null;

/** Bulk float16 bits -> float32 (through a 65,536-entry table built on first use: 256 KiB). */
export function f16ArrayToF32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  if (!F16_TABLE) {
    F16_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) F16_TABLE[h] = f16ToF32(h);
  }
  const t = F16_TABLE;
  for (let i = 0; i < src.length; i++) dst[i] = t[src[i]!]!;
  return dst;
}

// ---- type promotion (PyTorch-like for the dtypes we have) ----

const RANK: Record<DType, number> = { bool: 0, uint8: 1, int8: 1, int32: 2, float16: 3, float32: 4 };

/** The dtype two operands of a binary op are computed in: bool < int8/uint8 < int32 < float16 < float32. */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if ((a === 'int8' && b === 'uint8') || (a === 'uint8' && b === 'int8')) return 'int32';
  return RANK[a] >= RANK[b] ? a : b;
}
