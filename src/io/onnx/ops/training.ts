// The training-mode forms that ONNX inference graphs (and the conformance suite) use, composed from tensor ops so
// they run on every backend: BatchNormalization with training_mode = 1 (batch statistics; running statistics
// updated with momentum) and Dropout with training_mode = true at ratio 0 (the identity; a ratio above 0 draws
// random numbers, which forwardpass does not do: refused).
import type { Tensor } from '../../../tensor/tensor.js';
import * as E from '../../../ops/elementwise.js';
import { mean, variance } from '../../../ops/reduce.js';
import type { RunContext } from './registry.js';
import { composed } from './util.js';

/**
 * BatchNormalization in training mode: Y from the batch's mean and population variance over every dim but the
 * channel (dim 1), and running_mean/var = input · momentum + batch · (1 - momentum) when those outputs are wired.
 */
export function batchNormTraining(c: RunContext): (Tensor | undefined)[] {
  const x = c.input(0), scale = c.input(1), bias = c.input(2), inMean = c.input(3), inVar = c.input(4);
  if (x.rank < 2) c.fail(`X must have rank 2 or more, found rank ${x.rank}`);
  const eps = c.attrs.float('epsilon', 1e-5), momentum = c.attrs.float('momentum', 0.9);
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
  const m = mean(x, { axis: axes, keepdim: true });
  const v = variance(x, { axis: axes, keepdim: true, correction: 0 });
  try {
    const y = composed((t) => {
      const norm = t(E.mul(t(E.sub(x, m)), t(E.rsqrt(t(E.add(v, eps))))));
      return E.add(t(E.mul(norm, scale.reshape(bshape))), bias.reshape(bshape));
    });
    const running = (input: Tensor, batch: Tensor, k: number) => c.node.outputs[k]
      ? composed((t) => E.add(t(E.mul(input, momentum)), t(E.mul(t(batch.reshape([x.shape[1]!])), 1 - momentum))))
      : undefined;
    return [y, running(inMean, m, 1), running(inVar, v, 2)];
  } finally {
    m.dispose();
    v.dispose();
  }
}
