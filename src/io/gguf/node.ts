// GGUF files from disk (Node only, imported by src/node.ts): readGgufFile and loadGguf(path).
import { readFileBytes as read } from '../read-file.js';
import { basename } from 'node:path';
import type { LlamaForCausalLM } from '../../nn/models/llama.js';
import { readGguf, type GgufFile } from './reader.js';
import { ggufModelFromFile, type GgufLoadOptions } from './model.js';

/**
 * Read and parse a .gguf file (tensor data stays in the file's bytes; see `readGguf`).
 *
 * @example const f = await readGgufFile('model.gguf'); f.tensors.get('output.weight')?.type
 */
export async function readGgufFile(path: string): Promise<GgufFile> {
  return readGguf(await read(path, 'readGgufFile'), { name: basename(path) });
}

/**
 * Load a llama-family model from a .gguf file (see `ggufModelFromFile` for the precision choices).
 *
 * @example const lm = await loadGguf('model-q8_0.gguf'); lm.forward(ids).logits
 */
export async function loadGguf(path: string, opts: GgufLoadOptions = {}): Promise<LlamaForCausalLM> {
  return ggufModelFromFile(await readGgufFile(path), opts);
}
