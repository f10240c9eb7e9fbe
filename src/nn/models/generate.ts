// Greedy decoding for causal LMs (GPT, the Hugging Face decoders) with a KV cache: prefill the prompt once, then one token per step
// reusing each layer's cached keys/values. Past the context, each step re-reads the last `context` ids
// (positions 0..T-1) without the cache, the window rule of the tiny-gpt reference.
import { scope } from '../../tensor/scope.js';
import { tensor } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { KVCache } from '../attention.js';
import type { Module } from '../module.js';

/**
 * What generate needs of a causal LM (GPT, the Hugging Face decoders): its vocabulary size and context, a KV cache,
 * and a forward that returns logits [B, T, V] or an object holding them (HF's `{ logits, ... }`).
 */
export interface CausalLM extends Module {
  readonly cfg: { readonly vocabSize: number; readonly context: number };
  createCache(): KVCache;
  forward(ids: Tensor, opts?: { cache?: KVCache }): Tensor | { logits?: Tensor };
}

/** True when `m` can be passed to generate (a Module with cfg.vocabSize, cfg.context and createCache). */
export function isCausalLM(m: unknown): m is CausalLM {
  const c = (m as { cfg?: { vocabSize?: unknown; context?: unknown } } | null)?.cfg;
  return typeof (m as { createCache?: unknown } | null)?.createCache === 'function' && typeof c?.vocabSize === 'number' && typeof c?.context === 'number';
}

/** What `onStep` sees after each generated token. */
export interface GenerateStep {
  step: number;
  /** The chosen id (argmax, ties -> lowest id). */
  tokenId: number;
  /** Logits at the last position [vocab]. */
  logits: Float32Array;
  /** True when this step ran on the KV cache (false: a full window pass). */
  cached: boolean;
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** Reuse keys/values across steps (default true). */
  useCache?: boolean;
  onStep?: (step: GenerateStep) => void;
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

/**
 * Greedy generation: returns the `maxNewTokens` new ids. Intermediates are freed every step.
 *
 * @example const ids = await generate(gpt, tok.encode('This License '), { maxNewTokens: 50 }); tok.decode(ids)
 */
export async function generate(lm: CausalLM | Module, promptIds: readonly number[], opts: GenerateOptions): Promise<number[]> {
  if (!isCausalLM(lm)) throw new TypeError(`forwardpass: generate: ${lm?.constructor?.name ?? String(lm)} is not a causal language model (it needs cfg.vocabSize, cfg.context and createCache(); e.g. GPT, LlamaForCausalLM, GPT2LMHeadModel)`);
  const model = lm;
  const { maxNewTokens, useCache = true, onStep } = opts;
  const { vocabSize, context } = model.cfg;
  if (!Array.isArray(promptIds) || promptIds.length === 0) throw new RangeError(`forwardpass: generate: the prompt must be a non-empty list of token ids`);
  promptIds.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new RangeError(`forwardpass: generate: prompt id ${id} at position ${i} is outside the vocabulary 0..${vocabSize - 1}`);
  });
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new RangeError(`forwardpass: generate: maxNewTokens must be a non-negative integer, got ${String(maxNewTokens)}`);
  const device = model.namedParameters()[0]?.[1].device ?? 'cpu';
  const ids = [...promptIds];
  const cache = useCache ? model.createCache() : null;
  try {
    for (let step = 0; step < maxNewTokens; step++) {
      const fits = ids.length <= context;
      const cached = cache !== null && fits;
      // with the cache, feed only the ids it has not seen; otherwise the last `context` ids from position 0
      if (cache && !fits && cache.length) cache.reset();
      const feed = cached ? ids.slice(cache!.length) : ids.slice(-context);
      const logits = await scope(async () => {
        const x = tensor(Int32Array.from(feed), { shape: [1, feed.length], dtype: 'int32', device });
        const res = model.forward(x, cached ? { cache: cache! } : {});
        const out = (res as Tensor).__isTensor ? (res as Tensor) : (res as { logits?: Tensor }).logits;
        if (!out) throw new TypeError(`forwardpass: generate: the model's forward returned no logits`);
        return (await out.select(1, -1).data()) as Float32Array;
      });
      const nan = logits.reduce((n, v) => n + (v !== v ? 1 : 0), 0);
      // a NaN logit has no greedy pick (PyTorch's argmax would return its index): stop rather than emit a guess
      if (nan) throw new Error(`forwardpass: generate: the logits of step ${step} hold ${nan} NaN of ${logits.length} values (the model produced NaN; check its weights and inputs)`);
      const tokenId = argmaxFirst(logits);
      ids.push(tokenId);
      onStep?.({ step, tokenId, logits, cached });
    }
  } finally {
    cache?.dispose();
  }
  return ids.slice(promptIds.length);
}
