// ONNX LRN (local response normalization across channels, AlexNet/Inception-era models), composed from tensor ops
// so it runs on every backend: y = x / (bias + alpha / size · Σ x²)^beta, the sum over the channels
// c - floor((size - 1) / 2) .. c + ceil((size - 1) / 2) that exist (zero padding), as the spec defines.
import * as E from '../../../ops/elementwise.js';
import { pad } from '../../../ops/transform.js';
import { shapeStr } from '../../../tensor/shape.js';
import { registerOnnxOp } from './registry.js';
import { composed, sameShape } from './util.js';
import { FLOAT_DTYPES, requireDType } from './host.js';

registerOnnxOp('LRN', {
  validate: (c) => { if (!(c.attrs.int('size') >= 1)) c.attrs.fail('size', 'a positive int', String(c.attrs.int('size'))); },
  infer: (c) => (requireDType(c, 0, FLOAT_DTYPES), sameShape(c)),
  run: (c) => {
    const x = c.input(0);
    if (x.rank < 3) c.fail(`X must be [N, C, D1, ...], found ${shapeStr(x.shape)}`);
    const size = c.attrs.int('size'), alpha = c.attrs.float('alpha', 1e-4), beta = c.attrs.float('beta', 0.75), bias = c.attrs.float('bias', 1);
    const C = x.shape[1]!, before = Math.floor((size - 1) / 2), after = size - 1 - before;
    const rest = x.size / (x.shape[0]! * C);
    return [composed((t) => {
      // channels as the last dim of [N, rest, C] so that pad() zero-pads them, then a sum of `size` shifted views
      const sq = t(E.square(t(x.reshape([x.shape[0]!, C, rest]).transpose(1, 2))));
      const padded = t(pad(sq, [before, after]));
      let acc = t(padded.narrow(2, 0, C).contiguous());
      for (let i = 1; i < size; i++) acc = t(E.add(acc, t(padded.narrow(2, i, C))));
      const denom = t(E.pow(t(E.add(t(E.mul(acc, alpha / size)), bias)), beta));
      return E.div(x, t(t(denom.transpose(1, 2)).reshape(x.shape)));
    })];
  },
});
