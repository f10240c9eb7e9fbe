// `forwardpass run` and `inspect` on a Hugging Face folder (config.json with model_type): inputs by HF's names in,
// one .npy per HF output name out; and the folder's description (architecture, parameters, dtypes, tokenizer).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpyFile, writeNpyFile } from '../node.js';
import { loadHfModel } from '../io/hf/node.js';
import { hfModelFromConfig, hfShardFiles } from '../io/hf/index.js';
import { parseSafetensors } from '../io/safetensors.js';
import { loadTokenizer } from '../text/load-file.js';
import { cast } from '../ops/elementwise.js';
import { shapeStr, numel } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Precision } from './backend.js';
import { makeOutDir } from './run.js';
import { warnNonFinite } from './non-finite.js';
import { printable } from './printable.js';
import { human } from './text.js';

/** Run an HF folder on `--input` files (HF input names) and write `<output>.npy` for each HF output. */
export async function runHfFolder(dir: string, o: { inputs: Map<string, string>; outDir: string; backend: string; precision: Precision }): Promise<void> {
  const model = await loadHfModel(dir, { device: o.backend, precision: o.precision });
  const inputs = new Map<string, Tensor>();
  try {
    const unknown = [...o.inputs.keys()].filter((n) => !model.inputNames.includes(n));
    if (unknown.length) throw new Error(`forwardpass: run: unknown input ${unknown.map((n) => `'${n}'`).join(', ')}; the model takes ${model.inputNames.map((n) => `'${n}'`).join(', ')}`);
    const first = model.inputNames[0]!;
    if (!o.inputs.has(first)) throw new Error(`forwardpass: run: missing input '${first}' (give --input ${first}=FILE.npy)`);
    for (const [name, path] of o.inputs) inputs.set(name, await readNpyFile(path, { device: o.backend }));
    const fed = Object.fromEntries([...inputs].map(([k, t]) => [k, o.precision === 'f16' && t.dtype === 'float32' ? cast(t, 'float16') : t]));
    const t0 = performance.now();
    const outputs = model.run(fed);
    const ms = performance.now() - t0;
    makeOutDir(o.outDir, 'run');
    for (const [name, raw] of Object.entries(outputs)) {
      const t = raw.dtype === 'float16' ? cast(raw, 'float32') : raw;
      const path = join(o.outDir, `${name}.npy`);
      await writeNpyFile(path, t);
      process.stdout.write(`${name}: ${shapeStr(t.shape)} ${t.dtype} -> ${path}\n`);
      await warnNonFinite(name, t);
      if (t !== raw) t.dispose();
      raw.dispose();
    }
    process.stdout.write(`ran ${model.architecture} from ${dir} on ${o.backend} (${o.precision}) in ${ms.toFixed(1)} ms\n`);
  } finally {
    for (const t of inputs.values()) t.dispose();
    model.dispose();
  }
}

/** The safetensors headers of an HF folder (one file or every shard): name -> dtype and element count. */
function weightHeaders(dir: string): { name: string; dtype: string; elements: number; bytes: number }[] {
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  const files = existsSync(single) ? [single] : existsSync(index) ? hfShardFiles(readFileSync(index, 'utf8'), index).map((f) => join(dir, f)) : [];
  if (!files.length) throw new Error(`forwardpass: inspect: '${dir}' has a Hugging Face config.json but neither model.safetensors nor model.safetensors.index.json`);
  return files.flatMap((f) => [...parseSafetensors(readFileSync(f), { name: f }).tensors].map(([name, t]) => ({ name, dtype: t.dtype, elements: numel(t.shape), bytes: t.byteLength })));
}

/** Building the model (weights zero) checks that forwardpass supports the config and names its inputs and outputs. */
function modelIo(config: Record<string, unknown>): { inputs: string[]; outputs: string[] } | { error: string } {
  try {
    const m = hfModelFromConfig(config);
    const io = { inputs: m.inputNames, outputs: m.outputNames };
    m.dispose();
    return io;
  } catch (e) {
    return { error: (e as Error).message.replace(/^forwardpass: /, '') };
  }
}

/** inspect on an HF config.json alone: the architecture and whether forwardpass builds it. */
export function describeHfConfig(path: string, config: Record<string, unknown>): { summary: Record<string, unknown>; text: string } {
  const arch = Array.isArray(config.architectures) ? String(config.architectures[0]) : null;
  const io = modelIo(config);
  const text = [
    `${path}: Hugging Face config, ${printable(arch ?? '(no architectures)')} (model_type ${printable(String(config.model_type))})`,
    'error' in io ? `not loadable: ${printable(io.error)}` : `inputs:  ${io.inputs.join(', ')}\noutputs: ${io.outputs.join(', ')}`,
  ].join('\n');
  return { summary: { path, format: 'huggingface-config', architecture: arch, model_type: config.model_type, ...io }, text };
}

/** inspect on an HF folder: architecture, model_type, parameter count by dtype, inputs/outputs and the tokenizer. */
export async function inspectHfFolder(dir: string): Promise<{ summary: Record<string, unknown>; text: string }> {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const archs = Array.isArray(config.architectures) ? (config.architectures as unknown[]).map(String) : [];
  const rows = weightHeaders(dir);
  const byDtype = new Map<string, number>();
  for (const r of rows) byDtype.set(r.dtype, (byDtype.get(r.dtype) ?? 0) + r.elements);
  const parameters = rows.reduce((a, r) => a + r.elements, 0);
  const bytes = rows.reduce((a, r) => a + r.bytes, 0);
  let tokenizer: { type: string; vocab_size: number } | null = null;
  if (existsSync(join(dir, 'tokenizer.json'))) {
    const tok = await loadTokenizer(dir);
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { model?: { type?: string } };
    tokenizer = { type: String(json.model?.type ?? '?'), vocab_size: tok.vocabSize };
  }
  const io = modelIo(config);
  const dtypes = [...byDtype.keys()];
  const lines = [
    `${dir}: Hugging Face ${printable(archs[0] ?? '(no architectures)')} (model_type ${printable(String(config.model_type))})`,
    `parameters: ${parameters.toLocaleString('en-US')} (${[...byDtype].map(([d, n]) => (byDtype.size > 1 ? `${d} ${n.toLocaleString('en-US')}` : d)).join(', ')}), ${human(bytes)} in ${rows.length} tensors`,
    'error' in io ? `not loadable: ${printable(io.error)}` : `inputs:  ${io.inputs.join(', ')}\noutputs: ${io.outputs.join(', ')}`,
    tokenizer ? `tokenizer: ${tokenizer.type}, vocabulary ${tokenizer.vocab_size}` : 'tokenizer: none (no tokenizer.json)',
  ];
  const summary = { dir, format: 'huggingface', architecture: archs[0] ?? null, model_type: config.model_type, parameters, dtypes, bytes, ...io, tokenizer, weights: { tensors: rows.length, elements: parameters } };
  return { summary, text: lines.join('\n') };
}
