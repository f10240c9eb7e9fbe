// The BPE model of tokenizer.json: byte-level (GPT-2, Llama 3, Qwen) and SentencePiece-style with byte fallback
// (Llama 2). Merges run from a binary heap keyed by (rank, position) over a linked list of symbols, as the Rust
// library does, so a word of n symbols costs O(n log n); results of words under 256 units are cached.
import { type Json, tokFail } from './errors.js';
import { byteToken, type ModelToken, WordCache, reverseVocab, type TokenizerModel } from './model.js';

/** Ids and ranks stay below 2^21 (heap keys pack rank and position). */
const ID_SPAN = 2 ** 21;
/** Packs (rank, position) into one heap key; positions stay below 2^26. */
const POS_SPAN = 2 ** 26;

const encoder = new TextEncoder();

export class BpeModel implements TokenizerModel {
  readonly type = 'BPE';
  readonly vocab: Map<string, number>;
  private readonly ids: string[];
  /** (left id, right id) -> merge rank and merged id */
  private readonly merges: PairMap;
  private readonly unk: string | null;
  private readonly fuseUnk: boolean;
  private readonly byteFallback: boolean;
  private readonly ignoreMerges: boolean;
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly cache = new WordCache();

  constructor(cfg: Json) {
    if (cfg.dropout !== null && cfg.dropout !== undefined && cfg.dropout !== 0) tokFail(`BPE dropout must be null (dropout makes encoding random), got ${JSON.stringify(cfg.dropout)}`);
    if (!cfg.vocab || typeof cfg.vocab !== 'object' || Array.isArray(cfg.vocab)) tokFail('BPE model: expected "vocab" to be an object of token -> id');
    this.vocab = new Map(Object.entries(cfg.vocab as Record<string, number>));
    this.ids = reverseVocab(this.vocab);
    if (this.ids.length >= ID_SPAN) tokFail(`BPE model: vocabularies of more than ${ID_SPAN} tokens are not supported, got ${this.ids.length}`);
    this.unk = cfg.unk_token ?? null;
    this.fuseUnk = Boolean(cfg.fuse_unk);
    this.byteFallback = Boolean(cfg.byte_fallback);
    this.ignoreMerges = Boolean(cfg.ignore_merges);
    this.prefix = cfg.continuing_subword_prefix ?? '';
    this.suffix = cfg.end_of_word_suffix ?? '';
    const merges = cfg.merges ?? [];
    if (!Array.isArray(merges)) tokFail('BPE model: expected "merges" to be an array');
    this.merges = new PairMap(merges.length);
    merges.forEach((m: unknown, rank: number) => {
      let a: string, b: string;
      if (typeof m === 'string') {
        const sp = m.indexOf(' ');
        if (sp < 0 || m.indexOf(' ', sp + 1) >= 0) tokFail(`BPE merge ${rank} ${JSON.stringify(m)} is not two tokens separated by one space`);
        a = m.slice(0, sp); b = m.slice(sp + 1);
      } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') [a, b] = m as [string, string];
      else return tokFail(`BPE merge ${rank} must be "a b" or ["a", "b"], got ${JSON.stringify(m)}`);
      const ia = this.vocab.get(a), ib = this.vocab.get(b);
      const merged = a + (this.prefix && b.startsWith(this.prefix) ? b.slice(this.prefix.length) : b);
      const im = this.vocab.get(merged);
      if (ia === undefined || ib === undefined || im === undefined) tokFail(`BPE merge ${rank} ${JSON.stringify(m)} uses a token missing from the vocabulary`);
      this.merges.add(ia, ib, rank, im);
    });
    if (this.unk !== null && !this.vocab.has(this.unk)) tokFail(`BPE unk_token ${JSON.stringify(this.unk)} is not in the vocabulary`);
  }

  get size(): number { return this.vocab.size; }
  tokenToId(t: string): number | undefined { return this.vocab.get(t); }
  idToToken(id: number): string | undefined { return this.ids[id]; }

  tokenize(word: string): ModelToken[] {
    return this.cache.get(word, this);
  }

  /** The merge loop, no cache (tests compare it with mergeNaive). */
  tokenizeUncached(word: string): ModelToken[] {
    if (this.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) return [{ id, value: word, start: 0, end: word.length }];
    }
    const [sid, sstart, send] = this.initialSymbols(word);
    const n = sid.length;
    if (n === 0) return [];
    const prev = new Int32Array(n), next = new Int32Array(n), alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
    const heap = new Heap();
    const M = this.merges;
    for (let i = 0; i + 1 < n; i++) {
      const m = M.find(sid[i]!, sid[i + 1]!);
      if (m >= 0) heap.push(M.rank[m]! * POS_SPAN + i, M.merged[m]!);
    }
    while (heap.size) {
      const [key, newId] = heap.pop();
      const pos = key % POS_SPAN;
      if (!alive[pos]) continue;
      const r = next[pos]!;
      if (r < 0) continue;
      const m = M.find(sid[pos]!, sid[r]!);
      if (m < 0 || M.merged[m] !== newId) continue;
      sid[pos] = newId;
      send[pos] = send[r]!;
      alive[r] = 0;
      next[pos] = next[r]!;
      if (next[r]! >= 0) prev[next[r]!] = pos;
      const p = prev[pos]!;
      if (p >= 0) {
        const mp = M.find(sid[p]!, newId);
        if (mp >= 0) heap.push(M.rank[mp]! * POS_SPAN + p, M.merged[mp]!);
      }
      const nx = next[pos]!;
      if (nx >= 0) {
        const mn = M.find(newId, sid[nx]!);
        if (mn >= 0) heap.push(M.rank[mn]! * POS_SPAN + pos, M.merged[mn]!);
      }
    }
    const out: ModelToken[] = [];
    for (let i = 0; i >= 0 && i < n; i = next[i]!) out.push({ id: sid[i]!, value: this.ids[sid[i]!]!, start: sstart[i]!, end: send[i]! });
    return out;
  }

  /** One symbol per character (with prefix/suffix), byte-fallback tokens or unk for characters not in the vocab. */
  initialSymbols(word: string): [number[], number[], number[]] {
    const ids: number[] = [], starts: number[] = [], ends: number[] = [];
    let unkStart = -1, unkEnd = -1;
    const unkId = this.unk === null ? -1 : this.vocab.get(this.unk)!;
    const flushUnk = () => { if (unkStart >= 0) { ids.push(unkId); starts.push(unkStart); ends.push(unkEnd); unkStart = -1; } };
    let i = 0;
    let first = true;
    while (i < word.length) {
      const c = word.codePointAt(i)!;
      const len = c > 0xffff ? 2 : 1;
      const ch = word.slice(i, i + len);
      const last = i + len >= word.length;
      let s = ch;
      if (!first && this.prefix) s = this.prefix + s;
      if (last && this.suffix) s += this.suffix;
      const id = this.vocab.get(s);
      if (id !== undefined) {
        flushUnk();
        ids.push(id); starts.push(i); ends.push(i + len);
      } else {
        let done = false;
        if (this.byteFallback) {
          const bytes = [...encoder.encode(s)].map((b) => this.vocab.get(byteToken(b)));
          if (bytes.every((b) => b !== undefined)) {
            for (const b of bytes) { ids.push(b!); starts.push(i); ends.push(i + len); }
            done = true;
          }
        }
        if (!done && this.unk !== null) {
          if (unkStart >= 0 && this.fuseUnk) unkEnd = i + len;
          else { flushUnk(); unkStart = i; unkEnd = i + len; }
        }
      }
      first = false;
      i += len;
    }
    flushUnk();
    return [ids, starts, ends];
  }

  /**
   * Reference twin of the merge loop: rescan all neighbouring pairs, apply the lowest-ranked (leftmost on ties),
   * repeat. O(n^2), for tests only.
   */
  mergeNaive(word: string): number[] {
    if (this.ignoreMerges && this.vocab.has(word)) return [this.vocab.get(word)!];
    const ids = this.initialSymbols(word)[0];
    for (;;) {
      let best = -1, bestRank = Infinity, bestId = -1;
      for (let i = 0; i + 1 < ids.length; i++) {
        const m = this.merges.find(ids[i]!, ids[i + 1]!);
        if (m >= 0 && this.merges.rank[m]! < bestRank) { bestRank = this.merges.rank[m]!; best = i; bestId = this.merges.merged[m]!; }
      }
      if (best < 0) return ids;
      ids.splice(best, 2, bestId);
    }
  }
}

/** An open-addressing hash table from a pair of ids to a slot holding the merge's rank and merged id. */
class PairMap {
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  readonly rank: Int32Array;
  readonly merged: Int32Array;
  private readonly mask: number;
  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.left = new Int32Array(size).fill(-1);
    this.right = new Int32Array(size);
    this.rank = new Int32Array(size);
    this.merged = new Int32Array(size);
  }
  private slot(a: number, b: number): number {
    let h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca6b)) & this.mask;
    while (this.left[h] !== -1 && (this.left[h] !== a || this.right[h] !== b)) h = (h + 1) & this.mask;
    return h;
  }
  /** A pair listed twice keeps its last rank, as the Rust library's map (collected in order) does. */
  add(a: number, b: number, rank: number, merged: number): void {
    const h = this.slot(a, b);
    this.left[h] = a; this.right[h] = b; this.rank[h] = rank; this.merged[h] = merged;
  }
  /** The slot of (a, b), or -1. */
  find(a: number, b: number): number {
    const h = this.slot(a, b);
    return this.left[h] === -1 ? -1 : h;
  }
}

/** A binary min-heap of (key, value) pairs on plain arrays. */
class Heap {
  private keys: number[] = [];
  private vals: number[] = [];
  get size(): number { return this.keys.length; }
  push(k: number, v: number): void {
    const ks = this.keys, vs = this.vals;
    let i = ks.length;
    ks.push(k); vs.push(v);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (ks[p]! <= k) break;
      ks[i] = ks[p]!; vs[i] = vs[p]!;
      i = p;
    }
    ks[i] = k; vs[i] = v;
  }
  pop(): [number, number] {
    const ks = this.keys, vs = this.vals;
    const top: [number, number] = [ks[0]!, vs[0]!];
    const k = ks.pop()!, v = vs.pop()!;
    const n = ks.length;
    if (n) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && ks[c + 1]! < ks[c]!) c++;
        if (ks[c]! >= k) break;
        ks[i] = ks[c]!; vs[i] = vs[c]!;
        i = c;
      }
      ks[i] = k; vs[i] = v;
    }
    return top;
  }
}
