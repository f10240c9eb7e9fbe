// tokenizer.json pre-tokenizers: ByteLevel, Split, Metaspace, Whitespace, WhitespaceSplit, BertPreTokenizer,
// Punctuation, Digits, CharDelimiterSplit and Sequence. Each turns the list of pieces into a finer list.
import { BYTE_TO_CHAR } from './byte-level.js';
import { type Json, tokFail, typeOf, unknownType } from './errors.js';
import type { NStr, SplitBehavior } from './normalized.js';
import { patternOf } from './normalizers.js';
import { compileRegex } from './regex.js';

export type PreTokenizer = (pieces: NStr[]) => NStr[];

export const PRE_TOKENIZER_TYPES = ['ByteLevel', 'Split', 'Metaspace', 'Whitespace', 'WhitespaceSplit', 'BertPreTokenizer', 'Punctuation', 'Digits', 'CharDelimiterSplit', 'Sequence'] as const;
const BEHAVIORS: readonly SplitBehavior[] = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];

/** GPT-2's split pattern, used by ByteLevel with use_regex. */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const WHITE = /^\p{White_Space}$/u;
const PUNCT = /^\p{P}$/u;
const ASCII = /^[\x00-\x7f]*$/;
/** Reused buffers of the byte-level rewrite (grown on demand). */
let scratch = { codes: new Uint16Array(1024), starts: new Int32Array(1024), ends: new Int32Array(1024) };
const BYTE_CODE = Uint16Array.from(BYTE_TO_CHAR, (c) => c.charCodeAt(0));
/** The ASCII bytes the byte-level alphabet spells differently (controls, space, DEL). */
const UNPRINTABLE_ASCII = /[\x00-\x20\x7f]/g;
const isWhite = (c: string) => WHITE.test(c);
const isPunct = (c: string) => {
  const cp = c.codePointAt(0)!;
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126) || PUNCT.test(c);
};

/** Rewrite a piece into its byte-level characters; ASCII keeps its length, so its spans are kept as they are. */
export function byteLevel(n: NStr): NStr {
  if (ASCII.test(n.s)) {
    n.s = n.s.replace(UNPRINTABLE_ASCII, (c) => BYTE_TO_CHAR[c.charCodeAt(0)]!);
    return n;
  }
  // UTF-8 by hand: every byte character of a code point takes that code point's span
  const src = n.s, len = src.length;
  if (scratch.codes.length < len * 3) scratch = { codes: new Uint16Array(len * 6), starts: new Int32Array(len * 6), ends: new Int32Array(len * 6) };
  const { codes, starts, ends } = scratch;
  const s0 = n.starts, e0 = n.ends;
  let j = 0;
  const put = (byte: number, a: number, b: number) => { codes[j] = BYTE_CODE[byte]!; starts[j] = a; ends[j] = b; j++; };
  for (let i = 0; i < len;) {
    const cp = src.codePointAt(i)!;
    const w = cp > 0xffff ? 2 : 1;
    const a = s0 ? s0[i]! : n.base + i, b = s0 ? e0![i + w - 1]! : n.base + i + w;
    if (cp < 0x80) put(cp, a, b);
    else if (cp < 0x800) { put(0xc0 | (cp >> 6), a, b); put(0x80 | (cp & 63), a, b); }
    else if (cp < 0x10000) { put(0xe0 | (cp >> 12), a, b); put(0x80 | ((cp >> 6) & 63), a, b); put(0x80 | (cp & 63), a, b); }
    else { put(0xf0 | (cp >> 18), a, b); put(0x80 | ((cp >> 12) & 63), a, b); put(0x80 | ((cp >> 6) & 63), a, b); put(0x80 | (cp & 63), a, b); }
    i += w;
  }
  let out = '';
  for (let k = 0; k < j; k += 8192) out += String.fromCharCode.apply(null, codes.subarray(k, Math.min(j, k + 8192)) as unknown as number[]);
  n.s = out;
  n.starts = starts.slice(0, j);
  n.ends = ends.slice(0, j);
  return n;
}

function behaviorOf(what: string, b: unknown, fallback: SplitBehavior): SplitBehavior {
  if (b === undefined || b === null) return fallback;
  if (!BEHAVIORS.includes(b as SplitBehavior)) tokFail(`${what}: unknown behavior ${JSON.stringify(b)} (expected one of ${BEHAVIORS.join(', ')})`);
  return b as SplitBehavior;
}

const each = (fn: (n: NStr) => NStr[]): PreTokenizer => (pieces) => {
  const out: NStr[] = [];
  for (const p of pieces) for (const q of fn(p)) out.push(q);
  return out;
};

/** Build the pre-tokenizer a tokenizer.json `pre_tokenizer` object describes (null: none). */
export function buildPreTokenizer(cfg: Json | null | undefined): PreTokenizer | null {
  if (cfg === null || cfg === undefined) return null;
  const type = typeOf('pre-tokenizer', cfg);
  switch (type) {
    case 'ByteLevel': {
      const prefix = cfg.add_prefix_space ?? true, useRegex = cfg.use_regex ?? true;
      const re = compileRegex(GPT2_PATTERN);
      return (pieces) => {
        const out: NStr[] = [];
        for (const n of pieces) {
          if (prefix && !n.s.startsWith(' ')) n.prepend(' ');
          if (useRegex) for (const p of n.split(re, 'Isolated')) out.push(byteLevel(p));
          else out.push(byteLevel(n));
        }
        return out;
      };
    }
    case 'Split': {
      const pattern = patternOf('Split pre-tokenizer', cfg.pattern);
      const behavior = behaviorOf('Split pre-tokenizer', cfg.behavior, 'Isolated');
      const invert = Boolean(cfg.invert);
      return each((n) => n.split(pattern, behavior, invert));
    }
    case 'Metaspace': {
      const rep = String(cfg.replacement ?? '▁');
      const scheme = cfg.prepend_scheme ?? (cfg.add_prefix_space === false ? 'never' : 'always');
      if (!['always', 'first', 'never'].includes(scheme)) tokFail(`Metaspace: unknown prepend_scheme ${JSON.stringify(scheme)} (expected always, first or never)`);
      const split = cfg.split ?? true;
      return each((n) => {
        n.replace(' ', rep);
        if (!n.s.startsWith(rep) && (scheme === 'always' || (scheme === 'first' && n.origStart === 0))) n.prepend(rep);
        return split ? n.split(rep, 'MergedWithNext') : [n];
      });
    }
    case 'Whitespace': {
      const re = compileRegex('\\w+|[^\\w\\s]+');
      return each((n) => n.split(re, 'Removed', true));
    }
    case 'WhitespaceSplit': return each((n) => n.split(isWhite, 'Removed'));
    case 'BertPreTokenizer': return each((n) => n.split(isWhite, 'Removed').flatMap((p) => p.split(isPunct, 'Isolated')));
    case 'Punctuation': {
      const behavior = behaviorOf('Punctuation pre-tokenizer', cfg.behavior, 'Isolated');
      return each((n) => n.split(isPunct, behavior));
    }
    case 'Digits': {
      const one = Boolean(cfg.individual_digits);
      const isDigit = (c: string) => c >= '0' && c <= '9';
      return each((n) => n.split(isDigit, one ? 'Isolated' : 'Contiguous'));
    }
    case 'CharDelimiterSplit': {
      const d = String(cfg.delimiter ?? '');
      return each((n) => n.split((c) => c === d, 'Removed'));
    }
    case 'Sequence': {
      if (!Array.isArray(cfg.pretokenizers)) tokFail('Sequence pre-tokenizer: expected a "pretokenizers" array');
      const steps = (cfg.pretokenizers as Json[]).map(buildPreTokenizer).filter((s): s is PreTokenizer => s !== null);
      return (pieces) => { for (const s of steps) pieces = s(pieces); return pieces; };
    }
    default: return unknownType('pre-tokenizer', type, PRE_TOKENIZER_TYPES);
  }
}

