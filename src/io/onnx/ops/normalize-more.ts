// More ONNX normalizations and small generators, composed from existing kernels (every backend runs them):
// LpNormalization, MeanVarianceNormalization, GroupNormalization (per-group scale at opset 18, per-channel from
// 21), Swish, and EyeLike (made on the host: its contents depend only on the input's shape).
import { shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import * as E from '../../../ops/elementwise.js';
import { groupNorm } from '../../../ops/norm.js';
import { mean, sum, variance } from '../../../ops/reduce.js';
import { onnxCodeDType, onnxCodeName } from '../values.js';
import { registerOnnxOp } from './registry.js';
import { axesOf, axisOf, sameShape, small, composed } from './util.js';


registerOnnxOp('LpNormalization', {
  validate: (c) => { c.attrs.intOf('p', [1, 2], 2); },
  infer: (c) => sameShape(c),
  run: (c) => {
    const x = c.input(0);
    const axis = axisOf(c, c.attrs.int('axis', -1), x.rank);
    const p = c.attrs.intOf('p', [1, 2], 2);
    return [composed((t) => {
      const norm = p === 1 ? t(sum(t(E.abs(x)), { axis, keepdim: true })) : t(E.sqrt(t(sum(t(E.square(x)), { axis, keepdim: true }))));
      // a zero norm gives zeros (as onnxruntime), not 0/0 = NaN
      return E.where(t(E.eq(norm, 0)), 0, t(E.div(x, norm)));
    })];
  },
});

registerOnnxOp('MeanVarianceNormalization', {
  // (x - mean) / (std + 1e-9) over `axes` (default [0, 2, 3]), as the ONNX function body computes it
  infer: (c) => sameShape(c),
  run: (c) => {
    const x = c.input(0);
    const axes = axesOf(c, c.attrs.ints('axes', [0, 2, 3]), x.rank);
    return [composed((t) => {
      const m = t(mean(x, { axis: axes, keepdim: true }));
      const sd = t(E.add(t(E.sqrt(t(variance(x, { axis: axes, keepdim: true, correction: 0 })))), 1e-9));
      return E.div(t(E.sub(x, m)), sd);
    })];
  },
});

registerOnnxOp('GroupNormalization', {
  infer: (c) => sameShape(c),
  run: (c) => {
    const x = c.input(0);
    if (x.rank < 3) c.fail(`X must be [N, C, ...spatial], found ${shapeStr(x.shape)}`);
    const g = c.attrs.int('num_groups'), ch = x.shape[1]!;
    if (g < 1 || ch % g !== 0) c.fail(`num_groups ${g} must divide the ${ch} channels`);
    const eps = c.attrs.float('epsilon', 1e-5);
    return [composed((t) => {
      // opset 18 scales per group, later opsets per channel: make both per channel, shaped [C, 1, ...]
      const perChannel = (v: Tensor) => {
        const flat = v.size === ch ? v : t(t(t(v.reshape([g, 1])).expand([g, ch / g])).reshape([ch]));
        if (flat.size !== ch) c.fail(`scale and bias must hold ${g} (opset 18) or ${ch} values, found ${v.size}`);
        return t(flat.reshape([ch, ...new Array<number>(x.rank - 2).fill(1)]));
      };
      const n = t(groupNorm(x, g, null, null, eps));
      return E.add(t(E.mul(n, perChannel(c.input(1)))), perChannel(c.input(2)));
    })];
  },
});

registerOnnxOp('Swish', {
  infer: (c) => sameShape(c),
  run: (c) => {
    const x = c.input(0);
    const alpha = c.attrs.float('alpha', 1);
    return [composed((t) => E.mul(x, t(E.sigmoid(alpha === 1 ? x : t(E.mul(x, alpha))))))];
  },
});

registerOnnxOp('EyeLike', {
  validate: (c) => {
    if (c.attrs.has('dtype') && !onnxCodeDType(c.attrs.int('dtype'))) c.fail(`dtype ${onnxCodeName(c.attrs.int('dtype'))} is not supported`);
  },
  infer: (c) => [{ dtype: c.attrs.has('dtype') ? onnxCodeDType(c.attrs.int('dtype'))! : c.inputs[0]?.dtype ?? 'float32', ...(c.inputs[0]?.shape ? { shape: [...c.inputs[0].shape] } : {}) }],
  run: (c) => {
    const x = c.input(0);
    if (x.rank !== 2) c.fail(`input must be 2-D, found ${shapeStr(x.shape)}`);
    const [r, w] = x.shape as [number, number];
    const k = c.attrs.int('k', 0);
    const data = new Float32Array(r * w);
    for (let i = 0; i < r; i++) if (i + k >= 0 && i + k < w) data[i * w + i + k] = 1;
    return [small(data, [r, w], c.attrs.has('dtype') ? onnxCodeDType(c.attrs.int('dtype'))! : x.dtype, c.device)];
  },
});
