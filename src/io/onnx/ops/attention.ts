// ONNX Attention (opsets 23, 24; the local windows of opset 25): 3-D or 4-D Q/K/V, nonpad_kv_seqlen, grouped-query heads, past/present key and value caches, a bool or
// additive mask (shorter masks padded), is_causal (bottom-right aligned after the past), scale, softcap and the
// qk_matmul_output modes, left/right_window_size. Composed from matmul, softmax and elementwise ops so it runs on every backend. A query
// row with every key masked gives zeros (not NaN), as the ONNX reference does.
import { shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import * as E from '../../../ops/elementwise.js';
import { matmul } from '../../../ops/linalg.js';
import { max, softmax } from '../../../ops/reduce.js';
import { concat, pad } from '../../../ops/transform.js';
import { registerOnnxOp, type NodeContext } from './registry.js';
import { small } from './util.js';

const KNOWN = new Set(['is_causal', 'kv_num_heads', 'q_num_heads', 'qk_matmul_output_mode', 'scale', 'softcap', 'softmax_precision', 'left_window_size', 'right_window_size']);

function check(c: NodeContext): void {
  for (const a of Object.keys(c.node.attributes)) if (!KNOWN.has(a)) c.fail(`attribute '${a}' is not supported`);
  c.attrs.intOf('is_causal', [0, 1], 0);
  c.attrs.intOf('qk_matmul_output_mode', [0, 1, 2, 3], 0);
}

registerOnnxOp('Attention', {
  // nonpad_kv_seqlen (opset 24): the number of valid keys per batch row, read on the host
  hostInputs: [6],
  validate: check,
  run: (c) => {
    const tmp: Tensor[] = [];
    const t = (y: Tensor) => (tmp.push(y), y);
    try {
      return attention(c, c.input(0), c.input(1), c.input(2), c.inputs[3], c.inputs[4], c.inputs[5], c.ints(6), t, c.device);
    } finally {
      for (const y of tmp) y.dispose();
    }
  },
});

/** Copy a tensor that is also kept as a temporary (graph outputs must outlive the temporaries). */
const own = (x: Tensor) => E.add(x, 0);

function attention(c: NodeContext, q0: Tensor, k0: Tensor, v0: Tensor, mask0: Tensor | undefined, pastK: Tensor | undefined, pastV: Tensor | undefined, nonpad: number[] | undefined, t: (y: Tensor) => Tensor, device: string): (Tensor | undefined)[] {
  const rank = q0.rank;
  if (rank !== k0.rank || rank !== v0.rank || (rank !== 3 && rank !== 4)) c.fail(`Q, K and V must all be 3-D or all 4-D, found ${shapeStr(q0.shape)}, ${shapeStr(k0.shape)}, ${shapeStr(v0.shape)}`);
  let q = q0, k = k0, v = v0;
  let qh: number, kvh: number;
  if (rank === 3) {
    qh = c.attrs.int('q_num_heads');
    kvh = c.attrs.int('kv_num_heads');
    const heads = (x: Tensor, h: number, what: string) => {
      const [b, s, hidden] = x.shape as [number, number, number];
      if (hidden % h !== 0) c.fail(`${what} hidden size ${hidden} is not a multiple of ${h} heads`);
      return t(t(t(x.reshape([b, s, h, hidden / h])).permute([0, 2, 1, 3])).contiguous());
    };
    q = heads(q0, qh, 'Q');
    k = heads(k0, kvh, 'K');
    v = heads(v0, kvh, 'V');
  } else {
    qh = q0.shape[1]!;
    kvh = k0.shape[1]!;
  }
  if (qh % kvh !== 0 || v.shape[1] !== kvh) c.fail(`${qh} query heads cannot share ${kvh} key heads (V has ${v.shape[1]})`);
  const headSize = q.shape[3]!;
  const scale = c.attrs.float('scale', 1 / Math.sqrt(headSize));
  const past = pastK ? pastK.shape[2]! : 0;
  const presentK = pastK ? t(concat([pastK, k], 2)) : k;
  const presentV = pastV ? t(concat([pastV, v], 2)) : v;
  const [sq, skv] = [q.shape[2]!, presentK.shape[2]!];
  // grouped-query attention: each key/value head serves qh / kvh consecutive query heads
  const repeat = (x: Tensor) => {
    if (qh === kvh) return x;
    const [b, h, s, d] = x.shape as [number, number, number, number];
    return t(t(t(x.reshape([b, h, 1, s, d])).expand([b, h, qh / kvh, s, d])).reshape([b, qh, s, d]));
  };
  const kr = repeat(presentK), vr = repeat(presentV);
  let qk = t(E.mul(t(matmul(q, t(t(kr.transpose(2, 3)).contiguous()))), scale));
  // softcap before the mask, so that masked keys stay at -inf (the ONNX reference's order)
  const softcap = c.attrs.float('softcap', 0);
  if (softcap > 0) qk = t(E.mul(t(E.tanh(t(E.div(qk, softcap)))), softcap));
  const raw = qk;
  // the additive bias: the mask (bool: false -> -inf; shorter than the keys: padded with -inf) plus the causal part
  let bias: Tensor | undefined;
  if (mask0) {
    let m = mask0;
    if (m.dtype === 'bool') m = t(E.where(m, t(small([0], [], qk.dtype, device)), -Infinity));
    else if (m.dtype !== qk.dtype) m = t(E.cast(m, qk.dtype));
    const short = skv - m.shape[m.rank - 1]!;
    if (short < 0) c.fail(`attn_mask ${shapeStr(mask0.shape)} is longer than the ${skv} keys`);
    if (short > 0) m = t(pad(m, [0, short], { value: -Infinity }));
    bias = m;
  }
  // causal: key j is visible to query i when j <= i + offset, offset = the past length, or (no past, a nonpad
  // length per batch row) nonpad[b] - sq; keys at or past nonpad[b] are padding
  const causal = c.attrs.int('is_causal', 0) === 1;
  const batch = q.shape[0]!;
  if (nonpad && nonpad.length !== batch) c.fail(`nonpad_kv_seqlen must hold ${batch} lengths, found ${nonpad.length}`);
  // local windows (opset 25): key j is visible to the query at absolute position p = i + offset when
  // p - left <= j <= p + right (-1: that side unbounded)
  const left = c.attrs.int('left_window_size', -1), right = c.attrs.int('right_window_size', -1);
  const windowed = left >= 0 || right >= 0;
  if (causal || nonpad || windowed) {
    const rows = nonpad ? batch : 1;
    const cmask = new Float32Array(rows * sq * skv);
    for (let b = 0; b < rows; b++) {
      const offset = pastK || !nonpad ? past : nonpad[b]! - sq;
      for (let i = 0; i < sq; i++) {
        for (let j = 0; j < skv; j++) {
          const outside = (left >= 0 && j < i + offset - left) || (right >= 0 && j > i + offset + right);
          if ((causal && j > i + offset) || (nonpad && j >= nonpad[b]!) || outside) cmask[(b * sq + i) * skv + j] = -Infinity;
        }
      }
    }
    const cm = t(small(cmask, nonpad ? [batch, 1, sq, skv] : [sq, skv], 'float32', device));
    bias = bias ? t(E.add(bias, cm)) : cm;
  }
  const scores = bias ? t(E.add(qk, bias)) : qk;
  // a row with every key masked: zeros instead of softmax's NaN
  const probs0 = t(softmax(scores, -1));
  const dead = t(E.eq(t(max(scores, { axis: -1, keepdim: true })), -Infinity));
  const probs = t(E.where(dead, 0, probs0));
  let y = t(matmul(probs, vr));
  if (rank === 3) {
    const [b, h, s, d] = y.shape as [number, number, number, number];
    y = t(t(t(y.permute([0, 2, 1, 3])).contiguous()).reshape([b, s, h * d]));
  }
  const mode = c.attrs.int('qk_matmul_output_mode', 0);
  const qkOut = c.node.outputs[3] ? own(mode === 0 || (mode === 1 && softcap > 0) ? raw : mode === 1 || mode === 2 ? scores : probs) : undefined;
  return [own(y), c.node.outputs[1] ? own(presentK) : undefined, c.node.outputs[2] ? own(presentV) : undefined, qkOut];
}
