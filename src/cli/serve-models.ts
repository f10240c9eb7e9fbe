// `forwardpass serve --model ...`: load model folders, Hugging Face causal-LM folders, .gguf and .onnx files, serve them with dynamic batching over HTTP
// (src/serve), and shut down gracefully on SIGTERM / SIGINT (stop accepting, finish what was received).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { loadOnnx } from '../io/onnx/session.js';
import { isHfFolder } from '../io/hf/node.js';
import { readGgufFile } from '../io/gguf/node.js';
import { ggufModelFromFile } from '../io/gguf/model.js';
import { ggufValue, type GgufFile } from '../io/gguf/reader.js';
import { ggufTokenizer } from '../io/gguf/tokenizer.js';
import { isCausalLM, type CausalLM } from '../nn/models/generate.js';
import { GPT } from '../nn/models/gpt.js';
import type { HfModel } from '../nn/models/hf-base.js';
import { CharTokenizer } from '../nn/models/tokenizer.js';
import type { GenerationDefaults } from '../text/generate.js';
import { servableFromCausalLM, servableFromModel, servableFromOnnx } from '../serve/servable.js';
import { startModelServer, type ModelEntry, type ModelServer } from '../serve/server.js';
import { flag, intFlag, UsageError, type ParsedArgs } from './args.js';
import { selectBackend } from './backend.js';
import { loadModelFolder } from './model-folder.js';
import { loadTextModel } from './generate.js';

/** The name a model path is served under by default: the folder's name, or the .onnx / .gguf file's without the extension (its folder's for model.onnx). */
export function defaultModelName(path: string): string {
  const clean = path.replace(/[/\\]+$/, '');
  if (!/\.(onnx|gguf)$/i.test(clean)) return basename(clean);
  const file = basename(clean).replace(/\.(onnx|gguf)$/i, '');
  return file === 'model' ? basename(dirname(clean)) || file : file;
}

/** The generation defaults of a GGUF file: its EOS id (tokenizer.ggml.eos_token_id), no sampling settings. */
function ggufDefaults(file: GgufFile): GenerationDefaults {
  const eos = ggufValue(file, 'tokenizer.ggml.eos_token_id');
  return { eosTokenId: typeof eos === 'number' || typeof eos === 'bigint' ? [Number(eos)] : [], sampling: {} };
}

/**
 * Load one --model path as a served model entry: an .onnx file; a .gguf file or a Hugging Face causal-LM folder
 * (v2 infer gives logits, /v1/completions generates with the file's tokenizer); a forwardpass model folder (a GPT
 * one completes too, with its character vocabulary).
 */
export async function loadServedModel(path: string, name: string, backend: string): Promise<ModelEntry> {
  if (!existsSync(path)) throw new Error(`forwardpass: serve: --model '${path}' does not exist`);
  const isFile = statSync(path).isFile();
  if (path.toLowerCase().endsWith('.onnx') && isFile) {
    return { name, model: servableFromOnnx(await loadOnnx(readFileSync(path), { backend, name: path })), platform: 'onnx' };
  }
  if (/\.gguf$/i.test(path) && isFile) {
    const file = await readGgufFile(path);
    const codec = await ggufTokenizer(file);
    const model = await ggufModelFromFile(file, { device: backend });
    // as `forwardpass generate model.gguf`: the tokenizer adds what the file asks for (tokenizer.ggml.add_bos_token)
    return { name, model: servableFromCausalLM(model), platform: 'gguf', generator: { model, codec, defaults: ggufDefaults(file), addSpecialTokens: true } };
  }
  if (await isHfFolder(path)) {
    const { model, codec, defaults } = await loadTextModel(path, backend);
    return { name, model: servableFromCausalLM(model as HfModel & CausalLM), platform: 'huggingface', generator: { model, codec, defaults } };
  }
  const { config, model } = loadModelFolder(path, backend);
  const tokenizer = Array.isArray(config.vocab) ? CharTokenizer.fromConfig(config) : undefined;
  const entry: ModelEntry = { name, model: servableFromModel(model), platform: 'forwardpass', ...(tokenizer ? { tokenizer } : {}) };
  if (model instanceof GPT && isCausalLM(model)) entry.generator = { model, codec: tokenizer ?? null, defaults: null };
  return entry;
}

/** Parse the model-server flags, load the models and start; returns the server (the CLI then waits for a signal). */
export async function startFromArgs(args: ParsedArgs): Promise<ModelServer> {
  const paths = args.flags.get('model') ?? [];
  const names = args.flags.get('name') ?? [];
  if (args.flags.has('models')) throw new UsageError('serve: --models lists folders for the step-through page; to serve models over HTTP give each with --model PATH');
  if (names.length && names.length !== paths.length) throw new UsageError(`serve: got ${names.length} --name for ${paths.length} --model; give one --name per --model, in the same order, or none`);
  const p = flag(args, 'port', '8080')!;
  const port = Number(p);
  if (!/^\d+$/.test(p) || port > 65535) throw new UsageError(`serve: --port must be an integer from 0 to 65535, got '${p}'`);
  const delayText = flag(args, 'max-delay-ms', '0')!;
  const maxDelayMs = Number(delayText);
  if (!/^\d+(\.\d+)?$/.test(delayText)) throw new UsageError(`serve: --max-delay-ms must be a number >= 0, got '${delayText}'`);
  const maxBodyMb = Number(flag(args, 'max-body-mb', '16'));
  if (!(maxBodyMb > 0)) throw new UsageError(`serve: --max-body-mb must be a positive number, got '${flag(args, 'max-body-mb')}'`);
  const padText = flag(args, 'max-pad-fraction', '0.25')!;
  const maxPadFraction = Number(padText);
  if (!/^\d+(\.\d+)?$/.test(padText) || maxPadFraction > 1) throw new UsageError(`serve: --max-pad-fraction must be a number from 0 to 1, got '${padText}'`);
  const batch = { maxBatchSize: intFlag(args, 'max-batch', 32, 'serve'), maxDelayMs, maxPadFraction, maxQueue: intFlag(args, 'max-queue', 256, 'serve') };
  const timeoutMs = intFlag(args, 'timeout-ms', 30_000, 'serve');
  const backend = await selectBackend(flag(args, 'backend', 'cpu')!, 'serve');
  const models: ModelEntry[] = [];
  for (let i = 0; i < paths.length; i++) models.push(await loadServedModel(paths[i]!, names[i] ?? defaultModelName(paths[i]!), backend));
  return startModelServer({ models, batch, timeoutMs, maxBodyBytes: Math.round(maxBodyMb * 1024 * 1024), port, host: flag(args, 'host', '127.0.0.1') });
}

/** `forwardpass serve --model ...` until SIGTERM or SIGINT, then a graceful shutdown. */
export async function serveModelsCommand(args: ParsedArgs): Promise<void> {
  const s = await startFromArgs(args);
  const served = [...new Set((args.flags.get('name') ?? []).length ? args.flags.get('name')! : args.flags.get('model')!.map(defaultModelName))];
  process.stdout.write(`forwardpass: serving ${served.join(', ')} at ${s.url} (POST ${s.url}/v2/models/${served[0]}/infer; GET ${s.url}/metrics); SIGTERM or Ctrl-C stops\n`);
  await new Promise<void>((done) => {
    const stop = (sig: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      process.stdout.write(`forwardpass: ${sig}: not accepting new requests; finishing the ones received\n`);
      void s.close().then(done);
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
  });
  process.stdout.write('forwardpass: stopped\n');
}
