// Token generation for causal LMs (GPT, the Hugging Face decoders) with a KV cache: prefill the prompts once, then one
// token per step reusing each layer's cached keys/values; greedy or seeded sampling (sampling.ts), stop on EOS ids,
// batched prompts left-padded with HF generate's attention_mask and position_ids. Past the context, a single
// unpadded prompt re-reads its last `context` ids (positions 0..T-1) without the cache, the tiny-gpt reference's rule.
import { scope } from '../../tensor/scope.js';
import { tensor } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { KVCache } from '../attention.js';
import type { Module } from '../module.js';
import { argmaxFirst, makeSampler, type SamplingOptions } from './sampling.js';

export { argmaxFirst };

/**
 * What generate needs of a causal LM (GPT, the Hugging Face decoders): its vocabulary size and context, a KV cache,
 * and a forward that returns logits [B, T, V] or an object holding them (HF's `{ logits, ... }`).
 */
export interface CausalLM extends Module {
  readonly cfg: { readonly vocabSize: number; readonly context: number };
  createCache(): KVCache;
  forward(ids: Tensor, opts?: { cache?: KVCache; attentionMask?: Tensor | null; positionIds?: Tensor | null }): Tensor | { logits?: Tensor };
}

/** True when `m` can be passed to generate (a Module with cfg.vocabSize, cfg.context and createCache). */
export function isCausalLM(m: unknown): m is CausalLM {
  const c = (m as { cfg?: { vocabSize?: unknown; context?: unknown } } | null)?.cfg;
  return typeof (m as { createCache?: unknown } | null)?.createCache === 'function' && typeof c?.vocabSize === 'number' && typeof c?.context === 'number';
}

/** What `onStep` sees after each generated token (single-prompt runs). */
export interface GenerateStep {
  step: number;
  /** The chosen id (greedy: argmax, ties -> lowest id; or the sampled one). */
  tokenId: number;
  /** Logits at the last position [vocab], before any processor. */
  logits: Float32Array;
  /** True when this step ran on the KV cache (false: a full window pass). */
  cached: boolean;
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Reuse keys/values across steps (default true). */
  useCache?: boolean;
  /** Stop a row once it produced one of these ids (kept as its last new id, as HF does). Default: none. */
  eosTokenId?: number | readonly number[] | null;
  /** Id that fills the left padding of shorter prompts and the steps after a row's EOS (default: the first EOS id, else 0). */
  padTokenId?: number;
  onStep?: (step: GenerateStep) => void;
}

function fail(msg: string, E: typeof Error = RangeError): never {
  throw new E(`forwardpass: generate: ${msg}`);
}

function checkPrompts(model: CausalLM, prompts: readonly (readonly number[])[], opts: GenerateOptions): number[] {
  const { vocabSize } = model.cfg;
  if (!Array.isArray(prompts) || prompts.length === 0) fail('expected at least one prompt');
  prompts.forEach((p, r) => {
    const which = prompts.length > 1 ? `prompt ${r}` : 'the prompt';
    if (!Array.isArray(p) || p.length === 0) fail(`${which} must be a non-empty list of token ids`);
    p.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) fail(`${prompts.length > 1 ? `${which}: ` : ''}prompt id ${id} at position ${i} is outside the vocabulary 0..${vocabSize - 1}`);
    });
  });
  const { maxNewTokens } = opts;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) fail(`maxNewTokens must be a non-negative integer, got ${String(maxNewTokens)}`);
  const eos = opts.eosTokenId === undefined || opts.eosTokenId === null ? [] : typeof opts.eosTokenId === 'number' ? [opts.eosTokenId] : [...opts.eosTokenId];
  for (const e of eos) if (!Number.isInteger(e) || e < 0 || e >= vocabSize) fail(`eosTokenId ${e} is outside the vocabulary 0..${vocabSize - 1}`);
  return eos;
}

/**
 * The steps of a generation run over one or several prompts: each step yields the new id of every row, or null for a
 * row that already stopped at an EOS id. Ends after maxNewTokens steps or when every row stopped. Shorter prompts
 * are left-padded; their rows get attention_mask 0 on the pads and position_ids cumsum(mask) - 1 (pads at 1), as
 * HF's generate passes them, so each row gives what it gives alone.
 *
 * @example for await (const ids of generateSteps(model, [[1, 2, 3]], { maxNewTokens: 5 })) console.log(ids[0])
 */
export async function* generateSteps(lm: CausalLM | Module, prompts: readonly (readonly number[])[], opts: GenerateOptions): AsyncGenerator<(number | null)[]> {
  if (!isCausalLM(lm)) fail(`${lm?.constructor?.name ?? String(lm)} is not a causal language model (it needs cfg.vocabSize, cfg.context and createCache(); e.g. GPT, LlamaForCausalLM, GPT2LMHeadModel)`, TypeError);
  const model = lm;
  const eos = checkPrompts(model, prompts, opts);
  const { maxNewTokens, useCache = true, onStep } = opts;
  const sampler = makeSampler(opts);
  const { context } = model.cfg;
  const padId = opts.padTokenId ?? eos[0] ?? 0;
  const width = Math.max(...prompts.map((p) => p.length));
  const pads = prompts.map((p) => width - p.length);
  const padded = pads.some((p) => p > 0);
  const batch = prompts.length;
  if (padded && !(model as { inputNames?: string[] }).inputNames?.includes('position_ids')) {
    fail(`prompts of different lengths need left padding with position_ids, which ${model.constructor.name} does not take; pass prompts of one length or one at a time`);
  }
  if (batch > 1 && width + maxNewTokens > context) fail(`${width} prompt + ${maxNewTokens} new tokens exceed the model's context of ${context} positions (only a single prompt can slide past it)`);
  const device = model.namedParameters()[0]?.[1].device ?? 'cpu';
  const rows = prompts.map((p, r) => [...Array<number>(pads[r]!).fill(padId), ...p]);
  const seen = prompts.map((p) => [...p]);
  const done = prompts.map(() => false);
  const cache = useCache ? model.createCache() : null;
  const int = (data: number[], shape: number[]) => tensor(Int32Array.from(data), { shape, dtype: 'int32', device });
  try {
    for (let step = 0; step < maxNewTokens && !done.every(Boolean); step++) {
      const len = rows[0]!.length;
      const fits = len <= context;
      const cached = cache !== null && fits;
      // with the cache, feed only the columns it has not seen; otherwise the last `context` ids from position 0
      if (cache && !fits && cache.length) cache.reset();
      const from = cached ? cache!.length : Math.max(0, len - context);
      const t = len - from;
      const logits = await scope(async () => {
        const x = int(rows.flatMap((row) => row.slice(from)), [batch, t]);
        const extra = padded
          ? {
              attentionMask: int(rows.flatMap((row, r) => row.map((_, j) => (j < pads[r]! ? 0 : 1)).slice(cached ? 0 : from)), [batch, cached ? len : t]),
              positionIds: int(rows.flatMap((row, r) => row.slice(from).map((_, j) => (from + j < pads[r]! ? 1 : from + j - pads[r]!))), [batch, t]),
            }
          : {};
        const res = model.forward(x, cached ? { cache: cache!, ...extra } : extra);
        const out = (res as Tensor).__isTensor ? (res as Tensor) : (res as { logits?: Tensor }).logits;
        if (!out) fail(`the model's forward returned no logits`, TypeError);
        return (await out.select(1, -1).data()) as Float32Array;
      });
      const vocab = logits.length / batch;
      const chosen: (number | null)[] = [];
      for (let r = 0; r < batch; r++) {
        if (done[r]) { rows[r]!.push(padId); chosen.push(null); continue; }
        const row = logits.subarray(r * vocab, (r + 1) * vocab);
        const nan = row.reduce((n, v) => n + (v !== v ? 1 : 0), 0);
        // a NaN logit has no pick (PyTorch's argmax would return its index): stop rather than emit a guess
        if (nan) fail(`the logits of step ${step}${batch > 1 ? ` (row ${r})` : ''} hold ${nan} NaN of ${vocab} values (the model produced NaN; check its weights and inputs)`, Error);
        const id = sampler.next(row, seen[r]!);
        rows[r]!.push(id);
        seen[r]!.push(id);
        chosen.push(id);
        if (eos.includes(id)) done[r] = true;
        if (batch === 1) onStep?.({ step, tokenId: id, logits: Float32Array.from(row), cached });
      }
      yield chosen;
    }
  } finally {
    cache?.dispose();
  }
}

/**
 * Generate from one prompt: returns the new ids (at most `maxNewTokens`; ends with the EOS id when one stopped it).
 * Greedy unless sampling options are given. Intermediates are freed every step.
 *
 * @example const ids = await generate(gpt, tok.encode('This License '), { maxNewTokens: 50 }); tok.decode(ids)
 * @example await generate(llama, ids, { maxNewTokens: 40, temperature: 0.8, topP: 0.95, seed: 1, eosTokenId: [2] })
 */
export async function generate(lm: CausalLM | Module, promptIds: readonly number[], opts: GenerateOptions): Promise<number[]> {
  if (!Array.isArray(promptIds)) fail('the prompt must be a non-empty list of token ids');
  const out: number[] = [];
  for await (const [id] of generateSteps(lm, [promptIds], opts)) out.push(id!);
  return out;
}

/**
 * Generate from several prompts at once (left-padded to one length): the new ids of each prompt, each ending at
 * its EOS id when one stopped it. Greedy rows equal what each prompt gives alone.
 *
 * @example const [a, b] = await generateBatch(model, [[5, 6, 7], [8, 9]], { maxNewTokens: 10 });
 */
export async function generateBatch(lm: CausalLM | Module, prompts: readonly (readonly number[])[], opts: GenerateOptions): Promise<number[][]> {
  const out: number[][] = prompts.map(() => []);
  for await (const ids of generateSteps(lm, prompts, opts)) ids.forEach((id, r) => { if (id !== null) out[r]!.push(id); });
  return out;
}
