// tiny-gpt: io cases vs outputs.bin (1e-4 abs), the per-layer trace (1e-5 relative to max(1, |ref|); probs 1e-5
// abs), greedy generation reproducing generate.json exactly with the KV cache, cached and uncached logits
// agreeing at every step (1e-5 abs), flat memory over a long generation, and the tokenizer.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath, maxAbsDiff, randomArray } from '../helpers.js';
import { capture, compareTrace, readJson } from './helpers.js';

const dir = fixturePath('tiny-gpt');
const config = readJson('tiny-gpt', 'config.json');
const gen = readJson('tiny-gpt', 'generate.json') as {
  max_new_tokens: number;
  generations: { prompt: string; prompt_ids: number[]; generated_ids: number[]; generated_text: string }[];
};
const loadGpt = async () => (await fp.loadModel(dir)) as fp.nn.GPT;

describe('tiny-gpt forward', () => {
  it('is a GPT with the state dict of the config', async () => {
    const model = await loadGpt();
    expect(model).toBeInstanceOf(fp.nn.GPT);
    expect(model.cfg).toMatchObject({ vocabSize: 80, dModel: 64, nHeads: 4, nLayers: 2, context: 64, mlpHidden: 256, lnEps: 1e-5, geluApproximate: 'tanh', lmHeadBias: false });
    const want = config.weights.tensors as { name: string; shape: number[] }[];
    expect(model.namedParameters().map(([k, t]) => [k, t.shape])).toEqual(want.map((w) => [w.name, w.shape]));
    expect(model.parameterCount()).toBe(114432);
    model.dispose();
  });

  it('matches outputs.bin on every io case within 1e-4', async () => {
    const model = await loadGpt();
    for (const c of await fp.loadFixtureCases(dir)) {
      const out = model.run(c.inputs).logits!;
      expect(out.shape, c.name).toEqual(c.outputs.logits!.shape);
      expect(maxAbsDiff(await out.data(), await c.outputs.logits!.data()), c.name).toBeLessThan(1e-4);
    }
  });

  it('matches every trace.bin activation (prompt0)', async () => {
    const model = await loadGpt();
    const c = (await fp.loadFixtureCases(dir)).find((x) => x.name === 'prompt0')!;
    const got = await capture(model, () => model.run(c.inputs));
    const diffs = await compareTrace(dir, got);
    expect(diffs.length).toBe(27);
    for (const d of diffs) {
      expect(d.shapeOk, `${d.name} captured with the right size`).toBe(true);
      expect(d.name.endsWith('probs') ? d.abs : d.rel, d.name).toBeLessThan(1e-5);
    }
  });

  it('refuses sequences beyond the learned positions and bad ids', async () => {
    const model = await loadGpt();
    expect(() => model.forward(fp.zeros([1, 65], { dtype: 'int32' }))).toThrow(/^forwardpass: GPT: input 'input_ids' dim 1 \(sequence length\) is 65, but the model takes at most 64 \(the learned positions of wpe\); feed at most the last 64 tokens$/);
    const cache = model.createCache();
    model.forward(fp.zeros([1, 60], { dtype: 'int32' }), { cache });
    expect(() => model.forward(fp.zeros([1, 5], { dtype: 'int32' }), { cache })).toThrow(/^forwardpass: GPT: input 'input_ids' dim 1 \(sequence length\) is 5 after 60 cached positions, but the model takes at most 64 in all \(the learned positions of wpe\); feed at most 4 new tokens$/);
    cache.dispose();
    expect(() => model.forward(fp.zeros([1, 3]))).toThrow(/GPT: input_ids must be an int32 tensor \[B, T\], got float32 \[1, 3\]/);
  });
});

describe('tiny-gpt generation', () => {
  it('reproduces generated_ids for every prompt with the KV cache; uncached logits agree within 1e-5', async () => {
    const model = await loadGpt();
    const tok = fp.nn.CharTokenizer.fromConfig(config);
    for (const g of gen.generations) {
      expect(tok.encode(g.prompt)).toEqual(g.prompt_ids);
      const cached: fp.nn.GenerateStep[] = [];
      const ids = await fp.nn.generate(model, g.prompt_ids, { maxNewTokens: gen.max_new_tokens, onStep: (s) => cached.push(s) });
      expect(ids, g.prompt).toEqual(g.generated_ids);
      expect(tok.decode(ids)).toBe(g.generated_text);
      // steps run on the cache while prompt + generated fits the 64 positions, then on the window
      expect(cached.map((s) => s.cached)).toEqual(cached.map((s) => g.prompt_ids.length + s.step <= 64));
      const plain: fp.nn.GenerateStep[] = [];
      const ids2 = await fp.nn.generate(model, g.prompt_ids, { maxNewTokens: gen.max_new_tokens, useCache: false, onStep: (s) => plain.push(s) });
      expect(ids2).toEqual(g.generated_ids);
      expect(plain.every((s) => !s.cached)).toBe(true);
      const worst = Math.max(...cached.map((s, i) => maxAbsDiff(s.logits, plain[i]!.logits)));
      expect(worst, g.prompt).toBeLessThan(1e-5);
    }
  });

  it('keeps memory flat: the cache replaces its tensors, intermediates are freed', async () => {
    const model = await loadGpt();
    // live buffers plus those the collector released meanwhile (earlier tests leave tensors to it)
    const mem = () => { const m = fp.cpuBackend.memory(); return m.liveBuffers + m.leaked!; };
    const fed: number[] = [];
    model.registerForwardHook((_m, path, inputs) => { if (path === '') fed.push((inputs[0] as fp.Tensor).shape[1]!); });
    const before = mem();
    const during: number[] = [];
    await fp.nn.generate(model, [1, 2, 3], { maxNewTokens: 70, onStep: () => during.push(mem()) });
    // prefill 3 ids, then one id per step while 3 + step <= 64, then 64-id windows
    expect(fed).toEqual([3, ...Array<number>(61).fill(1), ...Array<number>(8).fill(64)]);
    expect(during[10]).toBe(during[50]); // cached steps: same number of live buffers
    expect(during[65]).toBe(before); // past the context: no cache, nothing left over
    expect(mem()).toBe(before);
  });

  it('checks its arguments', async () => {
    const model = await loadGpt();
    await expect(fp.nn.generate(model, [], { maxNewTokens: 3 })).rejects.toThrow(/generate: the prompt must be a non-empty list of token ids/);
    await expect(fp.nn.generate(model, [5, 80], { maxNewTokens: 3 })).rejects.toThrow(/prompt id 80 at position 1 is outside the vocabulary 0\.\.79/);
    expect(await fp.nn.generate(model, [5], { maxNewTokens: 0 })).toEqual([]);
  });
});

describe('CharTokenizer', () => {
  it('encodes by character, decodes ids, and names unknown characters', () => {
    const tok = new fp.nn.CharTokenizer(['a', 'b', ' ', 'é']);
    expect(tok.encode('ab é')).toEqual([0, 1, 2, 3]);
    expect(tok.decode([3, 2, 0])).toBe('é a');
    expect(() => tok.encode('abc')).toThrow(/the character "c" \(U\+0063\) at position 2 is not in the vocabulary of 4 characters/);
    expect(() => tok.decode([4])).toThrow(/id 4 at position 0 is outside the vocabulary 0\.\.3/);
    expect(() => new fp.nn.CharTokenizer(['a', 'a'])).toThrow(/the character "a" appears twice in the vocab \(ids 0 and 1\)/);
    expect(() => fp.nn.CharTokenizer.fromConfig(readJson('tiny-bert-cls', 'config.json'))).toThrow(/expected config\.vocab to be a list of characters, got object/);
  });
});

describe('a small random GPT', () => {
  const cfg = { vocabSize: 11, dModel: 8, nHeads: 2, nLayers: 2, context: 6, mlpHidden: 12 };
  const randomize = (m: fp.nn.Module) => {
    const sd = new Map(m.namedParameters().map(([k, t], i) => [k, fp.tensor(randomArray(t.size, 300 + i), { shape: t.shape })]));
    m.loadStateDict(sd);
  };

  it('with a tied lm_head has no lm_head tensor and projects on wte.weight', async () => {
    const gpt = new fp.nn.GPT({ ...cfg, tiedLmHead: true });
    expect(gpt.namedParameters().some(([k]) => k.startsWith('lm_head'))).toBe(false);
    randomize(gpt);
    const ids = fp.tensor([[1, 5, 10], [0, 0, 7]], { dtype: 'int32' });
    let lnf: fp.Tensor | null = null;
    gpt.registerForwardHook((_m, p, _i, o) => { if (p === 'ln_f') lnf = fp.keep((o as fp.Tensor).clone()); });
    const logits = gpt.forward(ids);
    expect(logits.shape).toEqual([2, 3, 11]);
    expect(maxAbsDiff(await logits.data(), await fp.linear(lnf!, gpt.wte.weight).data())).toBe(0);
  });

  it('batched KV-cache steps give the rows of the full forward', async () => {
    const gpt = new fp.nn.GPT(cfg);
    randomize(gpt);
    const ids = [[3, 1, 4, 1, 5, 9], [2, 6, 5, 3, 5, 8]];
    const full = await gpt.forward(fp.tensor(ids, { dtype: 'int32' })).data();
    const cache = gpt.createCache();
    const rows: number[][] = [[], []];
    for (const [s, n] of [[0, 4], [4, 1], [5, 1]]) {
      const part = await gpt.forward(fp.tensor(ids.map((r) => r.slice(s, s + n)), { dtype: 'int32' }), { cache }).data();
      for (let b = 0; b < 2; b++) rows[b]!.push(...Array.from(part.slice(b * n * 11, (b + 1) * n * 11)));
    }
    expect(cache.length).toBe(6);
    cache.dispose();
    expect(maxAbsDiff(Float32Array.from(rows.flat()), full)).toBeLessThan(1e-5);
  });
});
