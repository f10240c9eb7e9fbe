// What every tokenizer.json model (BPE, WordPiece, Unigram, WordLevel) provides: tokens of one pre-tokenized word with their
// spans in that word (UTF-16 units), and the vocabulary both ways.

/** One token of a word: id, its spelling, and [start, end) in the word's UTF-16 units. */
export interface ModelToken {
  id: number;
  value: string;
  start: number;
  end: number;
}

export interface TokenizerModel {
  readonly type: 'BPE' | 'WordPiece' | 'Unigram' | 'WordLevel';
  tokenize(word: string): ModelToken[];
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** Number of entries in the model's own vocabulary (added tokens not included). */
  readonly size: number;
}

/** The id -> token table of a token -> id map (holes stay undefined). */
export function reverseVocab(vocab: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [t, id] of vocab) out[id] = t;
  return out;
}

/** `<0xAB>`: the byte-fallback token of one byte. */
export const byteToken = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;

/** Per-word results of a model, for words under 256 UTF-16 units and up to 10,000 words (then no more are added). */
export class WordCache {
  private readonly map = new Map<string, ModelToken[]>();

  /** The cached tokens of `word`, or `model.tokenizeUncached(word)` (remembered when word and cache are small enough). */
  get(word: string, model: { tokenizeUncached(word: string): ModelToken[] }): ModelToken[] {
    const hit = this.map.get(word);
    if (hit) return hit;
    const out = model.tokenizeUncached(word);
    if (word.length < 256 && this.map.size < 10000) this.map.set(word, out);
    return out;
  }
}
