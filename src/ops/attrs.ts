// The kernel-level op set: every name a backend must implement, and the attributes each takes.
// Kernel contract: inputs are contiguous unless the op is listed in VIEW_OPS; outputs are fresh and contiguous.
import type { DType } from '../tensor/dtype.js';

/** Unary elementwise ops (one row each in the elementwise table). */
export const UNARY_OPS = [
  'neg', 'abs', 'exp', 'log', 'sqrt', 'rsqrt', 'reciprocal', 'square', 'sin', 'cos', 'tanh', 'erf',
  'sigmoid', 'relu', 'gelu', 'geluTanh', 'silu', 'floor', 'ceil', 'round', 'sign', 'not',
  'clamp', 'leakyRelu', 'elu', 'hardSigmoid', 'hardSwish', 'softplus',
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Parameters of the parametric unary ops (clamp: alpha=min, beta=max; leakyRelu/elu: alpha; hardSigmoid: alpha, beta). */
export interface UnaryAttrs {
  alpha?: number;
  beta?: number;
}

/** Binary elementwise ops with NumPy broadcasting; comparisons and logical ops produce bool. */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod'] as const;
export const COMPARE_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'xor'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];
export type CompareOp = (typeof COMPARE_OPS)[number];

export const REDUCE_OPS = ['sum', 'mean', 'max', 'min', 'prod'] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];

export interface ReduceAttrs {
  /** Sorted, non-negative axes to reduce. */
  axes: number[];
  keepdim: boolean;
}

/** [top, left, bottom, right] padding of the two spatial dims. */
export type Pad4 = [number, number, number, number];

export interface Conv2dAttrs {
  stride: [number, number];
  padding: Pad4;
  dilation: [number, number];
  groups: number;
}

export interface Pool2dAttrs {
  kernel: [number, number];
  stride: [number, number];
  padding: Pad4;
  dilation: [number, number];
  ceilMode: boolean;
  /** avgPool2d only: count padded positions in the divisor (PyTorch's default true). */
  countIncludePad: boolean;
}

export type ActivationName = 'none' | 'relu' | 'gelu' | 'geluTanh' | 'silu' | 'tanh' | 'sigmoid';

/** Every kernel op and its attributes. A backend's kernel table is typed against this map. */
export interface OpAttrs extends Record<UnaryOp, UnaryAttrs>, Record<BinaryOp, {}>, Record<CompareOp, {}>, Record<ReduceOp, ReduceAttrs> {
  /** Strided (any view, broadcast included) -> contiguous copy of the same dtype. */
  copy: {};
  cast: { dtype: DType };
  /** where(cond: bool, a, b), all broadcast to the output shape. */
  where: {};
  argmax: { axis: number; keepdim: boolean };
  argmin: { axis: number; keepdim: boolean };
  /** Variance with `correction` (0 = biased, 1 = unbiased). */
  var: ReduceAttrs & { correction: number };
  softmax: { axis: number };
  logSoftmax: { axis: number };
  /** a [Ba, M, K] x b [Bb, K, N] (or [Bb, N, K] with transB) -> [B, M, N]; Ba, Bb are 1 or B. */
  matmul: { transB: boolean };
  /** x [M, K], w [N, K], optional bias [N] -> act(x·wᵀ + b) [M, N]. */
  linear: { activation: ActivationName };
  /** x [N, C, H, W], w [O, C/groups, kH, kW], optional bias [O] -> [N, O, Ho, Wo]. */
  conv2d: Conv2dAttrs;
  maxPool2d: Pool2dAttrs;
  avgPool2d: Pool2dAttrs;
  /** x [N, C, ...], mean, var, weight, bias [C] (inference mode). */
  batchNorm: { eps: number };
  /** Normalize over the last `dims` dims; weight/bias optional, shaped like those dims. */
  layerNorm: { eps: number; dims: number };
  rmsNorm: { eps: number; dims: number };
  /** x [N, C, ...] with C split into `groups`; weight/bias optional [C]. */
  groupNorm: { eps: number; groups: number };
  /** x, indices (int32) -> x.shape[:axis] + indices.shape + x.shape[axis+1:]; `name` is the op named in errors. */
  gather: { axis: number; negativeIndices: boolean; name: 'gather' | 'embedding' };
  concat: { axis: number };
  /** pads: [before0, after0, before1, after1, ...] per dim (may be negative: crop). */
  pad: { pads: number[]; mode: 'constant' | 'reflect' | 'edge'; value: number };
  /**
   * q [B, H, T, D], k [B, H, S, D], v [B, H, S, Dv], optional mask viewed as [B, H, T, S]
   * (bool: true = attend; or additive float) -> [B, H, T, Dv]. Causal masks key j > query i + (S - T).
   */
  sdpa: { scale: number; causal: boolean; mask: 'none' | 'bool' | 'additive' };
}

export type OpName = keyof OpAttrs;

/** Ops whose kernels read inputs through arbitrary strides (others get contiguous inputs). */
export const VIEW_OPS: ReadonlySet<OpName> = new Set<OpName>([
  ...UNARY_OPS, ...BINARY_OPS, ...COMPARE_OPS, 'copy', 'cast', 'where', 'sdpa',
]);
