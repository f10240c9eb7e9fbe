// The ai.onnx.preview.training optimizer steps Adagrad, Momentum and Adam, composed from elementwise ops (every
// backend). Inputs are R (learning rate) and T (update count), then the n tensors X, their gradients G and the
// optimizer's per-tensor states; outputs are the new X's, then the new states, each tensor updated independently.
import type { Tensor } from '../../../tensor/tensor.js';
import * as E from '../../../ops/elementwise.js';
import { registerOnnxOp, type RunContext } from './registry.js';
import { composed } from './util.js';

const TRAINING = 'ai.onnx.preview.training';

/** R and T (host scalars), and the n tensors of each of `groups` input groups after them. */
function groupsOf(c: RunContext, groups: number): { r: number; t: number; n: number; at: (g: number, i: number) => Tensor } {
  const r = c.floats(0)?.[0] ?? c.fail('input 0 (R) is required'), t = c.floats(1)?.[0] ?? c.fail('input 1 (T) is required');
  const n = (c.inputs.length - 2) / groups;
  if (!Number.isInteger(n) || n < 1) c.fail(`expected R, T and ${groups} groups of tensors, found ${c.inputs.length} inputs`);
  return { r, t, n, at: (g, i) => c.input(2 + g * n + i) };
}

/** G + norm · X (the gradient of the L2 regularization added). */
const regularized = (t: (y: Tensor) => Tensor, x: Tensor, g: Tensor, norm: number) => (norm === 0 ? g : t(E.add(t(E.mul(x, norm)), g)));

registerOnnxOp('Adagrad', {
  hostInputs: [0, 1],
  run: (c) => {
    const { r, t: T, n, at } = groupsOf(c, 3);
    const norm = c.attrs.float('norm_coefficient', 0), decay = c.attrs.float('decay_factor', 0), eps = c.attrs.float('epsilon', 1e-6);
    const rate = r / (1 + T * decay);
    const xs: Tensor[] = [], hs: Tensor[] = [];
    for (let i = 0; i < n; i++) {
      const x = at(0, i), g = at(1, i), h = at(2, i);
      const hNew = composed((t) => E.add(h, t(E.square(regularized(t, x, g, norm)))));
      hs.push(hNew);
      xs.push(composed((t) => E.sub(x, t(E.div(t(E.mul(regularized(t, x, g, norm), rate)), t(E.add(t(E.sqrt(hNew)), eps)))))));
    }
    return [...xs, ...hs];
  },
}, TRAINING);

registerOnnxOp('Momentum', {
  hostInputs: [0, 1],
  validate: (c) => { c.attrs.stringOf('mode', ['standard', 'nesterov'] as const); c.attrs.float('alpha'); c.attrs.float('beta'); c.attrs.float('norm_coefficient'); },
  run: (c) => {
    const { r, t: T, n, at } = groupsOf(c, 3);
    const alpha = c.attrs.float('alpha'), beta = T > 0 ? c.attrs.float('beta') : 1, norm = c.attrs.float('norm_coefficient');
    const nesterov = c.attrs.stringOf('mode', ['standard', 'nesterov'] as const) === 'nesterov';
    const xs: Tensor[] = [], vs: Tensor[] = [];
    for (let i = 0; i < n; i++) {
      const x = at(0, i), g = at(1, i), v = at(2, i);
      const vNew = composed((t) => E.add(t(E.mul(v, alpha)), t(E.mul(regularized(t, x, g, norm), beta))));
      vs.push(vNew);
      xs.push(composed((t) => E.sub(x, t(E.mul(nesterov ? t(E.add(regularized(t, x, g, norm), t(E.mul(vNew, alpha)))) : vNew, r)))));
    }
    return [...xs, ...vs];
  },
}, TRAINING);

registerOnnxOp('Adam', {
  hostInputs: [0, 1],
  run: (c) => {
    const { r, t: T, n, at } = groupsOf(c, 4);
    const alpha = c.attrs.float('alpha', 0.9), beta = c.attrs.float('beta', 0.999), eps = c.attrs.float('epsilon', 1e-6);
    const norm = c.attrs.float('norm_coefficient', 0), post = c.attrs.float('norm_coefficient_post', 0);
    const rate = T > 0 ? (r * Math.sqrt(1 - beta ** T)) / (1 - alpha ** T) : r;
    const xs: Tensor[] = [], vs: Tensor[] = [], hs: Tensor[] = [];
    for (let i = 0; i < n; i++) {
      const x = at(0, i), g = at(1, i), v = at(2, i), h = at(3, i);
      const vNew = composed((t) => E.add(t(E.mul(v, alpha)), t(E.mul(regularized(t, x, g, norm), 1 - alpha))));
      const hNew = composed((t) => E.add(t(E.mul(h, beta)), t(E.mul(t(E.square(regularized(t, x, g, norm))), 1 - beta))));
      vs.push(vNew);
      hs.push(hNew);
      xs.push(composed((t) => E.mul(t(E.sub(x, t(E.mul(t(E.div(vNew, t(E.add(t(E.sqrt(hNew)), eps)))), rate)))), 1 - post)));
    }
    return [...xs, ...vs, ...hs];
  },
}, TRAINING);
