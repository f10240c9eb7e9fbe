// pipeline(task, folder) against transformers' own pipelines (test/fixtures/hf-pipelines/pipelines.json, written by
// test/hf/make_pipeline_refs.py): labels, scores (1e-4), tokens, spans, filled sequences, embeddings and greedy text.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { HAS_SHARED, SHARED_MODELS, SHARED_REASON } from '../hf/helpers.js';

const DIR = resolve(__dirname, '../fixtures/hf-pipelines');
const ref = JSON.parse(readFileSync(join(DIR, 'pipelines.json'), 'utf8'));
const texts: string[] = ref.texts;
const TOL = 1e-4;
const describeShared = HAS_SHARED ? describe : describe.skip;
if (!HAS_SHARED) console.warn(`test/pipeline/pipeline.test.ts: shared-model tests skip: ${SHARED_REASON}`);

describe('fill-mask (tiny BertForMaskedLM with the WordPiece tokenizer)', () => {
  it('gives transformers\' top 5: token ids, token_str, sequence, scores within 1e-4', async () => {
    const fill = await fp.pipeline('fill-mask', join(DIR, 'bert-fill-mask'));
    const res = (await fill(ref.fill_mask.texts)) as fp.MaskFill[][];
    res.forEach((got, i) => {
      const want = ref.fill_mask.results[i] as fp.MaskFill[];
      expect(got.map((g) => [g.token, g.token_str, g.sequence])).toEqual(want.map((w) => [w.token, w.token_str, w.sequence]));
      got.forEach((g, j) => expect(Math.abs(g.score - want[j]!.score)).toBeLessThan(TOL));
    });
    await expect(fill('no mask here')).rejects.toThrow(/expected exactly one \[MASK\] in the text, found 0/);
    fill.dispose();
  });
});

describe('token-classification (tiny BertForTokenClassification, labels O/B-PER/I-PER/B-LOC/I-LOC)', () => {
  it('gives transformers\' entities (aggregation none, O dropped): label, index, word, span, score within 1e-4', async () => {
    const ner = await fp.pipeline('token-classification', join(DIR, 'bert-ner'));
    for (let i = 0; i < texts.length; i++) {
      const got = (await ner(texts[i]!)) as fp.TokenEntity[];
      const want = ref.token_classification.results[i] as fp.TokenEntity[];
      expect(want.length).toBeGreaterThan(0);
      expect(got.map(({ score: _, ...e }) => e)).toEqual(want.map(({ score: _, ...e }) => e));
      got.forEach((g, j) => expect(Math.abs(g.score - want[j]!.score)).toBeLessThan(TOL));
    }
    ner.dispose();
  });

  it('a model without the task\'s head is refused, naming both', async () => {
    await expect(fp.pipeline('token-classification', join(DIR, 'bert-fill-mask'))).rejects.toThrow(/^forwardpass: pipeline\('token-classification'\): '.*bert-fill-mask' holds a BertForMaskedLM; this task needs a \.\.\.ForTokenClassification model$/);
    await expect(fp.pipeline('text-generation', join(DIR, 'bert-ner'))).rejects.toThrow(/holds a BertForTokenClassification; this task needs a causal LM/);
  });
});

describeShared('pipelines on the shared checkpoints', () => {
  it('text-classification (bert): every label\'s softmax score, best first, within 1e-4; top 1 by default', async () => {
    const clf = await fp.pipeline('text-classification', resolve(SHARED_MODELS, 'bert'));
    for (let i = 0; i < texts.length; i++) {
      const want = (ref.text_classification.results[i] as fp.Scored[][])[0]!;
      const got = (await clf(texts[i]!, { topK: null })) as fp.Scored[];
      expect(got.map((g) => g.label)).toEqual(want.map((w) => w.label));
      got.forEach((g, j) => expect(Math.abs(g.score - want[j]!.score)).toBeLessThan(TOL));
      expect(await clf(texts[i]!)).toHaveLength(1);
    }
    clf.dispose();
  });

  it('feature-extraction (bert): mean-pooled, L2-normalized embeddings within 1e-4; pooling none gives raw hidden states', async () => {
    const embed = await fp.pipeline('feature-extraction', resolve(SHARED_MODELS, 'bert'));
    const got = (await embed(texts)) as number[][];
    got.forEach((v, i) => {
      const want = ref.feature_extraction.mean_normalized[i] as number[];
      expect(v.length).toBe(want.length);
      expect(Math.max(...v.map((x, j) => Math.abs(x - want[j]!)))).toBeLessThan(TOL);
      expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThan(1e-6);
    });
    const raw = (await embed(texts[0]!, { pooling: 'none' })) as number[][];
    const want8 = ref.feature_extraction.raw_first_text_first_token_first8 as number[];
    expect(Math.max(...raw[0]!.slice(0, 8).map((x, j) => Math.abs(x - want8[j]!)))).toBeLessThan(TOL);
    await expect(embed('x', { pooling: 'max' })).rejects.toThrow(/pooling must be 'mean', 'cls' or 'none', got 'max'/);
    embed.dispose();
  });

  it('text-generation (gpt2): greedy text equals transformers\' pipeline; the stream joins to the same text', async () => {
    const gen = await fp.pipeline('text-generation', resolve(SHARED_MODELS, 'gpt2'));
    const t = ref.text_generation;
    const [out] = (await gen(t.prompt, { maxNewTokens: t.max_new_tokens })) as { generated_text: string }[];
    expect(out!.generated_text).toBe(t.result[0].generated_text);
    let streamed = '';
    for await (const p of gen.stream(t.prompt, { maxNewTokens: t.max_new_tokens })) streamed += p.text;
    expect(t.prompt + streamed).toBe(t.result[0].generated_text);
    gen.dispose();
  });

  it('an unknown task names the supported ones', async () => {
    await expect(fp.pipeline('summarization' as fp.PipelineTask, resolve(SHARED_MODELS, 'bert'))).rejects.toThrow(/unknown task 'summarization'; expected one of text-generation, feature-extraction/);
  });
});
