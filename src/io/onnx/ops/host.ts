// Helpers of the typed-array (host) ONNX kernels (ops marked `cpuOnly`: their inputs arrive on the CPU, even in a
// WebGPU session): read an input's values, make an output on the node's device, map broadcast indices, and check
// input dtypes at load (so that a combination a kernel cannot run is refused by loadOnnx, not at the first run).
import { isFloatDType, type DType } from '../../../tensor/dtype.js';
import { broadcastShapes, broadcastStrides, contiguousStrides, forEachStrided, numel } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { InferContext, RunContext } from './registry.js';
import { small } from './util.js';

/** The values of an input as plain numbers (float16 decoded, bool as 0/1). */
export function valuesOf(x: Tensor): ArrayLike<number> {
  return x.dataSync() as ArrayLike<number>;
}

/** A new tensor on the node's device from host values (float values are rounded to float16 for a float16 dtype). */
export function hostOut(c: RunContext, values: ArrayLike<number>, shape: readonly number[], dtype: DType): Tensor {
  return small(dtype === 'float16' && values instanceof Uint16Array ? Float32Array.from(values) : values, shape, dtype, c.device);
}

/** For each element of `outShape`, the flat index of the element of `shape` that broadcasts onto it. */
export function broadcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const idx = new Int32Array(numel(outShape));
  forEachStrided(outShape, broadcastStrides(shape, contiguousStrides(shape), outShape), 0, (i, src) => { idx[i] = src; });
  return idx;
}

/** Broadcast two host inputs elementwise with `f` into a new array of the output's size. */
export function broadcastBinary(a: Tensor, b: Tensor, op: string, f: (x: number, y: number) => number): { values: Float64Array; shape: number[] } {
  const shape = broadcastShapes(a.shape, b.shape, op);
  const ia = broadcastIndex(a.shape, shape), ib = broadcastIndex(b.shape, shape);
  const va = valuesOf(a), vb = valuesOf(b);
  const out = new Float64Array(ia.length);
  for (let i = 0; i < out.length; i++) out[i] = f(va[ia[i]!]!, vb[ib[i]!]!);
  return { values: out, shape };
}

/** The dtypes an input class admits, for load-time checks. */
export const FLOAT_DTYPES: readonly DType[] = ['float32', 'float16'];
export const INT_DTYPES: readonly DType[] = ['int32', 'int8', 'uint8'];

/**
 * At load (in `infer`): fail when input `i`'s inferred dtype is not one of `allowed`, naming what was found. An
 * input whose type is not known yet passes (it is checked again at run time by the kernel's own reads).
 */
export function requireDType(c: InferContext | RunContext, i: number, allowed: readonly DType[], what = `input ${i}`): void {
  const t = c.inputs[i];
  if (!t) return;
  if (!allowed.includes(t.dtype)) c.fail(`${what} must be ${allowed.join(', ')}, found ${t.dtype}`);
}

/** True for float32/float16. */
export const isFloat = (d: DType) => isFloatDType(d);
