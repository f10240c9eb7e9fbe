// Next-token choice for generate: the logits processors of Hugging Face's generate in its order (repetition
// penalty, then temperature, top-k, top-p, min-p), greedy argmax, and seeded sampling (mulberry32, makeRng).
import { makeRng } from '../../tensor/creation.js';

export interface SamplingOptions {
  /** Sample instead of argmax (default: true when temperature, topK, topP or minP is given; temperature 0 is greedy). */
  doSample?: boolean;
  /** Divide the logits by T > 0 (default 1). */
  temperature?: number;
  /** Keep the K highest logits (ties with the K-th kept, as HF's TopKLogitsWarper); 0 = off. */
  topK?: number;
  /** Keep the most likely tokens whose probabilities sum to at least P (0 < P <= 1; 1 = off). */
  topP?: number;
  /** Drop tokens whose probability is below M times the top one's (0 <= M <= 1; 0 = off). */
  minP?: number;
  /** HF's repetition penalty R > 0 on every id already in the sequence (prompt included): positive logits / R,
   * negative ones * R. Applies to greedy decoding too; 1 = off. */
  repetitionPenalty?: number;
  /** Seed of the PRNG (mulberry32, 32-bit state); the same seed and inputs give the same tokens. Default 0. */
  seed?: number;
}

function check(ok: boolean, what: string, v: unknown): void {
  if (!ok) throw new RangeError(`forwardpass: generate: ${what}, got ${String(v)}`);
}

/** Validated options with defaults filled in; `sample` says whether sampling (rather than argmax) runs. */
export function samplingSettings(o: SamplingOptions = {}): Required<SamplingOptions> & { sample: boolean } {
  const { temperature = 1, topK = 0, topP = 1, minP = 0, repetitionPenalty = 1, seed = 0 } = o;
  check(Number.isFinite(temperature) && temperature >= 0, 'temperature must be a number >= 0', temperature);
  check(Number.isInteger(topK) && topK >= 0, 'topK must be an integer >= 0', topK);
  check(topP > 0 && topP <= 1, 'topP must be in (0, 1]', topP);
  check(minP >= 0 && minP <= 1, 'minP must be in [0, 1]', minP);
  check(Number.isFinite(repetitionPenalty) && repetitionPenalty > 0, 'repetitionPenalty must be a number > 0', repetitionPenalty);
  check(Number.isInteger(seed), 'seed must be an integer', seed);
  const asked = o.temperature !== undefined || o.topK !== undefined || o.topP !== undefined || o.minP !== undefined;
  const doSample = o.doSample ?? asked;
  return { doSample, temperature, topK, topP, minP, repetitionPenalty, seed, sample: doSample && temperature > 0 };
}

/** HF's RepetitionPenaltyLogitsProcessor, in place: each distinct id of `seen` once, positive / r, negative * r. */
export function applyRepetitionPenalty(logits: Float32Array, seen: Iterable<number>, r: number): Float32Array {
  if (r === 1) return logits;
  for (const id of new Set(seen)) {
    const v = logits[id]!;
    logits[id] = v < 0 ? v * r : v / r;
  }
  return logits;
}

/** Softmax of `logits` (-Infinity gives 0), in float64. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += p[i] = logits[i] === -Infinity ? 0 : Math.exp(logits[i]! - max);
  for (let i = 0; i < p.length; i++) p[i]! /= sum;
  return p;
}

/** HF's TopKLogitsWarper, in place: logits below the k-th largest become -Infinity (ties with it stay). */
export function topKMask(logits: Float32Array, k: number): Float32Array {
  if (k <= 0 || k >= logits.length) return logits;
  const kth = Float32Array.from(logits).sort().reverse()[k - 1]!;
  for (let i = 0; i < logits.length; i++) if (logits[i]! < kth) logits[i] = -Infinity;
  return logits;
}

/**
 * HF's TopPLogitsWarper, in place: sorted ascending, a token goes when the probability mass up to and including it
 * is <= 1 - p (so the token that crosses p stays); the most likely token always stays.
 */
export function topPMask(logits: Float32Array, p: number): Float32Array {
  if (p >= 1) return logits;
  const probs = softmax(logits);
  const order = Array.from(logits.keys()).sort((a, b) => logits[a]! - logits[b]! || b - a);
  let cum = 0;
  for (let j = 0; j < order.length - 1; j++) {
    cum += probs[order[j]!]!;
    if (cum <= 1 - p) logits[order[j]!] = -Infinity;
    else break;
  }
  return logits;
}

/** HF's MinPLogitsWarper, in place: tokens with probability < m * (top probability) become -Infinity. */
export function minPMask(logits: Float32Array, m: number): Float32Array {
  if (m <= 0) return logits;
  const probs = softmax(logits);
  let top = 0;
  for (const q of probs) if (q > top) top = q;
  for (let i = 0; i < logits.length; i++) if (probs[i]! < m * top) logits[i] = -Infinity;
  return logits;
}

/** The logits after every processor of `s` (a copy; `seen` = the ids so far for the repetition penalty). */
export function processLogits(logits: ArrayLike<number>, seen: Iterable<number>, s: ReturnType<typeof samplingSettings>): Float32Array {
  const x = applyRepetitionPenalty(Float32Array.from(logits), seen, s.repetitionPenalty);
  if (!s.sample) return x;
  if (s.temperature !== 1) for (let i = 0; i < x.length; i++) x[i]! /= s.temperature;
  return minPMask(topPMask(topKMask(x, s.topK), s.topP), s.minP);
}

/** Draw an index from softmax(logits) with uniform u in [0, 1) (inverse CDF over ids in order). */
export function drawIndex(logits: ArrayLike<number>, u: number): number {
  const p = softmax(logits);
  let cum = 0, last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) continue;
    last = i;
    cum += p[i]!;
    if (u < cum) return i;
  }
  return last;
}

/** A sampler for one generation run: `next(logits, seen)` -> the chosen id, greedy or seeded sampling. */
export function makeSampler(opts: SamplingOptions = {}): { settings: ReturnType<typeof samplingSettings>; next(logits: ArrayLike<number>, seen: Iterable<number>): number } {
  const settings = samplingSettings(opts);
  const rng = makeRng(settings.seed);
  return {
    settings,
    next(logits, seen) {
      const x = processLogits(logits, seen, settings);
      if (!settings.sample) return argmaxFirst(x);
      return drawIndex(x, rng());
    },
  };
}

/** Index of the largest value; ties go to the lowest index; NaN never wins unless all are NaN. */
export function argmaxFirst(values: ArrayLike<number>): number {
  let best = 0;
  let bv = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > bv) { bv = v; best = i; }
  }
  return best;
}
