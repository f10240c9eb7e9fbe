// ONNX elementwise ops: arithmetic with broadcasting (integer Div truncates, as ONNX), comparisons, logic, Where,
// Cast, Clip (attribute form before opset 11, inputs after) and the activations, mapped onto src/ops/elementwise.
import { f16ToF32, isFloatDType, type DType } from '../../../tensor/dtype.js';
import { full } from '../../../tensor/creation.js';
import type { Tensor } from '../../../tensor/tensor.js';
import * as E from '../../../ops/elementwise.js';
import { broadcastBinary, hostOut } from './host.js';
import type { UnaryOp } from '../../../ops/attrs.js';
import { onnxCodeDType, onnxCodeName, onnxElemDType, onnxTensorToTensor, roundToBf16 } from '../values.js';
import { registerOnnxOp, type Dim, type InferContext, type RunContext, type ValueType } from './registry.js';
import { broadcastTypes, sameShape, small } from './util.js';

const isInt = (d: DType) => !isFloatDType(d) && d !== 'bool';

// ---- unary ops that map one to one ----
const UNARY: Record<string, UnaryOp> = {
  Sqrt: 'sqrt', Reciprocal: 'reciprocal', Exp: 'exp', Log: 'log', Neg: 'neg', Abs: 'abs', Erf: 'erf', Tanh: 'tanh',
  Sigmoid: 'sigmoid', Relu: 'relu', Sin: 'sin', Cos: 'cos', Floor: 'floor', Ceil: 'ceil', Round: 'round', Sign: 'sign',
  Softplus: 'softplus', HardSwish: 'hardSwish', Not: 'not',
};
for (const [opType, op] of Object.entries(UNARY)) {
  registerOnnxOp(opType, {
    infer: (c) => sameShape(c, op === 'not' ? 'bool' : undefined),
    run: (c) => [E.unary(op, c.input(0))],
  });
}

registerOnnxOp('LeakyRelu', { infer: (c) => sameShape(c), run: (c) => [E.leakyRelu(c.input(0), c.attrs.float('alpha', 0.01))] });
registerOnnxOp('Elu', { infer: (c) => sameShape(c), run: (c) => [E.elu(c.input(0), c.attrs.float('alpha', 1))] });
registerOnnxOp('HardSigmoid', { infer: (c) => sameShape(c), run: (c) => [E.hardSigmoid(c.input(0), c.attrs.float('alpha', 0.2), c.attrs.float('beta', 0.5))] });
registerOnnxOp('Gelu', {
  validate: (c) => { c.attrs.stringOf('approximate', ['none', 'tanh'] as const, 'none'); },
  infer: (c) => sameShape(c),
  run: (c) => [E.gelu(c.input(0), { approximate: c.attrs.stringOf('approximate', ['none', 'tanh'] as const, 'none') })],
});
registerOnnxOp('Identity', { infer: (c) => [{ ...c.inputs[0]! }], run: (c) => [c.input(0)] });
/** Dropout in training mode draws random numbers unless its ratio (input 1, default 0.5) is 0. */
const randomDropout = 'training_mode = true with a ratio above 0 is not supported (forwardpass does not draw random numbers; ratio 0 is the identity)';
registerOnnxOp('Dropout', {
  // Inference, or training at ratio 0: the identity; the optional mask output is all true. training_mode (an input
  // since opset 12) true with a ratio above 0 is refused.
  hostInputs: [1, 2],
  infer: (c) => [{ ...c.inputs[0]! }, { dtype: 'bool', ...(c.inputs[0]?.shape ? { shape: [...c.inputs[0].shape] } : {}) }],
  // constant training_mode and ratio (initializers) are known at load; ones fed at run time are checked then
  prepare: (c) => {
    const ratio = c.constant(1) ? c.constant(1)!.dataSync()[0] : c.inputs[1] ? undefined : 0.5;
    if (c.constant(2)?.dataSync()[0] && ratio !== undefined && ratio !== 0) c.fail(randomDropout);
  },
  run: (c) => {
    const training = c.ints(2);
    if (training && training[0] && (c.floats(1)?.[0] ?? 0.5) !== 0) c.fail(randomDropout);
    const x = c.input(0);
    const mask = c.node.outputs[1] ? full(x.shape, 1, { dtype: 'bool', device: c.device }) : undefined;
    return [x, mask];
  },
});

// ---- binary arithmetic and comparisons ----
function binaryInfer(c: InferContext, dtype?: DType): ValueType[] {
  const [a, b] = c.inputs;
  const shape = broadcastTypes([a, b]);
  const out: ValueType = { dtype: dtype ?? a?.dtype ?? 'float32', ...(shape ? { shape } : {}) };
  const fold = ARITH[c.node.opType];
  // Known contents of small integer host values (shape arithmetic like Div(seq, 2)).
  if (fold && a?.values && b?.values && isInt(out.dtype) && (a.values.length === b.values.length || a.values.length === 1 || b.values.length === 1)) {
    const n = Math.max(a.values.length, b.values.length);
    const vals: Dim[] = [];
    for (let i = 0; i < n; i++) {
      const x = a.values[a.values.length === 1 ? 0 : i]!, y = b.values[b.values.length === 1 ? 0 : i]!;
      vals.push(typeof x === 'number' && typeof y === 'number' ? fold(x, y) : c.node.opType === 'Mul' && (x === 1 || y === 1) ? (x === 1 ? y : x) : null);
    }
    out.values = vals;
  }
  return [out];
}

const ARITH: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => Math.trunc(a / b),
};

function arith(op: 'add' | 'sub' | 'mul', c: RunContext): Tensor {
  return E.binary(op, c.input(0), c.input(1));
}
registerOnnxOp('Add', { infer: (c) => binaryInfer(c), run: (c) => [arith('add', c)] });
registerOnnxOp('Sub', { infer: (c) => binaryInfer(c), run: (c) => [arith('sub', c)] });
registerOnnxOp('Mul', { infer: (c) => binaryInfer(c), run: (c) => [arith('mul', c)] });
registerOnnxOp('Div', {
  infer: (c) => binaryInfer(c),
  run: (c) => {
    const a = c.input(0), b = c.input(1);
    const q = E.div(a, b);
    if (!isInt(a.dtype) || !isInt(b.dtype)) return [q];
    const t = E.cast(q, a.dtype); // integer division truncates toward zero, as ONNX Runtime does
    q.dispose();
    return [t];
  },
});
registerOnnxOp('Pow', {
  // The result has the base's type (an integer base with a float exponent stays integer).
  infer: (c) => binaryInfer(c),
  run: (c) => {
    const a = c.input(0);
    const y = E.pow(a, c.input(1));
    if (y.dtype === a.dtype) return [y];
    const t = E.cast(y, a.dtype);
    y.dispose();
    return [t];
  },
});
registerOnnxOp('Mod', {
  // fmod = 0: the sign of the divisor (integer modulo, composed); fmod = 1: C fmod, the sign of the dividend (a
  // typed-array kernel: JavaScript's % is fmod), for floats and integers
  exactInputs: [0, 1],
  cpuOnly: (c) => c.attrs.intOf('fmod', [0, 1], 0) === 1,
  validate: (c) => { c.attrs.intOf('fmod', [0, 1], 0); },
  infer: (c) => binaryInfer(c),
  run: (c) => {
    if (c.attrs.intOf('fmod', [0, 1], 0) === 0) return [E.remainder(c.input(0), c.input(1))];
    const a = c.input(0), b = c.input(1);
    const { values, shape } = broadcastBinary(a, b, 'Mod', (x, y) => x % y);
    return [hostOut(c, a.dtype === 'float32' ? Float32Array.from(values) : values, shape, a.dtype)];
  },
});

for (const [opType, fn] of [['Max', E.maximum], ['Min', E.minimum], ['Sum', E.add]] as const) {
  registerOnnxOp(opType, {
    infer: (c) => { const s = broadcastTypes(c.inputs); return [{ dtype: c.inputs[0]?.dtype ?? 'float32', ...(s ? { shape: s } : {}) }]; },
    run: (c) => {
      let acc = c.input(0);
      for (let i = 1; i < c.inputs.length; i++) {
        const next = fn(acc, c.input(i));
        if (i > 1) acc.dispose();
        acc = next;
      }
      return [acc];
    },
  });
}

const COMPARE: Record<string, (a: Tensor, b: Tensor) => Tensor> = {
  Equal: E.eq, Less: E.lt, Greater: E.gt, LessOrEqual: E.le, GreaterOrEqual: E.ge, And: E.logicalAnd, Or: E.logicalOr, Xor: E.logicalXor,
};
for (const [opType, fn] of Object.entries(COMPARE)) {
  // a threshold rounded to float16 would flip comparisons: precision 'f16' keeps constant operands exact
  registerOnnxOp(opType, { exactInputs: [0, 1], infer: (c) => binaryInfer(c, 'bool'), run: (c) => [fn(c.input(0), c.input(1))] });
}

registerOnnxOp('Where', {
  infer: (c) => { const s = broadcastTypes(c.inputs); return [{ dtype: c.inputs[1]?.dtype ?? 'float32', ...(s ? { shape: s } : {}) }]; },
  run: (c) => [E.where(c.input(0), c.input(1), c.input(2))],
});

/** Cast's target dtype from `to`. */
function castTarget(c: { attrs: InferContext['attrs']; fail(m: string): never }): DType {
  const to = c.attrs.int('to');
  const d = onnxCodeDType(to);
  if (!d) c.fail(`cannot cast to ${onnxCodeName(to)} (supported: float, float16, double and bfloat16 as float32, int64 as int32, int32, int8, uint8, bool)`);
  return d;
}
registerOnnxOp('Cast', {
  // Cast to bfloat16 (held as float32) rounds on the host (values.ts roundToBf16)
  cpuOnly: (c) => c.attrs.int('to') === 16,
  infer: (c) => {
    const dtype = castTarget(c);
    const x = c.inputs[0];
    return [{ dtype, ...(x?.shape ? { shape: [...x.shape] } : {}), ...(x?.values && isInt(dtype) ? { values: [...x.values] } : {}) }];
  },
  run: (c) => {
    const dtype = castTarget(c);
    const x = c.input(0);
    if (c.attrs.int('to') === 16) return [hostOut(c, roundToBf16(x.dataSync() as ArrayLike<number>), x.shape, 'float32')];
    if (x.dtype === dtype) return [x];
    if (isFloatDType(x.dtype) && dtype === 'int32' && x.device === 'cpu') {
      // On the host, a finite float that int32 cannot hold, or NaN, is an error (ONNX would hold it in int64).
      // ±Infinity saturates to the int32 limits: exporters cast log(0) = -inf (T5's relative-position buckets) on
      // positions a later Where discards, and the cast itself has no defined value.
      const v = x.dataSync();
      let inf = false;
      for (let i = 0; i < v.length; i++) {
        if (v[i] === Infinity || v[i] === -Infinity) inf = true;
        else if (!(Math.abs(v[i]!) < 2 ** 31)) c.fail(`value ${v[i]} at index ${i} does not fit int32 (forwardpass computes int64 as int32)`);
      }
      if (inf) return [small(Int32Array.from(v, (a) => (a === Infinity ? 2 ** 31 - 1 : a === -Infinity ? -(2 ** 31) : a)), x.shape, 'int32', 'cpu')];
    }
    return [E.cast(x, dtype)];
  },
});
registerOnnxOp('CastLike', { run: (c) => [c.input(0).dtype === c.input(1).dtype ? c.input(0) : E.cast(c.input(0), c.input(1).dtype)] });

registerOnnxOp('Clip', {
  // Before opset 11 min/max are attributes; from 11 they are optional scalar inputs.
  hostInputs: [1, 2],
  infer: (c) => sameShape(c),
  run: (c) => {
    const x = c.input(0);
    // an absent bound is the type's numeric_limits (ONNX): Clip(inf) with no max is FLT_MAX, as in onnxruntime
    const big = isInt(x.dtype) ? Infinity : 3.4028234663852886e38;
    let lo: number, hi: number;
    if (c.opset < 11) {
      lo = c.attrs.float('min', -big);
      hi = c.attrs.float('max', big);
    } else {
      const one = (i: number, d: number) => {
        const v = c.floats(i);
        if (v === undefined) return d;
        if (v.length !== 1) c.fail(`input ${i} (${i === 1 ? 'min' : 'max'}) must be a scalar, found ${v.length} values`);
        return v[0]!;
      };
      lo = one(1, -big);
      hi = one(2, big);
    }
    if (lo > hi) {
      // min > max: min(max(x, min), max) is max everywhere (NaN stays NaN), as ONNX and NumPy define it
      const m = E.maximum(x, lo);
      const y = E.minimum(m, hi);
      m.dispose();
      return [y];
    }
    return [E.clamp(x, lo, hi)];
  },
});

/** ConstantOfShape's fill: a one-element tensor attribute (default float 0). */
registerOnnxOp('ConstantOfShape', {
  hostInputs: [0],
  validate: (c) => {
    const v = c.attrs.tensor('value', null);
    if (!v) return;
    if (v.data.length !== 1) c.fail(`attribute 'value' must hold one element, found ${v.data.length}`);
    onnxTensorToTensor(v, `node '${c.label}' (ConstantOfShape): attribute 'value'`).dispose(); // int64 and double values must fit
  },
  infer: (c) => {
    const v = c.attrs.tensor('value', null);
    const dtype: DType = v ? onnxElemDType(v.dataType)! : 'float32';
    const shape = c.inputs[0]?.values;
    return [{ dtype, ...(shape ? { shape: [...shape] } : {}) }];
  },
  run: (c) => {
    const v = c.attrs.tensor('value', null);
    const dtype: DType = v ? onnxElemDType(v.dataType)! : 'float32';
    let value = 0;
    if (v) value = v.dataType === 'int64' ? Number((v.data as BigInt64Array)[0]) : v.dataType === 'float16' ? f16ToF32((v.data as Uint16Array)[0]!) : Number(v.data[0]);
    const shape = c.ints(0) ?? [];
    if (shape.some((d) => d < 0)) c.fail(`shape ${JSON.stringify(shape)} has a negative dim`);
    return [full(shape, value, { dtype, device: c.device })];
  },
});
