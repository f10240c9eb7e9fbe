// tokenizer.json post-processors: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel (offset
// trimming) and Sequence. They add special tokens around the encoded sequence(s) and merge a pair into one encoding.
import { type Json, tokFail, typeOf, unknownType } from './errors.js';

/** One encoded sequence (or the merged result). Offsets are [start, end) UTF-16 indices into the input text. */
export interface Encoding {
  ids: number[];
  tokens: string[];
  offsets: [number, number][];
  typeIds: number[];
  attentionMask: number[];
  specialTokensMask: number[];
}

export type PostProcessor = (encs: Encoding[], addSpecialTokens: boolean) => Encoding[];

export const POST_PROCESSOR_TYPES = ['TemplateProcessing', 'BertProcessing', 'RobertaProcessing', 'ByteLevel', 'Sequence'] as const;

export function emptyEncoding(): Encoding {
  return { ids: [], tokens: [], offsets: [], typeIds: [], attentionMask: [], specialTokensMask: [] };
}

/** Concatenate encodings. */
export function mergeEncodings(encs: Encoding[]): Encoding {
  if (encs.length === 1) return encs[0]!;
  return {
    ids: encs.flatMap((e) => e.ids), tokens: encs.flatMap((e) => e.tokens), offsets: encs.flatMap((e) => e.offsets),
    typeIds: encs.flatMap((e) => e.typeIds), attentionMask: encs.flatMap((e) => e.attentionMask), specialTokensMask: encs.flatMap((e) => e.specialTokensMask),
  };
}

function special(ids: number[], tokens: string[], typeId: number): Encoding {
  return { ids, tokens, offsets: ids.map(() => [0, 0]), typeIds: ids.map(() => typeId), attentionMask: ids.map(() => 1), specialTokensMask: ids.map(() => 1) };
}

function withType(e: Encoding, typeId: number): Encoding {
  return { ...e, typeIds: e.typeIds.map(() => typeId) };
}

type Piece = { seq: 0 | 1; typeId: number } | { special: string; typeId: number };

function parsePiece(p: unknown): Piece {
  if (typeof p === 'string') {
    const [name, t] = p.split(':') as [string, string | undefined];
    const typeId = t === undefined ? 0 : Number(t);
    if (name === '$A' || name === '$') return { seq: 0, typeId };
    if (name === '$B') return { seq: 1, typeId };
    return { special: name, typeId };
  }
  const o = p as Json;
  if (o?.Sequence) return { seq: o.Sequence.id === 'B' ? 1 : 0, typeId: o.Sequence.type_id ?? 0 };
  if (o?.SpecialToken) return { special: String(o.SpecialToken.id), typeId: o.SpecialToken.type_id ?? 0 };
  return tokFail(`TemplateProcessing: cannot read the template piece ${JSON.stringify(p)}`);
}

/** Pull leading/trailing spaces (Ġ or whitespace) of byte-level tokens out of their offsets. */
function trimOffsets(e: Encoding, addPrefixSpace: boolean): Encoding {
  const isSpace = (c: string) => c === 'Ġ' || /^\s$/u.test(c);
  const offsets = e.offsets.map(([s, t], i): [number, number] => {
    const cs = [...e.tokens[i]!];
    let lead = 0, trail = 0;
    while (lead < cs.length && isSpace(cs[lead]!)) lead++;
    while (trail < cs.length && isSpace(cs[cs.length - 1 - trail]!)) trail++;
    if (lead > 0) {
      if ((i === 0 || s === 0) && addPrefixSpace && lead === 1) lead = 0;
      s = Math.min(s + lead, t);
    }
    if (trail > 0 && t >= trail) t = Math.max(t - trail, s);
    return [s, t];
  });
  return { ...e, offsets };
}

/** Build the post-processor a tokenizer.json `post_processor` object describes (null: none). */
export function buildPostProcessor(cfg: Json | null | undefined): { process: PostProcessor; added: (pair: boolean) => number } | null {
  if (cfg === null || cfg === undefined) return null;
  const type = typeOf('post-processor', cfg);
  switch (type) {
    case 'TemplateProcessing': {
      const single = (cfg.single ?? []).map(parsePiece) as Piece[];
      const pair = (cfg.pair ?? []).map(parsePiece) as Piece[];
      const specials = new Map<string, { ids: number[]; tokens: string[] }>();
      for (const [k, v] of Object.entries((cfg.special_tokens ?? {}) as Json)) specials.set(k, { ids: v.ids, tokens: v.tokens });
      for (const p of [...single, ...pair]) if ('special' in p && !specials.has(p.special)) tokFail(`TemplateProcessing uses the special token ${JSON.stringify(p.special)} that its special_tokens do not define`);
      const count = (t: Piece[]) => t.reduce((n, p) => n + ('special' in p ? specials.get(p.special)!.ids.length : 0), 0);
      return {
        added: (isPair) => count(isPair ? pair : single),
        process: (encs, add) => {
          if (!add) return encs;
          if (encs.length > 1 && !pair.some((p) => 'seq' in p && p.seq === 1)) tokFail('TemplateProcessing: this tokenizer has no pair template with $B, so it cannot encode a pair');
          const parts = (encs.length > 1 ? pair : single).map((p) => ('special' in p ? special(specials.get(p.special)!.ids, specials.get(p.special)!.tokens, p.typeId) : withType(encs[p.seq] ?? emptyEncoding(), p.typeId)));
          return [mergeEncodings(parts)];
        },
      };
    }
    case 'BertProcessing': case 'RobertaProcessing': {
      const [sepT, sepId] = cfg.sep as [string, number], [clsT, clsId] = cfg.cls as [string, number];
      const roberta = type === 'RobertaProcessing';
      const trim = roberta && (cfg.trim_offsets ?? true), prefix = cfg.add_prefix_space ?? true;
      return {
        added: (isPair) => (isPair ? (roberta ? 4 : 3) : 2),
        process: (encs, add) => {
          if (trim) encs = encs.map((e) => trimOffsets(e, prefix));
          if (!add) return encs;
          const cls = special([clsId], [clsT], 0), sep = (t: number) => special([sepId], [sepT], t);
          const parts = [cls, withType(encs[0]!, 0), sep(0)];
          if (encs[1]) parts.push(...(roberta ? [sep(0), encs[1], sep(0)] : [withType(encs[1], 1), sep(1)]));
          return [mergeEncodings(parts)];
        },
      };
    }
    case 'ByteLevel': {
      const trim = cfg.trim_offsets ?? true, prefix = cfg.add_prefix_space ?? true;
      return { added: () => 0, process: (encs) => (trim ? encs.map((e) => trimOffsets(e, prefix)) : encs) };
    }
    case 'Sequence': {
      if (!Array.isArray(cfg.processors)) tokFail('Sequence post-processor: expected a "processors" array');
      const steps = (cfg.processors as Json[]).map(buildPostProcessor).filter((s) => s !== null);
      return {
        added: (isPair) => steps.reduce((n, s) => n + s.added(isPair), 0),
        process: (encs, add) => { for (const s of steps) encs = s.process(encs, add); return encs; },
      };
    }
    default: return unknownType('post-processor', type, POST_PROCESSOR_TYPES);
  }
}
