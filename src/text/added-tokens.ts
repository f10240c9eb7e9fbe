// Added and special tokens (tokenizer.json `added_tokens`): found leftmost-longest in the raw text before the
// normalizer runs (normalized: false) or in each normalized piece (normalized: true), with the lstrip / rstrip /
// single_word rules of the Rust library; the pieces between them go on to pre-tokenization and the model.
import { type Json, tokFail } from './errors.js';
import { charLen, NStr } from './normalized.js';
import type { Normalizer } from './normalizers.js';

export interface AddedToken {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A piece of the input: either an added token (with its id) or text for the pre-tokenizer and model. */
export interface Piece {
  n: NStr;
  id: number | null;
  content?: string;
}

const WHITE = /^\p{White_Space}$/u;
const WORD = /^[\p{L}\p{N}_]$/u;

export function parseAddedTokens(list: unknown): AddedToken[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) tokFail('expected "added_tokens" to be an array');
  return list.map((t: Json, i) => {
    if (typeof t?.content !== 'string' || !Number.isInteger(t?.id)) tokFail(`added_tokens[${i}] needs an integer "id" and a string "content", got ${JSON.stringify(t)}`);
    return { id: t.id, content: t.content, singleWord: Boolean(t.single_word), lstrip: Boolean(t.lstrip), rstrip: Boolean(t.rstrip), normalized: t.normalized ?? !t.special, special: Boolean(t.special) };
  });
}

/** Finds one set of added tokens in a string, leftmost-longest. */
class Matcher {
  private readonly byFirst = new Map<number, { text: string; tok: AddedToken }[]>();
  /** First UTF-16 units of the tokens, to skip the rest of the text with one regex search. */
  private readonly firstRe: RegExp;
  constructor(entries: { text: string; tok: AddedToken }[]) {
    for (const e of entries) {
      if (!e.text) continue;
      const k = e.text.charCodeAt(0);
      const list = this.byFirst.get(k) ?? [];
      list.push(e);
      this.byFirst.set(k, list);
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b.text.length - a.text.length);
    const hex = [...this.byFirst.keys()].map((k) => `\\u${k.toString(16).padStart(4, '0')}`).join('');
    this.firstRe = new RegExp(hex ? `[${hex}]` : '[^\\s\\S]', 'g');
  }
  get empty(): boolean { return this.byFirst.size === 0; }

  /** [start, end, token] of every match kept, after the single_word and strip rules. */
  find(s: string): [number, number, AddedToken][] {
    const out: [number, number, AddedToken][] = [];
    let from = 0; // where the previous match (with its stripped spaces) ended
    for (let i = 0; i < s.length;) {
      this.firstRe.lastIndex = i;
      if (!this.firstRe.exec(s)) break;
      i = this.firstRe.lastIndex - 1;
      const list = this.byFirst.get(s.charCodeAt(i));
      const hit = list?.find((e) => s.startsWith(e.text, i));
      if (!hit) { i++; continue; }
      let start = i, stop = i + hit.text.length;
      const tok = hit.tok;
      i = stop;
      if (tok.singleWord) {
        const before = start > 0 ? [...s.slice(Math.max(0, start - 2), start)].pop()! : '';
        const after = stop < s.length ? String.fromCodePoint(s.codePointAt(stop)!) : '';
        if ((before && WORD.test(before)) || (after && WORD.test(after))) continue;
      }
      if (tok.lstrip) {
        let a = start;
        while (a > 0 && WHITE.test(s[a - 1]!)) a--;
        start = Math.max(a, from);
      }
      if (tok.rstrip) while (stop < s.length && WHITE.test(s.slice(stop, stop + charLen(s, stop)))) stop += charLen(s, stop);
      out.push([start, stop, tok]);
      from = stop;
      i = Math.max(i, stop);
    }
    return out;
  }
}

export class AddedVocabulary {
  readonly tokens: AddedToken[];
  readonly byContent = new Map<string, AddedToken>();
  readonly byId = new Map<number, AddedToken>();
  private readonly raw: Matcher;
  private readonly normalizedMatcher: Matcher;

  constructor(tokens: AddedToken[], normalizer: Normalizer | null) {
    this.tokens = tokens;
    for (const t of tokens) { this.byContent.set(t.content, t); this.byId.set(t.id, t); }
    this.raw = new Matcher(tokens.filter((t) => !t.normalized).map((tok) => ({ text: tok.content, tok })));
    this.normalizedMatcher = new Matcher(tokens.filter((t) => t.normalized).map((tok) => ({ text: normalizer ? normalizer(NStr.of(tok.content)).s : tok.content, tok })));
  }

  isSpecial(id: number): boolean { return this.byId.get(id)?.special ?? false; }

  /** Cut `text` at added tokens, normalize the rest and cut it again at the normalized added tokens. */
  extract(text: string, normalizer: Normalizer | null): Piece[] {
    const whole = NStr.of(text);
    const out: Piece[] = [];
    const normalizePiece = (n: NStr) => {
      if (normalizer) n = normalizer(n);
      cut(n, this.normalizedMatcher, (p) => out.push(p));
    };
    cut(whole, this.raw, (p) => (p.id === null ? normalizePiece(p.n) : out.push(p)));
    return out;
  }
}

function cut(n: NStr, m: Matcher, emit: (p: Piece) => void): void {
  if (m.empty) { if (n.s.length) emit({ n, id: null }); return; }
  let prev = 0;
  for (const [a, b, tok] of m.find(n.s)) {
    if (a > prev) emit({ n: n.slice(prev, a), id: null });
    emit({ n: n.slice(a, b), id: tok.id, content: tok.content });
    prev = b;
  }
  if (prev < n.s.length) emit({ n: prev === 0 ? n : n.slice(prev, n.s.length), id: null });
}
