// The WordLevel model of tokenizer.json: each pre-tokenized word is one token, looked up whole; a word not in the
// vocabulary becomes unk_token (an error when the vocabulary has no unk token, as in the Rust library).
import { type Json, tokFail } from './errors.js';
import { type ModelToken, reverseVocab, type TokenizerModel } from './model.js';

export class WordLevelModel implements TokenizerModel {
  readonly type = 'WordLevel';
  readonly vocab: Map<string, number>;
  private readonly ids: string[];
  private readonly unk: string;

  constructor(cfg: Json) {
    if (!cfg.vocab || typeof cfg.vocab !== 'object' || Array.isArray(cfg.vocab)) tokFail('WordLevel model: expected "vocab" to be an object of token -> id');
    this.vocab = new Map(Object.entries(cfg.vocab as Record<string, number>));
    this.ids = reverseVocab(this.vocab);
    this.unk = cfg.unk_token ?? '<unk>';
  }

  get size(): number { return this.vocab.size; }
  tokenToId(t: string): number | undefined { return this.vocab.get(t); }
  idToToken(id: number): string | undefined { return this.ids[id]; }

  tokenize(word: string): ModelToken[] {
    const id = this.vocab.get(word);
    if (id !== undefined) return [{ id, value: word, start: 0, end: word.length }];
    const unk = this.vocab.get(this.unk);
    if (unk === undefined) tokFail(`WordLevel: ${JSON.stringify(word.slice(0, 40))} is not in the vocabulary and unk_token ${JSON.stringify(this.unk)} is not either`);
    return [{ id: unk, value: this.unk, start: 0, end: word.length }];
  }
}
