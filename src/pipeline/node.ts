// `pipeline(task, folder)` (Node): a Hugging Face folder's model, tokenizer, generation_config.json and
// tokenizer_config.json's mask token behind one call per input, as transformers' pipelines give results.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadHfModel } from '../io/hf/node.js';
import type { HfLoadOptions } from '../io/hf/index.js';
import type { HfModel } from '../nn/models/hf-base.js';
import { loadTokenizer } from '../text/load-file.js';
import type { Tokenizer } from '../text/tokenizer.js';
import { generationDefaults, streamText, type TextGenerateOptions, type TextPiece } from '../text/generate.js';
import { classifyImage, parsePreprocessor, type Pixels } from './image.js';
import type { Tensor } from '../tensor/tensor.js';
import { classifyText, classifyTokens, embedText, fillMask, generateFromText } from './text.js';

export const PIPELINE_TASKS = ['text-generation', 'feature-extraction', 'text-classification', 'token-classification', 'fill-mask', 'image-classification'] as const;
export type PipelineTask = (typeof PIPELINE_TASKS)[number];

/** A loaded pipeline: call it on a string (one result) or an array of strings (one result each); image-classification
 * takes pixels ({ data, width, height } RGBA, or a uint8 tensor [H, W, 3|4]) or an array of them. */
export interface Pipeline {
  (input: string | string[] | Pixels | Tensor | (Pixels | Tensor)[], opts?: Record<string, unknown>): Promise<unknown>;
  readonly task: PipelineTask;
  readonly model: HfModel;
  /** null for image-classification */
  readonly tokenizer: Tokenizer | null;
  /** text-generation only: the continuation as an async iterator of { id, text } (see streamText). */
  stream(prompt: string, opts?: TextGenerateOptions): AsyncGenerator<TextPiece>;
  dispose(): void;
}

/** The model class each task needs (feature-extraction takes any model with last_hidden_state). */
const HEADS: Partial<Record<PipelineTask, [RegExp, string]>> = {
  'text-generation': [/(ForCausalLM|LMHeadModel)$/, 'a causal LM (a ...ForCausalLM or ...LMHeadModel)'],
  'text-classification': [/ForSequenceClassification$/, 'a ...ForSequenceClassification model'],
  'token-classification': [/ForTokenClassification$/, 'a ...ForTokenClassification model'],
  'fill-mask': [/ForMaskedLM$/, 'a ...ForMaskedLM model'],
  'image-classification': [/ForImageClassification$/, 'a ...ForImageClassification model'],
};

const readJson = (path: string): Record<string, unknown> | null => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : null);

/**
 * Load a pipeline for `task` from a Hugging Face folder (config.json, weights, tokenizer.json).
 *
 * @example const embed = await pipeline('feature-extraction', 'models/bert'); const v = await embed('a sentence');
 * @example const gen = await pipeline('text-generation', 'models/llama'); (await gen('Once', { maxNewTokens: 20 }))[0].generated_text
 */
export async function pipeline(task: PipelineTask, dir: string, opts: HfLoadOptions = {}): Promise<Pipeline> {
  if (!(PIPELINE_TASKS as readonly string[]).includes(task)) throw new RangeError(`forwardpass: pipeline: unknown task '${String(task)}'; expected one of ${PIPELINE_TASKS.join(', ')}`);
  if (task === 'image-classification') return imagePipeline(dir, opts);
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new Error(`forwardpass: pipeline('${task}'): '${dir}' has no tokenizer.json`);
  const tokenizer = await loadTokenizer(dir);
  const model = await loadHfModel(dir, opts);
  const need = HEADS[task];
  if (need && !need[0].test(model.architecture)) {
    model.dispose();
    throw new TypeError(`forwardpass: pipeline('${task}'): '${dir}' holds a ${model.architecture}; this task needs ${need[1]}`);
  }
  const tokConfig = readJson(join(dir, 'tokenizer_config.json')) ?? {};
  const mask = tokConfig.mask_token;
  const maskToken = typeof mask === 'string' ? mask : (mask as { content?: string } | undefined)?.content ?? (tokenizer.tokenToId('[MASK]') !== undefined ? '[MASK]' : '<mask>');
  const gen = generationDefaults(readJson(join(dir, 'generation_config.json')), readJson(join(dir, 'config.json')));
  const genOpts = (o: TextGenerateOptions): TextGenerateOptions => {
    // sampling options given in the call replace the file's sampling settings (its repetition penalty stays)
    const asked = ['temperature', 'topK', 'topP', 'minP', 'doSample'].some((k) => k in o);
    const fromFile = asked ? (gen.sampling.repetitionPenalty !== undefined ? { repetitionPenalty: gen.sampling.repetitionPenalty } : {}) : gen.sampling;
    return { ...fromFile, eosTokenId: gen.eosTokenId, ...(gen.padTokenId !== undefined ? { padTokenId: gen.padTokenId } : {}), ...o };
  };
  const one = (text: string, o: Record<string, unknown>): Promise<unknown> => {
    switch (task) {
      case 'text-generation': return generateFromText(model, tokenizer, text, genOpts(o as TextGenerateOptions));
      case 'feature-extraction': return embedText(model, tokenizer, text, o);
      case 'text-classification': return classifyText(model, tokenizer, text, o);
      case 'token-classification': return classifyTokens(model, tokenizer, text, o);
      case 'fill-mask': return fillMask(model, tokenizer, text, { maskToken, ...o });
    }
  };
  const run = async (input: unknown, o: Record<string, unknown> = {}) => {
    if (Array.isArray(input)) {
      const all: unknown[] = [];
      for (const t of input) all.push(await one(t as string, o));
      return all;
    }
    return one(input as string, o);
  };
  const stream = (prompt: string, o: TextGenerateOptions = {}) => {
    if (task !== 'text-generation') throw new TypeError(`forwardpass: pipeline('${task}'): stream() is for text-generation`);
    return streamText(model, tokenizer, prompt, genOpts(o));
  };
  return Object.assign(run, { task, model, tokenizer, stream, dispose: () => model.dispose() });
}

async function imagePipeline(dir: string, opts: HfLoadOptions): Promise<Pipeline> {
  const cfgPath = join(dir, 'preprocessor_config.json');
  if (!existsSync(cfgPath)) throw new Error(`forwardpass: pipeline('image-classification'): '${dir}' has no preprocessor_config.json`);
  const pre = parsePreprocessor(readJson(cfgPath)!);
  const model = await loadHfModel(dir, opts);
  const need = HEADS['image-classification']!;
  if (!need[0].test(model.architecture)) {
    model.dispose();
    throw new TypeError(`forwardpass: pipeline('image-classification'): '${dir}' holds a ${model.architecture}; this task needs ${need[1]}`);
  }
  const run = async (input: unknown, o: Record<string, unknown> = {}) => {
    if (Array.isArray(input)) {
      const all: unknown[] = [];
      for (const im of input) all.push(await classifyImage(model, pre, im as Pixels, o));
      return all;
    }
    return classifyImage(model, pre, input as Pixels | Tensor, o);
  };
  const stream = () => { throw new TypeError("forwardpass: pipeline('image-classification'): stream() is for text-generation"); };
  return Object.assign(run, { task: 'image-classification' as const, model, tokenizer: null, stream, dispose: () => model.dispose() });
}
