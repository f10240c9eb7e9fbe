// The families without a shared checkpoint, from tiny checkpoints that transformers 5.18 saved (test/hf/make_fixtures.py
// wrote test/fixtures/hf/): mistral (sliding window), qwen2 with sliding layers, qwen3 (q/k norms, sharded), phi3
// (fused projections, partial rotary), gemma (BF16 weights), gpt_neox (parallel and sequential residual), llama rope
// types (linear with a transformers-4 config and F16 weights, dynamic, yarn, llama3), roberta, xlm-roberta, bert and
// distilbert heads, and ViTModel. Outputs within 1e-4 on valid positions, greedy generation token for token.
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { expectReferenceOutputs, LOCAL_MODELS, readReference } from './helpers.js';

const names = readdirSync(LOCAL_MODELS).sort();

describe('HF families from test/fixtures/hf (CPU, f32)', () => {
  it('has every family the loader supports beyond the shared five', () => {
    const types = new Set(names.map((n) => readReference(resolve(LOCAL_MODELS, n)).model_type as string));
    expect([...types].sort()).toEqual(['bert', 'distilbert', 'gemma', 'gpt_neox', 'llama', 'mistral', 'phi3', 'qwen2', 'qwen3', 'roberta', 'vit', 'xlm-roberta']);
  });

  for (const name of names) {
    const dir = resolve(LOCAL_MODELS, name);
    const ref = readReference(dir);
    it(`${name}: ${ref.architecture} outputs match within 1e-4`, async () => {
      const { model } = await expectReferenceOutputs(name, dir, ref);
      model.dispose();
    });
    if (ref.generation) {
      it(`${name}: greedy generation with the KV cache reproduces transformers' ids`, async () => {
        const model = await fp.loadHfModel(dir);
        const g = ref.generation!;
        expect(await fp.generate(model, g.prompt_ids, { maxNewTokens: g.max_new_tokens })).toEqual(g.new_ids);
        model.dispose();
      });
    }
  }
});
