// Pick and build a reference model from a config.json by `architecture.type`, and load its safetensors weights.
import { loadSafetensors } from '../../io/safetensors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bertFromConfig } from './bert.js';
import { checkModelConfig, type ConfiguredModel, type ModelConfig } from './config.js';
import { gptFromConfig } from './gpt.js';
import { sequentialFromConfig } from './sequential.js';
import { isHfConfig } from '../../io/hf/config.js';
import { buildHfModel } from '../../io/hf/families.js';

interface Architecture {
  /** How the type is described in errors. */
  label: string;
  matches: (type: string) => boolean;
  build: (config: ModelConfig) => ConfiguredModel;
}

/** Known architectures, tried in order against `architecture.type` (case-insensitive). */
const ARCHITECTURES: Architecture[] = [
  { label: "'mlp', 'cnn' or 'sequential' (a layer list)", matches: (t) => ['mlp', 'cnn', 'sequential'].includes(t), build: sequentialFromConfig },
  { label: "'gpt…' (GPT-2 style decoder, e.g. 'gpt2-style decoder-only transformer')", matches: (t) => t.startsWith('gpt'), build: gptFromConfig },
  { label: "'bert…' (BERT style encoder classifier)", matches: (t) => t.startsWith('bert'), build: bertFromConfig },
];

function parseConfig(config: ModelConfig | string): ModelConfig {
  let c: unknown = config;
  if (typeof config === 'string') {
    try {
      c = JSON.parse(config);
    } catch (e) {
      throw new Error(`forwardpass: modelFromConfig: the config is not valid JSON (${(e as Error).message})`);
    }
  }
  checkModelConfig(c, 'modelFromConfig');
  return c;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // parseConfig reports it
  }
}

/**
 * Build the model a config.json describes (a fixture-style config, or a Hugging Face one with `model_type`) (weights zero until loaded). An unknown `architecture.type` is
 * an error listing the known ones.
 *
 * @example const model = modelFromConfig(JSON.parse(text)); model.loadStateDict(tensors);
 */
export function modelFromConfig(config: ModelConfig | string): ConfiguredModel {
  const raw: unknown = typeof config === 'string' ? safeParse(config) : config;
  if (isHfConfig(raw)) return buildHfModel(raw);
  const c = parseConfig(config);
  const type = c.architecture.type.trim().toLowerCase();
  const arch = ARCHITECTURES.find((a) => a.matches(type));
  if (!arch) {
    throw new Error(`forwardpass: modelFromConfig: unknown architecture.type '${c.architecture.type}'; known: ${ARCHITECTURES.map((a) => a.label).join('; ')}`);
  }
  return arch.build(c);
}

/**
 * Build a model from its config and load a safetensors file's bytes into it (strict: every key must match).
 *
 * @example const model = loadModelFromBytes(configJson, safetensorsBytes); model.run({ input: x }).logits
 */
export function loadModelFromBytes(config: ModelConfig | string, safetensors: Uint8Array | ArrayBuffer, opts: { device?: string; name?: string } = {}): ConfiguredModel {
  return loadConfiguredModel(config, safetensors, opts);
}

/**
 * @internal loadModelFromBytes with a step between building the model and loading its state (src/quant swaps in
 * int8 layers there) and one after. The model is freed when anything fails, the file's tensors always.
 */
export function loadConfiguredModel(config: ModelConfig | string, safetensors: Uint8Array | ArrayBuffer, opts: { device?: string; name?: string }, steps: { before?: (model: ConfiguredModel) => void; after?: (model: ConfiguredModel) => void } = {}): ConfiguredModel {
  const model = modelFromConfig(config);
  let tensors: Map<string, Tensor> | undefined;
  try {
    tensors = loadSafetensors(safetensors, { ...opts, keepDtype: true }).tensors;
    steps.before?.(model);
    model.loadStateDict(tensors);
    steps.after?.(model);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    if (tensors) for (const t of tensors.values()) t.dispose();
  }
  return model;
}
