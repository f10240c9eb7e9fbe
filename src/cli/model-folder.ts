// Loading a model folder for the CLI (config.json + model.safetensors, the fixtures' layout), with errors
// that name the folder and the missing file.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelAutoFromBytes } from '../quant/serialize.js';
import { checkModelConfig, type ConfiguredModel, type ModelConfig } from '../nn/models/config.js';

export interface ModelFolder {
  dir: string;
  config: ModelConfig;
  model: ConfiguredModel;
}

/** Read and parse `<dir>/config.json`. */
export function readConfig(dir: string): ModelConfig {
  if (!existsSync(dir)) throw new Error(`forwardpass: model folder '${dir}' does not exist`);
  if (!statSync(dir).isDirectory()) throw new Error(`forwardpass: expected a model folder (config.json + model.safetensors), got the file '${dir}'`);
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new Error(`forwardpass: model folder '${dir}' has no config.json`);
  return readConfigFile(path);
}

/** Read and check a forwardpass config.json file (a Hugging Face one is named as such). */
export function readConfigFile(path: string): ModelConfig {
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`forwardpass: ${path} is not valid JSON (${(e as Error).message})`);
  }
  checkModelConfig(config, path);
  return config;
}

/** Build the model a folder describes and load its weights (strict); a quantized folder gives its int8 model. */
export function loadModelFolder(dir: string, device = 'cpu'): ModelFolder {
  const config = readConfig(dir);
  const weights = join(dir, 'model.safetensors');
  if (!existsSync(weights)) throw new Error(`forwardpass: model folder '${dir}' has no model.safetensors`);
  const model = loadModelAutoFromBytes(config, readFileSync(weights), { device, name: weights });
  return { dir, config, model };
}
