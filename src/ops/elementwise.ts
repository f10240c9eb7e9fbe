// Elementwise ops: the table (one row per op: name, scalar reference, result dtype) and the user functions.
import { type DType, isFloatDType, promoteTypes } from '../tensor/dtype.js';
import { broadcastAll, broadcastShapes } from '../tensor/shape.js';
import { isTensor, type Tensor } from '../tensor/tensor.js';
import { fromData } from '../tensor/creation.js';
import { type BinaryOp, type CompareOp, type UnaryAttrs, type UnaryOp } from './attrs.js';
import { expectDType, runOp } from './dispatch.js';
import { erfScalar, geluScalar, geluTanhScalar, roundHalfEven, sigmoidScalar } from './math.js';

/** How an elementwise op picks its result dtype: 'float' (ints become float32), 'same', or 'bool'. */
type ResultKind = 'float' | 'same' | 'bool';

export interface UnaryRow {
  /** Scalar reference: the definition of the op (CPU kernel and tests use it). */
  ref: (x: number, alpha: number, beta: number) => number;
  result: ResultKind;
  /** WGSL expression over `x: CT` (the compute type alias), `alpha`, `beta` (f32); helpers from kernels/common/math.wgsl. */
  wgsl: string;
  /** The expression for i32 inputs when it differs (or null: the op needs a float input). */
  wgslInt?: string | null;
}

/** One row per unary op. alpha/beta carry parameters (clamp: min/max; leakyRelu/elu: alpha; hardSigmoid: alpha, beta). */
export const UNARY: Record<UnaryOp, UnaryRow> = {
  neg: { ref: (x) => -x, result: 'same', wgsl: '-x' },
  abs: { ref: (x) => Math.abs(x), result: 'same', wgsl: 'abs(x)' },
  exp: { ref: (x) => Math.exp(x), result: 'float', wgsl: 'exp(x)' },
  log: { ref: (x) => Math.log(x), result: 'float', wgsl: 'select(select(log(x), qnan(), x < 0.0), inf_of(true), x == 0.0)' },
  sqrt: { ref: (x) => Math.sqrt(x), result: 'float', wgsl: 'select(sqrt(x), qnan(), x < 0.0)' },
  rsqrt: { ref: (x) => 1 / Math.sqrt(x), result: 'float', wgsl: 'select(inverseSqrt(x), qnan(), x < 0.0)' },
  reciprocal: { ref: (x) => 1 / x, result: 'float', wgsl: '1.0 / x' },
  square: { ref: (x) => x * x, result: 'same', wgsl: 'x * x' },
  sin: { ref: (x) => Math.sin(x), result: 'float', wgsl: 'select(sin(x), qnan(), is_inf(x))' },
  cos: { ref: (x) => Math.cos(x), result: 'float', wgsl: 'select(cos(x), qnan(), is_inf(x))' },
  tanh: { ref: (x) => Math.tanh(x), result: 'float', wgsl: 'tanh_safe(x)' },
  erf: { ref: (x) => erfScalar(x), result: 'float', wgsl: 'erf_f32(x)' },
  sigmoid: { ref: (x) => sigmoidScalar(x), result: 'float', wgsl: 'sigmoid_f32(x)' },
  relu: { ref: (x) => (x < 0 ? 0 : x), result: 'same', wgsl: 'max(x, CT(0))' },
  gelu: { ref: (x) => geluScalar(x), result: 'float', wgsl: '0.5 * x * (1.0 + erf_f32(x * 0.7071067811865476))' },
  geluTanh: { ref: (x) => geluTanhScalar(x), result: 'float', wgsl: '0.5 * x * (1.0 + tanh_safe(0.7978845608028654 * (x + 0.044715 * x * x * x)))' },
  silu: { ref: (x) => x * sigmoidScalar(x), result: 'float', wgsl: 'x * sigmoid_f32(x)' },
  floor: { ref: (x) => Math.floor(x), result: 'same', wgsl: 'floor(x)', wgslInt: 'x' },
  ceil: { ref: (x) => Math.ceil(x), result: 'same', wgsl: 'ceil(x)', wgslInt: 'x' },
  round: { ref: (x) => roundHalfEven(x), result: 'same', wgsl: 'round(x)', wgslInt: 'x' },
  sign: { ref: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), result: 'same', wgsl: 'select(sign(x), 0.0, is_nan(x))', wgslInt: 'sign(x)' },
  not: { ref: (x) => (x !== 0 ? 0 : 1), result: 'bool', wgsl: 'select(0, 1, x == CT(0))' },
  clamp: { ref: (x, lo, hi) => (x < lo ? lo : x > hi ? hi : x), result: 'same', wgsl: 'min(max(x, clamp_lo(alpha)), clamp_hi(beta))' },
  leakyRelu: { ref: (x, a) => (x >= 0 ? x : a * x), result: 'float', wgsl: 'select(alpha * x, x, x >= 0.0)' },
  elu: { ref: (x, a) => (x > 0 ? x : a * (Math.exp(x) - 1)), result: 'float', wgsl: 'select(alpha * (exp(x) - 1.0), x, x > 0.0)' },
  hardSigmoid: { ref: (x, a, b) => Math.max(0, Math.min(1, a * x + b)), result: 'float', wgsl: 'clamp(alpha * x + beta, 0.0, 1.0)' },
  hardSwish: { ref: (x) => (x * Math.max(0, Math.min(6, x + 3))) / 6, result: 'float', wgsl: 'x * clamp(x + 3.0, 0.0, 6.0) / 6.0' },
  softplus: { ref: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))), result: 'float', wgsl: 'softplus_f32(x)' },
};

/** One row per binary op: scalar reference, whether ints stay ints, WGSL over `a`, `b` (CT) and its i32 form if different. */
export const BINARY: Record<BinaryOp, { ref: (a: number, b: number) => number; result: ResultKind | 'promote'; wgsl: string; wgslInt?: string }> = {
  add: { ref: (a, b) => a + b, result: 'promote', wgsl: 'a + b' },
  sub: { ref: (a, b) => a - b, result: 'promote', wgsl: 'a - b' },
  mul: { ref: (a, b) => a * b, result: 'promote', wgsl: 'a * b' },
  div: { ref: (a, b) => a / b, result: 'float', wgsl: 'a / b' },
  // C's pow, as PyTorch: pow(1, y) = 1 and pow(-1, ±inf) = 1 even for NaN y (JavaScript's Math.pow gives NaN)
  pow: { ref: (a, b) => (a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b)), result: 'promote', wgsl: 'pow_f32(a, b)', wgslInt: 'pow_i32(a, b)' },
  maximum: { ref: (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b), result: 'promote', wgsl: 'select(max(a, b), qnan(), is_nan(a) || is_nan(b))', wgslInt: 'max(a, b)' },
  minimum: { ref: (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b), result: 'promote', wgsl: 'select(min(a, b), qnan(), is_nan(a) || is_nan(b))', wgslInt: 'min(a, b)' },
  mod: { ref: (a, b) => { const r = a % b; return r !== 0 && (r < 0) !== (b < 0) ? r + b : r; }, result: 'promote', wgsl: 'mod_f32(a, b)', wgslInt: 'mod_i32(a, b)' },
};

/** Comparisons and logical ops: always bool. */
export const COMPARE: Record<CompareOp, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  and: (a, b) => a !== 0 && b !== 0,
  or: (a, b) => a !== 0 || b !== 0,
  xor: (a, b) => (a !== 0) !== (b !== 0),
};

/**
 * WGSL condition per comparison/logical op over `a`, `b` (CT); the kernel turns it into 0/1. NaN is tested on its
 * bits (ordered and unordered float compares differ between compilers): it compares unequal to everything and is
 * true in logical ops, as in PyTorch.
 */
export const COMPARE_WGSL: Record<CompareOp, string> = {
  eq: 'a == b && !nan_ct(a)', ne: '!(a == b) || nan_ct(a) || nan_ct(b)',
  lt: 'a < b && !nan_ct(a) && !nan_ct(b)', le: 'a <= b && !nan_ct(a) && !nan_ct(b)',
  gt: 'a > b && !nan_ct(a) && !nan_ct(b)', ge: 'a >= b && !nan_ct(a) && !nan_ct(b)',
  and: 'truthy(a) && truthy(b)', or: 'truthy(a) || truthy(b)', xor: 'truthy(a) != truthy(b)',
};

/**
 * The WGSL of a unary op (or fused activation) over `x`: i32 inputs take the row's integer form; on f32, ops whose
 * reference maps NaN to NaN return x itself when it is NaN (tested on its bits), because WGSL's max, min, clamp,
 * exp and friends may drop or replace a NaN (SwiftShader's exp(NaN) is +inf, max(NaN, 0) is 0).
 * @example unaryWgsl('relu', false) // 'select(max(x, CT(0)), x, is_nan(x))'
 */
export function unaryWgsl(op: UnaryOp, int: boolean): string {
  const row = UNARY[op];
  if (int) return row.wgslInt != null && row.result === 'same' ? row.wgslInt : row.wgsl;
  return Number.isNaN(row.ref(NaN, 0, 0)) ? `select(${row.wgsl}, x, is_nan(x))` : row.wgsl;
}

function resultDType(kind: ResultKind | 'promote', dtype: DType): DType {
  if (kind === 'bool') return 'bool';
  if (kind === 'float') return isFloatDType(dtype) ? dtype : 'float32';
  return dtype === 'bool' && kind === 'promote' ? 'int32' : dtype;
}

/** Run a unary op from the table. */
export function unary(op: UnaryOp, x: Tensor, attrs: UnaryAttrs = {}): Tensor {
  const dtype = resultDType(UNARY[op].result, x.dtype);
  return runOp(op, [x], [{ shape: x.shape, dtype }], attrs)[0]!;
}

/** A scalar operand as a 0-d tensor next to `like`, in a dtype that keeps its value. */
function scalarLike(v: number | boolean, like: Tensor): Tensor {
  const dtype: DType = typeof v === 'boolean' ? 'bool' : !Number.isInteger(v) && !isFloatDType(like.dtype) ? 'float32' : like.dtype === 'bool' ? 'int32' : like.dtype;
  return fromData([Number(v)], [], dtype, like.storage.backend);
}

export type Operand = Tensor | number | boolean;

function operands(a: Operand, b: Operand, op: string): [Tensor, Tensor, Tensor[]] {
  const temps: Tensor[] = [];
  if (!isTensor(a) && !isTensor(b)) throw new TypeError(`forwardpass: ${op}: at least one operand must be a Tensor`);
  for (const [name, v] of [['first', a], ['second', b]] as const) {
    if (!isTensor(v) && typeof v !== 'number' && typeof v !== 'boolean') throw new TypeError(`forwardpass: ${op}: the ${name} operand must be a Tensor, number or boolean, got ${Array.isArray(v) ? 'an array' : typeof v}`);
  }
  const ta = isTensor(a) ? a : (temps.push(scalarLike(a, b as Tensor)), temps[temps.length - 1]!);
  const tb = isTensor(b) ? b : (temps.push(scalarLike(b, ta)), temps[temps.length - 1]!);
  return [ta, tb, temps];
}

/** Run a binary op from the table with broadcasting and type promotion. */
export function binary(op: BinaryOp, a: Operand, b: Operand): Tensor {
  const [ta, tb, temps] = operands(a, b, op);
  try {
    const shape = broadcastShapes(ta.shape, tb.shape, op);
    const common = promoteTypes(ta.dtype, tb.dtype);
    const dtype = resultDType(BINARY[op].result, common);
    const [x, y, casts] = castBoth(ta, tb, dtype === 'bool' ? common : dtype === 'float32' && !isFloatDType(common) ? 'float32' : common);
    try {
      return runOp(op, [x, y], [{ shape, dtype }], {})[0]!;
    } finally {
      casts.forEach((t) => t.dispose());
    }
  } finally {
    temps.forEach((t) => t.dispose());
  }
}

/** Cast both operands to `dtype` where they differ (kernels see equal input dtypes). */
function castBoth(a: Tensor, b: Tensor, dtype: DType): [Tensor, Tensor, Tensor[]] {
  const casts: Tensor[] = [];
  const x = a.dtype === dtype ? a : (casts.push(cast(a, dtype)), casts[casts.length - 1]!);
  const y = b.dtype === dtype ? b : (casts.push(cast(b, dtype)), casts[casts.length - 1]!);
  return [x, y, casts];
}

/** Run a comparison or logical op: broadcast, result bool. */
export function compare(op: CompareOp, a: Operand, b: Operand): Tensor {
  const [ta, tb, temps] = operands(a, b, op);
  try {
    const shape = broadcastShapes(ta.shape, tb.shape, op);
    const [x, y, casts] = castBoth(ta, tb, promoteTypes(ta.dtype, tb.dtype));
    try {
      return runOp(op, [x, y], [{ shape, dtype: 'bool' }], {})[0]!;
    } finally {
      casts.forEach((t) => t.dispose());
    }
  } finally {
    temps.forEach((t) => t.dispose());
  }
}

/** Convert to another dtype (floats to ints truncate toward zero; to bool: non-zero is true). @example cast(x, 'float16') */
export function cast(x: Tensor, dtype: DType): Tensor {
  return runOp('cast', [x], [{ shape: x.shape, dtype }], { dtype })[0]!;
}

/** Pick from `a` where `cond` is true, else from `b`, with broadcasting. @example where(gt(x, 0), x, 0) */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  expectDType('where', 'cond', cond, ['bool']);
  const [ta, tb, temps] = operands(a, b, 'where');
  try {
    const shape = broadcastAll([cond.shape, ta.shape, tb.shape], 'where');
    const [x, y, casts] = castBoth(ta, tb, promoteTypes(ta.dtype, tb.dtype));
    try {
      return runOp('where', [cond, x, y], [{ shape, dtype: x.dtype }], {})[0]!;
    } finally {
      casts.forEach((t) => t.dispose());
    }
  } finally {
    temps.forEach((t) => t.dispose());
  }
}

// ---- the user-facing names ----
/** @example neg(x) */ export const neg = (x: Tensor) => unary('neg', x);
export const abs = (x: Tensor) => unary('abs', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const rsqrt = (x: Tensor) => unary('rsqrt', x);
export const reciprocal = (x: Tensor) => unary('reciprocal', x);
export const square = (x: Tensor) => unary('square', x);
export const sin = (x: Tensor) => unary('sin', x);
export const cos = (x: Tensor) => unary('cos', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const erf = (x: Tensor) => unary('erf', x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const relu = (x: Tensor) => unary('relu', x);
/** min(max(x, 0), 6) */
export const relu6 = (x: Tensor) => unary('clamp', x, { alpha: 0, beta: 6 });
/** GELU; `approximate: 'tanh'` selects the tanh form (GPT-2), default is the exact erf form. */
export const gelu = (x: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}) => unary(opts.approximate === 'tanh' ? 'geluTanh' : 'gelu', x);
export const silu = (x: Tensor) => unary('silu', x);
export const floor = (x: Tensor) => unary('floor', x);
export const ceil = (x: Tensor) => unary('ceil', x);
export const round = (x: Tensor) => unary('round', x);
export const sign = (x: Tensor) => unary('sign', x);
export const logicalNot = (x: Tensor) => unary('not', x);
/** Clamp to [min, max]; either bound may be omitted. @example clamp(x, 0, 1) */
export const clamp = (x: Tensor, min = -Infinity, max = Infinity) => unary('clamp', x, { alpha: min, beta: max });
export const leakyRelu = (x: Tensor, negativeSlope = 0.01) => unary('leakyRelu', x, { alpha: negativeSlope });
export const elu = (x: Tensor, alpha = 1) => unary('elu', x, { alpha });
/** max(0, min(1, alpha·x + beta)); PyTorch's hardsigmoid is alpha=1/6, beta=0.5 (the defaults). */
export const hardSigmoid = (x: Tensor, alpha = 1 / 6, beta = 0.5) => unary('hardSigmoid', x, { alpha, beta });
export const hardSwish = (x: Tensor) => unary('hardSwish', x);
export const softplus = (x: Tensor) => unary('softplus', x);

/** @example add(x, 1); add(a, b) (broadcasting) */ export const add = (a: Operand, b: Operand) => binary('add', a, b);
export const sub = (a: Operand, b: Operand) => binary('sub', a, b);
export const mul = (a: Operand, b: Operand) => binary('mul', a, b);
/** True division: ints give float32. */
export const div = (a: Operand, b: Operand) => binary('div', a, b);
export const pow = (a: Operand, b: Operand) => binary('pow', a, b);
export const maximum = (a: Operand, b: Operand) => binary('maximum', a, b);
export const minimum = (a: Operand, b: Operand) => binary('minimum', a, b);
/** Python/PyTorch remainder: the result has the sign of the divisor. */
export const remainder = (a: Operand, b: Operand) => binary('mod', a, b);
export const eq = (a: Operand, b: Operand) => compare('eq', a, b);
export const ne = (a: Operand, b: Operand) => compare('ne', a, b);
export const lt = (a: Operand, b: Operand) => compare('lt', a, b);
export const le = (a: Operand, b: Operand) => compare('le', a, b);
export const gt = (a: Operand, b: Operand) => compare('gt', a, b);
export const ge = (a: Operand, b: Operand) => compare('ge', a, b);
export const logicalAnd = (a: Operand, b: Operand) => compare('and', a, b);
export const logicalOr = (a: Operand, b: Operand) => compare('or', a, b);
export const logicalXor = (a: Operand, b: Operand) => compare('xor', a, b);
