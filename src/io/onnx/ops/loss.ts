// ONNX NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (inference of the loss value), composed from
// GatherElements along the class axis, elementwise masks for ignore_index, and sums (every backend runs them).
import type { Tensor } from '../../../tensor/tensor.js';
import { shapeStr } from '../../../tensor/shape.js';
import * as E from '../../../ops/elementwise.js';
import { logSoftmax, sum } from '../../../ops/reduce.js';
import { gather } from '../../../ops/transform.js';
import { registerOnnxOp, type NodeContext, type ValueType } from './registry.js';
import { gatherElements } from './indexing.js';

const REDUCTIONS = ['none', 'sum', 'mean'] as const;

/**
 * -input[n, target[n, d..], d..] (times weight[target]), zero where target == ignore_index, reduced as asked:
 * 'mean' divides by the sum of the weights that were used (the count of kept targets without weights).
 */
function nll(c: NodeContext, input: Tensor, target: Tensor, weight: Tensor | undefined, device: string): Tensor {
  if (input.rank < 2) c.fail(`input must be [N, C, ...], found ${shapeStr(input.shape)}`);
  const want = [input.shape[0]!, ...input.shape.slice(2)];
  if (target.rank !== want.length || target.shape.some((d, i) => d !== want[i])) c.fail(`target must be ${shapeStr(want)} for input ${shapeStr(input.shape)}, found ${shapeStr(target.shape)}`);
  const reduction = c.attrs.stringOf('reduction', REDUCTIONS, 'mean');
  const ignore = c.attrs.has('ignore_index') ? c.attrs.int('ignore_index') : undefined;
  const tmp: Tensor[] = [];
  const t = (y: Tensor) => (tmp.push(y), y);
  try {
    let tgt = target.dtype === 'int32' ? target : t(E.cast(target, 'int32'));
    const keep = ignore === undefined ? undefined : t(E.ne(tgt, ignore));
    if (keep) tgt = t(E.where(keep, tgt, 0));
    const picked = t(gatherElements(c, input, t(tgt.reshape([want[0]!, 1, ...want.slice(1)])), 1, device));
    let loss = t(E.neg(t(picked.reshape(want))));
    let w: Tensor | undefined = weight ? t(gather(weight, tgt, 0)) : undefined;
    if (w) loss = t(E.mul(loss, w));
    if (keep) {
      loss = t(E.where(keep, loss, 0));
      w = t(w ? E.where(keep, w, 0) : E.cast(keep, input.dtype));
    }
    if (reduction === 'none') return E.add(loss, 0);
    const total = t(sum(loss));
    if (reduction === 'sum') return E.add(total, 0);
    if (!w) return E.div(total, numelOf(want));
    return E.div(total, t(sum(w)));
  } finally {
    for (const y of tmp) y.dispose();
  }
}

const numelOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

function lossInfer(x: ValueType | undefined, reduction: string): ValueType {
  if (!x?.shape) return { dtype: x?.dtype ?? 'float32' };
  return { dtype: x.dtype, shape: reduction === 'none' ? [x.shape[0]!, ...x.shape.slice(2)] : [] };
}

registerOnnxOp('NegativeLogLikelihoodLoss', {
  validate: (c) => { c.attrs.stringOf('reduction', REDUCTIONS, 'mean'); },
  infer: (c) => [lossInfer(c.inputs[0], c.attrs.stringOf('reduction', REDUCTIONS, 'mean'))],
  run: (c) => [nll(c, c.input(0), c.input(1), c.inputs[2], c.device)],
});

registerOnnxOp('SoftmaxCrossEntropyLoss', {
  validate: (c) => { c.attrs.stringOf('reduction', REDUCTIONS, 'mean'); },
  infer: (c) => [lossInfer(c.inputs[0], c.attrs.stringOf('reduction', REDUCTIONS, 'mean')), { ...(c.inputs[0] ?? { dtype: 'float32' }) }],
  run: (c) => {
    const scores = c.input(0);
    if (scores.rank < 2) c.fail(`scores must be [N, C, ...], found ${shapeStr(scores.shape)}`);
    const logp = logSoftmax(scores, 1);
    try {
      const loss = nll(c, logp, c.input(1), c.inputs[2], c.device);
      return [loss, c.node.outputs[1] ? E.add(logp, 0) : undefined];
    } finally {
      logp.dispose();
    }
  },
});
