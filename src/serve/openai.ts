// OpenAI-style endpoints: POST /v1/completions for causal language models (text or id prompts, sampling, stop
// strings, n, echo, server-sent events; generation.ts runs them with a KV cache each) and POST /v1/embeddings for
// encoders (the pooled vector of each input, through the batcher).
import type { ServerResponse } from 'node:http';
import type { CharTokenizer } from '../nn/models/tokenizer.js';
import { generationOptions, type TextGenerateOptions } from '../text/generate.js';
import { ServeError, type Batcher, type InferOptions } from './batcher.js';
import { completionSteps, trainedContext, type FinishReason, type TextGenerator, type TurnQueue } from './generation.js';
import { RequestError, type ServableModel } from './servable.js';

/** What the OpenAI handlers need of a served model. */
export interface LanguageModel {
  name: string;
  model: ServableModel;
  batcher: Batcher;
  /** Encoders: the batcher of `model.embed`. */
  embedBatcher?: Batcher;
  /** Text inputs of /v1/embeddings are taken only when the model folder has a tokenizer (a character vocabulary today). */
  tokenizer?: CharTokenizer;
  /** Decoders: the language model that /v1/completions generates with, and the turns its completions take. */
  generator?: TextGenerator;
  turns?: TurnQueue;
  /** Completions generating now (each choice counts) and the most allowed at once; a request that would pass it gets 503. */
  active?: { count: number; max: number };
  /** Called with each generated token's count, for the metrics. */
  onTokens?: (n: number) => void;
}

/** Token ids of a prompt (a list of ids, or text when the model has a tokenizer), checked against the vocabulary. */
function promptIds(p: unknown, lm: LanguageModel, field: string): number[] {
  const vocab = lm.model.vocabSize ?? Infinity;
  if (typeof p === 'string') {
    if (!lm.tokenizer) throw new RequestError(`forwardpass: serve: model '${lm.name}' has no tokenizer; give "${field}" as a list of token ids`);
    if (p.length === 0) throw new RequestError(`forwardpass: serve: "${field}" is empty`);
    try {
      return lm.tokenizer.encode(p);
    } catch (e) {
      throw new RequestError((e as Error).message);
    }
  }
  if (Array.isArray(p) && p.length > 0 && p.every((id) => Number.isInteger(id) && id >= 0 && id < vocab)) return p as number[];
  throw new RequestError(`forwardpass: serve: expected "${field}" to be ${lm.tokenizer ? 'text or ' : ''}a non-empty list of token ids in 0..${vocab === Infinity ? 'the vocabulary size' : vocab - 1}, found ${JSON.stringify(p)?.slice(0, 80)}`);
}

const found = (v: unknown) => (v === undefined ? 'nothing' : (JSON.stringify(v) ?? String(v)).slice(0, 80));
const bad = (field: string, expected: string, v: unknown) => new RequestError(`forwardpass: serve: expected "${field}" to be ${expected}, found ${found(v)}`);

/** An optional number field checked with `ok` (absent and null: undefined). */
function numField(b: Record<string, unknown>, k: string, expected: string, ok: (v: number) => boolean): number | undefined {
  const v = b[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw bad(k, expected, v);
  return v;
}

const MAX_N = 16;
const MAX_STOPS = 4;

/** The prompts of a completion request: a string, a list of strings, a list of ids, or a list of id lists. */
function completionPrompts(p: unknown, gen: TextGenerator, lm: LanguageModel): { ids: number[]; text: string }[] {
  const vocab = gen.model.cfg.vocabSize;
  const expected = `${gen.codec ? 'text, a list of texts, ' : ''}a non-empty list of token ids in 0..${vocab - 1} or a list of such lists`;
  const list: unknown[] = typeof p === 'string' ? [p] : Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'number') ? [p] : Array.isArray(p) && p.length > 0 ? p : [p];
  return list.map((one, i) => {
    const field = list.length > 1 ? `prompt[${i}]` : 'prompt';
    if (typeof one === 'string') {
      if (!gen.codec?.encode) throw new RequestError(`forwardpass: serve: model '${lm.name}' has no tokenizer (no tokenizer.json); expected "${field}" to be a list of token ids, found text`);
      let ids: number[];
      try {
        const e = gen.codec.encode(one, { addSpecialTokens: gen.addSpecialTokens ?? false });
        ids = Array.isArray(e) ? e : e.ids;
      } catch (e) {
        throw new RequestError(`forwardpass: serve: "${field}" cannot be encoded: ${(e as Error).message}`);
      }
      if (ids.length === 0) throw bad(field, 'text that encodes to at least one token', one);
      return { ids, text: one };
    }
    if (!Array.isArray(one) || one.length === 0 || !one.every((id) => Number.isInteger(id) && id >= 0 && id < vocab)) throw bad(field, expected, one);
    return { ids: one as number[], text: gen.codec ? gen.codec.decode(one as number[], { skipSpecialTokens: false }) : '' };
  });
}

/** The request's stop strings (a string, or a list of at most 4 non-empty strings). */
function stopStrings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length > MAX_STOPS || !list.every((s) => typeof s === 'string' && s.length > 0)) throw bad('stop', `a non-empty string or a list of at most ${MAX_STOPS} of them`, v);
  return list as string[];
}

/** A checked /v1/completions request: its prompts, one generate-options set per choice, and how to answer. */
interface CompletionRequest {
  prompts: { ids: number[]; text: string }[];
  /** Per choice, prompt-major: the prompt and its generate options (choice i of a prompt samples with seed + i). */
  jobs: { prompt: { ids: number[]; text: string }; index: number; opts: TextGenerateOptions & { maxNewTokens: number } }[];
  stops: string[];
  stream: boolean;
  echo: boolean;
  includeUsage: boolean;
}

/** Check every field of a completion request (one RequestError naming the field, the expected and the found value). */
function completionRequest(body: Record<string, unknown>, gen: TextGenerator, lm: LanguageModel): CompletionRequest {
  const context = trainedContext(gen.model);
  if (body.prompt === undefined) throw bad('prompt', 'text or a list of token ids', undefined);
  const prompts = completionPrompts(body.prompt, gen, lm);
  const maxLimit = Number.isFinite(context) ? Math.max(1024, context) : 1024;
  const maxTokens = numField(body, 'max_tokens', `an integer in 1..${maxLimit}`, (v) => Number.isInteger(v) && v >= 1 && v <= maxLimit) ?? 16;
  prompts.forEach((p, i) => {
    if (p.ids.length > context) throw new RequestError(`forwardpass: serve: expected "${prompts.length > 1 ? `prompt[${i}]` : 'prompt'}" to be at most ${context} tokens (the model's context), found ${p.ids.length} tokens`);
  });
  const asked: TextGenerateOptions = {};
  const sampling: [string, keyof TextGenerateOptions, string, (v: number) => boolean][] = [
    ['temperature', 'temperature', 'a number >= 0', (v) => v >= 0],
    ['top_p', 'topP', 'a number in (0, 1]', (v) => v > 0 && v <= 1],
    ['top_k', 'topK', 'an integer >= 0 (0: off)', (v) => Number.isInteger(v) && v >= 0],
    ['min_p', 'minP', 'a number in [0, 1]', (v) => v >= 0 && v <= 1],
    ['repetition_penalty', 'repetitionPenalty', 'a number > 0', (v) => v > 0],
  ];
  for (const [field, key, expected, ok] of sampling) {
    const v = numField(body, field, expected, ok);
    if (v !== undefined) (asked as Record<string, number>)[key] = v;
  }
  const seed = numField(body, 'seed', 'an integer', (v) => Number.isSafeInteger(v));
  const n = numField(body, 'n', `an integer in 1..${MAX_N}`, (v) => Number.isInteger(v) && v >= 1 && v <= MAX_N) ?? 1;
  for (const k of ['frequency_penalty', 'presence_penalty']) numField(body, k, '0 (not supported)', (v) => v === 0);
  if (body.logprobs !== undefined && body.logprobs !== null && body.logprobs !== 0) throw bad('logprobs', 'null (log probabilities are not returned)', body.logprobs);
  if (body.suffix !== undefined && body.suffix !== null) throw bad('suffix', 'null (insertion is not supported)', body.suffix);
  if (body.best_of !== undefined && body.best_of !== null && body.best_of !== 1) throw bad('best_of', '1 (no server-side ranking of choices; ask for n)', body.best_of);
  const lb = body.logit_bias;
  if (lb !== undefined && lb !== null && (typeof lb !== 'object' || Object.keys(lb).length > 0)) throw bad('logit_bias', 'empty (logit biases are not supported)', lb);
  for (const k of ['stream', 'echo']) if (body[k] !== undefined && body[k] !== null && typeof body[k] !== 'boolean') throw bad(k, 'true or false', body[k]);
  const so = body.stream_options;
  if (so !== undefined && so !== null && (typeof so !== 'object' || Array.isArray(so) || !['undefined', 'boolean'].includes(typeof (so as Record<string, unknown>).include_usage))) throw bad('stream_options', '{"include_usage": true or false}', so);
  const base = { ...generationOptions(gen.defaults, asked), maxNewTokens: maxTokens };
  // without a seed, each request samples differently (greedy decoding does not look at it)
  const seed0 = seed ?? Math.floor(Math.random() * 2 ** 31);
  const jobs = prompts.flatMap((prompt, p) => Array.from({ length: n }, (_, i) => ({ prompt, index: p * n + i, opts: { ...base, seed: seed0 + i } })));
  return { prompts, jobs, stops: stopStrings(body.stop), stream: body.stream === true, echo: body.echo === true, includeUsage: (so as { include_usage?: boolean } | null | undefined)?.include_usage === true };
}

/**
 * OpenAI-style text completion on a causal LM: every prompt (text or ids) gets `n` choices, each generated with its own
 * KV cache through the library's streamText (greedy unless sampling is asked for or the folder's
 * generation_config.json samples; choice i of a prompt draws with seed + i). Completions of one model take turns one
 * token at a time (one forward pass runs at once per model). With `stream`, server-sent events carry text deltas that
 * are whole UTF-8 characters; a client that disconnects stops its generation.
 */
export async function completions(lm: LanguageModel, body: Record<string, unknown>, res: ServerResponse, opts: InferOptions): Promise<number> {
  const gen = lm.generator;
  if (!gen || !lm.turns || !lm.active) throw new RequestError(`forwardpass: serve: model '${lm.name}' is not a causal language model; /v1/completions needs one`);
  const { prompts, jobs, stops, stream, echo, includeUsage } = completionRequest(body, gen, lm);
  if (lm.active.count + jobs.length > lm.active.max) throw new ServeError(`forwardpass: serve: model '${lm.name}' is generating ${lm.active.count} completions (the limit is ${lm.active.max}); retry later`, 'queue_full', 503);

  const id = `cmpl-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: object[]) => ({ id, object: 'text_completion', created, model: lm.name, choices });
  const choice = (index: number, text: string, ids: number[], finish: FinishReason | null) => ({ index, text, token_ids: ids, logprobs: null, finish_reason: finish });
  const send = (event: object) => { if (!res.writableEnded && !res.destroyed) res.write(`data: ${JSON.stringify(event)}\n\n`); };
  if (stream) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  // one choice that fails (or the client leaving) stops the others at their next turn
  const ac = new AbortController();
  const stopAll = () => ac.abort();
  opts.signal?.addEventListener('abort', stopAll, { once: true });
  if (opts.signal?.aborted) ac.abort();
  const io: InferOptions = { signal: ac.signal, timeoutMs: opts.timeoutMs };
  lm.active.count += jobs.length;
  const results = await Promise.allSettled(jobs.map(async (j) => {
    let text = echo ? j.prompt.text : '';
    const ids: number[] = [];
    let finish: FinishReason = 'length';
    if (stream && echo && text) send(chunk([choice(j.index, text, [], null)]));
    try {
      for await (const step of completionSteps(gen, j.prompt.ids, j.opts, stops, lm.turns!, io)) {
        ids.push(step.id);
        lm.onTokens?.(1);
        text += step.text;
        if (step.finish) finish = step.finish;
        if (stream) send(chunk([choice(j.index, step.text, [step.id], step.finish)]));
      }
    } catch (e) {
      stopAll();
      throw e;
    } finally {
      lm.active!.count--;
    }
    return { index: j.index, text, ids, finish };
  }));
  opts.signal?.removeEventListener('abort', stopAll);
  // the first failure is the cause; the others were stopped because of it
  const failed = results.find((r) => r.status === 'rejected' && !(r.reason instanceof ServeError && r.reason.code === 'aborted' && !opts.signal?.aborted)) ?? results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const done = results.map((r) => (r as PromiseFulfilledResult<{ index: number; text: string; ids: number[]; finish: FinishReason }>).value);
  const promptTokens = prompts.reduce((a, p) => a + p.ids.length, 0);
  const completionTokens = done.reduce((a, c) => a + c.ids.length, 0);
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  if (stream) {
    if (includeUsage) send({ ...chunk([]), usage });
    res.end('data: [DONE]\n\n');
    return 200;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...chunk(done.map((c) => choice(c.index, c.text, c.ids, c.finish))), usage }));
  return 200;
}

/** Embeddings: one pooled vector per input (a list of token ids, a list of such lists, or text with a tokenizer). */
export async function embeddings(lm: LanguageModel, body: Record<string, unknown>, opts: InferOptions): Promise<object> {
  if (!lm.embedBatcher || !lm.model.embed) throw new RequestError(`forwardpass: serve: model '${lm.name}' is not an encoder (BERT-style) model; /v1/embeddings needs one`);
  const input = body.input;
  const many = Array.isArray(input) && input.length > 0 && (Array.isArray(input[0]) || typeof input[0] === 'string');
  const items = (many ? (input as unknown[]) : [input]).map((p) => promptIds(p, lm, 'input'));
  const name = lm.model.embed.inputs[0]!.name;
  const outs = await Promise.all(items.map((ids) => lm.embedBatcher!.infer({ [name]: { dtype: 'int32', shape: [1, ids.length], data: Int32Array.from(ids) } }, opts)));
  const tokens = items.reduce((a, ids) => a + ids.length, 0);
  return {
    object: 'list',
    model: lm.name,
    data: outs.map((o, index) => ({ object: 'embedding', index, embedding: Array.from(o.embedding!.data) })),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
