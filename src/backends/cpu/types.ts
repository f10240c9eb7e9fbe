// What CPU kernels see: typed-array views (float16 already widened to Float32Array) and the kernel type.
import type { DType } from '../../tensor/dtype.js';
import type { OpAttrs, OpName } from '../../ops/attrs.js';

/** Numeric typed arrays a CPU kernel reads and writes (float16 arrives widened to Float32Array). */
export type NumArray = Float32Array | Int32Array | Int8Array | Uint8Array;

/** A tensor as a CPU kernel sees it: the storage array plus shape/strides/offset in elements. */
export interface CpuTensor {
  data: NumArray;
  /** The tensor's dtype (float16 tensors arrive as Float32Array data). */
  dtype: DType;
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
}

/** Kernel signature, outputs first: `(outs, ins, attrs)`. Outputs are contiguous with offset 0. */
export type CpuKernel<A> = (outs: CpuTensor[], ins: CpuTensor[], attrs: A) => void;

/** The complete kernel table: a missing op is a compile error. */
export type CpuKernelTable = { [K in OpName]: CpuKernel<OpAttrs[K]> };
