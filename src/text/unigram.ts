// The Unigram model of tokenizer.json (SentencePiece): the most probable segmentation by Viterbi over all vocabulary
// pieces; characters no piece covers become unk (score: lowest piece score - 10), consecutive unks fused.
import { type Json, tokFail } from './errors.js';
import { byteToken, type ModelToken, WordCache, type TokenizerModel } from './model.js';

const UNK_PENALTY = 10;
const encoder = new TextEncoder();

export class UnigramModel implements TokenizerModel {
  readonly type = 'Unigram';
  private readonly pieces: string[];
  private readonly scores: number[];
  private readonly index = new Map<string, number>();
  private readonly unkId: number | null;
  private readonly minScore: number;
  private readonly maxLen: number;
  private readonly byteFallback: boolean;
  private readonly fuseUnk: boolean;
  private readonly cache = new WordCache();

  constructor(cfg: Json) {
    if (!Array.isArray(cfg.vocab)) tokFail('Unigram model: expected "vocab" to be an array of [piece, score]');
    this.pieces = [];
    this.scores = [];
    let maxLen = 1;
    (cfg.vocab as unknown[]).forEach((e, i) => {
      if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'number') tokFail(`Unigram vocab entry ${i} must be [piece, score], got ${JSON.stringify(e)}`);
      this.pieces.push(e[0]);
      this.scores.push(e[1]);
      if (!this.index.has(e[0])) this.index.set(e[0], i);
      maxLen = Math.max(maxLen, e[0].length);
    });
    this.maxLen = maxLen;
    this.unkId = cfg.unk_id ?? null;
    if (this.unkId !== null && (this.unkId < 0 || this.unkId >= this.pieces.length)) tokFail(`Unigram unk_id ${this.unkId} is outside the vocabulary of ${this.pieces.length}`);
    this.minScore = this.scores.reduce((a, b) => Math.min(a, b), Infinity);
    this.byteFallback = Boolean(cfg.byte_fallback);
    this.fuseUnk = true;
  }

  get size(): number { return this.pieces.length; }
  tokenToId(t: string): number | undefined { return this.index.get(t); }
  idToToken(id: number): string | undefined { return this.pieces[id]; }

  /** The best segmentation as [start, end) spans of `word` (UTF-16 units). */
  segment(word: string): [number, number][] {
    const n = word.length;
    const best = new Float64Array(n + 1), from = new Int32Array(n + 1).fill(-1), id = new Int32Array(n + 1);
    const unkScore = this.minScore - UNK_PENALTY;
    for (let s = 0; s < n;) {
      const here = best[s]!;
      const c = word.charCodeAt(s);
      const mblen = c >= 0xd800 && c < 0xdc00 && s + 1 < n ? 2 : 1;
      let single = false;
      for (let e = s + 1; e <= n && e - s <= this.maxLen; e++) {
        const k = this.index.get(word.slice(s, e));
        if (k === undefined) continue;
        const cand = this.scores[k]! + here;
        if (from[e] === -1 || cand > best[e]!) { best[e] = cand; from[e] = s; id[e] = k; }
        if (e - s === mblen) single = true;
      }
      if (!single) {
        if (this.unkId === null) tokFail(`Unigram model has no unk_id and cannot encode ${JSON.stringify(word.slice(s, s + mblen))}`);
        const e = s + mblen, cand = unkScore + here;
        if (from[e] === -1 || cand > best[e]!) { best[e] = cand; from[e] = s; id[e] = this.unkId; }
      }
      s += mblen;
    }
    const spans: [number, number][] = [];
    let fusedEnd = -1;
    for (let e = n; e > 0;) {
      const s = from[e]!;
      if (this.fuseUnk && this.unkId !== null && id[e] === this.unkId) { if (fusedEnd < 0) fusedEnd = e; } else {
        if (fusedEnd >= 0) { spans.push([e, fusedEnd]); fusedEnd = -1; }
        spans.push([s, e]);
      }
      e = s;
    }
    if (fusedEnd >= 0) spans.push([0, fusedEnd]);
    return spans.reverse();
  }

  tokenize(word: string): ModelToken[] {
    return this.cache.get(word, this);
  }

  /** Viterbi segmentation of one word, no cache. */
  tokenizeUncached(word: string): ModelToken[] {
    const out: ModelToken[] = [];
    for (const [s, e] of this.segment(word)) {
      const value = word.slice(s, e);
      const k = this.index.get(value);
      if (k !== undefined) { out.push({ id: k, value, start: s, end: e }); continue; }
      if (this.byteFallback) {
        const bytes = [...encoder.encode(value)].map((b) => [byteToken(b), this.index.get(byteToken(b))] as const);
        if (bytes.every(([, b]) => b !== undefined)) { for (const [t, b] of bytes) out.push({ id: b!, value: t, start: s, end: e }); continue; }
      }
      out.push({ id: this.unkId!, value, start: s, end: e });
    }
    return out;
  }
}
