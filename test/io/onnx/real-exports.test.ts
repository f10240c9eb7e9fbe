// Real Hugging Face exports (issue 13): tiny random-weight GPT-2, LLaMA, Mistral, Qwen2, Phi-3, GPT-NeoX, BERT,
// RoBERTa, DistilBERT, MobileBERT, T5 encoder, ViT and Whisper encoder, each written by torch.onnx.export with the
// legacy (TorchScript) and the dynamo exporter and transformers' default SDPA attention
// (test/fixtures/onnx-exports/make_exports.py; manifest.json says which versions). Every committed export is loaded
// with loadOnnx on the CPU and its output compared with onnxruntime's stored output within atol 1e-4 + rtol 1e-3·|ort|;
// the second batch row of every text model is right-padded, so the SDPA masking path runs. onnxruntime-node is run
// live on the same files too, so the stored references cannot go stale.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/node.js';
import { fixturePath } from '../../helpers.js';
import { worst } from './compare.js';
import { runOrt, type OrtValue } from './ort.js';

interface Entry {
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

const DIR = fixturePath('onnx-exports');
const manifest = JSON.parse(readFileSync(fixturePath('onnx-exports', 'manifest.json'), 'utf8')) as { models: Entry[] };
const TOL = { atol: 1e-4, rtol: 1e-3 };
const FAMILIES = ['gpt2', 'llama', 'mistral', 'qwen2', 'phi3', 'gpt-neox', 'bert', 'roberta', 'distilbert', 'mobilebert', 't5-encoder', 'vit', 'whisper-encoder'];
/** Exports that PyTorch itself refuses (the error is in the manifest); none is hidden from the list below. */
const EXPORT_FAILS: string[] = [];

const npy = (file: string) => fp.readNpyFile(`${DIR}/${file}`);

/** The feeds an export takes (graph inputs only: a dynamo export may drop an unused one). */
async function feedsOf(e: Entry): Promise<Record<string, fp.Tensor>> {
  const names = e.graph_inputs ?? Object.keys(e.inputs);
  return Object.fromEntries(await Promise.all(names.map(async (k) => [k, await npy(e.inputs[k]!.file)] as const)));
}

describe('real Hugging Face exports vs onnxruntime (CPU)', () => {
  it('the manifest covers every family with both exporters; the exports PyTorch refused carry their error', () => {
    expect(manifest.models.map((e) => `${e.family}.${e.exporter}`)).toEqual(FAMILIES.flatMap((f) => [`${f}.legacy`, `${f}.dynamo`]));
    expect(manifest.models.filter((e) => !e.exported).map((e) => `${e.family}.${e.exporter}`)).toEqual(EXPORT_FAILS);
    for (const e of manifest.models.filter((m) => !m.exported)) expect(e.error, e.file).toMatch(/\w+Error: .{10,}/);
  });

  for (const e of manifest.models.filter((m) => m.exported)) {
    it(`${e.file} (opset ${e.opset}): loads and matches onnxruntime's output within atol 1e-4, rtol 1e-3`, async () => {
      const session = await fp.loadOnnx(readFileSync(`${DIR}/${e.file}`), { backend: 'cpu' });
      const out = await session.run(await feedsOf(e));
      let maxDiff = 0;
      for (const [name, ref] of Object.entries(e.outputs!)) {
        const want = await (await npy(ref.file)).data();
        const got = out[name]!;
        expect(got.shape, `${e.file} ${name}`).toEqual(ref.shape);
        const data = await got.data();
        expect(data.some(Number.isNaN), `${e.file}: NaN in ${name}`).toBe(false);
        const bad = worst(data, want, TOL.atol, TOL.rtol);
        expect(bad, `${e.file} ${name}: ${JSON.stringify(bad)}`).toBeNull();
        for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(data[i]! - want[i]!));
      }
      console.log(`real export ${e.file}: max abs diff vs onnxruntime ${maxDiff.toExponential(2)}`);
      session.dispose();
    });
  }

  it('the stored references are what onnxruntime-node computes today (within 1e-5)', async () => {
    for (const e of manifest.models.filter((m) => m.exported)) {
      const feeds: Record<string, OrtValue> = {};
      for (const [k, t] of Object.entries(await feedsOf(e))) {
        const d = await t.data();
        feeds[k] = e.inputs[k]!.dtype === 'int64' ? { type: 'int64', dims: t.shape, data: BigInt64Array.from(d, (x) => BigInt(x)) } : { type: 'float', dims: t.shape, data: Float32Array.from(d) };
      }
      const live = await runOrt(new Uint8Array(readFileSync(`${DIR}/${e.file}`)), feeds);
      for (const [name, ref] of Object.entries(e.outputs!)) {
        const want = await (await npy(ref.file)).data();
        expect(worst(Array.from(live[name]!.data as Float32Array), want, 1e-5, 0), `${e.file} ${name}`).toBeNull();
      }
    }
  });
});
