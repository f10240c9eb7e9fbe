// WebGPU elementwise programs: unary ops, copy and cast (unary.wgsl), binary ops and comparisons
// (binary.wgsl) and where (where.wgsl), reading inputs through strides so views and broadcasts need no copy.
import { BINARY_OPS, COMPARE_OPS, UNARY_OPS, type BinaryOp, type CompareOp, type UnaryAttrs, type UnaryOp } from '../../../ops/attrs.js';
import { BINARY, COMPARE_WGSL, unaryWgsl as unaryExpr } from '../../../ops/elementwise.js';
import { broadcastStrides, isContiguous, shapeStr } from '../../../tensor/shape.js';
import { f32bits, grid, type GpuProgram, type GpuTensor } from '../types.js';
import unaryWgsl from '../../../../kernels/unary.wgsl';
import binaryWgsl from '../../../../kernels/binary.wgsl';
import whereWgsl from '../../../../kernels/where.wgsl';

const UNARY_SRC = { name: 'unary.wgsl', code: unaryWgsl };
const BINARY_SRC = { name: 'binary.wgsl', code: binaryWgsl };
const WHERE_SRC = { name: 'where.wgsl', code: whereWgsl };
const MAX_RANK = 8;

export const wgslType = (t: GpuTensor) => (t.dtype === 'float32' ? 'f32' : 'i32');

function pad8(v: readonly number[]): number[] {
  return [...v, ...new Array(MAX_RANK - v.length).fill(0)];
}

/** Uniform words for elementwise-params.wgsl, and which inputs are plain contiguous (no index math needed). */
export function elementwiseParams(op: string, out: GpuTensor, ins: GpuTensor[], alpha = 0, beta = 0): { words: number[]; contig: boolean[] } {
  const shape = out.shape;
  if (shape.length > MAX_RANK) throw new RangeError(`forwardpass: webgpu: ${op}: tensors of rank ${shape.length} ${shapeStr(shape)} exceed the WebGPU elementwise limit of ${MAX_RANK} dims`);
  const strides = ins.map((t) => broadcastStrides(t.shape, t.strides, shape));
  const contig = ins.map((t) => t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]) && isContiguous(t.shape, t.strides));
  const offs = [0, 1, 2, 3].map((k) => ins[k]?.offset ?? 0);
  const words = [out.size, shape.length, f32bits(alpha), f32bits(beta), ...pad8(shape), ...offs, ...pad8(strides[0] ?? []), ...pad8(strides[1] ?? []), ...pad8(strides[2] ?? [])];
  return { words, contig };
}

function unaryLike(op: string, expr: (x: GpuTensor, y: GpuTensor) => string, ct: (x: GpuTensor, y: GpuTensor) => string): GpuProgram<UnaryAttrs> {
  return (gpu, [y], [x], attrs) => {
    const { words, contig } = elementwiseParams(op, y!, [x!], attrs.alpha ?? 0, attrs.beta ?? 0);
    gpu.dispatch({
      kernel: UNARY_SRC,
      defines: { CT: ct(x!, y!), TX: wgslType(x!), TY: wgslType(y!), EXPR: expr(x!, y!), a_CONTIG: contig[0]! },
      buffers: [y!.buffer, x!.buffer],
      uniforms: words,
      workgroups: grid(y!.size, 256),
    });
  };
}

function unaryProgram(op: UnaryOp): GpuProgram<UnaryAttrs> {
  return unaryLike(op, (x) => unaryExpr(op, wgslType(x) === 'i32'), (x, y) => (op === 'not' ? wgslType(x) : wgslType(y)));
}

/** copy: any strided view -> contiguous. */
export const copy: GpuProgram<{}> = unaryLike('copy', () => 'x', (x) => wgslType(x));

/** cast between the compute types; to bool is `!= 0`; float -> int truncates toward zero (NaN -> 0). */
export const cast: GpuProgram<{ dtype: string }> = (gpu, outs, ins, attrs) => {
  const toBool = attrs.dtype === 'bool';
  const p = unaryLike('cast', (x, y) => (toBool ? (x.dtype === 'float32' ? 'select(0, 1, x != 0.0 || is_nan(x))' : 'select(0, 1, x != 0)') : x.dtype === 'float32' && y.dtype === 'int32' ? 'select(i32(x), 0, is_nan(x))' : 'x'), (x) => wgslType(x));
  p(gpu, outs, ins, {});
};

function binaryProgram(op: string, expr: (t: GpuTensor) => string, compare: boolean): GpuProgram<{}> {
  return (gpu, [y], [a, b]) => {
    const { words, contig } = elementwiseParams(op, y!, [a!, b!]);
    gpu.dispatch({
      kernel: BINARY_SRC,
      defines: { CT: wgslType(a!), TY: wgslType(y!), EXPR: expr(a!), COMPARE: compare, a_CONTIG: contig[0]!, b_CONTIG: contig[1]! },
      buffers: [y!.buffer, a!.buffer, b!.buffer],
      uniforms: words,
      workgroups: grid(y!.size, 256),
    });
  };
}

export const where: GpuProgram<{}> = (gpu, [y], [c, a, b]) => {
  const { words, contig } = elementwiseParams('where', y!, [c!, a!, b!]);
  gpu.dispatch({
    kernel: WHERE_SRC,
    defines: { T: wgslType(y!), c_CONTIG: contig[0]!, a_CONTIG: contig[1]!, b_CONTIG: contig[2]! },
    buffers: [y!.buffer, c!.buffer, a!.buffer, b!.buffer],
    uniforms: words,
    workgroups: grid(y!.size, 256),
  });
};

export const unaryPrograms = Object.fromEntries(UNARY_OPS.map((op) => [op, unaryProgram(op)])) as Record<UnaryOp, GpuProgram<UnaryAttrs>>;
export const binaryPrograms = Object.fromEntries(
  BINARY_OPS.map((op) => [op, binaryProgram(op, (t) => (t.dtype === 'int32' && BINARY[op].wgslInt ? BINARY[op].wgslInt! : BINARY[op].wgsl), false)]),
) as Record<BinaryOp, GpuProgram<{}>>;
export const comparePrograms = Object.fromEntries(COMPARE_OPS.map((op) => [op, binaryProgram(op, () => COMPARE_WGSL[op], true)])) as Record<CompareOp, GpuProgram<{}>>;
