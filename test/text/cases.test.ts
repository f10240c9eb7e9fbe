// Every case of every reference tokenizer: the same ids, tokens, offsets (UTF-16 and code points), template output
// and decoded text as the Python `tokenizers` library; plus the tokenizers of the HF model folders on their texts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/node.js';
import { expectAllCases, HAS_SHARED, readCases, SHARED_HF, SHARED_NOTE, TOKENIZER_FIXTURES } from './helpers.js';

describe('tokenizers trained for the fixtures (test/fixtures/tokenizers)', () => {
  for (const name of ['wordpiece', 'unigram', 'bpe-bytelevel']) {
    it(`${name}: all 203 cases`, async () => {
      const dir = join(TOKENIZER_FIXTURES, name);
      expectAllCases(await loadTokenizer(dir), readCases(dir));
    });
  }
});

describe.skipIf(!HAS_SHARED)(`real tokenizers from ../shared/hf/tokenizers${SHARED_NOTE}`, () => {
  for (const [name, vocab] of [['llama3', 128256], ['qwen3', 151669], ['llama2', 32000]] as const) {
    it(`${name}: all 203 cases`, async () => {
      const dir = join(SHARED_HF, 'tokenizers', name);
      const tok = await loadTokenizer(dir);
      expect(tok.vocabSize).toBe(vocab);
      expectAllCases(tok, readCases(dir));
    }, 60_000);
  }
});

describe.skipIf(!HAS_SHARED)(`tokenizers of the HF model folders${SHARED_NOTE}`, () => {
  const ref = (m: string) => JSON.parse(readFileSync(join(SHARED_HF, 'models', m, 'reference.json'), 'utf8'));

  it('bert: the text example gives its input_ids and tokens with [CLS]/[SEP]', async () => {
    const tok = await loadTokenizer(join(SHARED_HF, 'models', 'bert'));
    const ex = ref('bert').text_example;
    const e = tok.encode(ex.text);
    expect(e.ids).toEqual(ex.input_ids);
    expect(e.tokens).toEqual(ex.tokens);
  });

  for (const m of ['gpt2', 'llama', 'qwen2']) {
    it(`${m}: the generation prompt's first 5 ids and the decoded new ids`, async () => {
      const tok = await loadTokenizer(join(SHARED_HF, 'models', m));
      const g = ref(m).generation;
      expect(tok.encode(g.prompt_text, { addSpecialTokens: false }).ids.slice(0, 5)).toEqual(g.prompt_ids);
      expect(tok.decode(g.new_ids)).toBe(g.decoded_new_text);
    });
  }
});
