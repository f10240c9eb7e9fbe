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
  /**
   * A fused activation, as [lo, hi]: each output (bias included) becomes x < lo ? lo : x > hi ? hi : x (NaN kept),
   * clamp's reference. [0, Infinity] is relu, [0, 6] relu6. Absent: none. Only the CPU backend's kernels read it
   * (conv2d applies the activation as its own op elsewhere).
   */
  clamp?: [number, number];
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
export interface OpAttrs extends Record<UnaryOp, UnaryAttrs>, Record<BinaryOp, {}>, Record<CompareOp, {}>, Record<ReduceOp, ReduceAttrs>, Int8OpAttrs {
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
  gather: { axis: number; negativeIndices: boolean; name: string };
  concat: { axis: number };
  /** pads: [before0, after0, before1, after1, ...] per dim (may be negative: crop). */
  pad: { pads: number[]; mode: 'constant' | 'reflect' | 'edge'; value: number };
  /**
   * q [B, H, T, D], k [B, H, S, D], v [B, H, S, Dv], optional mask viewed as [B, H, T, S]
   * (bool: true = attend; or additive float) -> [B, H, T, Dv]. Causal masks key j > query i + (S - T).
   */
  sdpa: { scale: number; causal: boolean; mask: 'none' | 'bool' | 'additive' };
}

/**
 * The INT8 kernel ops (src/quant; CPU kernels in src/backends/cpu/kernels/int8.ts). Quantization is symmetric
 * (zero point 0): q = round(v / s), rounded half away from zero and clamped to [-127, 127], with s a float32.
 * Quantized rows are padded with zeros to Kp (a multiple of 4, so that every row starts on a 4-byte word: WebGPU
 * packs 4 int8 per u32; for Q8_0 a multiple of the block). Scales are float [rows, nb] with nb = Kp / block
 * (Q8_0 blocks: block = 32) or nb = 1 when block = 0 (one scale per row / output channel); Q8_0 weight scales are
 * stored float16 as in ggml (backends widen them like any float16 input). `k` = the true K.
 */
export interface Int8OpAttrs {
  /**
   * x [M, K] float -> q int8 [M, Kp] and scales float32 [M, nb]; Kp = K rounded up to a multiple of `block`
   * (block > 0) or of `padTo` (block = 0). Dynamic (staticScale = 0): s = max|x| / 127 over each row (block = 0)
   * or each block of `block` values; an s below 2^-126 (an all-zero row) becomes 1 (so q = 0). Static
   * (staticScale > 0): s = staticScale everywhere; values beyond ±127·s saturate. A row (block) holding NaN or
   * ±Inf gets s = NaN and q = 0, so the outputs it feeds are NaN, as in float.
   */
  quantizeRows: { block: number; padTo: number; staticScale: number };
  /**
   * y [M, N] = act(Σ over blocks of int32(xq · wq) · xs · ws + bias): xq [M, Kp] int8, xs [M, nb], wq [N, Kp]
   * int8, ws [N, nb], optional bias [N] float. Products are summed in int32 per row (block = 0; k ≤ 133144 so
   * that 127·127·k fits) or per block, then scaled in float.
   */
  linearInt8: { block: number; k: number; activation: ActivationName };
  /** Weight-only: y [M, N] = act(x · (wq · ws)ᵀ + bias), x float [M, K], wq int8 [N, Kp], ws [N, nb]. */
  linearW8: { block: number; k: number; activation: ActivationName };
  /**
   * conv2d with int8 weights, inputs [x, xs, wq, ws, bias?]: x int8 [N, C, H, W] with one scale per image xs
   * float32 [N, 1] (int32 sums; y = xs[n] · ws[o] · Σ xq·wq + bias[o]), or x float (weight-only: y = Σ x·wq·ws[o]
   * + bias[o]; xs is not read). wq [O, Kp] int8 holds each output channel's C/groups·kH·kW weights in (c, kh, kw)
   * order, padded to Kp; ws float32 [O, 1]; bias [O]; `kernel` = [kH, kW]; `k` = C/groups·kH·kW. Zero padding
   * of x is q = 0. y [N, O, Ho, Wo] float.
   */
  conv2dInt8: Conv2dAttrs & { kernel: [number, number]; k: number };
}

export type OpName = keyof OpAttrs;

/** Ops whose WebGPU programs read and write 8-bit tensors packed (4 per u32) instead of unpacked to i32. */
export const PACKED_INT8_OPS: ReadonlySet<OpName> = new Set<OpName>(['quantizeRows', 'linearInt8', 'linearW8', 'conv2dInt8']);

/** Ops whose kernels read inputs through arbitrary strides (others get contiguous inputs). */
export const VIEW_OPS: ReadonlySet<OpName> = new Set<OpName>([
  ...UNARY_OPS, ...BINARY_OPS, ...COMPARE_OPS, 'copy', 'cast', 'where', 'sdpa',
]);
