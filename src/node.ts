// forwardpass for Node: everything from the browser-safe entry point, plus file helpers built on node:fs
// (safetensors / .npy files, fixture folders). Import it as 'forwardpass/node'; the main entry never loads node:fs.
import { writeFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { type ArrayDescriptor, checkArrayDescriptor, readArray } from './io/arrays.js';
import { brief, ioFail } from './io/errors.js';
import { readFileBytes as readBytes } from './io/read-file.js';
import { loadNpy, type NpyLoadOptions, type NpySaveOptions, saveNpy } from './io/npy.js';
import { loadSafetensors, saveSafetensors, type SafetensorsLoadOptions } from './io/safetensors.js';
import type { Tensor } from './tensor/tensor.js';
import { loadModelAutoFromBytes } from './quant/serialize.js';
import type { ConfiguredModel } from './nn/models/config.js';
import { isHfConfig } from './io/hf/config.js';
import { loadHfModel } from './io/hf/node.js';
import { loadGguf } from './io/gguf/node.js';
import type { GgufLoadOptions } from './io/gguf/model.js';

export * from './index.js';
export { isHfFolder, loadHfModel } from './io/hf/node.js';
export { readGgufFile, loadGguf } from './io/gguf/node.js';
// loadTokenizer here also takes a folder or a tokenizer.json path
export { loadTokenizer } from './text/load-file.js';
export { startModelServer, type ModelServer, type ModelEntry, type ServerOptions } from './serve/server.js';
export type { TextGenerator } from './serve/generation.js';
export { pipeline, PIPELINE_TASKS, type Pipeline, type PipelineTask } from './pipeline/node.js';

async function writeBytes(path: string, bytes: Uint8Array, what: string): Promise<void> {
  try {
    await writeFile(path, bytes);
  } catch (e) {
    ioFail(what, `cannot write '${path}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * Read a .safetensors file (see `loadSafetensors`; CPU tensors view the file's bytes).
 *
 * @example const { tensors, metadata } = await readSafetensorsFile('model.safetensors');
 */
export async function readSafetensorsFile(path: string, opts: SafetensorsLoadOptions = {}): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  return loadSafetensors(await readBytes(path, 'readSafetensorsFile'), { name: path, ...opts });
}

/** Write tensors as a .safetensors file. @example await writeSafetensorsFile('out.safetensors', { w }, { format: 'pt' }); */
export async function writeSafetensorsFile(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  await writeBytes(path, await saveSafetensors(tensors, metadata), 'writeSafetensorsFile');
}

/** Read a .npy file as a tensor. @example const x = await readNpyFile('x.npy'); */
export async function readNpyFile(path: string, opts: NpyLoadOptions = {}): Promise<Tensor> {
  return loadNpy(await readBytes(path, 'readNpyFile'), { name: path, ...opts });
}

/** Write a tensor as a version 1.0 .npy file. @example await writeNpyFile('ids.npy', ids, { dtype: 'int64' }); */
export async function writeNpyFile(path: string, t: Tensor, opts: NpySaveOptions = {}): Promise<void> {
  await writeBytes(path, await saveNpy(t, opts), 'writeNpyFile');
}

// ---------------------------------------------------------------- fixture folders

const fileCache = new Map<string, Promise<Uint8Array>>();

/** Forget the file bytes `loadArrayDescriptor` cached. @example clearFileCache(); */
export function clearFileCache(): void {
  fileCache.clear();
}

export interface FixtureOptions {
  /** Backend to create the tensors on; default: the default device. */
  device?: string;
}

/**
 * Read the array a descriptor points at, from `desc.file` inside `dir`. File bytes are cached per path (see
 * `clearFileCache`); the tensor is always a copy.
 *
 * @example const x = await loadArrayDescriptor('fixtures/mlp-digits', io.cases[0].inputs.input);
 */
export async function loadArrayDescriptor(dir: string, desc: ArrayDescriptor, opts: FixtureOptions & { name?: string } = {}): Promise<Tensor> {
  const what = opts.name ? `array ${opts.name}` : 'loadArrayDescriptor';
  const d = checkArrayDescriptor(desc, what);
  const root = resolve(dir);
  const path = resolve(root, d.file);
  const rel = relative(root, path);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) ioFail(what, `file ${brief(d.file)} must name a file inside '${dir}'`);
  let bytes = fileCache.get(path);
  if (!bytes) {
    bytes = readBytes(path, what);
    fileCache.set(path, bytes);
    bytes.catch(() => fileCache.delete(path));
  }
  return readArray(d, await bytes, { device: opts.device, name: opts.name ?? d.file });
}

async function readJson(dir: string, file: string, format: string): Promise<Record<string, unknown>> {
  const path = resolve(dir, file);
  const text = new TextDecoder().decode(await readBytes(path, file));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return ioFail(file, `'${path}' is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) ioFail(file, `'${path}' must hold a JSON object`);
  const f = (json as Record<string, unknown>).format;
  if (f !== undefined && f !== format) ioFail(file, `'${path}' has format ${brief(f)}, expected '${format}'`);
  return json as Record<string, unknown>;
}

function objectOf(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) ioFail(what, `expected an object, found ${brief(v)}`);
  return v as Record<string, unknown>;
}

async function loadArrays(dir: string, arrays: Record<string, unknown>, what: string, opts: FixtureOptions): Promise<Record<string, Tensor>> {
  const out: Record<string, Tensor> = {};
  for (const [k, desc] of Object.entries(arrays)) {
    out[k] = await loadArrayDescriptor(dir, desc as ArrayDescriptor, { ...opts, name: `${what} '${k}'` });
  }
  return out;
}

/** One reference case of io.json: inputs and expected outputs by ONNX name, plus the case's other keys. */
export interface FixtureCase {
  name: string;
  inputs: Record<string, Tensor>;
  outputs: Record<string, Tensor>;
  /** Other keys of the case (eval_rows, text, note, ...). */
  extra: Record<string, unknown>;
}

/**
 * The reference cases of a fixture folder (io.json + its .bin files).
 *
 * @example for (const c of await loadFixtureCases('test/fixtures/mlp-digits')) console.log(c.name, c.inputs.input.shape);
 */
export async function loadFixtureCases(dir: string, opts: FixtureOptions = {}): Promise<FixtureCase[]> {
  const io = await readJson(dir, 'io.json', 'fixture-io-v1');
  if (!Array.isArray(io.cases)) ioFail('io.json', `'cases' must be an array, found ${brief(io.cases)}`);
  const out: FixtureCase[] = [];
  for (const [i, c] of (io.cases as unknown[]).entries()) {
    const { name, inputs, outputs, ...extra } = objectOf(c, `io.json case ${i}`);
    if (typeof name !== 'string') ioFail('io.json', `case ${i} needs a string 'name', found ${brief(name)}`);
    out.push({
      name,
      inputs: await loadArrays(dir, objectOf(inputs, `io.json case '${name}' inputs`), `io.json case '${name}' input`, opts),
      outputs: await loadArrays(dir, objectOf(outputs, `io.json case '${name}' outputs`), `io.json case '${name}' output`, opts),
      extra,
    });
  }
  return out;
}

/**
 * The layer-by-layer activations of trace.json, in execution order.
 *
 * @example const trace = await loadFixtureTrace('test/fixtures/tiny-gpt'); trace[0].name // 'wte'
 */
export async function loadFixtureTrace(dir: string, opts: FixtureOptions = {}): Promise<{ name: string; tensor: Tensor }[]> {
  const tr = await readJson(dir, 'trace.json', 'fixture-trace-v1');
  if (!Array.isArray(tr.layers)) ioFail('trace.json', `'layers' must be an array, found ${brief(tr.layers)}`);
  const out: { name: string; tensor: Tensor }[] = [];
  for (const [i, l] of (tr.layers as unknown[]).entries()) {
    const name = objectOf(l, `trace.json layer ${i}`).name;
    if (typeof name !== 'string') ioFail('trace.json', `layer ${i} needs a string 'name', found ${brief(name)}`);
    out.push({ name, tensor: await loadArrayDescriptor(dir, l as ArrayDescriptor, { ...opts, name: `trace.json layer '${name}'` }) });
  }
  return out;
}

/**
 * The evaluation arrays of eval.json (inputs or input_ids/attention_mask, labels, torch_pred, torch_logits).
 *
 * @example const { inputs, labels } = await loadFixtureEval('test/fixtures/mlp-digits');
 */
export async function loadFixtureEval(dir: string, opts: FixtureOptions = {}): Promise<Record<string, Tensor>> {
  const ev = await readJson(dir, 'eval.json', 'fixture-eval-v1');
  return loadArrays(dir, objectOf(ev.arrays, "eval.json 'arrays'"), 'eval.json array', opts);
}

/**
 * Build the model described by `<dir>/config.json` and load `<dir>/model.safetensors` into it (strict). A
 * quantized folder (written by `forwardpass quantize`) loads with its int8 layers; a Hugging Face folder (config.json
 * with `model_type`) goes to `loadHfModel`; a path ending in .gguf goes to `loadGguf`.
 *
 * @example const model = await loadModel('test/fixtures/tiny-gpt'); model.run({ input_ids: ids }).logits
 */
export async function loadModel(dir: string, opts: FixtureOptions & GgufLoadOptions = {}): Promise<ConfiguredModel> {
  if (/\.gguf$/i.test(dir)) return loadGguf(dir, opts);
  const config = new TextDecoder().decode(await readBytes(resolve(dir, 'config.json'), 'loadModel'));
  let json: unknown;
  try { json = JSON.parse(config); } catch { json = undefined; }
  if (isHfConfig(json)) return loadHfModel(dir, opts);
  const weights = resolve(dir, 'model.safetensors');
  return loadModelAutoFromBytes(config, await readBytes(weights, 'loadModel'), { ...opts, name: weights });
}
