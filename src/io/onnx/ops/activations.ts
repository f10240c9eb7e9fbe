// ONNX activations and tests composed from the elementwise ops (so they run on every backend): IsNaN, IsInf,
// PRelu, Selu, Celu, ThresholdedRelu, Shrink, Softsign, Mish, Mean, Sinh, Cosh, Tan. NaN propagates as in onnxruntime.
import * as E from '../../../ops/elementwise.js';
import { registerOnnxOp, type RunContext } from './registry.js';
import { broadcastTypes, sameShape, composed } from './util.js';


// x != x holds exactly for NaN
registerOnnxOp('IsNaN', { infer: (c) => sameShape(c, 'bool'), run: (c) => [E.ne(c.input(0), c.input(0))] });

registerOnnxOp('IsInf', {
  validate: (c) => { c.attrs.intOf('detect_positive', [0, 1], 1); c.attrs.intOf('detect_negative', [0, 1], 1); },
  infer: (c) => sameShape(c, 'bool'),
  run: (c) => {
    const x = c.input(0);
    const pos = c.attrs.int('detect_positive', 1) === 1, neg = c.attrs.int('detect_negative', 1) === 1;
    if (pos && neg) return [composed((t) => E.eq(t(E.abs(x)), Infinity))];
    if (pos) return [E.eq(x, Infinity)];
    if (neg) return [E.eq(x, -Infinity)];
    return [E.gt(x, Infinity)]; // nothing detected: all false
  },
});

registerOnnxOp('PRelu', {
  // slope broadcasts onto x (unidirectionally); NaN stays NaN (the comparison is false)
  infer: (c) => sameShape(c),
  run: (c) => {
    const x = c.input(0);
    return [composed((t) => E.where(t(E.lt(x, 0)), t(E.mul(x, c.input(1))), x))];
  },
});

registerOnnxOp('Selu', {
  infer: (c) => sameShape(c),
  run: (c) => {
    const alpha = c.attrs.float('alpha', 1.6732632423543772), gamma = c.attrs.float('gamma', 1.0507009873554805);
    return [composed((t) => E.mul(t(E.elu(c.input(0), alpha)), gamma))];
  },
});

registerOnnxOp('Celu', {
  // max(0, x) + min(0, alpha (exp(x / alpha) - 1)) = alpha elu(x / alpha)
  infer: (c) => sameShape(c),
  run: (c) => {
    const alpha = c.attrs.float('alpha', 1);
    return [composed((t) => E.mul(t(E.elu(t(E.div(c.input(0), alpha)), 1)), alpha))];
  },
});

registerOnnxOp('ThresholdedRelu', {
  infer: (c) => sameShape(c),
  run: (c) => {
    const x = c.input(0);
    return [composed((t) => E.where(t(E.gt(x, c.attrs.float('alpha', 1))), x, 0))];
  },
});

registerOnnxOp('Shrink', {
  infer: (c) => sameShape(c),
  run: (c) => {
    const x = c.input(0);
    const lambd = c.attrs.float('lambd', 0.5), bias = c.attrs.float('bias', 0);
    return [composed((t) => {
      const hi = t(E.where(t(E.gt(x, lambd)), t(E.sub(x, bias)), 0));
      const y = E.where(t(E.lt(x, -lambd)), t(E.add(x, bias)), hi);
      if (y.dtype === x.dtype) return y;
      t(y);
      return E.cast(y, x.dtype);
    })];
  },
});

registerOnnxOp('Softsign', {
  infer: (c) => sameShape(c),
  run: (c) => [composed((t) => E.div(c.input(0), t(E.add(t(E.abs(c.input(0))), 1))))],
});

registerOnnxOp('Mish', {
  infer: (c) => sameShape(c),
  run: (c) => [composed((t) => E.mul(c.input(0), t(E.tanh(t(E.softplus(c.input(0)))))))],
});

registerOnnxOp('Mean', {
  infer: (c) => { const s = broadcastTypes(c.inputs); return [{ dtype: c.inputs[0]?.dtype ?? 'float32', ...(s ? { shape: s } : {}) }]; },
  run: (c: RunContext) => [composed((t) => {
    let acc = c.input(0);
    for (let i = 1; i < c.inputs.length; i++) acc = t(E.add(acc, c.input(i)));
    return E.div(acc, c.inputs.length);
  })],
});

// hyperbolic functions from exp; tan from sin / cos
registerOnnxOp('Sinh', { infer: (c) => sameShape(c), run: (c) => [composed((t) => E.mul(t(E.sub(t(E.exp(c.input(0))), t(E.exp(t(E.neg(c.input(0))))))), 0.5))] });
registerOnnxOp('Cosh', { infer: (c) => sameShape(c), run: (c) => [composed((t) => E.mul(t(E.add(t(E.exp(c.input(0))), t(E.exp(t(E.neg(c.input(0))))))), 0.5))] });
registerOnnxOp('Tan', { infer: (c) => sameShape(c), run: (c) => [composed((t) => E.div(t(E.sin(c.input(0))), t(E.cos(c.input(0)))))] });
