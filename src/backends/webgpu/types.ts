// What WebGPU programs see and use: tensors as buffers with shape/strides, the dispatch context, the program type.
import type { OpAttrs, OpName } from '../../ops/attrs.js';
import type { Defines, WgslSource } from './wgsl.js';
import type { GpuSetup } from './device.js';

/** The dtypes kernels compute in: 16- and 8-bit tensors arrive unpacked to these (f16 -> f32, int8/uint8/bool -> i32). */
export type ComputeDType = 'float32' | 'int32';

/**
 * A tensor as a program sees it: a storage buffer of f32 or i32 elements, read through shape/strides/offset.
 * Programs of the ops in PACKED_INT8_OPS also see int8/uint8 tensors as they are stored: 4 per u32 word.
 */
export interface GpuTensor {
  buffer: GPUBuffer;
  dtype: ComputeDType | 'int8' | 'uint8';
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
  /** Number of elements (product of shape). */
  size: number;
}

export interface DispatchSpec {
  kernel: WgslSource;
  defines?: Defines;
  /** Pipeline-overridable constants (`override` declarations), part of the pipeline key. */
  constants?: Record<string, number>;
  /** Storage buffers in binding order 0..n-1; the uniform block, when given, binds at n. */
  buffers: GPUBuffer[];
  /** The uniform block as 32-bit words (`f32bits()` for floats). Padded to 16 bytes. */
  uniforms?: ArrayLike<number>;
  workgroups: readonly [number, number?, number?];
}

export interface GpuContext {
  readonly setup: GpuSetup;
  dispatch(spec: DispatchSpec): void;
  /** A scratch tensor that lives until the current op returns. */
  temp(dtype: ComputeDType, shape: readonly number[]): GpuTensor;
  /**
   * A check the backend finishes later: a `words`-word device buffer that the program's kernels fill in (e.g. the
   * first invalid index found); the next read or sync reads it back and throws `explain(words)` if that is an Error.
   */
  deferCheck?(words: number, explain: (words: Uint32Array) => Error | null): GPUBuffer;
}

/** A WebGPU program: outputs first, like CPU kernels. Outputs are contiguous with offset 0. */
export type GpuProgram<A> = (gpu: GpuContext, outs: GpuTensor[], ins: GpuTensor[], attrs: A) => void;

export type GpuProgramTable = { [K in OpName]: GpuProgram<OpAttrs[K]> };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** The bit pattern of a float as a u32 word, for uniform blocks. */
export function f32bits(v: number): number {
  f32[0] = v;
  return u32[0]!;
}

/** Workgroup counts covering `threads` threads in groups of `wg`, spread over x and y under the per-dimension limit. */
export function grid(threads: number, wg: number, maxPerDim = 65535): [number, number] {
  const groups = Math.max(1, Math.ceil(threads / wg));
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}
