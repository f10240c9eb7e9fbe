// Where the tokenizer references live: the three trained tokenizers copied into test/fixtures/tokenizers, and the
// real Llama 3 / Qwen3 / Llama 2 ones (and the HF model folders) in ../shared/hf, read in place, never copied.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Tokenizer } from '../../src/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TOKENIZER_FIXTURES = join(ROOT, 'test/fixtures/tokenizers');
export const SHARED_HF = resolve(ROOT, '../shared/hf');
export const HAS_SHARED = existsSync(join(SHARED_HF, 'tokenizers'));
/** Appended to the titles of suites that read ../shared: the one-line reason they skip in a clone without it. */
export const SHARED_NOTE = HAS_SHARED ? '' : ' (skipped: ../shared/hf is absent in this checkout)';

export interface TokCase {
  id: number;
  category: string;
  text: string;
  ids: number[];
  tokens: string[];
  offsets: [number, number][];
  offsets_utf16: [number, number][];
  ids_with_special: number[];
  tokens_with_special: string[];
  special_tokens_mask: number[];
  decode_ids: string;
  decode_ids_skip: string;
  decode_with_special: string;
  decode_with_special_skip: string;
}

export function readCases(dir: string): TokCase[] {
  return (JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as { cases: TokCase[] }).cases;
}

/** UTF-16 offsets of `text` as code point offsets (what the Python library reports). */
export function toCodePoints(text: string, spans: [number, number][]): [number, number][] {
  const cp = new Int32Array(text.length + 1);
  let n = 0;
  for (let i = 0; i <= text.length; i++) {
    cp[i] = n;
    const c = text.charCodeAt(i);
    if (!(c >= 0xd800 && c < 0xdc00 && i + 1 < text.length)) n++;
    else { cp[i + 1] = n; i++; n++; }
  }
  return spans.map(([a, b]) => [cp[a]!, cp[b]!]);
}

/** Every field of every case: ids, tokens, both offset units, the template, and the four decodes. */
export function expectAllCases(tok: Tokenizer, cases: TokCase[]): void {
  expect(cases.length).toBe(203);
  for (const c of cases) {
    const what = `case ${c.id} (${c.category}) ${JSON.stringify(c.text).slice(0, 50)}`;
    const e = tok.encode(c.text, { addSpecialTokens: false });
    expect({ what, ids: e.ids, tokens: e.tokens, offsets: e.offsets }).toEqual({ what, ids: c.ids, tokens: c.tokens, offsets: c.offsets_utf16 });
    expect({ what, cp: toCodePoints(c.text, e.offsets) }).toEqual({ what, cp: c.offsets });
    const w = tok.encode(c.text, { addSpecialTokens: true });
    expect({ what, ids: w.ids, tokens: w.tokens, mask: w.specialTokensMask }).toEqual({ what, ids: c.ids_with_special, tokens: c.tokens_with_special, mask: c.special_tokens_mask });
    expect({ what, d: tok.decode(c.ids) }).toEqual({ what, d: c.decode_ids });
    expect({ what, d: tok.decode(c.ids, { skipSpecialTokens: true }) }).toEqual({ what, d: c.decode_ids_skip });
    expect({ what, d: tok.decode(c.ids_with_special) }).toEqual({ what, d: c.decode_with_special });
    expect({ what, d: tok.decode(c.ids_with_special, { skipSpecialTokens: true }) }).toEqual({ what, d: c.decode_with_special_skip });
  }
}
