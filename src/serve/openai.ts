// OpenAI-style endpoints over the batcher: POST /v1/completions for decoders (greedy, one forward pass per new
// token through the batcher, so concurrent completions share passes; optional server-sent events) and
// POST /v1/embeddings for encoders (the pooled vector of each input).
import type { ServerResponse } from 'node:http';
import { argmaxFirst } from '../nn/models/generate.js';
import type { CharTokenizer } from '../nn/models/tokenizer.js';
import type { Batcher, InferOptions } from './batcher.js';
import { RequestError, type ServableModel } from './servable.js';

/** What the OpenAI handlers need of a served model. */
export interface LanguageModel {
  name: string;
  model: ServableModel;
  batcher: Batcher;
  /** Encoders: the batcher of `model.embed`. */
  embedBatcher?: Batcher;
  /** Text prompts are taken only when the model folder has a tokenizer (a character vocabulary today). */
  tokenizer?: CharTokenizer;
}

const MAX_TOKENS_LIMIT = 1024;

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

const intField = (b: Record<string, unknown>, k: string, def: number, max: number): number => {
  const v = b[k] ?? def;
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max) throw new RequestError(`forwardpass: serve: expected "${k}" to be an integer in 0..${max}, found ${JSON.stringify(b[k])}`);
  return v as number;
};

/**
 * Greedy completion: each new token is the argmax (ties: lowest id) of the logits at the last position of the last
 * `context` ids, the rule of `generate` without its cache. Streams `data: {...}` events when `stream` is true.
 */
export async function completions(lm: LanguageModel, body: Record<string, unknown>, res: ServerResponse, opts: InferOptions): Promise<number> {
  if (lm.model.kind !== 'decoder') throw new RequestError(`forwardpass: serve: model '${lm.name}' is not a decoder (GPT-style) model; /v1/completions needs one`);
  const ids = promptIds(Array.isArray(body.prompt) && body.prompt.length === 1 && !Number.isInteger(body.prompt[0]) ? body.prompt[0] : body.prompt, lm, 'prompt');
  const maxTokens = intField(body, 'max_tokens', 16, MAX_TOKENS_LIMIT);
  if (body.temperature !== undefined && body.temperature !== 0) throw new RequestError(`forwardpass: serve: only greedy decoding is served: "temperature" must be 0 or absent, found ${JSON.stringify(body.temperature)}`);
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw new RequestError(`forwardpass: serve: expected "stream" to be true or false, found ${JSON.stringify(body.stream)}`);
  const context = lm.model.context ?? Infinity;
  const inputName = lm.model.inputs[0]!.name;
  const outputName = lm.model.outputs[0]!.name;
  const id = `cmpl-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const created = Math.floor(Date.now() / 1000);
  const text = (t: number[]) => (lm.tokenizer ? lm.tokenizer.decode(t) : '');
  const all = [...ids];
  const fresh: number[] = [];
  const chunk = (choice: object) => ({ id, object: 'text_completion', created, model: lm.name, choices: [{ index: 0, logprobs: null, ...choice }] });
  if (body.stream) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  for (let step = 0; step < maxTokens; step++) {
    const feed = all.slice(-context);
    const out = await lm.batcher.infer({ [inputName]: { dtype: 'int32', shape: [1, feed.length], data: Int32Array.from(feed) } }, opts);
    const logits = out[outputName]!;
    const vocab = logits.shape[logits.shape.length - 1]!;
    const next = argmaxFirst(logits.data.subarray(logits.data.length - vocab));
    all.push(next);
    fresh.push(next);
    if (body.stream) res.write(`data: ${JSON.stringify(chunk({ text: text([next]), token_ids: [next], finish_reason: step === maxTokens - 1 ? 'length' : null }))}\n\n`);
  }
  const usage = { prompt_tokens: ids.length, completion_tokens: fresh.length, total_tokens: ids.length + fresh.length };
  if (body.stream) {
    res.end('data: [DONE]\n\n');
    return 200;
  }
  const payload = { ...chunk({ text: text(fresh), token_ids: fresh, finish_reason: 'length' }), usage };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
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
