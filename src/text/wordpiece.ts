// The WordPiece model of tokenizer.json (BERT): greedy longest-match-first with a continuing-subword prefix ("##");
// a word with any part not in the vocabulary, or longer than max_input_chars_per_word, becomes the unk token.
import { type Json, tokFail } from './errors.js';
import { type ModelToken, WordCache, reverseVocab, type TokenizerModel } from './model.js';

export class WordPieceModel implements TokenizerModel {
  readonly type = 'WordPiece';
  readonly vocab: Map<string, number>;
  private readonly ids: string[];
  private readonly unk: string;
  private readonly unkId: number;
  private readonly prefix: string;
  private readonly maxChars: number;
  private readonly cache = new WordCache();

  constructor(cfg: Json) {
    if (!cfg.vocab || typeof cfg.vocab !== 'object' || Array.isArray(cfg.vocab)) tokFail('WordPiece model: expected "vocab" to be an object of token -> id');
    this.vocab = new Map(Object.entries(cfg.vocab as Record<string, number>));
    this.ids = reverseVocab(this.vocab);
    this.unk = cfg.unk_token ?? '[UNK]';
    const unkId = this.vocab.get(this.unk);
    if (unkId === undefined) tokFail(`WordPiece unk_token ${JSON.stringify(this.unk)} is not in the vocabulary`);
    this.unkId = unkId;
    this.prefix = cfg.continuing_subword_prefix ?? '##';
    this.maxChars = cfg.max_input_chars_per_word ?? 100;
  }

  get size(): number { return this.vocab.size; }
  tokenToId(t: string): number | undefined { return this.vocab.get(t); }
  idToToken(id: number): string | undefined { return this.ids[id]; }

  tokenize(word: string): ModelToken[] {
    return this.cache.get(word, this);
  }

  /** Greedy longest-match-first, no cache. */
  tokenizeUncached(word: string): ModelToken[] {
    const unk = [{ id: this.unkId, value: this.unk, start: 0, end: word.length }];
    if ([...word].length > this.maxChars) return unk;
    const out: ModelToken[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found: ModelToken | null = null;
      while (start < end) {
        const sub = (start > 0 ? this.prefix : '') + word.slice(start, end);
        const id = this.vocab.get(sub);
        if (id !== undefined) { found = { id, value: sub, start, end }; break; }
        const c = word.charCodeAt(end - 1);
        end -= c >= 0xdc00 && c < 0xe000 && end - 2 >= start ? 2 : 1;
      }
      if (!found) return unk;
      out.push(found);
      start = found.end;
    }
    return out;
  }
}
