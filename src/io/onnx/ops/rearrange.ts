// ONNX DepthToSpace and SpaceToDepth (DCR and CRD orders; SpaceToDepth's mode is new in opset 28) as reshapes and
// one transpose, and SwiGLU (opset 28: Swish_alpha(A) · B), composed so they run on every backend.
import * as E from '../../../ops/elementwise.js';
import { shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { registerOnnxOp, type RunContext } from './registry.js';
import { composed, sameShape } from './util.js';

const MODES = ['DCR', 'CRD'] as const;

/** x [N, C, H, W] with its blocksize checked. */
function blockInput(c: RunContext): { x: Tensor; b: number; n: number; ch: number; h: number; w: number } {
  const x = c.input(0);
  const b = c.attrs.int('blocksize');
  if (x.rank !== 4) c.fail(`input must be [N, C, H, W], found ${shapeStr(x.shape)}`);
  if (!(b >= 1)) c.attrs.fail('blocksize', 'a positive int', String(b));
  const [n, ch, h, w] = x.shape as [number, number, number, number];
  return { x, b, n, ch, h, w };
}

registerOnnxOp('DepthToSpace', {
  validate: (c) => { c.attrs.stringOf('mode', MODES, 'DCR'); c.attrs.int('blocksize'); },
  run: (c) => {
    const { x, b, n, ch, h, w } = blockInput(c);
    if (ch % (b * b) !== 0) c.fail(`channels ${ch} must be a multiple of blocksize² ${b * b}`);
    const d = ch / (b * b);
    const dcr = c.attrs.stringOf('mode', MODES, 'DCR') === 'DCR';
    // DCR: channel = (by·b + bx)·d + c; CRD: channel = c·b² + by·b + bx
    const split = x.reshape(dcr ? [n, b, b, d, h, w] : [n, d, b, b, h, w]);
    const moved = split.permute(dcr ? [0, 3, 4, 1, 5, 2] : [0, 1, 4, 2, 5, 3]);
    return [moved.reshape([n, d, h * b, w * b])];
  },
});

registerOnnxOp('SpaceToDepth', {
  validate: (c) => { c.attrs.stringOf('mode', MODES, 'DCR'); c.attrs.int('blocksize'); },
  run: (c) => {
    const { x, b, n, ch, h, w } = blockInput(c);
    if (h % b !== 0 || w % b !== 0) c.fail(`H and W of ${shapeStr(x.shape)} must be multiples of blocksize ${b}`);
    const dcr = c.attrs.stringOf('mode', MODES, 'DCR') === 'DCR';
    const split = x.reshape([n, ch, h / b, b, w / b, b]);
    const moved = split.permute(dcr ? [0, 3, 5, 1, 2, 4] : [0, 1, 3, 5, 2, 4]);
    return [moved.reshape([n, ch * b * b, h / b, w / b])];
  },
});

registerOnnxOp('SwiGLU', {
  infer: (c) => sameShape(c),
  run: (c) => {
    const a = c.input(0), v = c.input(1);
    if (a.rank !== v.rank || a.shape.some((d, i) => d !== v.shape[i])) c.fail(`A ${shapeStr(a.shape)} and B ${shapeStr(v.shape)} must have one shape (SwiGLU does not broadcast)`);
    const alpha = c.attrs.float('alpha', 1);
    return [composed((t) => E.mul(t(E.mul(a, t(E.sigmoid(alpha === 1 ? a : t(E.mul(a, alpha)))))), v))];
  },
});
