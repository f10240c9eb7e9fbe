// Hugging Face checkpoints on WebGPU: the shared five (../shared/hf/models) and a few local families (sliding window,
// q/k norms, fused projections, partial rotary, roberta positions, distilbert) within 1e-3 of transformers on valid
// positions, and greedy generation with the KV cache on the device reproducing transformers' ids.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { HAS_SHARED, LOCAL_MODELS, readReference, referenceInputs, referenceOutput, SHARED_MODELS, SHARED_REASON, validMaxDiff } from '../hf/helpers.js';
import { webgpu } from '../webgpu.js';

if (!HAS_SHARED) console.warn(`shared HF models on WebGPU skipped: ${SHARED_REASON}`);
const folders = [
  ...(HAS_SHARED ? ['gpt2', 'bert', 'llama', 'qwen2', 'vit'].map((n) => resolve(SHARED_MODELS, n)) : []),
  ...['mistral', 'qwen3', 'phi3', 'gpt-neox', 'roberta', 'distilbert-cls'].map((n) => resolve(LOCAL_MODELS, n)),
];

describe.skipIf(!webgpu.gpu)(`HF checkpoints on webgpu (${webgpu.gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  for (const dir of folders) {
    const ref = readReference(dir);
    it(`${ref.name}: outputs within 1e-3${ref.generation ? ', greedy ids exact' : ''}`, async () => {
      const model = await fp.loadHfModel(dir, { device: 'webgpu' });
      expect(model.device).toBe('webgpu');
      model.outputHiddenStates = true; // HF's output_hidden_states
      const out = model.run(await referenceInputs(dir, ref, 'webgpu'));
      for (const k of Object.keys(ref.outputs)) {
        expect(out[k]!.device).toBe('webgpu');
        const d = await validMaxDiff(out[k]!, await referenceOutput(dir, ref, k), ref, k === 'hidden_states' ? 1 : 0);
        expect(d, `${ref.name} ${k}`).toBeLessThan(1e-3);
      }
      if (ref.generation) {
        const g = ref.generation;
        expect(await fp.generate(model, g.prompt_ids, { maxNewTokens: g.max_new_tokens })).toEqual(g.new_ids);
      }
      model.dispose();
    });
  }

  it("precision 'f16' on the device: float16 weights, logits within half-precision error", async () => {
    const dir = resolve(LOCAL_MODELS, 'llama-yarn');
    const ref = readReference(dir);
    const model = await fp.loadHfModel(dir, { device: 'webgpu', precision: 'f16' });
    expect(model.namedParameters().every(([, t]) => t.dtype === 'float16' && t.device === 'webgpu')).toBe(true);
    const logits = model.run(await referenceInputs(dir, ref, 'webgpu')).logits!;
    const d = await validMaxDiff(fp.cast(logits, 'float32'), await referenceOutput(dir, ref, 'logits'), ref);
    expect(d).toBeLessThan(0.05);
    model.dispose();
  });
});
