// Quantized models on disk: safetensors with `<layer>.weight.qs` (I8), `<layer>.weight.d` (F32; F16 for Q8_0),
// float biases and the metadata entry `quantization` (JSON: the scheme of every layer), so a model is quantized
// once and shipped. Loading builds the float model from config.json and swaps in empty int8 layers first.
import { shapeStr, shapesEqual } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { parseSafetensors, saveSafetensors } from '../io/safetensors.js';
import { Linear } from '../nn/linear.js';
import { Conv2d } from '../nn/conv.js';
import type { Module } from '../nn/module.js';
import type { ConfiguredModel, ModelConfig } from '../nn/models/config.js';
import { loadConfiguredModel, loadModelFromBytes } from '../nn/models/from-config.js';
import { QTensor, WEIGHT_SCHEMES } from './qtensor.js';
import { ACTIVATION_MODES, QuantizedConv2d, QuantizedLinear, type LayerScheme } from './modules.js';
import { replaceSubmodule } from './replace.js';

/** The `format` of the `quantization` metadata this version writes and reads. */
export const QUANT_FORMAT = 'forwardpass-int8-v1';

export interface QuantizationInfo {
  format: string;
  layers: Record<string, LayerScheme>;
}

/** The scheme of every quantized layer of a model (what the `quantization` metadata holds). @example quantizationInfo(model).layers.fc1.weights // 'q8_0' */
export function quantizationInfo(model: Module): QuantizationInfo {
  const layers: Record<string, LayerScheme> = {};
  for (const [name, m] of model.namedModules()) if (m instanceof QuantizedLinear || m instanceof QuantizedConv2d) layers[name] = m.describe();
  return { format: QUANT_FORMAT, layers };
}

/**
 * Serialize a quantized model: its state dict as safetensors bytes with the `quantization` metadata (plus `extra`).
 *
 * @example writeFileSync('model.safetensors', await saveQuantized(model, { format: 'pt' }));
 */
export async function saveQuantized(model: Module, extra: Record<string, string> = {}): Promise<Uint8Array> {
  const info = quantizationInfo(model);
  if (Object.keys(info.layers).length === 0) throw new Error(`forwardpass: saveQuantized: the model has no quantized layers; call quantize(model) first`);
  return saveSafetensors(model.stateDict(), { ...extra, quantization: JSON.stringify(info) });
}

/** Parse and check the `quantization` metadata string. @example parseQuantizationInfo(parseSafetensors(bytes).metadata.quantization!) */
export function parseQuantizationInfo(text: string, where = 'quantization metadata'): QuantizationInfo {
  const bad = (msg: string): never => { throw new Error(`forwardpass: ${where}: ${msg}`); };
  let info: QuantizationInfo;
  try {
    info = JSON.parse(text) as QuantizationInfo;
  } catch (e) {
    return bad(`not valid JSON (${(e as Error).message})`);
  }
  if (info === null || typeof info !== 'object' || info.format !== QUANT_FORMAT) bad(`expected format '${QUANT_FORMAT}', got ${JSON.stringify((info as { format?: unknown } | null)?.format)}`);
  if (info.layers === null || typeof info.layers !== 'object') bad(`'layers' must be an object of layer schemes`);
  for (const [name, l] of Object.entries(info.layers)) {
    const at = `layer '${name}'`;
    if (l === null || typeof l !== 'object') bad(`${at}: expected an object, got ${JSON.stringify(l)}`);
    if (l.type !== 'Linear' && l.type !== 'Conv2d') bad(`${at}: type must be Linear or Conv2d, got ${JSON.stringify(l.type)}`);
    if (!WEIGHT_SCHEMES.includes(l.weights)) bad(`${at}: weights must be one of ${WEIGHT_SCHEMES.join(', ')}, got ${JSON.stringify(l.weights)}`);
    if (!ACTIVATION_MODES.includes(l.activations)) bad(`${at}: activations must be one of ${ACTIVATION_MODES.join(', ')}, got ${JSON.stringify(l.activations)}`);
    if (l.activations === 'static' && !(typeof l.scale === 'number' && l.scale > 0 && Number.isFinite(l.scale))) bad(`${at}: static activations need a positive 'scale', got ${JSON.stringify(l.scale)}`);
    if (!Array.isArray(l.shape)) bad(`${at}: 'shape' must list the float weight shape`);
  }
  return info;
}

/**
 * Replace the layers named in `info` (Linear / Conv2d of the float model, same weight shapes) by empty quantized
 * layers, ready for loadStateDict. `scaleDTypes` gives each layer's scale dtype (as stored).
 *
 * @example applyQuantizedLayout(modelFromConfig(config), info); model.loadStateDict(tensors);
 */
export function applyQuantizedLayout(model: Module, info: QuantizationInfo, scaleDTypes: ReadonlyMap<string, 'float32' | 'float16'> = new Map()): void {
  const plan: [string, Module][] = [];
  for (const [name, l] of Object.entries(info.layers)) {
    let m: Module;
    try {
      m = model.getSubmodule(name);
    } catch {
      throw new Error(`forwardpass: load: the quantized layer '${name}' does not exist in the model built from config.json`);
    }
    const isLinear = m instanceof Linear, isConv = m instanceof Conv2d;
    if ((l.type === 'Linear' && !isLinear) || (l.type === 'Conv2d' && !isConv)) throw new Error(`forwardpass: load: layer '${name}' is a ${m.constructor.name} in the model but a ${l.type} in the quantized file`);
    const w = (m as Linear | Conv2d).weight;
    if (!shapesEqual(w.shape, l.shape)) throw new Error(`forwardpass: load: layer '${name}' has weight ${shapeStr(w.shape)} in the model but ${shapeStr(l.shape)} in the quantized file`);
    const opts = { weights: l.weights, activations: l.activations, staticScale: l.scale, device: w.device, scaleDType: scaleDTypes.get(name) ?? 'float32' };
    plan.push([name, m instanceof Linear
      ? new QuantizedLinear(m.inFeatures, m.outFeatures, { ...opts, bias: m.bias !== undefined, activation: m.activation })
      : new QuantizedConv2d((m as Conv2d).inChannels, (m as Conv2d).outChannels, (m as Conv2d).kernelSize, (m as Conv2d).options, { ...opts, bias: (m as Conv2d).bias !== undefined })]);
  }
  for (const [name, q] of plan) replaceSubmodule(model, name, q).dispose();
}

/**
 * Build the model of a config and load safetensors bytes into it: a quantized file (metadata `quantization`)
 * gives a model with int8 layers, a float file the float model.
 *
 * @example const model = loadModelAutoFromBytes(configJson, bytes); model.run({ input: x })
 */
export function loadModelAutoFromBytes(config: ModelConfig | string, bytes: Uint8Array | ArrayBuffer, opts: { device?: string; name?: string } = {}): ConfiguredModel {
  const file = parseSafetensors(bytes, opts);
  const text = file.metadata.quantization;
  if (text === undefined) return loadModelFromBytes(config, bytes, opts);
  const info = parseQuantizationInfo(text, `${opts.name ?? 'safetensors'}: quantization metadata`);
  const scaleDTypes = new Map<string, 'float32' | 'float16'>();
  for (const name of Object.keys(info.layers)) scaleDTypes.set(name, file.tensors.get(`${name}.weight.d`)?.dtype === 'F16' ? 'float16' : 'float32');
  return loadConfiguredModel(config, bytes, opts, { before: (model) => applyQuantizedLayout(model, info, scaleDTypes), after: alignQuants });
}

/** Copy int8 quants that sit at a byte offset not divisible by 4 in the file (the CPU kernels read 32-bit words). */
function alignQuants(model: Module): void {
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof QTensor)) continue;
    const qs: Tensor = m.qs;
    const h = qs.storage.handle as { byteOffset?: number };
    if (typeof h.byteOffset === 'number' && (h.byteOffset + qs.offset) % 4 !== 0) m._replaceTensor('qs', qs.clone());
  }
}
