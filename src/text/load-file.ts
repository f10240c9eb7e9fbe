// Node-only: load a tokenizer from a Hugging Face folder or a tokenizer.json path (with the tokenizer_config.json
// beside it when there is one). Re-exported by 'forwardpass/node'; the browser entry takes bytes or JSON instead.
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { tokFail } from './errors.js';
import { type LoadTokenizerOptions, loadTokenizer as loadFromJson, type Tokenizer } from './tokenizer.js';
import type { Json } from './errors.js';

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return tokFail(`cannot read '${path}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * A tokenizer from a folder holding tokenizer.json (and optionally tokenizer_config.json), a path to a
 * tokenizer.json file, its bytes, or its parsed JSON.
 * @example const tok = await loadTokenizer('models/llama3'); tok.encode('Hello').ids
 */
export async function loadTokenizer(source: string | Uint8Array | ArrayBuffer | Json, opts: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  if (typeof source !== 'string') return loadFromJson(source, opts);
  let info;
  try {
    info = await stat(source);
  } catch {
    return tokFail(`'${source}' does not exist (expected a folder with tokenizer.json, or a tokenizer.json file)`);
  }
  const file = info.isDirectory() ? join(source, 'tokenizer.json') : source;
  const bytes = await readOptional(file);
  if (!bytes) return tokFail(`'${source}' has no tokenizer.json`);
  const config = opts.config ?? (info.isDirectory() || basename(file) === 'tokenizer.json' ? await readOptional(join(dirname(file), 'tokenizer_config.json')) : undefined);
  return loadFromJson(bytes, config === undefined ? {} : { config });
}
