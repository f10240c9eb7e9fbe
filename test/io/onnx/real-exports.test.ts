// Real Hugging Face exports (issue 13): tiny random-weight GPT-2, LLaMA, Mistral, Qwen2, Phi-3, GPT-NeoX, BERT,
// RoBERTa, DistilBERT, MobileBERT, T5 encoder, ViT and Whisper encoder, each written by torch.onnx.export with the
// legacy (TorchScript) and the dynamo exporter and transformers' default SDPA attention
// (test/fixtures/onnx-exports/make_exports.py; manifest.json says which versions). Every committed export is loaded
// with loadOnnx on the CPU and its output compared with onnxruntime's stored output within atol 1e-4 + rtol 1e-3·|ort|;
// the second batch row of every text model is right-padded, so the SDPA masking path runs. onnxruntime-node is run
// live on the same files too, so the stored references cannot go stale, and at other batch and sequence sizes
// (the exports keep both axes dynamic).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/node.js';
import { ortNumbers, toFeeds, worst } from './compare.js';
import { runOrt, type OrtValue } from './ort.js';
import { DIR, type Entry, EXPORT_FAILS, FAMILIES, feedsOf, manifest, npy, TOL } from './real-exports.js';

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

  /** The stored feeds as onnxruntime values (int64 ids and masks, float pixels and features). */
  async function ortFeeds(e: Entry): Promise<Record<string, OrtValue>> {
    const feeds: Record<string, OrtValue> = {};
    for (const [k, t] of Object.entries(await feedsOf(e))) {
      const d = await t.data();
      feeds[k] = e.inputs[k]!.dtype === 'int64' ? { type: 'int64', dims: [...t.shape], data: BigInt64Array.from(d, (x) => BigInt(x)) } : { type: 'float', dims: [...t.shape], data: Float32Array.from(d) };
    }
    return feeds;
  }

  /**
   * Other sizes on the dynamic axes: text models get batch 3, sequence 6 (rows of the stored ids; masks pad 0, 3
   * and 1 tokens), vision and audio models batch 1 (the first stored row).
   */
  function resized(feeds: Record<string, OrtValue>): Record<string, OrtValue> {
    const out: Record<string, OrtValue> = {};
    for (const [k, v] of Object.entries(feeds)) {
      if (v.type === 'int64') {
        const [, S] = v.dims as [number, number];
        const real = [6, 3, 5];
        const data = BigInt64Array.from({ length: 3 * 6 }, (_, i) => {
          const r = Math.floor(i / 6), t = i % 6;
          return k === 'attention_mask' ? BigInt(t < real[r]! ? 1 : 0) : (v.data as BigInt64Array)[(r % 2) * S + t]!;
        });
        out[k] = { type: 'int64', dims: [3, 6], data };
      } else {
        const row = v.dims.slice(1).reduce((a, b) => a * b, 1);
        out[k] = { type: 'float', dims: [1, ...v.dims.slice(1)], data: (v.data as Float32Array).slice(0, row) };
      }
    }
    return out;
  }

  it('onnxruntime-node today computes the stored references (within 1e-5); at other batch and sequence sizes forwardpass still matches it', async () => {
    for (const e of manifest.models.filter((m) => m.exported)) {
      const bytes = new Uint8Array(readFileSync(`${DIR}/${e.file}`));
      const feeds = await ortFeeds(e);
      const live = await runOrt(bytes, feeds);
      for (const [name, ref] of Object.entries(e.outputs!)) {
        const want = await (await npy(ref.file)).data();
        expect(worst(Array.from(live[name]!.data as Float32Array), want, 1e-5, 0), `${e.file} ${name}`).toBeNull();
      }
      const other = resized(feeds);
      const ort2 = await runOrt(bytes, other);
      const session = await fp.loadOnnx(bytes, { backend: 'cpu' });
      const ours = await session.run(toFeeds(other));
      for (const name of Object.keys(e.outputs!)) {
        expect(ours[name]!.shape, `${e.file} ${name} resized`).toEqual(ort2[name]!.dims);
        expect(worst(await ours[name]!.data(), ortNumbers(ort2[name]!), TOL.atol, TOL.rtol), `${e.file} ${name} resized`).toBeNull();
      }
      session.dispose();
    }
  });
});
