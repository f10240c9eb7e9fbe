// Scaled-dot-product attention (as torch.nn.functional.scaled_dot_product_attention) and the attention
// probabilities alone, for traces. Fully masked query rows give zeros (as PyTorch 2.5+): see scaledDotProductAttention.
import { promoteTypes } from '../tensor/dtype.js';
import { broadcastShapes, shapeStr, shapesEqual } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { arange, zeros } from '../tensor/creation.js';
import { expectDType, runOp } from './dispatch.js';
import { add, cast, eq, le, mul, where } from './elementwise.js';
import { max, softmax } from './reduce.js';
import { matmul } from './linalg.js';

export interface AttentionOptions {
  /** bool (true = may attend) or float (added to the scaled scores), broadcastable to [B, H, T, S]. */
  mask?: Tensor | null;
  /** Mask key j for query i when j > i + (S - T) (the last T positions of a length-S sequence; KV caches). */
  isCausal?: boolean;
  /** Multiplies q·kᵀ; default 1/sqrt(D). */
  scale?: number;
}

interface Prepared {
  q: Tensor; k: Tensor; v: Tensor | null; mask: Tensor | null;
  B: number; H: number; T: number; S: number; D: number;
  scale: number; rank3: boolean; temps: Tensor[];
}

/** Validate shapes, unsqueeze rank-3 inputs, broadcast batch and heads, expand the mask to [B, H, T, S] (all views). */
function prepare(op: string, q: Tensor, k: Tensor, v: Tensor | null, opts: AttentionOptions): Prepared {
  const temps: Tensor[] = [];
  const keep = (t: Tensor) => (temps.push(t), t);
  try {
    const ins = v ? [q, k, v] : [q, k];
    const names = ['q', 'k', 'v'];
    for (const [i, t] of ins.entries()) {
      if (t.rank !== 3 && t.rank !== 4) throw new RangeError(`forwardpass: ${op}: ${names[i]} must be [B, H, L, E] or [B, L, E], got shape ${shapeStr(t.shape)}`);
      if (t.rank !== q.rank) throw new RangeError(`forwardpass: ${op}: q, k${v ? ' and v' : ''} must have the same rank, got ${ins.map((x) => shapeStr(x.shape)).join(', ')}`);
    }
    ins.forEach((t, i) => expectDType(op, names[i]!, t, ['float32', 'float16']));
    const dtype = ins.map((t) => t.dtype).reduce(promoteTypes);
    const rank3 = q.rank === 3;
    const up = (t: Tensor) => {
      let r = t.dtype === dtype ? t : keep(cast(t, dtype));
      if (rank3) r = keep(r.unsqueeze(1));
      return r;
    };
    let [q4, k4, v4] = [up(q), up(k), v ? up(v) : null];
    const [T, D] = [q4.shape[2]!, q4.shape[3]!];
    const S = k4.shape[2]!;
    if (k4.shape[3] !== D) throw new RangeError(`forwardpass: ${op}: q ${shapeStr(q.shape)} and k ${shapeStr(k.shape)} must have the same last dim (D)`);
    if (v4 && v4.shape[2] !== S) throw new RangeError(`forwardpass: ${op}: k ${shapeStr(k.shape)} and v ${shapeStr(v!.shape)} must have the same number of keys (dim -2)`);
    let lead: number[];
    try {
      lead = broadcastShapes(broadcastShapes(q4.shape.slice(0, 2), k4.shape.slice(0, 2)), v4 ? v4.shape.slice(0, 2) : [1, 1]);
    } catch {
      throw new RangeError(`forwardpass: ${op}: the batch and head dims of ${ins.map((t, i) => `${names[i]} ${shapeStr(t.shape)}`).join(', ')} cannot be broadcast together`);
    }
    const [B, H] = lead as [number, number];
    q4 = keep(q4.expand([B, H, T, D]));
    k4 = keep(k4.expand([B, H, S, D]));
    if (v4) v4 = keep(v4.expand([B, H, S, v4.shape[3]!]));
    let mask: Tensor | null = null;
    if (opts.mask) {
      const m0 = opts.mask;
      if (m0.dtype !== 'bool' && m0.dtype !== 'float32' && m0.dtype !== 'float16') {
        throw new TypeError(`forwardpass: ${op}: mask must be bool (true = may attend) or float (added to the scores), got ${m0.dtype}`);
      }
      const m = rank3 && m0.rank === 3 ? keep(m0.unsqueeze(1)) : m0;
      const full = [B, H, T, S];
      let ok = m.rank <= 4;
      if (ok) { try { ok = shapesEqual(broadcastShapes(m.shape, full), full); } catch { ok = false; } }
      if (!ok) throw new RangeError(`forwardpass: ${op}: mask ${shapeStr(m0.shape)} cannot be broadcast to the scores [B, H, T, S] = ${shapeStr(rank3 ? [B, T, S] : full)}`);
      mask = keep(m.expand(full));
    }
    const scale = opts.scale ?? 1 / Math.sqrt(D);
    if (typeof scale !== 'number') throw new TypeError(`forwardpass: ${op}: scale must be a number, got ${typeof scale}`);
    return { q: q4, k: k4, v: v4, mask, B, H, T, S, D, scale, rank3, temps };
  } catch (e) {
    for (const t of temps) t.dispose();
    throw e;
  }
}

/**
 * Attention like torch.nn.functional.scaled_dot_product_attention: softmax(q·kᵀ·scale + mask)·v.
 * q [B, H, T, D], k [B, H, S, D], v [B, H, S, Dv] -> [B, H, T, Dv] (rank-3 [B, T, D] inputs give [B, T, Dv]);
 * B and H broadcast. q, k, v and the mask may be strided views (no copies). `mask` and `isCausal` may be combined.
 * A query row whose keys are all masked gives zeros (as PyTorch 2.5 and later). NaN in q or k, or a +inf score, makes
 * the affected rows NaN, as PyTorch's math backend (its fused CPU kernel zeroes a NaN query row); the output is p·v, so
 * a NaN or ±inf in any key's value, masked ones included (0·NaN), reaches every row, as in PyTorch.
 *
 * @example scaledDotProductAttention(q, k, v, { isCausal: true })
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const p = prepare('scaledDotProductAttention', q, k, v, opts);
  try {
    const maskKind = !p.mask ? 'none' : p.mask.dtype === 'bool' ? 'bool' : 'additive';
    const Dv = p.v!.shape[3]!;
    const ins = p.mask ? [p.q, p.k, p.v!, p.mask] : [p.q, p.k, p.v!];
    const out = runOp('sdpa', ins, [{ shape: [p.B, p.H, p.T, Dv], dtype: p.q.dtype }], { scale: p.scale, causal: !!opts.isCausal, mask: maskKind })[0]!;
    if (!p.rank3) return out;
    p.temps.push(out);
    return out.squeeze(1);
  } finally {
    for (const t of p.temps) t.dispose();
  }
}

/**
 * The attention probabilities softmax(q·kᵀ·scale + mask) [B, H, T, S] ([B, T, S] for rank-3 inputs), with the
 * same masking rules as scaledDotProductAttention (fully masked rows are zeros). Built from matmul and softmax.
 *
 * @example const probs = attentionProbs(q, k, { isCausal: true })
 */
export function attentionProbs(q: Tensor, k: Tensor, opts: AttentionOptions = {}): Tensor {
  const p = prepare('attentionProbs', q, k, null, opts);
  const temps = p.temps;
  const keep = (t: Tensor) => (temps.push(t), t);
  try {
    if (p.S === 0) {
      const empty = zeros([p.B, p.H, p.T, 0], { dtype: p.q.dtype, device: p.q.device });
      if (!p.rank3) return empty;
      temps.push(empty);
      return empty.squeeze(1);
    }
    const kt = keep(p.k.transpose(-2, -1));
    let scores = keep(mul(keep(matmul(p.q, kt)), p.scale));
    if (p.mask) scores = keep(p.mask.dtype === 'bool' ? where(p.mask, scores, -Infinity) : add(scores, p.mask));
    if (opts.isCausal) {
      const on = { device: p.q.device };
      const cols = keep(keep(arange(0, p.S, 1, on)).reshape([1, p.S]));
      const lastAllowed = keep(add(keep(keep(arange(0, p.T, 1, on)).reshape([p.T, 1])), p.S - p.T));
      scores = keep(where(keep(le(cols, lastAllowed)), scores, -Infinity));
    }
    const probs = keep(softmax(scores, -1));
    const dead = keep(eq(keep(max(scores, { axis: -1, keepdim: true })), -Infinity));
    const out = where(dead, 0, probs);
    if (!p.rank3) return out;
    temps.push(out);
    return out.squeeze(1);
  } finally {
    for (const t of temps) t.dispose();
  }
}
