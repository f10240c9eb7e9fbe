// Text in, text out: a causal LM and its tokenizer generating as a stream of {id, text} pieces whose texts concatenate
// to tokenizer.decode(all new ids) (a piece waits while the text so far ends in an unfinished UTF-8 character), and the
// EOS / pad defaults of a folder's generation_config.json (or config.json).
import { generateSteps, type CausalLM, type GenerateOptions } from '../nn/models/generate.js';
import type { Module } from '../nn/module.js';

/** What streamText needs of a tokenizer (Tokenizer, or the fixtures' CharTokenizer): decode, and encode for text prompts. */
export interface TextCodec {
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
  encode?(text: string, opts?: { addSpecialTokens?: boolean }): { ids: number[] } | number[];
}

/** One generated token and the text it completes ('' while a multi-byte character is unfinished). */
export interface TextPiece {
  id: number;
  text: string;
}

export interface TextGenerateOptions extends Omit<GenerateOptions, 'maxNewTokens'> {
  maxNewTokens?: number;
  /** Encode the prompt with the post-processor's special tokens (default false, as HF's text-generation pipeline). */
  addSpecialTokens?: boolean;
  /** Leave special tokens (e.g. the EOS) out of the text (default true). */
  skipSpecialTokens?: boolean;
}

/**
 * Stream the continuation of `prompt` (text, or ids) token by token. As transformers' text-generation pipeline, the
 * new text is decode(prompt + new ids) without the decoded prompt (so a SentencePiece space before the first new
 * word is kept); when the full decode does not start with the decoded prompt, decode(new ids) alone. At each step
 * only what follows the text already given is emitted, held back while it ends in U+FFFD (a character cut between
 * tokens); the pieces concatenate to the final new text.
 *
 * @example for await (const { text } of streamText(model, tok, 'Once upon a time', { maxNewTokens: 40 })) process.stdout.write(text);
 */
export async function* streamText(lm: CausalLM | Module, tokenizer: TextCodec, prompt: string | readonly number[], opts: TextGenerateOptions = {}): AsyncGenerator<TextPiece> {
  let ids: number[];
  if (typeof prompt === 'string') {
    if (!tokenizer.encode) throw new TypeError('forwardpass: generate: this tokenizer cannot encode; pass the prompt as ids');
    const e = tokenizer.encode(prompt, { addSpecialTokens: opts.addSpecialTokens ?? false });
    ids = Array.isArray(e) ? e : e.ids;
  } else ids = [...prompt];
  if (ids.length === 0) throw new RangeError('forwardpass: generate: the prompt encodes to no tokens');
  const skip = opts.skipSpecialTokens ?? true;
  const head = tokenizer.decode(ids, { skipSpecialTokens: skip });
  const newText = (out: number[]) => {
    const all = tokenizer.decode([...ids, ...out], { skipSpecialTokens: skip });
    return all.startsWith(head) ? all.slice(head.length) : tokenizer.decode(out, { skipSpecialTokens: skip });
  };
  const steps = generateSteps(lm, [ids], { ...opts, maxNewTokens: opts.maxNewTokens ?? 50 });
  const out: number[] = [];
  let given = '';
  try {
    let next = await steps.next();
    while (!next.done) {
      const id = next.value[0]!;
      out.push(id);
      next = await steps.next();
      const text = newText(out);
      // the last piece flushes whatever is left, a lone U+FFFD included
      const hold = !next.done && text.endsWith('\ufffd');
      const piece = hold || !text.startsWith(given) ? '' : text.slice(given.length);
      given += piece;
      yield { id, text: piece };
    }
  } finally {
    // a caller that stops early (return() on this stream) ends the steps too, which frees their KV cache
    await steps.return(undefined);
  }
}

/** Generate and return the new ids and their text (the stream's pieces joined). */
export async function generateText(lm: CausalLM | Module, tokenizer: TextCodec, prompt: string | readonly number[], opts: TextGenerateOptions = {}): Promise<{ ids: number[]; text: string }> {
  const ids: number[] = [];
  let text = '';
  for await (const p of streamText(lm, tokenizer, prompt, opts)) { ids.push(p.id); text += p.text; }
  return { ids, text };
}

/** What generation takes from a folder's generation_config.json (else config.json). */
export interface GenerationDefaults {
  eosTokenId: number[];
  padTokenId?: number;
  /** Sampling settings the file asks for (do_sample, temperature, top_k, top_p, min_p, repetition_penalty). */
  sampling: Pick<GenerateOptions, 'doSample' | 'temperature' | 'topK' | 'topP' | 'minP' | 'repetitionPenalty'>;
}

/**
 * EOS ids (one or several), the pad id and sampling settings of a generation_config.json object, with config.json's
 * eos/pad ids as the fallback.
 *
 * @example generationDefaults(JSON.parse(genText), JSON.parse(configText)).eosTokenId // [128001, 128009]
 */
export function generationDefaults(gen: Record<string, unknown> | null, config: Record<string, unknown> | null = null): GenerationDefaults {
  const pick = (k: string) => (gen && gen[k] !== undefined && gen[k] !== null ? gen[k] : config?.[k]);
  const ids = (v: unknown, what: string): number[] => {
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    for (const x of list) if (!Number.isInteger(x) || (x as number) < 0) throw new TypeError(`forwardpass: generation_config.json: ${what} must be a token id or a list of them, got ${JSON.stringify(v)}`);
    return list as number[];
  };
  const eosTokenId = ids(pick('eos_token_id'), 'eos_token_id');
  const pad = ids(pick('pad_token_id'), 'pad_token_id')[0];
  const num = (k: string) => (typeof gen?.[k] === 'number' ? (gen[k] as number) : undefined);
  const sampling: GenerationDefaults['sampling'] = {};
  if (gen?.do_sample === true) {
    sampling.doSample = true;
    const t = num('temperature'), k = num('top_k'), p = num('top_p'), m = num('min_p');
    if (t !== undefined) sampling.temperature = t;
    // HF's GenerationConfig defaults top_k to 50 when the file does not say
    sampling.topK = k ?? 50;
    if (p !== undefined) sampling.topP = p;
    if (m !== undefined) sampling.minP = m;
  }
  const r = num('repetition_penalty');
  if (r !== undefined) sampling.repetitionPenalty = r;
  return { eosTokenId, ...(pad !== undefined ? { padTokenId: pad } : {}), sampling };
}

/**
 * The generate options of a request on a model with `defaults` (null: a folder without them): the file's EOS and pad
 * ids; its sampling settings only when the caller asked for none of temperature, topK, topP and minP (its repetition
 * penalty also then, unless the caller gives one); the caller's settings over them. `forwardpass generate` and the
 * model server's /v1/completions both use it, so one folder samples the same way in both.
 *
 * @example generationOptions(generationDefaults(gen, cfg), { temperature: 0.8, seed: 1 }) // { temperature: 0.8, seed: 1, eosTokenId: [2], ... }
 */
export function generationOptions(defaults: GenerationDefaults | null, asked: TextGenerateOptions): TextGenerateOptions {
  if (!defaults) return { ...asked };
  const sampled = ['temperature', 'topK', 'topP', 'minP'].some((k) => asked[k as keyof TextGenerateOptions] !== undefined);
  const fromFile = sampled ? (defaults.sampling.repetitionPenalty === undefined ? {} : { repetitionPenalty: defaults.sampling.repetitionPenalty }) : defaults.sampling;
  const opts: TextGenerateOptions = { ...fromFile, ...asked, eosTokenId: defaults.eosTokenId };
  if (defaults.padTokenId !== undefined) opts.padTokenId = defaults.padTokenId;
  return opts;
}
