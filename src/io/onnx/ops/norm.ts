// ONNX normalizations (BatchNormalization in inference mode, LayerNormalization with its Mean/InvStdDev outputs,
// RMSNormalization, InstanceNormalization), Softmax and
// LogSoftmax (the 2-D coercion before opset 13), reductions (axes as attribute or input by opset) and ArgMax/ArgMin.
import { numel, shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import * as E from '../../../ops/elementwise.js';
import { add, mul } from '../../../ops/elementwise.js';
import { batchNorm, groupNorm, layerNorm } from '../../../ops/norm.js';
import { argmax, argmin, logSoftmax, max, mean, min, prod, softmax, sum, variance } from '../../../ops/reduce.js';
import { registerOnnxOp, type Dim, type InferContext, type RunContext, type ValueType } from './registry.js';
import { axesOf, axisOf, sameShape, small, composed } from './util.js';
import { gather } from '../../../ops/transform.js';
import { full } from '../../../tensor/creation.js';
import { numbers } from './shape.js';
import { batchNormTraining } from './training.js';

/** BatchNormalization's training_mode (an attribute since opset 14; training.ts computes that form). */
const bnTraining = (c: { opset: number; attrs: RunContext['attrs'] }) => c.opset >= 14 && c.attrs.intOf('training_mode', [0, 1], 0) === 1;

registerOnnxOp('BatchNormalization', {
  validate: (c) => {
    if (!bnTraining(c) && c.node.outputs.slice(1).some((o) => o)) c.fail('the running-statistics outputs need training_mode = 1 (opset 14 or later)');
  },
  infer: (c) => {
    const y = sameShape(c)[0]!;
    const stat: ValueType = { dtype: y.dtype, ...(c.inputs[3]?.shape ? { shape: [...c.inputs[3].shape] } : {}) };
    return [y, stat, { ...stat }];
  },
  run: (c) => {
    if (bnTraining(c)) return batchNormTraining(c);
    const x = c.input(0);
    return [batchNorm(x, c.input(3), c.input(4), c.input(1), c.input(2), c.attrs.float('epsilon', 1e-5))];
  },
});

/** LayerNormalization's optional Mean and InvStdDev outputs (over dims axis.., kept as 1): composed reductions. */
function layerNormStats(x: Tensor, axis: number, eps: number, want: [boolean, boolean]): [Tensor | undefined, Tensor | undefined] {
  if (!want[0] && !want[1]) return [undefined, undefined];
  const axes = Array.from({ length: x.rank - axis }, (_, i) => axis + i);
  const m = mean(x, { axis: axes, keepdim: true });
  if (!want[1]) return [m, undefined];
  const inv = composed((t) => E.rsqrt(t(E.add(t(variance(x, { axis: axes, keepdim: true, correction: 0 })), eps))));
  if (want[0]) return [m, inv];
  m.dispose();
  return [undefined, inv];
}

registerOnnxOp('LayerNormalization', {
  infer: (c) => {
    const x = c.inputs[0];
    const y = sameShape(c)[0]!;
    if (!x?.shape) return [y, { dtype: 'float32' }, { dtype: 'float32' }];
    const a = axisOf(c, c.attrs.int('axis', -1), x.shape.length);
    const stat: ValueType = { dtype: x.dtype, shape: x.shape.map((d, i) => (i < a ? d : 1)) };
    return [y, stat, { ...stat }];
  },
  run: (c) => {
    const x = c.input(0);
    const a = axisOf(c, c.attrs.int('axis', -1), x.rank);
    const ns = x.shape.slice(a);
    const eps = c.attrs.float('epsilon', 1e-5);
    const scale = c.input(1);
    const bias = c.inputs[2];
    const stats = layerNormStats(x, a, eps, [!!c.node.outputs[1], !!c.node.outputs[2]]);
    const fits = (t: Tensor | undefined) => !t || (t.rank === ns.length && t.shape.every((d, i) => d === ns[i]));
    if (fits(scale) && fits(bias)) return [layerNorm(x, ns, scale, bias ?? null, eps), ...stats];
    // scale/bias that broadcast onto the normalized dims: normalize, then apply them elementwise
    const n = layerNorm(x, ns, null, null, eps);
    const s = mul(n, scale);
    n.dispose();
    if (!bias) return [s, ...stats];
    const y = add(s, bias);
    s.dispose();
    return [y, ...stats];
  },
});

registerOnnxOp('RMSNormalization', {
  // x / sqrt(mean(x^2 over dims axis..) + epsilon) * scale (opset 23), composed so that scale may broadcast
  infer: (c) => sameShape(c),
  run: (c) => {
    const x = c.input(0);
    const a = axisOf(c, c.attrs.int('axis', -1), x.rank);
    const axes = Array.from({ length: x.rank - a }, (_, i) => a + i);
    const eps = c.attrs.float('epsilon', 1e-5);
    return [composed((t) => {
      const inv = t(E.rsqrt(t(E.add(t(mean(t(E.square(x)), { axis: axes, keepdim: true })), eps))));
      return E.mul(t(E.mul(x, inv)), c.input(1));
    })];
  },
});

registerOnnxOp('InstanceNormalization', {
  infer: (c) => sameShape(c),
  run: (c) => {
    const x = c.input(0);
    if (x.rank < 3) c.fail(`input must be [N, C, ...spatial], found ${shapeStr(x.shape)}`);
    return [groupNorm(x, x.shape[1]!, c.input(1), c.input(2), c.attrs.float('epsilon', 1e-5))];
  },
});

function softmaxOp(fn: (x: Tensor, axis: number) => Tensor) {
  return {
    infer: (c: InferContext) => sameShape(c),
    run: (c: RunContext) => {
      const x = c.input(0);
      if (c.opset >= 13) return [fn(x, axisOf(c, c.attrs.int('axis', -1), x.rank))];
      // before opset 13: the input is seen as 2-D [prod(dims before axis), prod(dims from axis)]
      const a = axisOf(c, c.attrs.int('axis', 1), x.rank);
      const x2 = x.reshape([numel(x.shape.slice(0, a)), numel(x.shape.slice(a))]);
      const y2 = fn(x2, 1);
      x2.dispose();
      const y = y2.reshape(x.shape);
      y2.dispose();
      return [y];
    },
  };
}
registerOnnxOp('Softmax', softmaxOp(softmax));
registerOnnxOp('LogSoftmax', softmaxOp(logSoftmax));

type ReduceFn = (x: Tensor, o: { axis?: number[]; keepdim?: boolean }) => Tensor;

/** log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m the (finite) max, so large values do not overflow. */
const logSumExp: ReduceFn = (x, o) => composed((t) => {
  const axes = o.axis ?? [];
  if (axes.some((a) => x.shape[a] === 0)) return E.log(t(sum(t(E.exp(x)), o)));
  const m = t(max(x, { axis: axes, keepdim: true }));
  const safe = t(E.where(t(E.eq(t(E.abs(m)), Infinity)), 0, m));
  const s = t(E.log(t(sum(t(E.exp(t(E.sub(x, safe)))), o))));
  return E.add(s, o.keepdim ? safe : t(safe.reshape(s.shape)));
});

const REDUCE: [string, ReduceFn, number][] = [
  ['ReduceSum', sum, 13], ['ReduceMean', mean, 18], ['ReduceMax', max, 18], ['ReduceMin', min, 18], ['ReduceProd', prod, 18],
  ['ReduceL1', (x, o) => composed((t) => sum(t(E.abs(x)), o)), 18],
  ['ReduceL2', (x, o) => composed((t) => E.sqrt(t(sum(t(E.square(x)), o)))), 18],
  ['ReduceSumSquare', (x, o) => composed((t) => sum(t(E.square(x)), o)), 18],
  ['ReduceLogSum', (x, o) => composed((t) => E.log(t(sum(x, o)))), 18],
  ['ReduceLogSumExp', logSumExp, 18],
];

function reduceAxes(c: InferContext | RunContext, rank: number, inputSince: number, axesInput: number[] | undefined): number[] | 'none' {
  const axes = c.opset >= inputSince ? axesInput : c.attrs.has('axes') ? c.attrs.ints('axes') : undefined;
  if (!axes || axes.length === 0) return c.opset >= inputSince && c.attrs.intOf('noop_with_empty_axes', [0, 1], 0) === 1 ? 'none' : Array.from({ length: rank }, (_, i) => i);
  return axesOf(c, axes, rank);
}

for (const [opType, fn, since] of REDUCE) {
  registerOnnxOp(opType, {
    hostInputs: [1],
    validate: (c) => {
      c.attrs.intOf('keepdims', [0, 1], 1);
      if (c.opset >= since) c.attrs.intOf('noop_with_empty_axes', [0, 1], 0);
    },
    infer: (c) => {
      const x = c.inputs[0];
      const given = c.opset >= since && c.inputs[1] ? numbers(c.inputs[1].values) : undefined;
      if (!x?.shape || (c.opset >= since && c.inputs[1] && !given)) return [{ dtype: x?.dtype ?? 'float32' }];
      const axes = reduceAxes(c, x.shape.length, since, given);
      if (axes === 'none') return [{ ...x }];
      const keep = c.attrs.intOf('keepdims', [0, 1], 1) === 1;
      const shape: Dim[] = keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
      return [{ dtype: opType === 'ReduceMean' && x.dtype !== 'float16' ? 'float32' : x.dtype, shape } satisfies ValueType];
    },
    run: (c) => {
      const x = c.input(0);
      const axes = reduceAxes(c, x.rank, since, c.ints(1));
      if (axes === 'none') return [x];
      const keepdim = c.attrs.intOf('keepdims', [0, 1], 1) === 1;
      if ((opType === 'ReduceMax' || opType === 'ReduceMin') && axes.some((a) => x.shape[a] === 0)) {
        // over an empty set: the identity of the reduction (-inf for max, +inf for min; false / true for bool)
        const shape = x.shape.flatMap((d, i) => (axes.includes(i) ? (keepdim ? [1] : []) : [d]));
        const max = opType === 'ReduceMax';
        const value = x.dtype === 'bool' ? (max ? 0 : 1) : max ? -Infinity : Infinity;
        if (x.dtype !== 'bool' && x.dtype !== 'float32' && x.dtype !== 'float16') c.fail(`reducing an empty set of ${x.dtype} has no identity forwardpass can hold`);
        return [full(shape, value, { dtype: x.dtype, device: c.device })];
      }
      return [fn(x, { axis: axes, keepdim })];
    },
  });
}

/**
 * Arg-reduction along `axis`; `last` picks the last index among ties: (n - 1) - arg(x reversed along axis), the
 * reversal being a gather of indices n-1..0.
 */
function argReduce(fn: typeof argmax, x: Tensor, axis: number, keepdim: boolean, last: boolean, device: string): Tensor {
  if (!last) return fn(x, { axis, keepdim });
  const n = x.shape[axis]!;
  return composed((t) => {
    const rev = t(gather(x, t(small(Array.from({ length: n }, (_, i) => n - 1 - i), [n], 'int32', device)), axis));
    return E.sub(n - 1, t(fn(rev, { axis, keepdim })));
  });
}

for (const [opType, fn] of [['ArgMax', argmax], ['ArgMin', argmin]] as const) {
  registerOnnxOp(opType, {
    validate: (c) => {
      c.attrs.intOf('keepdims', [0, 1], 1);
      c.attrs.intOf('select_last_index', [0, 1], 0);
    },
    infer: (c) => {
      const x = c.inputs[0];
      if (!x?.shape) return [{ dtype: 'int32' }];
      const a = axisOf(c, c.attrs.int('axis', 0), x.shape.length);
      const keep = c.attrs.intOf('keepdims', [0, 1], 1) === 1;
      return [{ dtype: 'int32', shape: keep ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a) }];
    },
    run: (c) => {
      const x = c.input(0);
      const last = c.attrs.int('select_last_index', 0) === 1;
      return [argReduce(fn, x, axisOf(c, c.attrs.int('axis', 0), x.rank), c.attrs.intOf('keepdims', [0, 1], 1) === 1, last, c.device)];
    },
  });
}

registerOnnxOp('Hardmax', {
  // 1 at the first maximum along axis (opset 13; before: the 2-D coercion around axis), 0 elsewhere
  infer: (c) => sameShape(c),
  run: (c) => {
    const x0 = c.input(0);
    const a0 = axisOf(c, c.attrs.int('axis', c.opset >= 13 ? -1 : 1), x0.rank);
    const x = c.opset >= 13 ? x0 : x0.reshape([numel(x0.shape.slice(0, a0)), numel(x0.shape.slice(a0))]);
    const a = c.opset >= 13 ? a0 : 1;
    const n = x.shape[a]!;
    const y = composed((t) => {
      if (x !== x0) t(x);
      const iota = t(small(Array.from({ length: n }, (_, i) => i), x.shape.map((d, i) => (i === a ? n : 1)), 'int32', c.device));
      return E.cast(t(E.eq(iota, t(argmax(x, { axis: a, keepdim: true })))), x.dtype);
    });
    if (x === x0) return [y];
    const out = y.reshape(x0.shape);
    y.dispose();
    return [out];
  },
});
