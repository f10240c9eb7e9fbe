// ONNX CausalConvWithState (opset 27) as a typed-array kernel (cpuOnly): a depthwise causal 1-D convolution over
// past_state (zeros when omitted) followed by the input, y[b, c, t] = bias[c] + Σ_j w[c, 0, j] · padded[b, c, t + j],
// with an optional fused SiLU, and present_state = the last k - 1 positions of the padded sequence.
import { shapeStr } from '../../../tensor/shape.js';
import { registerOnnxOp } from './registry.js';
import { FLOAT_DTYPES, hostOut, requireDType, valuesOf } from './host.js';

const ACTIVATIONS = ['none', 'silu', 'swish'] as const;

registerOnnxOp('CausalConvWithState', {
  cpuOnly: true,
  validate: (c) => { c.attrs.stringOf('activation', ACTIVATIONS, 'none'); },
  infer: (c) => {
    requireDType(c, 0, FLOAT_DTYPES);
    const dtype = c.inputs[0]?.dtype ?? 'float32';
    return [{ dtype, ...(c.inputs[0]?.shape ? { shape: [...c.inputs[0].shape] } : {}) }, { dtype }];
  },
  run: (c) => {
    const x = c.input(0), w = c.input(1), bias = c.inputs[2], past = c.inputs[3];
    if (x.rank !== 3) c.fail(`input must be [batch, channels, length], found ${shapeStr(x.shape)}`);
    const [nb, ch, len] = x.shape as [number, number, number];
    if (w.rank !== 3 || w.shape[0] !== ch || w.shape[1] !== 1) c.fail(`weight must be [${ch}, 1, k], found ${shapeStr(w.shape)}`);
    const k = w.shape[2]!, keep = k - 1;
    if (bias && (bias.rank !== 1 || bias.shape[0] !== ch)) c.fail(`bias must be [${ch}], found ${shapeStr(bias.shape)}`);
    if (past && (past.rank !== 3 || past.shape[0] !== nb || past.shape[1] !== ch || past.shape[2] !== keep)) c.fail(`past_state must be [${nb}, ${ch}, ${keep}], found ${shapeStr(past.shape)}`);
    const silu = c.attrs.stringOf('activation', ACTIVATIONS, 'none') !== 'none';
    const xv = valuesOf(x), wv = valuesOf(w), bv = bias ? valuesOf(bias) : undefined, pv = past ? valuesOf(past) : undefined;
    const y = new Float64Array(nb * ch * len), state = new Float64Array(nb * ch * keep);
    const padded = new Float64Array(keep + len);
    for (let b = 0; b < nb; b++) {
      for (let cc = 0; cc < ch; cc++) {
        const row = b * ch + cc;
        for (let j = 0; j < keep; j++) padded[j] = pv ? pv[row * keep + j]! : 0;
        for (let t = 0; t < len; t++) padded[keep + t] = xv[row * len + t]!;
        for (let t = 0; t < len; t++) {
          let s = bv ? bv[cc]! : 0;
          for (let j = 0; j < k; j++) s += wv[cc * k + j]! * padded[t + j]!;
          y[row * len + t] = silu ? s / (1 + Math.exp(-s)) : s;
        }
        for (let j = 0; j < keep; j++) state[row * keep + j] = padded[len + j]!;
      }
    }
    return [hostOut(c, y, x.shape, x.dtype), c.node.outputs[1] ? hostOut(c, state, [nb, ch, keep], x.dtype) : undefined];
  },
});
