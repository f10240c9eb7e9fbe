// The HF loader's contract beyond the numbers: HF key names as they come (prefix-less, gamma/beta, tied copies),
// bytes-level loading (shards, a Map of tensors), precision f16 and int8, trace paths named like HF's modules,
// traceCompare and loadModel on HF folders, and one clear error for what is not supported.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { HAS_SHARED, LOCAL_MODELS, readReference, referenceInputs, referenceOutput, SHARED_MODELS, validMaxDiff } from './helpers.js';

const local = (n: string) => resolve(LOCAL_MODELS, n);
const shared = (n: string) => resolve(SHARED_MODELS, n);
const llamaDir = local('llama-yarn');
const config = (dir: string) => JSON.parse(readFileSync(resolve(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
const weights = (dir: string, f = 'model.safetensors') => new Uint8Array(readFileSync(resolve(dir, f)));

async function logitsDiff(model: fp.HfModel, dir: string): Promise<number> {
  const ref = readReference(dir);
  const out = model.run(await referenceInputs(dir, ref));
  return validMaxDiff(fp.cast(out.logits!, 'float32'), await referenceOutput(dir, ref, 'logits'), ref);
}

describe('HF state dicts by their own names', () => {
  it('module paths and state-dict keys are HF names; stateDict() round-trips through loadStateDict', async () => {
    const model = await fp.loadHfModel(llamaDir);
    const keys = model.namedParameters().map(([k]) => k);
    expect(keys).toContain('model.layers.0.self_attn.q_proj.weight');
    expect(keys).toContain('lm_head.weight');
    const file = (await fp.readSafetensorsFile(resolve(llamaDir, 'model.safetensors'))).tensors;
    expect([...file.keys()].sort()).toEqual([...keys].sort());
    const copy = fp.hfModelFromConfig(config(llamaDir));
    copy.loadStateDict(model.stateDict());
    expect(await logitsDiff(copy, llamaDir)).toBeLessThan(1e-4);
  });

  it('accepts a base-model checkpoint without the prefix, old gamma/beta LayerNorm names, and ignores old buffers', async () => {
    const dir = local('bert-token');
    const { tensors } = await fp.readSafetensorsFile(resolve(dir, 'model.safetensors'));
    const renamed = new Map<string, fp.Tensor>();
    for (const [k, t] of tensors) renamed.set(k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'), t);
    renamed.set('bert.embeddings.position_ids', fp.arange(0, 32, 1));
    const model = fp.hfModelFromConfig(config(dir));
    model.loadStateDict(renamed);
    expect(await logitsDiff(model, dir)).toBeLessThan(1e-4);
    // BertModel from the token classifier's checkpoint: the 'bert.' prefix is stripped, the classifier dropped
    const base = fp.hfModelFromConfig({ ...config(dir), architectures: ['BertModel'] });
    base.loadStateDict(tensors, { strict: false });
    expect(base.namedParameters().some(([k]) => k.startsWith('bert.'))).toBe(false);
  });

  it.skipIf(!HAS_SHARED)("GPT-2 in the Hub's old layout: keys without 'transformer.', attention-mask buffers, a stored tied lm_head", async () => {
    const dir = shared('gpt2');
    const { tensors } = await fp.readSafetensorsFile(resolve(dir, 'model.safetensors'));
    const old = new Map<string, fp.Tensor>();
    for (const [k, t] of tensors) old.set(k.replace(/^transformer\./, ''), t);
    old.set('h.0.attn.bias', fp.ones([1, 1, 128, 128]));
    old.set('h.1.attn.masked_bias', fp.tensor([-1e4]));
    old.set('lm_head.weight', tensors.get('transformer.wte.weight')!);
    const model = fp.hfModelFromConfig(config(dir));
    model.loadStateDict(old);
    expect(await logitsDiff(model, dir)).toBeLessThan(1e-4);
  });

  it("gemma's legacy hidden_act 'gelu' runs the tanh GELU, as transformers rewrites it", async () => {
    const dir = local('gemma');
    const { tensors } = await fp.readSafetensorsFile(resolve(dir, 'model.safetensors'));
    const model = fp.hfModelFromConfig({ ...config(dir), hidden_act: 'gelu' });
    model.loadStateDict(tensors);
    expect(await logitsDiff(model, dir)).toBeLessThan(1e-4);
  });

  it('run() gives hidden_states only when asked (outputHiddenStates or config output_hidden_states), as HF', async () => {
    const dir = local('distilbert-cls');
    const model = await fp.loadHfModel(dir);
    const inputs = await referenceInputs(dir, readReference(dir));
    expect(model.outputNames).toEqual(['logits', 'last_hidden_state']);
    expect(Object.keys(model.run(inputs))).toEqual(['logits', 'last_hidden_state']);
    model.outputHiddenStates = true;
    expect(model.outputNames).toEqual(['logits', 'last_hidden_state', 'hidden_states']);
    expect(model.run(inputs).hidden_states!.shape).toEqual([3, 2, 8, 32]);
    expect(fp.hfModelFromConfig({ ...config(dir), output_hidden_states: true }).outputHiddenStates).toBe(true);
  });

  it("ignores what HF ignores in real checkpoints: bert's pooler and next-sentence head beside a token or MLM head", async () => {
    const dir = local('bert-token');
    const { tensors } = await fp.readSafetensorsFile(resolve(dir, 'model.safetensors'));
    const more = new Map(tensors);
    more.set('bert.pooler.dense.weight', fp.zeros([32, 32]));
    more.set('bert.pooler.dense.bias', fp.zeros([32]));
    more.set('cls.seq_relationship.weight', fp.zeros([2, 32]));
    const model = fp.hfModelFromConfig(config(dir));
    model.loadStateDict(more);
    expect(await logitsDiff(model, dir)).toBeLessThan(1e-4);
    more.set('bert.encoder.layer.5.output.dense.weight', fp.zeros([2, 2]));
    expect(() => model.loadStateDict(more)).toThrow(/unexpected key \(bert\.encoder\.layer\.5\.output\.dense\.weight\)/);
  });

  it('names every missing key in HF terms', () => {
    const model = fp.hfModelFromConfig(config(llamaDir));
    expect(() => model.loadStateDict(new Map())).toThrow(/missing keys \(.*model\.layers\.0\.self_attn\.q_proj\.weight/);
  });
});

describe('KV cache', () => {
  for (const name of ['mistral', 'gpt-neox', 'qwen2-sliding', 'phi3']) {
    it(`${name}: a prompt fed in two chunks through the cache (attention_mask over all keys) gives the one-pass logits`, async () => {
      const dir = local(name);
      const ref = readReference(dir);
      const model = (await fp.loadHfModel(dir)) as fp.LlamaForCausalLM;
      const { input_ids: ids, attention_mask: mask } = await referenceInputs(dir, ref);
      const whole = await model.forward(ids!, { attentionMask: mask }).logits!.data();
      const cache = model.createCache();
      const a = model.forward(ids!.narrow(1, 0, 5).contiguous(), { cache, attentionMask: mask!.narrow(1, 0, 5).contiguous() }).logits!;
      const b = model.forward(ids!.narrow(1, 5, 3).contiguous(), { cache, attentionMask: mask }).logits!;
      expect(cache.length).toBe(8);
      const chunked = await fp.concat([a, b], 1).data();
      let d = 0;
      for (let i = 0; i < whole.length; i++) d = Math.max(d, Math.abs(whole[i]! - chunked[i]!));
      expect(d).toBeLessThan(1e-5);
      cache.dispose();
    });
  }
});

describe('left-padded batches (position_ids, as HF generate passes them)', () => {
  const ids2 = (rows: number[][]) => fp.tensor(rows, { dtype: 'int32' });
  for (const name of ['llama-yarn', 'mistral', 'gpt-neox', 'phi3']) {
    it(`${name}: a left-padded row gives the logits of the same row alone, in the prompt and through the cache`, async () => {
      const model = (await fp.loadHfModel(local(name))) as fp.LlamaForCausalLM;
      const a = [17, 42, 99, 5, 63], b = [8, 21, 34, 55, 89, 14, 23, 37];
      const alone = async (row: number[]) => model.forward(ids2([row])).logits!.select(1, -1).data();
      // row 0: 3 pads then a (positions 1,1,1 for pads, 0..4 for tokens); row 1: b
      const cache = model.createCache();
      const first = model.forward(ids2([[0, 0, 0, ...a], b]), {
        cache, attentionMask: ids2([[0, 0, 0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1]]), positionIds: ids2([[1, 1, 1, 0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5, 6, 7]]),
      }).logits!;
      const next = model.forward(ids2([[7], [7]]), { cache, attentionMask: ids2([[0, 0, 0, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1]]), positionIds: ids2([[5], [8]]) }).logits!;
      cache.dispose();
      const close = (x: ArrayLike<number>, y: ArrayLike<number>) => Math.max(...Array.from(x, (v, i) => Math.abs(v - y[i]!)));
      expect(close(await first.select(0, 0).select(0, -1).data(), await alone(a))).toBeLessThan(1e-4);
      expect(close(await first.select(0, 1).select(0, -1).data(), await alone(b))).toBeLessThan(1e-4);
      expect(close(await next.select(0, 0).select(0, 0).data(), await alone([...a, 7]))).toBeLessThan(1e-4);
      expect(close(await next.select(0, 1).select(0, 0).data(), await alone([...b, 7]))).toBeLessThan(1e-4);
    });
  }
});

describe('memory and generation', () => {
  it('forward passes and generation leave the live buffer count flat', async () => {
    const dir = local('mistral');
    const ref = readReference(dir);
    const model = await fp.loadHfModel(dir);
    const inputs = await referenceInputs(dir, ref);
    const before = fp.cpuBackend.memory().liveBuffers;
    for (let i = 0; i < 20; i++) for (const t of Object.values(model.run(inputs))) t.dispose();
    await fp.generate(model, ref.generation!.prompt_ids, { maxNewTokens: 12 });
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before);
  });

  it('generate refuses a model that is not a causal LM, naming it', async () => {
    const bert = await fp.loadHfModel(local('bert-base'));
    await expect(fp.generate(bert, [1, 2], { maxNewTokens: 1 })).rejects.toThrow(/BertFamilyModel is not a causal language model/);
  });
});

describe('hfModelFromFiles on bytes', () => {
  it('takes every shard of a sharded checkpoint, and a Map of tensors', async () => {
    const dir = local('qwen3');
    const index = readFileSync(resolve(dir, 'model.safetensors.index.json'), 'utf8');
    const files = fp.hfShardFiles(index);
    expect(files.length).toBe(4);
    const model = await fp.hfModelFromFiles(config(dir), files.map((f) => weights(dir, f)));
    expect(await logitsDiff(model, dir)).toBeLessThan(1e-4);
    const one = await fp.hfModelFromFiles(JSON.stringify(config(dir)), model.stateDict());
    expect(await logitsDiff(one, dir)).toBeLessThan(1e-4);
    await expect(fp.hfModelFromFiles(config(dir), files.slice(1).map((f) => weights(dir, f)))).rejects.toThrow(/missing key/);
  });

  it('refuses a shard index whose weight_map is not file names in the folder', () => {
    expect(() => fp.hfShardFiles('{"weight_map": {"a": "../x.safetensors"}}')).toThrow(/weight_map\['a'\] must be a shard file name/);
    expect(() => fp.hfShardFiles('{}')).toThrow(/weight_map/);
  });
});

describe('precision', () => {
  it("'f16' keeps float16 weights; logits stay within half-precision error; BF16 and F16 files load at f32", async () => {
    const model = await fp.loadHfModel(llamaDir, { precision: 'f16' });
    expect(model.namedParameters().every(([, t]) => t.dtype === 'float16')).toBe(true);
    const d = await logitsDiff(model, llamaDir);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(0.05);
    for (const [dir, stored] of [[local('gemma'), 'BF16'], [local('llama-linear-v4'), 'F16']] as const) {
      expect(new Set([...fp.parseSafetensors(weights(dir)).tensors.values()].map((e) => e.dtype))).toEqual(new Set([stored]));
      const m = await fp.loadHfModel(dir);
      expect(m.namedParameters().every(([, t]) => t.dtype === 'float32')).toBe(true);
    }
  });

  it("'int8' quantizes the Linear layers (cosine with f32 logits >= 0.99)", async () => {
    const model = await fp.loadHfModel(llamaDir, { precision: 'int8' });
    expect(fp.isQuantized(model)).toBe(true);
    const ref = readReference(llamaDir);
    const got = await model.run(await referenceInputs(llamaDir, ref)).logits!.data();
    const want = await (await referenceOutput(llamaDir, ref, 'logits')).data();
    expect(fp.cosine(got as Float32Array, want as Float32Array)).toBeGreaterThan(0.99);
  });

  it.skipIf(!HAS_SHARED)("'int8' turns GPT-2's Conv1D layers into Linear layers and quantizes them too", async () => {
    const dir = shared('gpt2');
    const model = await fp.loadHfModel(dir, { precision: 'int8' });
    expect(fp.quantizableLayers(model)).toEqual([]);
    expect(model.getSubmodule('transformer.h.0.attn.c_attn')).toBeInstanceOf(fp.QuantizedLinear);
    const ref = readReference(dir);
    const got = await model.run(await referenceInputs(dir, ref)).logits!.data();
    const want = await (await referenceOutput(dir, ref, 'logits')).data();
    expect(fp.cosine(got as Float32Array, want as Float32Array)).toBeGreaterThan(0.99);
  });
});

describe('traces and model folders', () => {
  it('trace paths are HF module names; traceCompare rebuilds the model from its config', async () => {
    const model = await fp.loadHfModel(llamaDir);
    const ref = readReference(llamaDir);
    const inputs = await referenceInputs(llamaDir, ref);
    const t = await model.trace(inputs);
    const paths = new Set(t.records.map((r) => r.path));
    expect(paths).toContain('model.layers.0.self_attn.q_proj');
    expect(paths).toContain('model.layers.1.mlp.down_proj');
    expect(paths).toContain('lm_head');
    const { comparison } = await fp.traceCompare(model, inputs, { against: { precision: 'f16' } });
    expect(comparison.rows.length).toBeGreaterThan(10);
    expect(Math.min(...comparison.rows.map((r) => r.cosine))).toBeGreaterThan(0.99);
  });

  it('loadModel recognises an HF folder by config.json model_type', async () => {
    const model = await fp.loadModel(local('distilbert-cls'));
    expect(model).toBeInstanceOf(fp.HfModel);
    expect(model.inputNames).toEqual(['input_ids', 'attention_mask']);
    expect(await fp.isHfFolder(local('distilbert-cls'))).toBe(true);
    expect(await fp.isHfFolder('test/fixtures/tiny-gpt')).toBe(false);
  });

  it.skipIf(!HAS_SHARED)('bert text_example: tokenizer ids in, the reference logits out (1e-4)', async () => {
    const dir = shared('bert');
    const ex = readReference(dir).text_example!;
    const model = await fp.loadHfModel(dir);
    const ids = ex.input_ids as number[];
    const { logits } = model.run({ input_ids: fp.tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32' }) });
    const got = Array.from(await logits!.data());
    (ex.logits as number[]).forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThan(1e-4));
  });
});

describe('one clear error for what is not supported', () => {
  const base = () => config(llamaDir);
  it('an unknown model_type or architecture lists the supported ones', () => {
    expect(() => fp.hfModelFromConfig({ ...base(), model_type: 't5' })).toThrow(/model_type 't5' is not supported; supported: gpt2 \(GPT2LMHeadModel\); llama \(LlamaForCausalLM\).*vit \(ViTForImageClassification, ViTModel\)/);
    expect(() => fp.hfModelFromConfig({ ...base(), architectures: ['LlamaForSequenceClassification'] })).toThrow(/architecture 'LlamaForSequenceClassification' is not supported; supported for llama: LlamaForCausalLM/);
  });

  it('a field that changes the math and is not implemented is named', () => {
    expect(() => fp.hfModelFromConfig({ ...base(), attn_logit_softcapping: 50 })).toThrow(/'attn_logit_softcapping' = 50 changes the model's math/);
    expect(() => fp.hfModelFromConfig({ ...base(), rope_parameters: { rope_type: 'longrope', rope_theta: 1e4 } })).toThrow(/rope type 'longrope' is not implemented; supported: default, linear, dynamic, yarn, llama3/);
    expect(() => fp.hfModelFromConfig({ ...base(), hidden_act: 'relu2' })).toThrow(/'hidden_act' = 'relu2' is not supported/);
    expect(() => fp.hfModelFromConfig({ ...config(local('bert-base')), position_embedding_type: 'relative_key' })).toThrow(/position_embedding_type/);
    expect(() => fp.hfModelFromConfig({ ...base(), hidden_size: 'x' })).toThrow(/'hidden_size' to be an integer/);
  });

  it('inputs the model cannot take are one clear error', async () => {
    const vit = await fp.loadHfModel(local('vit-base'));
    expect(() => vit.run({ pixel_values: fp.zeros([1, 3, 32, 32]) })).toThrow(/pixel_values must be \[B, 3, 16, 16\] \(image_size 16/);
    const bert = await fp.loadHfModel(local('bert-base'));
    expect(() => bert.run({ input_ids: fp.zeros([1, 40], { dtype: 'int32' }) })).toThrow(/40 positions need position 39, beyond the 32 learned ones/);
    expect(() => bert.run({ input_ids: fp.zeros([1, 4], { dtype: 'int32' }), attention_mask: fp.ones([1, 5]) })).toThrow(/attention_mask must be \[B, S\] = \[1, 4\]/);
    const lm = await fp.loadHfModel(local('mistral'));
    expect(() => lm.run({ input_ids: fp.zeros([4], { dtype: 'int32' }) })).toThrow(/input_ids must be an int32 tensor \[B, T\]/);
    expect(() => lm.run({ attention_mask: fp.ones([1, 4]) })).toThrow(/missing input 'input_ids'/);
  });

  it('a folder without weights says what it looked for', async () => {
    await expect(fp.loadHfModel('test/hf')).rejects.toThrow(/cannot read .*config\.json/);
    const dir = mkdtempSync(join(tmpdir(), 'fp-hf-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config(llamaDir)));
    await expect(fp.loadHfModel(dir)).rejects.toThrow(/has neither model\.safetensors nor model\.safetensors\.index\.json/);
  });
});
