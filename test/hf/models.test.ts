// Every checkpoint in ../shared/hf/models (written by transformers 5.18) against its reference outputs on the CPU:
// logits, last_hidden_state, pooler_output and hidden_states within 1e-4 on valid positions, and greedy generation
// reproducing the reference ids with the KV cache.
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { expectReferenceOutputs, HAS_SHARED, readReference, referenceOutput, SHARED_MODELS, SHARED_REASON, validMaxDiff } from './helpers.js';

if (!HAS_SHARED) console.warn(`Hugging Face model suites skipped: ${SHARED_REASON}`);
const names = HAS_SHARED ? readdirSync(SHARED_MODELS).sort() : [];

describe.skipIf(!HAS_SHARED)('shared HF checkpoints on the CPU (f32)', () => {
  it('covers the five shared models', () => {
    expect(names).toEqual(['bert', 'gpt2', 'llama', 'qwen2', 'vit']);
  });

  for (const name of names) {
    const dir = resolve(SHARED_MODELS, name);
    const ref = readReference(dir);
    it(`${name}: ${ref.architecture} outputs match within 1e-4`, async () => {
      const { model, out } = await expectReferenceOutputs(name, dir, ref);
      // padded query positions too: HF lets them attend to the valid keys, and so does the key mask here
      const all = { ...ref, valid_positions: undefined };
      for (const k of ['logits', 'last_hidden_state'].filter((x) => ref.outputs[x] && out[x]!.rank === 3)) {
        expect(await validMaxDiff(out[k]!, await referenceOutput(dir, ref, k), all), `${name} ${k} (all positions)`).toBeLessThan(1e-4);
      }
      model.dispose();
    });

    if (ref.generation) {
      it(`${name}: greedy generation with the KV cache reproduces the reference ids`, async () => {
        const model = await fp.loadHfModel(dir);
        const g = ref.generation!;
        const ids = await fp.generate(model, g.prompt_ids, { maxNewTokens: g.max_new_tokens });
        expect(ids).toEqual(g.new_ids);
        model.dispose();
      });
    }
  }
});
