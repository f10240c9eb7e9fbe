// `forwardpass generate <folder> --prompt "..."`: greedy text generation with the decoder and its KV cache.
import { generate } from '../nn/models/generate.js';
import { GPT } from '../nn/models/gpt.js';
import { CharTokenizer } from '../nn/models/tokenizer.js';
import { flag, intFlag, parseArgs, UsageError } from './args.js';
import { loadModelFolder } from './model-folder.js';
import { parsePrecision, selectBackend } from './backend.js';
import { GENERATE_SPEC, GENERATE_USAGE } from './specs.js';
import { generateGguf } from './gguf.js';


export async function generateCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, GENERATE_SPEC);
  const [dir, ...extra] = args.positionals;
  if (!dir || extra.length) throw new UsageError(`generate: expected one model folder, got ${args.positionals.length}; usage: ${GENERATE_USAGE}`);
  const prompt = flag(args, 'prompt');
  if (prompt === undefined || prompt === '') throw new UsageError(`generate: --prompt "text" is required; usage: ${GENERATE_USAGE}`);
  const maxNewTokens = intFlag(args, 'max-new-tokens', 50, 'generate');
  const useCache = !flag(args, 'no-cache');
  if (/\.gguf$/i.test(dir)) return generateGguf(dir, prompt, { maxNewTokens, useCache, precision: flag(args, 'precision'), device: await selectBackend(flag(args, 'backend', 'cpu')!, 'generate') });
  const precision = parsePrecision(flag(args, 'precision', 'f32')!, 'generate');
  const { model, config } = loadModelFolder(dir, await selectBackend(flag(args, 'backend', 'cpu')!, 'generate'));
  try {
    if (precision === 'f16') await model.to({ dtype: 'float16' });
    if (!(model instanceof GPT)) throw new Error(`forwardpass: generate: '${dir}' holds a ${config.architecture.type}; generation needs a decoder-only (GPT-style) model`);
    const tok = CharTokenizer.fromConfig(config);
    const ids = await generate(model, tok.encode(prompt), { maxNewTokens, useCache: !flag(args, 'no-cache') });
    process.stdout.write(`${prompt}${tok.decode(ids)}\n`);
  } finally {
    model.dispose();
  }
}
