// tokenizer.json pre-tokenizers: ByteLevel, Split, Metaspace, Whitespace, WhitespaceSplit, BertPreTokenizer,
// Punctuation, Digits, CharDelimiterSplit and Sequence. Each turns the list of pieces into a finer list.
import { BYTE_TO_CHAR, toByteChars } from './byte-level.js';
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
const isWhite = (c: string) => WHITE.test(c);
const isPunct = (c: string) => {
  const cp = c.codePointAt(0)!;
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126) || PUNCT.test(c);
};

/** Rewrite a piece into its byte-level characters; ASCII keeps its length, so its spans are kept as they are. */
export function byteLevel(n: NStr): NStr {
  if (ASCII.test(n.s)) {
    let out = '';
    for (let i = 0; i < n.s.length; i++) out += BYTE_TO_CHAR[n.s.charCodeAt(i)];
    n.s = out;
    return n;
  }
  n.mapChars(toByteChars);
  return n;
}

function behaviorOf(what: string, b: unknown, fallback: SplitBehavior): SplitBehavior {
  if (b === undefined || b === null) return fallback;
  if (!BEHAVIORS.includes(b as SplitBehavior)) tokFail(`${what}: unknown behavior ${JSON.stringify(b)} (expected one of ${BEHAVIORS.join(', ')})`);
  return b as SplitBehavior;
}

const each = (fn: (n: NStr) => NStr[]): PreTokenizer => (pieces) => pieces.flatMap(fn);

/** Build the pre-tokenizer a tokenizer.json `pre_tokenizer` object describes (null: none). */
export function buildPreTokenizer(cfg: Json | null | undefined): PreTokenizer | null {
  if (cfg === null || cfg === undefined) return null;
  const type = typeOf('pre-tokenizer', cfg);
  switch (type) {
    case 'ByteLevel': {
      const prefix = cfg.add_prefix_space ?? true, useRegex = cfg.use_regex ?? true;
      const re = compileRegex(GPT2_PATTERN);
      return each((n) => {
        if (prefix && !n.s.startsWith(' ')) n.prepend(' ');
        return (useRegex ? n.split(re, 'Isolated') : [n]).map(byteLevel);
      });
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

