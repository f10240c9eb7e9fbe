// pipeline tasks on a loaded model and tokenizer (no file access; runs in browsers): text-generation,
// feature-extraction (mean / cls pooling, L2 normalization), text-classification, token-classification and
// fill-mask, with transformers' pipelines' output shapes and post-processing (softmax, id2label, top-k, ignore "O").
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import type { HfModel } from '../nn/models/hf-base.js';
import type { Tokenizer } from '../text/tokenizer.js';
import { softmax } from '../nn/models/sampling.js';
import { generateText, type TextGenerateOptions } from '../text/generate.js';

const fail = (task: string, msg: string): never => { throw new Error(`forwardpass: pipeline('${task}'): ${msg}`); };

/** The model's label names from config.json id2label (LABEL_i where missing). */
export function labelsOf(model: HfModel, n: number): string[] {
  const map = (model.config as { id2label?: Record<string, string> }).id2label ?? {};
  return Array.from({ length: n }, (_, i) => map[String(i)] ?? `LABEL_${i}`);
}

/** Encode one text and run the model on it: the encoding and the outputs' data by name ([1, ...] batch of one). */
export async function runText(model: HfModel, tok: Tokenizer, text: string, task: string): Promise<{ enc: ReturnType<Tokenizer['encode']>; out: Record<string, { data: Float32Array; shape: number[] }> }> {
  if (typeof text !== 'string') fail(task, `expected a string (or an array of strings), got ${typeof text}`);
  const enc = tok.encode(text, { addSpecialTokens: true });
  const dev = model.device;
  const t = enc.ids.length;
  const feeds: Record<string, Tensor> = { input_ids: tensor(Int32Array.from(enc.ids), { shape: [1, t], dtype: 'int32', device: dev }) };
  if (model.inputNames.includes('attention_mask')) feeds.attention_mask = tensor(Int32Array.from(enc.attentionMask), { shape: [1, t], dtype: 'int32', device: dev });
  if (model.inputNames.includes('token_type_ids')) feeds.token_type_ids = tensor(Int32Array.from(enc.typeIds), { shape: [1, t], dtype: 'int32', device: dev });
  const outputs = model.run(feeds);
  const out: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const [k, v] of Object.entries(outputs)) {
    out[k] = { data: Float32Array.from((await v.data()) as ArrayLike<number>), shape: [...v.shape] };
    v.dispose();
  }
  for (const v of Object.values(feeds)) v.dispose();
  return { enc, out };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export interface Scored { label: string; score: number }

/** text-classification: labels with softmax scores (sigmoid for one label or multi_label_classification), best first. */
export async function classifyText(model: HfModel, tok: Tokenizer, text: string, opts: { topK?: number | null } = {}): Promise<Scored[]> {
  const { out } = await runText(model, tok, text, 'text-classification');
  const logits = out.logits ?? fail('text-classification', `${model.architecture} gives no logits; it needs a ...ForSequenceClassification model`);
  if (logits.shape.length !== 2) fail('text-classification', `${model.architecture} gives logits ${JSON.stringify(logits.shape)}, not [batch, labels]; it needs a ...ForSequenceClassification model`);
  const n = logits.shape[1]!;
  const multi = (model.config as { problem_type?: string }).problem_type === 'multi_label_classification' || n === 1;
  const scores = multi ? Array.from(logits.data, sigmoid) : Array.from(softmax(logits.data));
  const labels = labelsOf(model, n);
  const ranked = scores.map((score, i) => ({ label: labels[i]!, score })).sort((a, b) => b.score - a.score);
  const k = opts.topK === undefined ? 1 : opts.topK === null ? n : opts.topK;
  return ranked.slice(0, k);
}

/**
 * feature-extraction: one embedding per text. pooling 'mean' (default) averages last_hidden_state over the
 * attention mask, 'cls' takes the first position, 'none' returns every position [T][H]; normalize (default true
 * with pooling) divides by the L2 norm (max(norm, 1e-12), as torch's F.normalize).
 */
export async function embedText(model: HfModel, tok: Tokenizer, text: string, opts: { pooling?: 'mean' | 'cls' | 'none'; normalize?: boolean } = {}): Promise<number[] | number[][]> {
  const pooling = opts.pooling ?? 'mean';
  if (!['mean', 'cls', 'none'].includes(pooling)) fail('feature-extraction', `pooling must be 'mean', 'cls' or 'none', got '${String(pooling)}'`);
  const { enc, out } = await runText(model, tok, text, 'feature-extraction');
  const h = out.last_hidden_state ?? fail('feature-extraction', `${model.architecture} gives no last_hidden_state`);
  const [, t, c] = h.shape as [number, number, number];
  const row = (i: number) => Array.from(h.data.subarray(i * c, (i + 1) * c));
  if (pooling === 'none') return Array.from({ length: t }, (_, i) => row(i));
  let v: number[];
  if (pooling === 'cls') v = row(0);
  else {
    v = new Array<number>(c).fill(0);
    let count = 0;
    for (let i = 0; i < t; i++) {
      if (!enc.attentionMask[i]) continue;
      count++;
      for (let j = 0; j < c; j++) v[j]! += h.data[i * c + j]!;
    }
    v = v.map((x) => x / Math.max(count, 1e-9));
  }
  if (opts.normalize ?? true) {
    const norm = Math.max(Math.sqrt(v.reduce((a, x) => a + x * x, 0)), 1e-12);
    v = v.map((x) => x / norm);
  }
  return v;
}

export interface TokenEntity { entity: string; score: number; index: number; word: string; start: number; end: number }

/**
 * token-classification (aggregation 'none', as transformers' default): one entry per non-special token whose best
 * label is not in ignoreLabels (default ['O']): label, softmax score, position, token and character span.
 */
export async function classifyTokens(model: HfModel, tok: Tokenizer, text: string, opts: { ignoreLabels?: string[] } = {}): Promise<TokenEntity[]> {
  const { enc, out } = await runText(model, tok, text, 'token-classification');
  const logits = out.logits;
  if (!logits || logits.shape.length !== 3) fail('token-classification', `${model.architecture} gives no per-token logits [batch, tokens, labels]; it needs a ...ForTokenClassification model`);
  const n = logits!.shape[2]!;
  const labels = labelsOf(model, n);
  const ignore = opts.ignoreLabels ?? ['O'];
  const res: TokenEntity[] = [];
  for (let i = 0; i < enc.ids.length; i++) {
    if (enc.specialTokensMask[i]) continue;
    const p = softmax(logits!.data.subarray(i * n, (i + 1) * n));
    let best = 0;
    for (let j = 1; j < n; j++) if (p[j]! > p[best]!) best = j;
    if (ignore.includes(labels[best]!)) continue;
    res.push({ entity: labels[best]!, score: p[best]!, index: i, word: enc.tokens[i]!, start: enc.offsets[i]![0], end: enc.offsets[i]![1] });
  }
  return res;
}

export interface MaskFill { score: number; token: number; token_str: string; sequence: string }

/** fill-mask: the topK (default 5) tokens for the one mask token of `text`, with softmax scores and the filled text. */
export async function fillMask(model: HfModel, tok: Tokenizer, text: string, opts: { maskToken: string; topK?: number }): Promise<MaskFill[]> {
  const maskId = tok.tokenToId(opts.maskToken) ?? fail('fill-mask', `the mask token ${JSON.stringify(opts.maskToken)} is not in the vocabulary`);
  const { enc, out } = await runText(model, tok, text, 'fill-mask');
  const at = enc.ids.flatMap((id, i) => (id === maskId ? [i] : []));
  if (at.length !== 1) fail('fill-mask', `expected exactly one ${opts.maskToken} in the text, found ${at.length}`);
  const logits = out.logits;
  if (!logits || logits.shape.length !== 3) fail('fill-mask', `${model.architecture} gives no per-token vocabulary logits; it needs a ...ForMaskedLM model`);
  const v = logits!.shape[2]!;
  const p = softmax(logits!.data.subarray(at[0]! * v, (at[0]! + 1) * v));
  const order = Array.from(p.keys()).sort((a, b) => p[b]! - p[a]! || a - b).slice(0, opts.topK ?? 5);
  return order.map((id) => {
    const ids = enc.ids.map((x, i) => (i === at[0] ? id : x));
    return { score: p[id]!, token: id, token_str: tok.decode([id]), sequence: tok.decode(ids, { skipSpecialTokens: true }) };
  });
}

/** text-generation: [{ generated_text: prompt + continuation }] (greedy unless sampling options are given). */
export async function generateFromText(model: HfModel, tok: Tokenizer, prompt: string, opts: TextGenerateOptions & { returnFullText?: boolean } = {}): Promise<{ generated_text: string }[]> {
  const { text } = await generateText(model, tok, prompt, opts);
  return [{ generated_text: (opts.returnFullText ?? true) ? prompt + text : text }];
}
