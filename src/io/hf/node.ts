// Hugging Face folders from disk (Node only, imported by src/node.ts): config.json, then model.safetensors or the
// shards that model.safetensors.index.json names.
import { readFile } from 'node:fs/promises';
import { readFileBytes as read } from '../read-file.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { HfModel } from '../../nn/models/hf-base.js';
import { isHfConfig } from './config.js';
import { hfModelFromFiles, hfShardFiles, type HfLoadOptions } from './index.js';

/** True when `dir/config.json` is a Hugging Face config (has `model_type`). @example if (await isHfFolder(dir)) ... */
export async function isHfFolder(dir: string): Promise<boolean> {
  try {
    return isHfConfig(JSON.parse(await readFile(resolve(dir, 'config.json'), 'utf8')));
  } catch {
    return false;
  }
}

/**
 * Load a Hugging Face model folder: config.json and model.safetensors, or the shards listed by
 * model.safetensors.index.json. F32, F16 and BF16 weights load at `precision` (f32 by default).
 *
 * @example const model = await loadHfModel('models/llama'); const { logits } = model.run({ input_ids: ids });
 */
export async function loadHfModel(dir: string, opts: HfLoadOptions = {}): Promise<HfModel> {
  const what = 'loadHfModel';
  const config = new TextDecoder().decode(await read(resolve(dir, 'config.json'), what));
  const single = resolve(dir, 'model.safetensors');
  const index = resolve(dir, 'model.safetensors.index.json');
  let weights: Uint8Array[];
  if (existsSync(single)) {
    weights = [await read(single, what)];
  } else if (existsSync(index)) {
    const files = hfShardFiles(new TextDecoder().decode(await read(index, what)), index);
    weights = [];
    for (const f of files) weights.push(await read(resolve(dir, f), what));
  } else {
    throw new Error(`forwardpass: ${what}: '${dir}' has neither model.safetensors nor model.safetensors.index.json (pytorch_model.bin is not read: convert it to safetensors)`);
  }
  return hfModelFromFiles(config, weights, opts);
}
