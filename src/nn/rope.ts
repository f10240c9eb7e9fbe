// Rotary position embeddings as Hugging Face computes them: the inverse frequencies of each rope type (default,
// linear, dynamic, yarn, llama3), cos/sin tables in float32, and rotate-half application to the first R dims.
// Legend: B = batch, H = heads, T = positions, D = head dim, R = rotary dims (D · partial_rotary_factor).
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { add, cast, mul, neg } from '../ops/elementwise.js';
import { concat, embedding } from '../ops/transform.js';

export type RopeType = 'default' | 'linear' | 'dynamic' | 'yarn' | 'llama3';
export const ROPE_TYPES: readonly RopeType[] = ['default', 'linear', 'dynamic', 'yarn', 'llama3'];

/** RoPE settings after reading either config style (transformers 5 `rope_parameters`, 4 `rope_theta` + `rope_scaling`). */
export interface RopeParams {
  type: RopeType;
  theta: number;
  /** Rotary dims R (even, <= head dim). */
  dim: number;
  /** linear, dynamic, yarn, llama3: the context stretch. */
  factor?: number;
  /** dynamic, yarn, llama3: the context the model was trained on. */
  originalMaxPositions?: number;
  /** llama3 */
  lowFreqFactor?: number;
  highFreqFactor?: number;
  /** yarn */
  betaFast?: number;
  betaSlow?: number;
  attentionFactor?: number;
  mscale?: number;
  mscaleAllDim?: number;
  truncate?: boolean;
  /** llama.cpp's `rope_freqs` (GGUF `rope_freqs.weight`, R/2 values): each inverse frequency of the type above is
   * divided by its factor (llama3-style scaling stored as per-frequency factors). */
  freqFactors?: Float32Array;
}

const f = Math.fround;

/** HF's default inverse frequencies in float32: 1 / base^(i/R) for i = 0, 2, ..., R-2. */
function baseInvFreq(base: number, dim: number): Float32Array {
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) out[i] = f(1 / f(Math.pow(base, f((2 * i) / dim))));
  return out;
}

function yarnMscale(scale: number, m = 1): number {
  return scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1;
}

/**
 * The inverse frequencies [R/2] and the attention scaling (yarn multiplies cos and sin by it) for a forward pass
 * whose positions go up to `seqLen` - 1 (dynamic scaling depends on it).
 *
 * @example const { invFreq, scaling } = ropeInvFreq(p, 12)
 */
export function ropeInvFreq(p: RopeParams, seqLen: number): { invFreq: Float32Array; scaling: number } {
  const r = typeInvFreq(p, seqLen);
  const ff = p.freqFactors;
  if (!ff) return r;
  if (ff.length !== p.dim / 2) throw new RangeError(`forwardpass: rope: freqFactors has ${ff.length} values; ${p.dim} rotary dims need ${p.dim / 2}`);
  return { invFreq: r.invFreq.map((v, i) => f(v / ff[i]!)), scaling: r.scaling };
}

function typeInvFreq(p: RopeParams, seqLen: number): { invFreq: Float32Array; scaling: number } {
  const dim = p.dim;
  switch (p.type) {
    case 'default':
      return { invFreq: baseInvFreq(p.theta, dim), scaling: 1 };
    case 'linear':
      return { invFreq: baseInvFreq(p.theta, dim).map((v) => f(v / p.factor!)), scaling: 1 };
    case 'dynamic': {
      const orig = p.originalMaxPositions!;
      if (seqLen <= orig) return { invFreq: baseInvFreq(p.theta, dim), scaling: 1 };
      const base = p.theta * Math.pow((p.factor! * seqLen) / orig - (p.factor! - 1), dim / (dim - 2));
      return { invFreq: baseInvFreq(base, dim), scaling: 1 };
    }
    case 'llama3': {
      const inv = baseInvFreq(p.theta, dim);
      const { factor, lowFreqFactor: lo, highFreqFactor: hi } = p as Required<RopeParams>;
      const old = p.originalMaxPositions!;
      const lowWave = old / lo, highWave = old / hi;
      const out = new Float32Array(inv.length);
      for (let i = 0; i < inv.length; i++) {
        const wave = f((2 * Math.PI) / inv[i]!);
        const scaled = wave > lowWave ? f(inv[i]! / factor) : inv[i]!;
        const medium = !(wave < highWave) && !(wave > lowWave);
        const smooth = f(f(f(old / wave) - lo) / (hi - lo));
        out[i] = medium ? f(f(f(f(1 - smooth) * scaled) / factor) + f(smooth * scaled)) : scaled;
      }
      return { invFreq: out, scaling: 1 };
    }
    case 'yarn': {
      const factor = p.factor!;
      const orig = p.originalMaxPositions!;
      let scaling = p.attentionFactor;
      if (scaling === undefined) {
        scaling = p.mscale && p.mscaleAllDim ? yarnMscale(factor, p.mscale) / yarnMscale(factor, p.mscaleAllDim) : yarnMscale(factor);
      }
      const betaFast = p.betaFast ?? 32, betaSlow = p.betaSlow ?? 1;
      const corr = (rot: number) => (dim * Math.log(orig / (rot * 2 * Math.PI))) / (2 * Math.log(p.theta));
      let low = corr(betaFast), high = corr(betaSlow);
      if (p.truncate ?? true) { low = Math.floor(low); high = Math.ceil(high); }
      low = Math.max(low, 0);
      high = Math.min(high, dim - 1);
      if (low === high) high += 0.001;
      const out = new Float32Array(dim / 2);
      for (let i = 0; i < dim / 2; i++) {
        const posFreq = f(Math.pow(p.theta, f((2 * i) / dim)));
        const extra = f(1 / posFreq), inter = f(1 / f(factor * posFreq));
        const ramp = Math.min(1, Math.max(0, f(f(i - low) / f(high - low))));
        const extraFactor = f(1 - ramp);
        out[i] = f(f(inter * f(1 - extraFactor)) + f(extra * extraFactor));
      }
      return { invFreq: out, scaling };
    }
  }
}

/**
 * cos and sin tables [T, R] for positions start..start+T-1 (float32, as HF: freqs = invFreq · pos, duplicated
 * over both halves, times the attention scaling), on `device`.
 *
 * @example const [cos, sin] = ropeTables(p, 0, 12, 'cpu')
 */
export function ropeTables(p: RopeParams, start: number, t: number, device: string): [Tensor, Tensor] {
  const { invFreq, scaling } = ropeInvFreq(p, start + t);
  const half = p.dim / 2;
  const cos = new Float32Array(t * p.dim), sin = new Float32Array(t * p.dim);
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < half; j++) {
      const a = f(invFreq[j]! * (start + i));
      const c = f(f(Math.cos(a)) * scaling), s = f(f(Math.sin(a)) * scaling);
      cos[i * p.dim + j] = cos[i * p.dim + j + half] = c;
      sin[i * p.dim + j] = sin[i * p.dim + j + half] = s;
    }
  }
  return [tensor(cos, { shape: [t, p.dim], device }), tensor(sin, { shape: [t, p.dim], device })];
}

/**
 * cos and sin for explicit position ids [B, T] (int32, each in 0..maxPos-1; e.g. left-padded batches), as
 * [B, 1, T, R] rows of a table of positions 0..maxPos-1, so they broadcast over the heads. Dynamic scaling uses maxPos
 * as the sequence length.
 *
 * @example const [cos, sin] = ropeTablesAt(p, positionIds, start + t)
 */
export function ropeTablesAt(p: RopeParams, positionIds: Tensor, maxPos: number): [Tensor, Tensor] {
  const [b, t] = positionIds.shape as [number, number];
  const [cos, sin] = ropeTables(p, 0, maxPos, positionIds.device);
  return [embedding(positionIds, cos).reshape([b, 1, t, p.dim]), embedding(positionIds, sin).reshape([b, 1, t, p.dim])];
}

/**
 * Rotate the first R dims of x [B, H, T, D] by cos/sin [T, R] (or [B, 1, T, R]) in rotate-half form (dim i pairs with i + R/2);
 * the other D - R dims pass through.
 *
 * @example const q2 = applyRope(q, cos, sin)
 */
export function applyRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const d = x.shape[3]!;
  const r = cos.shape[cos.rank - 1]!;
  const c = cos.dtype === x.dtype ? cos : cast(cos, x.dtype);
  const s = sin.dtype === x.dtype ? sin : cast(sin, x.dtype);
  const rot = r === d ? x : x.narrow(3, 0, r);
  const x1 = rot.narrow(3, 0, r / 2), x2 = rot.narrow(3, r / 2, r / 2);
  const rotated = concat([neg(x2), x1], 3);
  const out = add(mul(rot, c), mul(rotated, s));
  return r === d ? out : concat([out, x.narrow(3, r, d - r)], 3);
}
