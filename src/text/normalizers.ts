// tokenizer.json normalizers: Unicode forms, Lowercase, Strip, StripAccents, Replace, Prepend, BertNormalizer, Nmt,
// ByteLevel and Sequence. Each rewrites an NStr and keeps every character's span in the original text.
import { toByteChars } from './byte-level.js';
import { type Json, tokFail, typeOf, unknownType } from './errors.js';
import { type CharChange, NStr, type Pattern, pushReplacement } from './normalized.js';
import { compileRegex } from './regex.js';

export type Normalizer = (n: NStr) => NStr;

/** A per-character function with its results remembered (text reuses few distinct characters). */
export function memo(fn: (c: string) => string): (c: string) => string {
  const seen = new Map<string, string>();
  return (c) => {
    let r = seen.get(c);
    if (r === undefined) { r = fn(c); if (seen.size < 65536) seen.set(c, r); }
    return r;
  };
}

export const NORMALIZER_TYPES = ['NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'Strip', 'StripAccents', 'Replace', 'Prepend', 'BertNormalizer', 'Nmt', 'ByteLevel', 'Sequence'] as const;

const MARK = /\p{M}/u;
const NONSPACING_MARK = /^\p{Mn}$/u;
const WHITE = /^\p{White_Space}$/u;
const OTHER = /^\p{C}$/u;

/** Unicode normalization with spans. The text is cut before every character that cannot combine with what comes
 * before it, and each segment normalized on its own; output characters are matched to input characters through their
 * full decompositions, so a composed character takes the span of the first character it absorbed and a decomposed
 * one's extra characters count as inserted (as the Rust library's unicode-normalization-alignments reports them). */
export function unicodeNormalize(n: NStr, form: 'NFC' | 'NFD' | 'NFKC' | 'NFKD'): NStr {
  const whole = n.s.normalize(form);
  if (whole === n.s) return n;
  const decomp = form === 'NFC' || form === 'NFD' ? 'NFD' : 'NFKD';
  const chars: CharChange[] = [];
  const cps = [...n.s];
  for (let i = 0; i < cps.length;) {
    let j = i + 1;
    while (j < cps.length && combines(cps[j]!)) j++;
    const seg = j === i + 1 ? cps[i]! : cps.slice(i, j).join('');
    const norm = seg.normalize(form);
    if (norm === seg) for (let k = i; k < j; k++) chars.push([cps[k]!, 0]);
    else alignSegment(cps.slice(i, j), [...norm], decomp, chars);
    i = j;
  }
  n.transform(chars);
  return n;
}

function combines(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return MARK.test(c) || (cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff);
}

/** Changes for one segment, positional as in the Rust transform: an output character made of c >= 1 first units of
 * input characters' decompositions consumes c input characters; one made only of later units is inserted. */
function alignSegment(seg: string[], out: string[], decomp: 'NFD' | 'NFKD', chars: CharChange[]): void {
  const pool: { u: string; first: boolean; used: boolean }[] = [];
  for (const c of seg) [...c.normalize(decomp)].forEach((u, k) => pool.push({ u, first: k === 0, used: false }));
  let consumed = 0;
  for (const o of out) {
    let firsts = 0;
    for (const u of o.normalize(decomp)) {
      const e = pool.find((p) => !p.used && p.u === u);
      if (e) { e.used = true; if (e.first) firsts++; }
    }
    firsts = Math.min(firsts, seg.length - consumed);
    chars.push([o, firsts >= 1 ? -(firsts - 1) : 1]);
    consumed += firsts;
  }
  for (; consumed < seg.length; consumed++) pushReplacement(chars, seg[consumed]!, '');
}

const lower = memo((c) => c.toLowerCase());
const stripMark = memo((c) => (NONSPACING_MARK.test(c) ? '' : c));

function isChinese(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) || (cp >= 0x2a700 && cp <= 0x2b73f)
    || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

function bertNormalizer(cfg: Json): Normalizer {
  const cleanText = cfg.clean_text ?? true, chinese = cfg.handle_chinese_chars ?? true, lowercase = cfg.lowercase ?? true;
  const stripAccents = cfg.strip_accents ?? lowercase;
  const clean = memo((c) => {
    if (c === '\t' || c === '\n' || c === '\r') return ' ';
    const cp = c.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || OTHER.test(c)) return '';
    return WHITE.test(c) ? ' ' : c;
  });
  return (n) => {
    if (cleanText) n.mapChars(clean);
    if (chinese) {
      let any = false;
      for (const c of n.s) if (isChinese(c.codePointAt(0)!)) { any = true; break; }
      if (any) {
        const chars: CharChange[] = [];
        for (const c of n.s) {
          if (isChinese(c.codePointAt(0)!)) chars.push([' ', 0], [c, 1], [' ', 1]);
          else chars.push([c, 0]);
        }
        n.transform(chars);
      }
    }
    if (stripAccents) { n = unicodeNormalize(n, 'NFD'); n.mapChars(stripMark); }
    if (lowercase) n.mapChars(lower);
    return n;
  };
}

/** The pattern of a Replace / Split component: {"String": s} or {"Regex": r}. */
export function patternOf(what: string, p: unknown): Pattern {
  if (p && typeof p === 'object') {
    const o = p as Json;
    if (typeof o.String === 'string') return o.String;
    if (typeof o.Regex === 'string') return compileRegex(o.Regex);
  }
  return tokFail(`${what}: expected a pattern {"String": ...} or {"Regex": ...}, got ${JSON.stringify(p)}`);
}

const NMT_REMOVE = (cp: number) => (cp >= 0x1 && cp <= 0x8) || cp === 0xb || (cp >= 0xe && cp <= 0x1f) || cp === 0x7f || cp === 0x8f || cp === 0x9f;
const NMT_SPACE = new Set([0x9, 0xa, 0xc, 0xd, 0x1680, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x2581, 0xfeff, 0xfffd]);

/** Build the normalizer a tokenizer.json `normalizer` object describes (null: none). */
export function buildNormalizer(cfg: Json | null | undefined): Normalizer | null {
  if (cfg === null || cfg === undefined) return null;
  const type = typeOf('normalizer', cfg);
  switch (type) {
    case 'NFC': case 'NFD': case 'NFKC': case 'NFKD': return (n) => unicodeNormalize(n, type);
    case 'Lowercase': return (n) => { n.mapChars(lower); return n; };
    case 'StripAccents': return (n) => { n.mapChars(stripMark); return n; };
    case 'Strip': {
      const left = cfg.left ?? true, right = cfg.right ?? true;
      return (n) => {
        const cps = [...n.s];
        let a = 0, b = cps.length;
        if (left) while (a < b && WHITE.test(cps[a]!)) a++;
        if (right) while (b > a && WHITE.test(cps[b - 1]!)) b--;
        if (a === 0 && b === cps.length) return n;
        const start = cps.slice(0, a).join('').length, end = start + cps.slice(a, b).join('').length;
        return n.slice(start, end);
      };
    }
    case 'Replace': {
      const pattern = patternOf('Replace normalizer', cfg.pattern);
      const content = String(cfg.content ?? '');
      return (n) => { n.replace(pattern, content); return n; };
    }
    case 'Prepend': {
      const text = String(cfg.prepend ?? '');
      return (n) => { n.prepend(text); return n; };
    }
    case 'BertNormalizer': return bertNormalizer(cfg);
    case 'Nmt': return (n) => {
      n.mapChars((c) => { const cp = c.codePointAt(0)!; return NMT_REMOVE(cp) ? '' : NMT_SPACE.has(cp) ? ' ' : c; });
      return n;
    };
    case 'ByteLevel': return (n) => { n.mapChars(toByteChars); return n; };
    case 'Sequence': {
      if (!Array.isArray(cfg.normalizers)) tokFail('Sequence normalizer: expected a "normalizers" array');
      const steps = (cfg.normalizers as Json[]).map(buildNormalizer).filter((s): s is Normalizer => s !== null);
      return (n) => { for (const s of steps) n = s(n); return n; };
    }
    default: return unknownType('normalizer', type, NORMALIZER_TYPES);
  }
}
