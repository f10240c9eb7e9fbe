// A string being normalized and pre-tokenized, with the span of the ORIGINAL text (UTF-16 indices) that each of its
// UTF-16 units came from: the JavaScript twin of the `tokenizers` NormalizedString, so offsets survive every step.

/** A pattern to split or replace on: a RegExp (global, 'u'), a literal string, or a per-character test. */
export type Pattern = RegExp | string | ((ch: string) => boolean);

/** How a split treats the pieces its pattern matched (the `behavior` field of tokenizer.json). */
export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/** A new character and its change in length, as the Rust `transform` takes them: 0 replaces one old character,
 * +1 is inserted (it takes the previous character's span), -n replaces one old character and drops n more. */
export type CharChange = [ch: string, change: number];

export class NStr {
  /**
   * @param s the current (normalized) text
   * @param starts/ends per UTF-16 unit of `s`, its span in the original text; null means `s` is untouched original
   *   text starting at `base` (the fast path for text no step has changed the length of)
   * @param origStart/origEnd the span of the original text this piece covers
   */
  constructor(
    public s: string,
    public starts: Int32Array | null,
    public ends: Int32Array | null,
    public base: number,
    public origStart: number,
    public origEnd: number,
  ) {}

  static of(text: string, base = 0): NStr {
    return new NStr(text, null, null, base, base, base + text.length);
  }

  /** Span in the original text of the units [a, b) of `s` (an empty range maps to an empty span). */
  toOriginal(a: number, b: number): [number, number] {
    if (this.starts === null) return [this.base + a, this.base + b];
    if (this.s.length === 0) return [this.origStart, this.origEnd];
    if (a >= b) {
      const p = a < this.s.length ? this.starts[a]! : this.ends![this.s.length - 1]!;
      return [p, p];
    }
    return [this.starts[a]!, this.ends![b - 1]!];
  }

  private materialize(): void {
    if (this.starts !== null) return;
    const n = this.s.length;
    this.starts = new Int32Array(n);
    this.ends = new Int32Array(n);
    for (let i = 0; i < n; i++) { this.starts[i] = this.base + i; this.ends[i] = this.base + i + 1; }
    // a surrogate pair is one character: both units carry its whole span
    for (let i = 0; i + 1 < n; i++) {
      const c = this.s.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00) { this.ends[i] = this.base + i + 2; this.starts[i + 1] = this.base + i; i++; }
    }
  }

  /** Sub-piece of the units [a, b). */
  slice(a: number, b: number): NStr {
    if (this.starts === null) return new NStr(this.s.slice(a, b), null, null, this.base + a, this.base + a, this.base + b);
    const [os, oe] = this.toOriginal(a, b);
    return new NStr(this.s.slice(a, b), this.starts.slice(a, b), this.ends!.slice(a, b), 0, os, oe);
  }

  /** Replace the whole text by `chars` (see CharChange); every character of `s` must be consumed once. */
  transform(chars: CharChange[]): void {
    this.materialize();
    const old = this.s, os = this.starts!, oe = this.ends!;
    let out = '';
    let total = 0;
    for (const c of chars) total += c[0].length;
    const ns = new Int32Array(total), ne = new Int32Array(total);
    let i = 0, j = 0; // positions in old and new (UTF-16)
    let lastS = this.origStart, lastE = this.origStart;
    for (const [ch, change] of chars) {
      let s: number, e: number;
      if (change > 0) { s = lastS; e = lastE; } else {
        s = os[i]!; e = oe[i]!;
        i += charLen(old, i);
        for (let k = 0; k < -change; k++) i += charLen(old, i);
      }
      out += ch;
      for (let k = 0; k < ch.length; k++, j++) { ns[j] = s; ne[j] = e; }
      lastS = s; lastE = e;
    }
    this.s = out;
    this.starts = ns;
    this.ends = ne;
  }

  /** Map each character through `fn` (it may return several characters, or '' to drop it). */
  mapChars(fn: (ch: string) => string): void {
    // fast path: every character keeps its UTF-16 length, so the spans stay as they are
    let out = '';
    let sameLength = true, changed = false;
    for (const c of this.s) {
      const r = fn(c);
      if (r !== c) { changed = true; if (r.length !== c.length || (r.length === 2 && [...r].length !== 1)) { sameLength = false; break; } }
      out += r;
    }
    if (!changed) return;
    if (sameLength) { this.s = out; return; }
    const chars: CharChange[] = [];
    for (const c of this.s) pushReplacement(chars, c, fn(c));
    this.transform(chars);
  }

  /** Insert `text` in front (it takes the span of the first character). */
  prepend(text: string): void {
    if (this.s.length === 0) return;
    this.materialize();
    const s0 = this.starts![0]!, e0 = this.ends![0]!;
    const n = text.length;
    const ns = new Int32Array(n + this.s.length), ne = new Int32Array(n + this.s.length);
    ns.fill(s0, 0, n); ne.fill(e0, 0, n);
    ns.set(this.starts!, n); ne.set(this.ends!, n);
    this.s = text + this.s;
    this.starts = ns; this.ends = ne;
  }

  /** Replace every match of `pattern` by `content` (the new characters share the span of what they replace). */
  replace(pattern: Pattern, content: string): void {
    const ranges = findMatches(this.s, pattern).filter((m) => m[2] && m[1] > m[0]);
    if (!ranges.length) return;
    this.materialize();
    let out = '';
    const ns: number[] = [], ne: number[] = [];
    let prev = 0;
    const keep = (a: number, b: number) => { out += this.s.slice(a, b); for (let k = a; k < b; k++) { ns.push(this.starts![k]!); ne.push(this.ends![k]!); } };
    for (const [a, b] of ranges) {
      keep(prev, a);
      out += content;
      const s = this.starts![a]!, e = this.ends![b - 1]!;
      for (let k = 0; k < content.length; k++) { ns.push(s); ne.push(e); }
      prev = b;
    }
    keep(prev, this.s.length);
    this.s = out;
    this.starts = Int32Array.from(ns);
    this.ends = Int32Array.from(ne);
  }

  /** Split on `pattern` with `behavior`; empty pieces are dropped. `invert` swaps what counts as a match. */
  split(pattern: Pattern, behavior: SplitBehavior, invert = false): NStr[] {
    if (behavior === 'Isolated' && pattern instanceof RegExp) return this.splitIsolated(pattern);
    return this.splitReference(pattern, behavior, invert);
  }

  /** split() through the full match list, for every behaviour (the reference twin of splitIsolated). */
  splitReference(pattern: Pattern, behavior: SplitBehavior, invert = false): NStr[] {
    let m = findMatches(this.s, pattern);
    if (invert) m = m.map(([a, b, isMatch]) => [a, b, !isMatch]);
    const pieces: [number, number, boolean][] = []; // start, end, removed
    if (behavior === 'Isolated') for (const [a, b] of m) pieces.push([a, b, false]);
    else if (behavior === 'Removed') for (const [a, b, isMatch] of m) pieces.push([a, b, isMatch]);
    else if (behavior === 'Contiguous') {
      let prevMatch = false;
      for (const [a, b, isMatch] of m) {
        const last = pieces[pieces.length - 1];
        if (isMatch === prevMatch && last) last[1] = b; else pieces.push([a, b, false]);
        prevMatch = isMatch;
      }
    } else if (behavior === 'MergedWithPrevious') {
      let prevMatch = false;
      for (const [a, b, isMatch] of m) {
        const last = pieces[pieces.length - 1];
        if (isMatch && !prevMatch && last) last[1] = b; else pieces.push([a, b, false]);
        prevMatch = isMatch;
      }
    } else {
      let prevMatch = false;
      for (let i = m.length - 1; i >= 0; i--) {
        const [a, b, isMatch] = m[i]!;
        const last = pieces[pieces.length - 1];
        if (isMatch && !prevMatch && last) last[0] = a; else pieces.push([a, b, false]);
        prevMatch = isMatch;
      }
      pieces.reverse();
    }
    const out: NStr[] = [];
    for (const [a, b, removed] of pieces) if (!removed && b > a) out.push(a === 0 && b === this.s.length ? this : this.slice(a, b));
    return out;
  }

  /** split(regex, 'Isolated') without intermediate lists: every match and every gap becomes a piece. */
  private splitIsolated(re: RegExp): NStr[] {
    const out: NStr[] = [];
    const s = this.s;
    let prev = 0;
    re.lastIndex = 0;
    for (let m = re.exec(s); m; m = re.exec(s)) {
      const a = m.index, b = a + m[0].length;
      if (b === a) { re.lastIndex += charLen(s, re.lastIndex); continue; }
      if (a > prev) out.push(this.slice(prev, a));
      out.push(a === 0 && b === s.length ? this : this.slice(a, b));
      prev = b;
    }
    if (prev < s.length) out.push(prev === 0 ? this : this.slice(prev, s.length));
    return out;
  }
}

/** UTF-16 length of the character at `i`. */
export function charLen(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c < 0xdc00 && i + 1 < s.length ? 2 : 1;
}

/** Push the changes that turn character `c` into `r` ('' drops it, several characters insert the rest). */
export function pushReplacement(chars: CharChange[], c: string, r: string): void {
  if (r === '') {
    // dropped: fold it into the previous character's removal count, or emit nothing if it is the first
    const last = chars[chars.length - 1];
    if (last && last[1] <= 0) last[1] -= 1; else chars.push(['', 0]);
    return;
  }
  let first = true;
  for (const d of r) { chars.push([d, first ? 0 : 1]); first = false; }
}

/** Matches and the gaps between them, covering `s`: [start, end, isMatch]. */
export function findMatches(s: string, pattern: Pattern): [number, number, boolean][] {
  if (s.length === 0) return [[0, 0, false]];
  const out: [number, number, boolean][] = [];
  let prev = 0;
  const push = (a: number, b: number) => {
    if (prev !== a) out.push([prev, a, false]);
    out.push([a, b, true]);
    prev = b;
  };
  if (typeof pattern === 'string') {
    if (pattern.length) for (let i = s.indexOf(pattern); i >= 0; i = s.indexOf(pattern, i + pattern.length)) push(i, i + pattern.length);
  } else if (typeof pattern === 'function') {
    for (let i = 0; i < s.length;) {
      const n = charLen(s, i);
      if (pattern(s.slice(i, i + n))) push(i, i + n);
      i += n;
    }
  } else {
    pattern.lastIndex = 0;
    for (let m = pattern.exec(s); m; m = pattern.exec(s)) {
      push(m.index, m.index + m[0].length);
      if (m[0].length === 0) pattern.lastIndex += charLen(s, pattern.lastIndex);
    }
  }
  if (prev !== s.length) out.push([prev, s.length, false]);
  return out;
}
