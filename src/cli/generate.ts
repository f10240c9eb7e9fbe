// `forwardpass generate <folder> --prompt "..."`: text generation with a decoder folder (forwardpass's tiny-gpt layout
// or a Hugging Face folder with its tokenizer.json), greedy or seeded sampling, streamed to stdout or as one JSON line.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GPT } from '../nn/models/gpt.js';
import { isCausalLM, type CausalLM } from '../nn/models/generate.js';
import type { Module } from '../nn/module.js';
import { CharTokenizer } from '../nn/models/tokenizer.js';
import { isHfFolder, loadHfModel } from '../io/hf/node.js';
import { loadTokenizer } from '../text/load-file.js';
import { generationDefaults, generationOptions, streamText, type GenerationDefaults, type TextCodec, type TextGenerateOptions } from '../text/generate.js';
import { flag, intFlag, parseArgs, UsageError, type ParsedArgs } from './args.js';
import { loadModelFolder } from './model-folder.js';
import { parsePrecision, selectBackend } from './backend.js';
import { GENERATE_SPEC, GENERATE_USAGE } from './specs.js';
import { loadGgufForGenerate } from './gguf.js';
import { applyThreadsFlag } from './threads.js';

function numFlag(args: ParsedArgs, name: string, ok: (n: number) => boolean, expected: string): number | undefined {
  const v = flag(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`generate: --${name} must be ${expected}, got '${v}'`);
  return n;
}

/** The sampling flags as generate options (only those given). */
export function samplingFlags(args: ParsedArgs): TextGenerateOptions {
  const o: TextGenerateOptions = {};
  const t = numFlag(args, 'temperature', (n) => n >= 0, 'a number >= 0');
  const k = numFlag(args, 'top-k', (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0');
  const p = numFlag(args, 'top-p', (n) => n > 0 && n <= 1, 'a number in (0, 1]');
  const m = numFlag(args, 'min-p', (n) => n >= 0 && n <= 1, 'a number in [0, 1]');
  const r = numFlag(args, 'repetition-penalty', (n) => n > 0, 'a number > 0');
  const s = numFlag(args, 'seed', (n) => Number.isInteger(n), 'an integer');
  if (t !== undefined) o.temperature = t;
  if (k !== undefined) o.topK = k;
  if (p !== undefined) o.topP = p;
  if (m !== undefined) o.minP = m;
  if (r !== undefined) o.repetitionPenalty = r;
  if (s !== undefined) o.seed = s;
  return o;
}

function promptIdsFlag(args: ParsedArgs): number[] | undefined {
  const v = flag(args, 'prompt-ids');
  if (v === undefined) return undefined;
  const ids = v.split(',').map((x) => x.trim());
  if (!ids.length || ids.some((x) => !/^\d+$/.test(x))) throw new UsageError(`generate: --prompt-ids must be comma-separated token ids like 1,2,3, got '${v}'`);
  return ids.map(Number);
}

const readJson = (path: string): Record<string, unknown> | null => {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`forwardpass: generate: ${path} is not valid JSON (${(e as Error).message})`);
  }
};

/** A decoder folder ready to generate: the causal LM, its tokenizer (null: no tokenizer.json) and its generation defaults (null: a forwardpass folder). */
export interface TextModel {
  model: CausalLM;
  codec: TextCodec | null;
  defaults: GenerationDefaults | null;
}

/**
 * Load a decoder folder for generation: a Hugging Face folder (model, tokenizer.json, generation_config.json) or a
 * forwardpass tiny-gpt folder (its character vocabulary). Used by `forwardpass generate` and `forwardpass serve`.
 */
export async function loadTextModel(dir: string, device: string, precision: 'f32' | 'f16' | 'int8' = 'f32'): Promise<TextModel> {
  let model: Module;
  let codec: TextCodec | null;
  let defaults: GenerationDefaults | null = null;
  if (await isHfFolder(dir)) {
    model = await loadHfModel(dir, { device, precision });
    codec = existsSync(join(dir, 'tokenizer.json')) ? await loadTokenizer(dir) : null;
    defaults = generationDefaults(readJson(join(dir, 'generation_config.json')), readJson(join(dir, 'config.json')));
  } else {
    const folder = loadModelFolder(dir, device);
    model = folder.model as unknown as Module;
    if (precision === 'int8') { model.dispose(); throw new UsageError('generate: --precision int8 applies to Hugging Face folders; quantize a forwardpass folder with forwardpass quantize'); }
    if (precision === 'f16') await model.to({ dtype: 'float16' });
    if (!(model instanceof GPT)) { model.dispose(); throw new Error(`forwardpass: generate: '${dir}' holds a ${folder.config.architecture.type}; generation needs a decoder-only (GPT-style) model`); }
    codec = CharTokenizer.fromConfig(folder.config);
  }
  if (!isCausalLM(model)) {
    model.dispose();
    throw new Error(`forwardpass: generate: '${dir}' holds a ${(model as { architecture?: string }).architecture ?? model.constructor.name}; generation needs a causal LM (a ...ForCausalLM or ...LMHeadModel)`);
  }
  return { model, codec, defaults };
}

export async function generateCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, GENERATE_SPEC);
  applyThreadsFlag(args, 'generate');
  const [dir, ...extra] = args.positionals;
  if (!dir || extra.length) throw new UsageError(`generate: expected one model folder, got ${args.positionals.length}; usage: ${GENERATE_USAGE}`);
  const prompt = flag(args, 'prompt');
  const promptIds = promptIdsFlag(args);
  if (prompt !== undefined && promptIds) throw new UsageError('generate: give --prompt or --prompt-ids, not both');
  if ((prompt === undefined || prompt === '') && !promptIds) throw new UsageError(`generate: --prompt "text" (or --prompt-ids 1,2,3) is required; usage: ${GENERATE_USAGE}`);
  const maxNewTokens = intFlag(args, 'max-new-tokens', 50, 'generate');
  const sampling = samplingFlags(args);
  const gguf = /\.gguf$/i.test(dir);
  // a .gguf file's default precision follows its weights (int8 for quantized files), so --precision is checked there
  const precision = gguf ? 'f32' : parsePrecision(flag(args, 'precision', 'f32')!, 'generate', ['f32', 'f16', 'int8']);
  const device = await selectBackend(flag(args, 'backend', 'cpu')!, 'generate');
  const json = !!flag(args, 'json');
  let model: CausalLM;
  let codec: TextCodec | null;
  let opts: TextGenerateOptions;
  if (gguf) {
    // the file's own tokenizer, the prompt encoded with its BOS/EOS settings (add_bos_token), no EOS stop (as before)
    ({ model, tokenizer: codec } = await loadGgufForGenerate(dir, flag(args, 'precision'), device));
    opts = { maxNewTokens, useCache: !flag(args, 'no-cache'), ...sampling, addSpecialTokens: true };
  } else {
    let defaults: GenerationDefaults | null;
    ({ model, codec, defaults } = await loadTextModel(dir, device, precision));
    opts = generationOptions(defaults, { maxNewTokens, useCache: !flag(args, 'no-cache'), ...sampling });
  }
  try {
    if (!codec && !promptIds) throw new UsageError(`generate: '${dir}' has no ${gguf ? 'tokenizer (tokenizer.ggml.* metadata)' : 'tokenizer.json'}; give the prompt as --prompt-ids 1,2,3`);
    const ids = promptIds ?? (() => {
      const e = codec!.encode!(prompt!, { addSpecialTokens: opts.addSpecialTokens ?? false });
      return Array.isArray(e) ? e : e.ids;
    })();
    // without a tokenizer, the text of the new ids is their list
    const decoder: TextCodec = codec ?? { decode: (x) => `${x.join(' ')}${x.length ? ' ' : ''}` };
    const newIds: number[] = [];
    let text = '';
    if (!json) process.stdout.write(prompt ?? decoder.decode(promptIds!));
    for await (const piece of streamText(model, decoder, ids, opts)) {
      newIds.push(piece.id);
      text += piece.text;
      if (!json && piece.text) process.stdout.write(piece.text);
    }
    process.stdout.write(json ? `${JSON.stringify({ ids: newIds, text: codec ? text : '' })}\n` : '\n');
  } finally {
    model.dispose();
  }
}
