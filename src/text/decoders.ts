// tokenizer.json decoders: ByteLevel, WordPiece (with cleanup), Metaspace, ByteFallback, Fuse, Strip, Replace, CTC,
// BPEDecoder and Sequence. Each maps a list of token strings to a list of strings; decode joins the last list.
import { CHAR_TO_BYTE } from './byte-level.js';
import { type Json, tokFail, typeOf, unknownType } from './errors.js';
import { patternOf } from './normalizers.js';

export type Decoder = (tokens: string[]) => string[];

export const DECODER_TYPES = ['ByteLevel', 'WordPiece', 'Metaspace', 'ByteFallback', 'Fuse', 'Strip', 'Replace', 'CTC', 'BPEDecoder', 'Sequence'] as const;

const utf8Lossy = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** BERT's detokenizing cleanup: no space before punctuation and English contractions. */
export function cleanup(s: string): string {
  return s.replaceAll(' .', '.').replaceAll(' ?', '?').replaceAll(' !', '!').replaceAll(' ,', ',').replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(' do not', " don't").replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}

function byteLevelDecode(tokens: string[]): string[] {
  const bytes: number[] = [];
  for (const t of tokens) {
    const mapped: number[] = [];
    let ok = true;
    for (const c of t) {
      const b = CHAR_TO_BYTE.get(c);
      if (b === undefined) { ok = false; break; }
      mapped.push(b);
    }
    for (const b of ok ? mapped : encoder.encode(t)) bytes.push(b);
  }
  return [utf8Lossy.decode(new Uint8Array(bytes))];
}

function byteFallbackDecode(tokens: string[]): string[] {
  const out: string[] = [];
  let pending: number[] = [];
  const flush = () => {
    if (!pending.length) return;
    try { out.push(utf8Strict.decode(new Uint8Array(pending))); } catch { for (let i = 0; i < pending.length; i++) out.push('\ufffd'); }
    pending = [];
  };
  for (const t of tokens) {
    const m = t.length === 6 && /^<0x[0-9A-Fa-f]{2}>$/.test(t);
    if (m) pending.push(parseInt(t.slice(3, 5), 16));
    else { flush(); out.push(t); }
  }
  flush();
  return out;
}

/** Build the decoder a tokenizer.json `decoder` object describes (null: tokens joined with spaces). */
export function buildDecoder(cfg: Json | null | undefined): Decoder | null {
  if (cfg === null || cfg === undefined) return null;
  const type = typeOf('decoder', cfg);
  switch (type) {
    case 'ByteLevel': return byteLevelDecode;
    case 'WordPiece': {
      const prefix = String(cfg.prefix ?? '##'), clean = cfg.cleanup ?? true;
      return (tokens) => tokens.map((t, i) => {
        if (i > 0) t = t.startsWith(prefix) ? t.slice(prefix.length) : ` ${t}`;
        return clean ? cleanup(t) : t;
      });
    }
    case 'Metaspace': {
      const rep = String(cfg.replacement ?? '▁');
      const scheme = cfg.prepend_scheme ?? (cfg.add_prefix_space === false ? 'never' : 'always');
      return (tokens) => tokens.map((t, i) => {
        let s = '';
        for (const c of t) s += c === rep ? (i === 0 && scheme !== 'never' ? '' : ' ') : c;
        return s;
      });
    }
    case 'ByteFallback': return byteFallbackDecode;
    case 'Fuse': return (tokens) => [tokens.join('')];
    case 'Strip': {
      const content = String(cfg.content ?? ' '), start = Number(cfg.start ?? 0), stop = Number(cfg.stop ?? 0);
      return (tokens) => tokens.map((t) => {
        const cs = [...t];
        let a = 0, b = cs.length;
        while (a < start && a < cs.length && cs[a] === content) a++;
        while (cs.length - b < stop && b > a && cs[b - 1] === content) b--;
        return cs.slice(a, b).join('');
      });
    }
    case 'Replace': {
      const pattern = patternOf('Replace decoder', cfg.pattern), content = String(cfg.content ?? '');
      return (tokens) => tokens.map((t) => (typeof pattern === 'string' ? t.replaceAll(pattern, content) : typeof pattern === 'function' ? t : t.replace(pattern, content)));
    }
    case 'CTC': {
      const pad = String(cfg.pad_token ?? '<pad>'), delim = String(cfg.word_delimiter_token ?? '|'), clean = cfg.cleanup ?? true;
      return (tokens) => tokens.filter((t, i) => i === 0 || t !== tokens[i - 1]).filter((t) => t !== pad)
        .map((t) => { const s = t.replaceAll(delim, ' '); return clean ? cleanup(s) : s; });
    }
    case 'BPEDecoder': {
      const suffix = String(cfg.suffix ?? '</w>');
      return (tokens) => tokens.map((t, i) => t.replaceAll(suffix, i === tokens.length - 1 ? '' : ' '));
    }
    case 'Sequence': {
      if (!Array.isArray(cfg.decoders)) tokFail('Sequence decoder: expected a "decoders" array');
      const steps = (cfg.decoders as Json[]).map(buildDecoder).filter((s): s is Decoder => s !== null);
      return (tokens) => { for (const s of steps) tokens = s(tokens); return tokens; };
    }
    default: return unknownType('decoder', type, DECODER_TYPES);
  }
}
