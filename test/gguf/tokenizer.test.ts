// The tokenizer stored in a GGUF file: the llama files' byte-level BPE ("gpt2") against the folder's tokenizer.json
// on the reference prompt and all 203 cases of tokenizers/bpe-bytelevel; a SentencePiece ("llama") vocabulary written
// from tokenizers/llama2 (scores = merge order) against its cases.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { SHARED_MODELS } from '../hf/helpers.js';

const LLAMA = resolve(SHARED_MODELS, 'llama');
const TOKS = resolve(SHARED_MODELS, '../tokenizers');
const HAS = existsSync(resolve(LLAMA, 'model-f32.gguf'));
type Case = { text: string; ids: number[]; ids_with_special: number[]; decode_ids: string };
const cases = (name: string): Case[] => JSON.parse(readFileSync(resolve(TOKS, name, 'cases.json'), 'utf8')).cases;

describe.skipIf(!HAS)('GGUF tokenizers', () => {
  it('gpt2 BPE from model-f32.gguf: the reference prompt and all 203 bpe-bytelevel cases as tokenizer.json encodes them', async () => {
    const tok = await fp.ggufTokenizer(await fp.readGgufFile(resolve(LLAMA, 'model-f32.gguf')));
    const folder = await fp.loadTokenizer(resolve(LLAMA, 'tokenizer.json'));
    const gen = JSON.parse(readFileSync(resolve(LLAMA, 'reference.json'), 'utf8')).generation;
    const ids = tok.encode(gen.prompt_text).ids;
    expect(ids).toEqual(folder.encode(gen.prompt_text).ids);
    expect(ids.slice(0, 5)).toEqual(gen.prompt_ids);
    for (const c of cases('bpe-bytelevel')) {
      expect(tok.encode(c.text, { addSpecialTokens: false }).ids, c.text).toEqual(c.ids);
      expect(tok.encode(c.text).ids, c.text).toEqual(c.ids_with_special);
      expect(tok.decode(c.ids), c.text).toEqual(c.decode_ids);
    }
  });

  it('llama SentencePiece vocab with scores, byte tokens and add_bos: the llama2 cases', async () => {
    const j = JSON.parse(readFileSync(resolve(TOKS, 'llama2', 'tokenizer.json'), 'utf8'));
    const vocab = j.model.vocab as Record<string, number>;
    const tokens: string[] = [];
    for (const [t, i] of Object.entries(vocab)) tokens[i] = t;
    // scores: a piece made by the k-th merge scores -k; pieces no merge makes (bytes, characters) score 0
    const scores = new Array<number>(tokens.length).fill(0);
    const seen = new Set<string>();
    (j.model.merges as string[]).forEach((m, k) => { const p = m.replace(' ', ''); if (!seen.has(p)) { seen.add(p); scores[vocab[p]!] = -k - 1; } });
    const types = tokens.map((t, i) => (i === 0 ? 2 : i <= 2 ? 3 : /^<0x[0-9A-F]{2}>$/.test(t) ? 6 : 1));
    const bytes = fp.writeGguf({
      'general.architecture': 'llama', 'tokenizer.ggml.model': 'llama', 'tokenizer.ggml.tokens': { type: 'ARRAY', itemType: 'STRING', value: tokens },
      'tokenizer.ggml.scores': { type: 'ARRAY', itemType: 'FLOAT32', value: scores }, 'tokenizer.ggml.token_type': { type: 'ARRAY', itemType: 'INT32', value: types },
      'tokenizer.ggml.bos_token_id': 1, 'tokenizer.ggml.eos_token_id': 2, 'tokenizer.ggml.unknown_token_id': 0, 'tokenizer.ggml.add_bos_token': true,
    }, []);
    const tok = await fp.ggufTokenizer(fp.readGguf(bytes));
    let same = 0, sameSpecial = 0, decoded = 0;
    const all = cases('llama2');
    for (const c of all) {
      if (JSON.stringify(tok.encode(c.text, { addSpecialTokens: false }).ids) === JSON.stringify(c.ids)) same++;
      if (JSON.stringify(tok.encode(c.text).ids) === JSON.stringify(c.ids_with_special)) sameSpecial++;
      if (tok.decode(c.ids) === c.decode_ids) decoded++;
    }
    expect([same, sameSpecial, decoded]).toEqual([all.length, all.length, all.length]);
  });

  it('an unknown tokenizer model or pre-tokenizer is one error', async () => {
    const mk = (m: Record<string, fp.GgufValue>) => fp.ggufTokenizer(fp.readGguf(fp.writeGguf({ 'tokenizer.ggml.tokens': ['a', 'b'], 'tokenizer.ggml.merges': ['a b'], ...m }, [])));
    await expect(mk({ 'tokenizer.ggml.model': 'rwkv' })).rejects.toThrow(/'tokenizer.ggml.model' = "rwkv" is not supported/);
    await expect(mk({ 'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.pre': 'deepseek-coder' })).rejects.toThrow(/'tokenizer.ggml.pre' = 'deepseek-coder' is not supported/);
  });
});
