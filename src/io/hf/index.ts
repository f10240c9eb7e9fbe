// Hugging Face model folders on bytes (runs in browsers): config.json + safetensors (one file or shards) in, a
// forwardpass model with HF's module names out, at the precision asked. src/io/hf/node.ts reads folders from disk.
import type { Tensor } from '../../tensor/tensor.js';
import type { HfModel } from '../../nn/models/hf-base.js';
import { Conv1D } from '../../nn/models/gpt2.js';
import { quantize } from '../../quant/quantize.js';
import { loadSafetensors } from '../safetensors.js';
import { parseHfConfig } from './config.js';
import { buildHfModel } from './families.js';

export type HfPrecision = 'f32' | 'f16' | 'int8';

export interface HfLoadOptions {
  /** Backend for the weights (default: the default device). */
  device?: string;
  /** 'f32' (default) keeps float32 weights whatever the file holds (F16 and BF16 are widened); 'f16' stores them
   * as float16; 'int8' quantizes the Linear layers (dynamic W8A8, see quantize()). */
  precision?: HfPrecision;
}

/** What `hfModelFromFiles` takes as weights: safetensors bytes (one file or every shard), or tensors by HF key. */
export type HfWeights = Uint8Array | ArrayBuffer | (Uint8Array | ArrayBuffer)[] | Map<string, Tensor>;

/**
 * The shard file names of a `model.safetensors.index.json` (its `weight_map` values, in first-use order).
 *
 * @example for (const f of hfShardFiles(indexText)) shards.push(await fetchBytes(f));
 */
export function hfShardFiles(index: string | Record<string, unknown>, where = 'model.safetensors.index.json'): string[] {
  let j: unknown = index;
  if (typeof index === 'string') {
    try {
      j = JSON.parse(index);
    } catch (e) {
      throw new Error(`forwardpass: ${where}: not valid JSON (${(e as Error).message})`);
    }
  }
  const map = (j as { weight_map?: unknown } | null)?.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map)) throw new Error(`forwardpass: ${where}: expected an object 'weight_map' {tensor name: shard file}`);
  const files = new Set<string>();
  for (const [k, v] of Object.entries(map as Record<string, unknown>)) {
    if (typeof v !== 'string' || v === '' || v.includes('/') || v.includes('\\') || v.startsWith('.')) throw new Error(`forwardpass: ${where}: weight_map['${k}'] must be a shard file name in the folder, found ${JSON.stringify(v)}`);
    files.add(v);
  }
  if (files.size === 0) throw new Error(`forwardpass: ${where}: weight_map is empty`);
  return [...files];
}

/**
 * Build the model an HF config (object or config.json text) describes, weights still zero: load them with
 * `loadStateDict` under HF's key names. An unsupported model_type, architecture or config field is an error.
 *
 * @example const model = hfModelFromConfig(configText); model.loadStateDict(tensors);
 */
export function hfModelFromConfig(config: string | Record<string, unknown>): HfModel {
  return buildHfModel(parseHfConfig(config));
}

/**
 * Build a model from an HF config (object or config.json text) and its weights, at the precision asked. The model
 * takes HF's inputs and gives HF's outputs by name (`run({ input_ids, attention_mask })` -> logits, ...).
 *
 * @example const model = await hfModelFromFiles(configText, safetensorsBytes); model.run({ input_ids: ids }).logits
 */
export async function hfModelFromFiles(config: string | Record<string, unknown>, weights: HfWeights, opts: HfLoadOptions = {}): Promise<HfModel> {
  const precision = opts.precision ?? 'f32';
  if (!['f32', 'f16', 'int8'].includes(precision)) throw new RangeError(`forwardpass: hfModelFromFiles: precision must be 'f32', 'f16' or 'int8', got '${String(precision)}'`);
  const model = hfModelFromConfig(config);
  const owned: Tensor[] = [];
  try {
    let tensors: Map<string, Tensor>;
    if (weights instanceof Map) {
      tensors = weights;
    } else {
      tensors = new Map();
      const files = Array.isArray(weights) ? weights : [weights];
      files.forEach((bytes, i) => {
        const name = files.length > 1 ? `shard ${i + 1} of ${files.length}` : 'model.safetensors';
        for (const [k, t] of loadSafetensors(bytes, { device: opts.device, name }).tensors) {
          owned.push(t);
          if (tensors.has(k)) throw new Error(`forwardpass: hfModelFromFiles: tensor '${k}' appears in two shards`);
          tensors.set(k, t);
        }
      });
    }
    model.loadStateDict(tensors);
    if (precision === 'f16') await model.to({ dtype: 'float16' });
    if (precision === 'int8') {
      // GPT-2's Conv1D layers become the equivalent Linear layers first, so that they are quantized too
      for (const [name, m] of model.namedModules()) if (m instanceof Conv1D) model.replaceSubmodule(name, m.toLinear()).dispose();
      await quantize(model);
    }
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    for (const t of owned) t.dispose();
  }
  return model;
}
