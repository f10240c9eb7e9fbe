// Helpers shared by the ONNX op files: symbolic shape arithmetic for inference, axis lists, host tensors.
import type { DType } from '../../../tensor/dtype.js';
import { fromData } from '../../../tensor/creation.js';
import { getBackend } from '../../../tensor/device.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { Dim, InferContext, NodeContext, RunContext, ValueType } from './registry.js';

/** Broadcast two symbolic shapes (NumPy rules; unknown where it cannot be told). */
export function broadcastDims(a: Dim[], b: Dim[]): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = i < n - a.length ? 1 : a[i - (n - a.length)]!;
    const y = i < n - b.length ? 1 : b[i - (n - b.length)]!;
    if (x === y) out.push(x);
    else if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (typeof x === 'number') out.push(x);
    else if (typeof y === 'number') out.push(y);
    else out.push(null);
  }
  return out;
}

/** Broadcast the shapes of several inferred inputs (undefined when one is unknown). */
export function broadcastTypes(types: (ValueType | undefined)[]): Dim[] | undefined {
  let out: Dim[] = [];
  for (const t of types) {
    if (!t) continue;
    if (!t.shape) return undefined;
    out = broadcastDims(out, t.shape);
  }
  return out;
}

/** Resolve a possibly negative axis against `rank`, failing with the node's name. */
export function axisOf(c: NodeContext, axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) c.fail(`${what} ${axis} is out of range for rank ${rank} (expected ${-rank}..${Math.max(rank - 1, 0)})`);
  return axis < 0 ? axis + rank : axis;
}

/** CumSum's and CumProd's operands: the input, its axis (input 1, a scalar) and the exclusive / reverse attributes. */
export function cumulativeArgs(c: RunContext): { x: Tensor; axis: number; exclusive: boolean; reverse: boolean } {
  const x = c.input(0);
  const axisV = c.ints(1) ?? c.fail('input 1 (axis) is required');
  if (axisV.length !== 1) c.fail(`axis must be a scalar, found ${axisV.length} values`);
  if (x.rank === 0) c.fail('input must have rank 1 or more');
  return { x, axis: axisOf(c, axisV[0]!, x.rank), exclusive: c.attrs.intOf('exclusive', [0, 1], 0) === 1, reverse: c.attrs.intOf('reverse', [0, 1], 0) === 1 };
}

/** Resolve and sort a list of axes; repeated axes are an error. */
export function axesOf(c: NodeContext, axes: readonly number[], rank: number, what = 'axes'): number[] {
  const out = axes.map((a) => axisOf(c, a, rank, what));
  if (new Set(out).size !== out.length) c.fail(`${what} ${JSON.stringify(axes)} repeat an axis`);
  return out.sort((x, y) => x - y);
}

/** Output type with input 0's shape and a dtype. */
export function sameShape(c: InferContext, dtype?: DType): ValueType[] {
  const x = c.inputs[0];
  return [{ dtype: dtype ?? x?.dtype ?? 'float32', ...(x?.shape ? { shape: [...x.shape] } : {}) }];
}

/** A small tensor from plain numbers on a backend. */
export function small(values: ArrayLike<number>, shape: readonly number[], dtype: DType, device: string): Tensor {
  return fromData(values, shape, dtype, getBackend(device));
}

/** Numeric dims only (for shape checks on concrete tensors): a symbolic shape with every dim known, or undefined. */
export function knownDims(shape: Dim[] | undefined): number[] | undefined {
  return shape && shape.every((d): d is number => typeof d === 'number') ? shape : undefined;
}

/** The input's constant contents for inference (`values`), when known. */
export function valuesOf(c: InferContext, i: number): Dim[] | undefined {
  return c.inputs[i]?.values;
}

/** An axes list from an attribute (older opsets) or host input `i` (newer), or undefined when absent. */
export function axesFrom(c: NodeContext & { ints?: (i: number) => number[] | undefined }, i: number, inputSince: number, attr = 'axes'): number[] | undefined {
  if (c.opset >= inputSince) return c.ints?.(i);
  return c.attrs.has(attr) ? c.attrs.ints(attr) : undefined;
}

/** `f` with its temporaries disposed afterwards (the result kept): `composed((t) => add(t(mul(a, b)), c))`. */
export function composed(f: (t: (y: Tensor) => Tensor) => Tensor): Tensor {
  const tmp: Tensor[] = [];
  try {
    return f((y) => (tmp.push(y), y));
  } finally {
    for (const y of tmp) y.dispose();
  }
}

/**
 * The values of a float input for a typed-array kernel (float16 decoded to float32), failing with the node's name
 * when the input is not float or lives on a backend that cannot be read synchronously (a kernel node always runs
 * on the host: see OnnxOpImpl.cpuOnly).
 */
export function hostFloats(c: NodeContext, t: Tensor, what: string): Float32Array {
  if (t.dtype !== 'float32' && t.dtype !== 'float16') c.fail(`${what} must be float or float16, found ${t.dtype}`);
  if (t.device !== 'cpu') c.fail(`${what} is on '${t.device}', but this node runs a CPU kernel (its input shape was not known at load)`);
  const d = t.dataSync();
  return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
}
