// Generation: the sampler's masks and penalty against hand-computed values on small logits, seeded sampling that
// follows the distribution and repeats with its seed, EOS stops, batched (left-padded) greedy == one prompt at a
// time == the references, and streamed text that never cuts a UTF-8 character and concatenates to decode(ids).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as fp from '../../src/node.js';
import { Module } from '../../src/nn/module.js';
import { KVCache } from '../../src/nn/attention.js';
import { applyRepetitionPenalty, drawIndex, makeSampler, minPMask, processLogits, samplingSettings, softmax, topKMask, topPMask } from '../../src/nn/models/sampling.js';
import { generateBatch, generateSteps } from '../../src/nn/models/generate.js';
import { generateText, generationDefaults, streamText } from '../../src/text/generate.js';
import { makeRng } from '../../src/tensor/creation.js';
import { HAS_SHARED, LOCAL_MODELS, SHARED_MODELS, SHARED_REASON, readReference } from '../hf/helpers.js';

const f = (xs: number[]) => Float32Array.from(xs);
const kept = (x: Float32Array) => Array.from(x, (v, i) => (v === -Infinity ? -1 : i)).filter((i) => i >= 0);
// [2, 1, 0, -1]: probabilities e^x / 11.4752 = 0.6439, 0.2369, 0.0871, 0.0321
const L = [2, 1, 0, -1];

describe('logits processors (hand-computed)', () => {
  it('softmax of [2, 1, 0, -1]', () => {
    const p = softmax(L);
    [0.643914, 0.236883, 0.087144, 0.032059].forEach((q, i) => expect(p[i]).toBeCloseTo(q, 5));
  });

  it('top-k keeps the k largest, and every tie with the k-th', () => {
    expect(kept(topKMask(f(L), 2))).toEqual([0, 1]);
    expect(kept(topKMask(f([1, 1, 1, 0]), 2))).toEqual([0, 1, 2]);
    expect(kept(topKMask(f(L), 0))).toEqual([0, 1, 2, 3]);
  });

  it('top-p drops the tail whose mass is <= 1 - p (cumulative ascending: 0.0321, 0.1192, 0.3561, 1)', () => {
    expect(kept(topPMask(f(L), 0.8))).toEqual([0, 1]);
    expect(kept(topPMask(f(L), 0.9))).toEqual([0, 1, 2]);
    expect(kept(topPMask(f(L), 0.5))).toEqual([0]);
    expect(kept(topPMask(f(L), 0.01))).toEqual([0]);
    expect(kept(topPMask(f(L), 1))).toEqual([0, 1, 2, 3]);
  });

  it('min-p drops tokens below m * the top probability (0.6439)', () => {
    expect(kept(minPMask(f(L), 0.1))).toEqual([0, 1, 2]); // threshold 0.0644
    expect(kept(minPMask(f(L), 0.2))).toEqual([0, 1]); // threshold 0.1288
    expect(kept(minPMask(f(L), 1))).toEqual([0]);
  });

  it('repetition penalty as HF: positive logits divided, negative multiplied, each seen id once', () => {
    expect(Array.from(applyRepetitionPenalty(f(L), [0, 3, 3], 2))).toEqual([1, 1, 0, -2]);
    expect(Array.from(applyRepetitionPenalty(f(L), [1, 2], 0.5))).toEqual([2, 2, 0, -1]);
  });

  it('the chain runs penalty, temperature, top-k, top-p, min-p in that order', () => {
    const s = samplingSettings({ temperature: 2, topK: 3, topP: 0.9, repetitionPenalty: 2 });
    // penalty on id 0: [1, 1, 0, -1]; / 2: [0.5, 0.5, 0, -0.5]; top-k 3 drops id 3;
    // probs of [0.5, 0.5, 0] = 0.3837, 0.3837, 0.2327: cumulative ascending 0.2327 > 0.1, so top-p keeps all three
    expect(Array.from(processLogits(L, [0], s))).toEqual([0.5, 0.5, 0, -Infinity]);
    expect(Array.from(processLogits(L, [0], samplingSettings({ repetitionPenalty: 2 })))).toEqual([1, 1, 0, -1]);
  });

  it('equal transformers\' own processors on 30 seeded cases (same masked ids, values within 1e-5)', () => {
    const ref = JSON.parse(readFileSync(resolve(__dirname, '../fixtures/hf-pipelines/sampler.json'), 'utf8')) as { cases: { logits: number[]; seen: number[]; settings: Record<string, number>; out: (number | null)[] }[] };
    expect(ref.cases.length).toBe(30);
    let masked = 0;
    for (const c of ref.cases) {
      const got = processLogits(c.logits, c.seen, samplingSettings({ doSample: true, ...c.settings }));
      c.out.forEach((w, i) => {
        if (w === null) { masked++; expect(got[i], JSON.stringify(c.settings)).toBe(-Infinity); } else expect(Math.abs(got[i]! - w), JSON.stringify(c.settings)).toBeLessThan(1e-5);
      });
    }
    expect(masked).toBeGreaterThan(50);
  });

  it('options out of range are one error each', () => {
    expect(() => samplingSettings({ topP: 0 })).toThrow(/topP must be in \(0, 1\], got 0/);
    expect(() => samplingSettings({ temperature: -1 })).toThrow(/temperature must be a number >= 0/);
    expect(() => samplingSettings({ topK: 1.5 })).toThrow(/topK must be an integer >= 0/);
    expect(() => samplingSettings({ repetitionPenalty: 0 })).toThrow(/repetitionPenalty must be a number > 0/);
  });
});

describe('seeded sampling', () => {
  it('draws follow softmax of the kept logits (20000 draws within 0.01)', () => {
    const x = topKMask(f(L), 3);
    const p = softmax(x);
    const rng = makeRng(7);
    const n = 20000, counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[drawIndex(x, rng())]!++;
    expect(counts[3]).toBe(0);
    counts.forEach((c, i) => expect(Math.abs(c / n - p[i]!)).toBeLessThan(0.01));
  });

  it('the same seed gives the same choices; temperature 0 and no sampling options are greedy', () => {
    const run = (seed: number) => { const s = makeSampler({ temperature: 1, seed }); return Array.from({ length: 40 }, () => s.next(L, [])); };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
    expect(makeSampler({ temperature: 0 }).next([0, 5, 5, 1], [])).toBe(1);
    expect(makeSampler({}).settings.sample).toBe(false);
  });
});

describe('generationDefaults', () => {
  it('eos ids (one or a list) and pad from generation_config.json, else config.json; HF top_k 50 with do_sample', () => {
    expect(generationDefaults({ eos_token_id: [128001, 128009] }, { eos_token_id: 2 }).eosTokenId).toEqual([128001, 128009]);
    expect(generationDefaults(null, { eos_token_id: 2, pad_token_id: 0 })).toEqual({ eosTokenId: [2], padTokenId: 0, sampling: {} });
    expect(generationDefaults({ do_sample: true, temperature: 0.6, top_p: 0.9 }).sampling).toEqual({ doSample: true, temperature: 0.6, topK: 50, topP: 0.9 });
    expect(() => generationDefaults({ eos_token_id: 'x' })).toThrow(/eos_token_id must be a token id or a list of them/);
  });
});

/** A causal LM that emits `script` one id per step (a logit of 10 on it), to test streaming without a real model. */
class Scripted extends Module {
  readonly cfg = { vocabSize: 512, context: 64 };
  constructor(private readonly prompt: number, private readonly script: number[]) { super(); }
  createCache(): KVCache { return new KVCache(0); }
  override forward(ids: fp.Tensor): fp.Tensor {
    const [b, t] = ids.shape as [number, number];
    const v = new Float32Array(b * t * 512);
    for (let r = 0; r < b; r++) v[(r * t + t - 1) * 512 + this.script[t - this.prompt]!] = 10;
    return fp.tensor(v, { shape: [b, t, 512] });
  }
}

describe('streaming text', () => {
  it('holds pieces that end inside a UTF-8 character and concatenates to decode(ids)', async () => {
    const tok = await fp.loadTokenizer(join('test/fixtures/tokenizers', 'bpe-bytelevel'));
    const text = 'héllo 日本語 ok';
    const ids = tok.encode(text, { addSpecialTokens: false }).ids;
    const lm = new Scripted(1, ids);
    const pieces: { id: number; text: string }[] = [];
    for await (const p of streamText(lm, tok, [5], { maxNewTokens: ids.length, useCache: false })) pieces.push(p);
    expect(pieces.map((p) => p.id)).toEqual(ids);
    expect(pieces.map((p) => p.text).join('')).toBe(text);
    expect(pieces.some((p) => p.text === '')).toBe(true);
    for (const p of pieces) expect(p.text).not.toMatch(/\ufffd/);
    // a byte that never completes is flushed as U+FFFD at the end, as decode gives it
    const cut = new Scripted(1, [ids[0]!, tok.encode('é', { addSpecialTokens: false }).ids[0]!]);
    const r = await generateText(cut, tok, [5], { maxNewTokens: 2, useCache: false });
    expect(r.text).toBe(tok.decode(r.ids));
  });
});

describe('streaming text with a Metaspace (SentencePiece-style) tokenizer', () => {
  it('keeps the space before the first new word, as transformers\' pipeline (decode(all) minus decode(prompt))', async () => {
    const tok = await fp.loadTokenizer(join('test/fixtures/tokenizers', 'unigram'));
    const prompt = tok.encode('Hello', { addSpecialTokens: false }).ids;
    const all = tok.encode('Hello world again', { addSpecialTokens: false }).ids;
    expect(all.slice(0, prompt.length)).toEqual(prompt);
    const rest = all.slice(prompt.length);
    const lm = new Scripted(prompt.length, rest);
    const r = await generateText(lm, tok, prompt, { maxNewTokens: rest.length, useCache: false });
    expect(r.ids).toEqual(rest);
    expect(tok.decode(rest)).toBe('world again');
    expect(r.text).toBe(' world again');
  });
});

const describeShared = HAS_SHARED ? describe : describe.skip;
if (!HAS_SHARED) console.warn(`test/text/generate.test.ts: shared-model tests skip: ${SHARED_REASON}`);

describeShared('generation on the shared checkpoints', () => {
  const gpt2 = resolve(SHARED_MODELS, 'gpt2');

  it('gpt2: stops at the first EOS id (kept), with one id or several', async () => {
    const model = await fp.loadHfModel(gpt2);
    const g = readReference(gpt2).generation!;
    const greedy = (eos: number | number[]) => fp.generate(model, g.prompt_ids, { maxNewTokens: 20, eosTokenId: eos });
    expect(g.new_ids.slice(0, 5)).toEqual([156, 308, 472, 472, 472]);
    expect(await greedy(472)).toEqual([156, 308, 472]);
    expect(await greedy([28, 308])).toEqual([156, 308]);
    expect(await greedy(511)).toEqual(g.new_ids);
  });

  for (const [name, dir] of [['gpt2', gpt2], ['llama', resolve(SHARED_MODELS, 'llama')], ['mistral (sliding window)', join(LOCAL_MODELS, 'mistral')], ['gpt-neox', join(LOCAL_MODELS, 'gpt-neox')]] as const) {
    it(`${name}: batched left-padded greedy == each prompt alone; the reference prompt gives the reference ids`, async () => {
      const model = await fp.loadHfModel(dir);
      const g = readReference(dir).generation;
      const prompts = [g?.prompt_ids ?? [17, 42, 99, 5, 63], [8, 21], [33, 44, 55, 66, 77, 88, 99, 11]];
      const n = 10;
      const batched = await generateBatch(model, prompts, { maxNewTokens: n });
      for (let r = 0; r < prompts.length; r++) expect(batched[r]).toEqual(await fp.generate(model, prompts[r]!, { maxNewTokens: n }));
      if (g) expect(batched[0]).toEqual(g.new_ids.slice(0, n));
    });
  }

  it('a batch row that hits EOS stops (null after) while the others go on', async () => {
    const model = await fp.loadHfModel(gpt2);
    const g = readReference(gpt2).generation!;
    const steps: (number | null)[][] = [];
    for await (const s of generateSteps(model, [g.prompt_ids, [8, 21, 34]], { maxNewTokens: 6, eosTokenId: 308 })) steps.push(s);
    expect(steps[0]![0]).toBe(156);
    expect(steps[1]![0]).toBe(308);
    expect(steps.slice(2).every((s) => s[0] === null)).toBe(true);
    expect(steps.length).toBeGreaterThan(2);
  });

  it('llama: seeded sampling repeats with its seed, and top-k 1 equals greedy', async () => {
    const model = await fp.loadHfModel(resolve(SHARED_MODELS, 'llama'));
    const p = [5, 6, 7];
    const s = (seed: number) => fp.generate(model, p, { maxNewTokens: 12, temperature: 1.3, topP: 0.95, seed });
    expect(await s(11)).toEqual(await s(11));
    expect(await s(11)).not.toEqual(await s(12));
    expect(await fp.generate(model, p, { maxNewTokens: 12, topK: 1, seed: 5 })).toEqual(await fp.generate(model, p, { maxNewTokens: 12 }));
  });
});
