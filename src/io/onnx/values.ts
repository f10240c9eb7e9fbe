// ONNX element types and tensors as forwardpass dtypes and CPU tensors: int64 becomes int32 (a value that does not
// fit is an error, except huge Slice sentinels, which are clamped), double becomes float32, float16 stays float16.
//
// The other integer types are held in int32 too (forwardpass has no 16-bit or unsigned 32/64-bit dtype):
// - int16 and uint16: every value fits int32 exactly. Arithmetic runs in int32, so results are exact while they
//   stay in the type's range; a graph output declared int16/uint16 is wrapped to its type (two's complement /
//   modulo 2^16), which gives ONNX's wrap-around for Add/Sub/Mul, the bitwise ops and BitShift left (`wrapOutput`).
// - uint32 and uint64: held as int32 when the value is within [0, 2^31 - 1]; a larger value in an initializer,
//   a constant or a fed input is an error naming the tensor, the value and its index (never a silent wrap). A
//   graph output declared uint32/uint64 whose computed value is negative (an unsigned wrap-around such as 1 - 2)
//   is an error naming the output: forwardpass cannot hold the wrapped value.
// - bfloat16 is held as float32 (widening is exact). Values are rounded to bfloat16 (to nearest, ties to even) by
//   Cast to bfloat16 and at graph outputs declared bfloat16; arithmetic between those points runs in float32.
import type { DType } from '../../tensor/dtype.js';
import { fromData, fromStorage } from '../../tensor/creation.js';
import { getBackend } from '../../tensor/device.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { OnnxTensor } from './model.js';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** ONNX element type name (as the reader spells it) -> the dtype forwardpass holds it in. */
const ELEM_DTYPE: Record<string, DType> = {
  float: 'float32', double: 'float32', float16: 'float16', int64: 'int32', int32: 'int32', int8: 'int8', uint8: 'uint8', bool: 'bool',
  int16: 'int32', uint16: 'int32', uint32: 'int32', uint64: 'int32', bfloat16: 'float32',
};

/** The ONNX element types forwardpass holds (for messages). */
export const HELD_ELEM_TYPES = 'float, float16, double and bfloat16 (as float32), int64, uint32, uint64 (as int32 where values fit), int32, int16, uint16 (as int32), int8, uint8, bool';

/** The dtype holding an ONNX element type, or undefined when unsupported. @example onnxElemDType('int64') // 'int32' */
export function onnxElemDType(elemType: string | undefined): DType | undefined {
  return elemType === undefined ? undefined : ELEM_DTYPE[elemType];
}

/** TensorProto.DataType codes (Cast's `to`, ConstantOfShape values) -> dtype. */
const CODE_DTYPE: Record<number, DType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int32', 9: 'bool', 10: 'float16', 11: 'float32', 16: 'float32' };
/** Integer codes held in int32 besides int32/int64 (uint16, int16, uint32, uint64): see the header. */
const CODE_INT32: Record<number, string> = { 4: 'uint16', 5: 'int16', 12: 'uint32', 13: 'uint64' };
const CODE_NAMES: Record<number, string> = { 1: 'float', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16', 11: 'double', 12: 'uint32', 13: 'uint64', 16: 'bfloat16' };

/**
 * dtype for a TensorProto.DataType code, or undefined. `narrowInts`: also the integer types held in int32
 * (int16, uint16, uint32, uint64), for ops whose result values are those of their inputs.
 */
export function onnxCodeDType(code: number, narrowInts = false): DType | undefined {
  return CODE_DTYPE[code] ?? (narrowInts && CODE_INT32[code] ? 'int32' : undefined);
}

/** The ONNX name of a TensorProto.DataType code (for messages). */
export function onnxCodeName(code: number): string {
  return CODE_NAMES[code] ?? `type ${code}`;
}

/**
 * Convert int64 values to int32. `clamp`: saturate values beyond the int32 range (Slice starts/ends use INT64_MAX
 * and INT64_MIN as "to the end"); otherwise such a value is an error naming `what`.
 */
export function int64ToInt32(data: BigInt64Array | ArrayLike<bigint>, what: string, clamp: boolean): Int32Array {
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v > BigInt(INT32_MAX) || v < BigInt(INT32_MIN)) {
      if (!clamp) throw new RangeError(`forwardpass: onnx: ${what} holds the int64 value ${v} at index ${i}, which does not fit int32 (forwardpass computes int64 as int32)`);
      out[i] = v > 0n ? INT32_MAX : INT32_MIN;
    } else out[i] = Number(v);
  }
  return out;
}

/**
 * Convert double values to float32. NaN and ±Infinity stay as they are; a finite value beyond float32's range (it
 * would silently become Infinity) is an error naming `what`, the value and its index.
 * @example float64ToFloat32(new Float64Array([1.5]), "initializer 'w'") // Float32Array [1.5]
 */
export function float64ToFloat32(data: ArrayLike<number>, what: string): Float32Array {
  const out = Float32Array.from(data);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]!) && Number.isFinite(data[i]!)) {
      throw new RangeError(`forwardpass: onnx: ${what} holds the double value ${data[i]} at index ${i}, beyond float32's range (largest finite: ±3.4028235e38; forwardpass computes double as float32)`);
    }
  }
  return out;
}

/**
 * Unsigned values (uint32, uint64) as int32: a value beyond 2^31 - 1 is an error naming `what`, the value and its
 * index. @example unsignedToInt32(new Uint32Array([7]), "input 'x'", 'uint32') // Int32Array [7]
 */
export function unsignedToInt32(data: ArrayLike<number | bigint>, what: string, type: string): Int32Array {
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v > INT32_MAX) throw new RangeError(`forwardpass: onnx: ${what} holds the ${type} value ${v} at index ${i}, beyond 2147483647 (forwardpass holds ${type} as int32 where values fit)`);
    out[i] = Number(v);
  }
  return out;
}

/** The [min, max] range of the integer types held in int32 whose outputs are wrapped or checked (`wrapOutput`). */
const NARROW_RANGE: Record<string, [number, number]> = { int16: [-32768, 32767], uint16: [0, 65535], uint32: [0, INT32_MAX], uint64: [0, INT32_MAX] };

/** Whether a graph output declared as ONNX `onnxType` needs `wrapOutput` (int16, uint16, uint32, uint64, bfloat16). */
export function needsWrap(onnxType: string): boolean {
  return onnxType in NARROW_RANGE || onnxType === 'bfloat16';
}

/**
 * The int32 values of a graph output declared int16/uint16, wrapped into that type (ONNX wrap-around: two's
 * complement, modulo 2^16); for uint32/uint64 the values are checked instead (a negative value, the result of an
 * unsigned wrap-around, cannot be held: an error naming the output); a bfloat16 output's float32 values are rounded to
 * bfloat16. Returns `values` itself when nothing changes (always a copy for bfloat16).
 */
export function wrapOutput<T extends Int32Array | Float32Array>(values: T, onnxType: string, what: string): T {
  if (onnxType === 'bfloat16') return roundToBf16(values) as T; // a float32 output declared bfloat16
  const [lo, hi] = NARROW_RANGE[onnxType]!;
  let out = values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v >= lo && v <= hi) continue;
    if (onnxType === 'uint32' || onnxType === 'uint64') {
      throw new RangeError(`forwardpass: onnx: run: ${what} (${onnxType}) computed ${v} at index ${i}, an unsigned wrap-around that forwardpass cannot hold (it holds ${onnxType} as int32 where values fit)`);
    }
    if (out === values) out = values.slice() as T;
    out[i] = onnxType === 'int16' ? (v << 16) >> 16 : v & 0xffff;
  }
  return out;
}

/** bfloat16 bits -> the float32 value (exact). */
export function bf16ToF32(bits: number): number {
  const u = new Uint32Array([bits << 16]);
  return new Float32Array(u.buffer)[0]!;
}

/** float32 values rounded to the nearest bfloat16 (ties to even; NaN stays NaN, ±Inf stays). */
export function roundToBf16(values: ArrayLike<number>): Float32Array {
  const f = Float32Array.from(values), u = new Uint32Array(f.buffer);
  for (let i = 0; i < u.length; i++) {
    if (Number.isNaN(f[i]!)) continue;
    const b = u[i]!;
    u[i] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16;
  }
  return f;
}

/** A decoded ONNX tensor as a CPU tensor (int64 -> int32, double -> float32; see the header for the rest). `clamp` as in int64ToInt32. */
export function onnxTensorToTensor(t: OnnxTensor, what: string, clamp = false): Tensor {
  const cpu = getBackend('cpu');
  switch (t.dataType) {
    case 'int64': return fromData(int64ToInt32(t.data as BigInt64Array, what, clamp), t.dims, 'int32', cpu);
    case 'uint32': case 'uint64': return fromData(unsignedToInt32(t.data as Uint32Array | BigUint64Array, what, t.dataType), t.dims, 'int32', cpu);
    case 'int16': return fromData(Int32Array.from(t.data as Int16Array), t.dims, 'int32', cpu);
    case 'bfloat16': return fromData(Float32Array.from(t.data as Uint16Array, bf16ToF32), t.dims, 'float32', cpu);
    case 'uint16': return fromData(Int32Array.from(t.data as Uint16Array), t.dims, 'int32', cpu);
    case 'double': return fromData(float64ToFloat32(t.data as Float64Array, what), t.dims, 'float32', cpu);
    case 'float16': return fromStorage(t.data as Uint16Array, t.dims, 'float16', 'cpu');
    case 'float': return fromData(t.data as Float32Array, t.dims, 'float32', cpu);
    case 'int32': return fromData(t.data as Int32Array, t.dims, 'int32', cpu);
    case 'int8': return fromData(t.data as Int8Array, t.dims, 'int8', cpu);
    case 'uint8': return fromData(t.data as Uint8Array, t.dims, 'uint8', cpu);
    case 'bool': return fromData(t.data as Uint8Array, t.dims, 'bool', cpu);
  }
}

/** True for int32/int8/uint8/bool: values that may be computed on the host when all their inputs are there. */
export function isIndexDType(dtype: DType): boolean {
  return dtype === 'int32' || dtype === 'int8' || dtype === 'uint8' || dtype === 'bool';
}
