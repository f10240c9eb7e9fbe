// The committed real Hugging Face exports (test/fixtures/onnx-exports, written by make_exports.py): the manifest,
// the stored feeds and onnxruntime's stored outputs, for the CPU and WebGPU tests.
import { readFileSync } from 'node:fs';
import * as fp from '../../../src/node.js';
import { fixturePath } from '../../helpers.js';

/** One export in manifest.json. */
export interface Entry {
  family: string;
  exporter: 'legacy' | 'dynamo';
  file: string;
  exported: boolean;
  error?: string;
  opset?: number;
  op_types?: string[];
  inputs: Record<string, { dtype: string; shape: number[]; file: string }>;
  graph_inputs?: string[];
  outputs?: Record<string, { shape: number[]; file: string }>;
  ort_vs_torch_max_abs_diff?: number;
}

export const DIR = fixturePath('onnx-exports');
export const manifest = JSON.parse(readFileSync(fixturePath('onnx-exports', 'manifest.json'), 'utf8')) as { models: Entry[] };
export const TOL = { atol: 1e-4, rtol: 1e-3 };
export const FAMILIES = ['gpt2', 'llama', 'mistral', 'qwen2', 'phi3', 'gpt-neox', 'bert', 'roberta', 'distilbert', 'mobilebert', 't5-encoder', 'vit', 'whisper-encoder'];
/** Exports PyTorch itself refused (each recorded with its error in the manifest); with torch 2.13 none. */
export const EXPORT_FAILS: string[] = [];

export const npy = (file: string) => fp.readNpyFile(`${DIR}/${file}`);

/** The feeds an export takes (graph inputs only: a dynamo export may drop an unused one). */
export async function feedsOf(e: Entry): Promise<Record<string, fp.Tensor>> {
  const names = e.graph_inputs ?? Object.keys(e.inputs);
  return Object.fromEntries(await Promise.all(names.map(async (k) => [k, await npy(e.inputs[k]!.file)] as const)));
}
