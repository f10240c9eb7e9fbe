// The Hugging Face tokenizer (tokenizer.json + tokenizer_config.json): added tokens, normalizer, pre-tokenizer,
// model, post-processor and decoder tied together, with the same ids, tokens, offsets and decoded text as the Rust
// `tokenizers` library. Offsets are UTF-16 indices into the input string (JavaScript string positions).
import { AddedVocabulary, parseAddedTokens } from './added-tokens.js';
import { BpeModel } from './bpe.js';
import { parseTokenizerConfig, type TokenizerConfig } from './config.js';
import { buildDecoder, type Decoder } from './decoders.js';
import { type Json, tokFail, typeOf, unknownType } from './errors.js';
import type { TokenizerModel } from './model.js';
import { buildNormalizer, type Normalizer } from './normalizers.js';
import { buildPostProcessor, type Encoding, emptyEncoding, mergeEncodings, type PostProcessor } from './post-processors.js';
import { buildPreTokenizer, type PreTokenizer } from './pre-tokenizers.js';
import { UnigramModel } from './unigram.js';
import { WordLevelModel } from './wordlevel.js';
import { WordPieceModel } from './wordpiece.js';

export type { Encoding };
export const MODEL_TYPES = ['BPE', 'WordPiece', 'Unigram', 'WordLevel'] as const;

export interface EncodeOptions {
  /** Run the post-processor's template (e.g. [CLS] ... [SEP]); default true, as in `tokenizers`. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave out special added tokens (<s>, [CLS], <|eot_id|>, ...); default false. */
  skipSpecialTokens?: boolean;
}

export interface BatchOptions extends EncodeOptions {
  /** true or 'longest': pad to the longest in the batch; 'max_length': to maxLength (or model_max_length). */
  padding?: boolean | 'longest' | 'max_length';
  /** Cut each sequence so that, special tokens included, it fits maxLength (or model_max_length). */
  truncation?: boolean;
  maxLength?: number;
}

function buildModel(cfg: Json): TokenizerModel {
  const type = cfg && typeof cfg === 'object' && cfg.type === undefined && cfg.merges !== undefined ? 'BPE' : typeOf('model', cfg);
  switch (type) {
    case 'BPE': return new BpeModel(cfg);
    case 'WordPiece': return new WordPieceModel(cfg);
    case 'Unigram': return new UnigramModel(cfg);
    case 'WordLevel': return new WordLevelModel(cfg);
    default: return unknownType('model', type, MODEL_TYPES);
  }
}

export class Tokenizer {
  readonly model: TokenizerModel;
  readonly config: TokenizerConfig;
  readonly added: AddedVocabulary;
  private readonly normalizer: Normalizer | null;
  private readonly preTokenizer: PreTokenizer | null;
  private readonly post: { process: PostProcessor; added: (pair: boolean) => number } | null;
  private readonly decoder: Decoder | null;
  private readonly truncation: { maxLength: number; side: 'left' | 'right' } | null;
  private readonly padding: { id: number; token: string; typeId: number; side: 'left' | 'right'; fixed: number | null } | null;

  /** Build from a parsed tokenizer.json and, optionally, a parsed tokenizer_config.json. */
  constructor(json: Json, config: Json = {}) {
    if (!json || typeof json !== 'object' || Array.isArray(json)) tokFail(`tokenizer.json must hold a JSON object, got ${JSON.stringify(json)?.slice(0, 60)}`);
    if (json.model === undefined) tokFail('tokenizer.json has no "model" (expected a tokenizers tokenizer.json with a BPE, WordPiece, Unigram or WordLevel model)');
    this.model = buildModel(json.model);
    this.normalizer = buildNormalizer(json.normalizer);
    this.preTokenizer = buildPreTokenizer(json.pre_tokenizer);
    this.post = buildPostProcessor(json.post_processor);
    this.decoder = buildDecoder(json.decoder);
    this.added = new AddedVocabulary(parseAddedTokens(json.added_tokens), this.normalizer);
    this.config = parseTokenizerConfig(config);
    const t = json.truncation as Json | null | undefined;
    this.truncation = t ? { maxLength: Number(t.max_length), side: t.direction === 'Left' ? 'left' : 'right' } : null;
    const p = json.padding as Json | null | undefined;
    this.padding = p ? { id: p.pad_id ?? 0, token: p.pad_token ?? '[PAD]', typeId: p.pad_type_id ?? 0, side: p.direction === 'Left' ? 'left' : 'right', fixed: p.strategy?.Fixed ?? null } : null;
  }

  /** Tokens in the vocabulary, added tokens included (Python's get_vocab_size(with_added_tokens=True)). */
  get vocabSize(): number {
    let n = this.model.size;
    for (const t of this.added.tokens) if (this.model.tokenToId(t.content) === undefined) n++;
    return n;
  }

  tokenToId(token: string): number | undefined {
    return this.added.byContent.get(token)?.id ?? this.model.tokenToId(token);
  }

  idToToken(id: number): string | undefined {
    return this.added.byId.get(id)?.content ?? this.model.idToToken(id);
  }

  /** Encode one sequence, before the post-processor: tokens with offsets into `text`, all of type `typeId`. */
  private encodeSequence(text: string, typeId: number): Encoding {
    const e = emptyEncoding();
    const push = (id: number, token: string, span: [number, number]) => {
      e.ids.push(id); e.tokens.push(token); e.offsets.push(span); e.typeIds.push(typeId); e.attentionMask.push(1); e.specialTokensMask.push(0);
    };
    for (const piece of this.added.extract(text, this.normalizer)) {
      if (piece.id !== null) { push(piece.id, piece.content!, [piece.n.origStart, piece.n.origEnd]); continue; }
      const splits = this.preTokenizer ? this.preTokenizer([piece.n]) : [piece.n];
      for (const s of splits) {
        if (!s.s.length) continue;
        for (const t of this.model.tokenize(s.s)) push(t.id, t.value, s.toOriginal(t.start, t.end));
      }
    }
    return e;
  }

  private finish(encs: Encoding[], addSpecialTokens: boolean, maxLength: number | null, side: 'left' | 'right'): Encoding {
    if (maxLength !== null && Number.isFinite(maxLength)) {
      const room = maxLength - (addSpecialTokens && this.post ? this.post.added(encs.length > 1) : 0);
      if (room < 0) tokFail(`maxLength ${maxLength} leaves no room for the ${maxLength - room} special tokens`);
      encs = truncate(encs, room, side);
    }
    return mergeEncodings(this.post ? this.post.process(encs, addSpecialTokens) : encs);
  }

  /**
   * Encode `text`: ids, tokens, offsets ([start, end) UTF-16 indices into `text`), typeIds, attentionMask and
   * specialTokensMask, exactly as `tokenizers`' `Tokenizer.encode` (whose offsets count code points instead).
   * @example const { ids, tokens } = tok.encode('Hello world', { addSpecialTokens: false });
   */
  encode(text: string, opts: EncodeOptions = {}): Encoding {
    if (typeof text !== 'string') tokFail(`encode expects a string, got ${typeof text}`);
    return this.finish([this.encodeSequence(text, 0)], opts.addSpecialTokens ?? true, this.truncation?.maxLength ?? null, this.truncation?.side ?? 'right');
  }

  /** Encode a pair (question/context, premise/hypothesis) with the post-processor's pair template. Offsets of both
   * parts index their own string. */
  encodePair(a: string, b: string, opts: EncodeOptions = {}): Encoding {
    return this.finish([this.encodeSequence(a, 0), this.encodeSequence(b, 1)], opts.addSpecialTokens ?? true, this.truncation?.maxLength ?? null, this.truncation?.side ?? 'right');
  }

  /**
   * Encode several texts; with `padding` they all get the same length (pad token, padding side and
   * model_max_length from tokenizer_config.json), with `truncation` none is longer than maxLength.
   * @example const batch = tok.encodeBatch(['a', 'longer text'], { padding: true });
   */
  encodeBatch(texts: string[], opts: BatchOptions = {}): Encoding[] {
    const add = opts.addSpecialTokens ?? true;
    const limit = opts.maxLength ?? this.truncation?.maxLength ?? this.config.modelMaxLength;
    const out = texts.map((t) => this.finish([this.encodeSequence(t, 0)], add, opts.truncation ? limit : this.truncation?.maxLength ?? null, this.config.truncationSide));
    const fromJson = this.padding ? (this.padding.fixed !== null ? 'max_length' : 'longest') : false;
    const mode = opts.padding === undefined ? fromJson : opts.padding === true ? 'longest' : opts.padding;
    if (!mode) return out;
    const target = mode === 'longest' ? Math.max(0, ...out.map((e) => e.ids.length)) : opts.maxLength ?? this.padding?.fixed ?? this.config.modelMaxLength;
    if (!Number.isFinite(target)) tokFail("padding 'max_length' needs maxLength: tokenizer_config.json gives no model_max_length");
    const pad = this.padToken();
    const side = this.config.paddingSide;
    return out.map((e) => padEncoding(e, target, pad, side));
  }

  private padToken(): { id: number; token: string; typeId: number } {
    const name = this.config.padToken;
    if (name !== null) {
      const id = this.tokenToId(name);
      if (id === undefined) tokFail(`pad_token ${JSON.stringify(name)} of tokenizer_config.json is not in the vocabulary`);
      return { id, token: name, typeId: this.padding?.typeId ?? 0 };
    }
    if (this.padding) return this.padding;
    return tokFail('padding needs a pad token, and neither tokenizer_config.json (pad_token) nor tokenizer.json (padding) names one');
  }

  /**
   * Text of `ids`, as `tokenizers`' `decode`: ids mapped to tokens (unknown ids dropped, special tokens too with
   * skipSpecialTokens), then the decoder (tokens joined by spaces when there is none).
   * @example tok.decode([128000, 9906], { skipSpecialTokens: true }) // 'Hello'
   */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const tokens: string[] = [];
    for (const id of ids) {
      const t = this.idToToken(id);
      if (t === undefined || (opts.skipSpecialTokens && this.added.isSpecial(id))) continue;
      tokens.push(t);
    }
    return this.decoder ? this.decoder(tokens).join('') : tokens.join(' ');
  }
}

/** Drop tokens (from the longer sequence first, as longest_first does) until the total fits `room`. */
function truncate(encs: Encoding[], room: number, side: 'left' | 'right'): Encoding[] {
  const lens = encs.map((e) => e.ids.length);
  while (lens.reduce((a, b) => a + b, 0) > room) {
    const i = lens.length > 1 && lens[1]! > lens[0]! ? 1 : 0;
    lens[i]!--;
  }
  return encs.map((e, i) => {
    const n = lens[i]!;
    if (n === e.ids.length) return e;
    const [a, b] = side === 'right' ? [0, n] : [e.ids.length - n, e.ids.length];
    return { ids: e.ids.slice(a, b), tokens: e.tokens.slice(a, b), offsets: e.offsets.slice(a, b), typeIds: e.typeIds.slice(a, b), attentionMask: e.attentionMask.slice(a, b), specialTokensMask: e.specialTokensMask.slice(a, b) };
  });
}

function padEncoding(e: Encoding, target: number, pad: { id: number; token: string; typeId: number }, side: 'left' | 'right'): Encoding {
  const k = target - e.ids.length;
  if (k <= 0) return e;
  const fill = <T>(v: T) => Array.from({ length: k }, () => v);
  const join = <T>(xs: T[], v: T) => (side === 'right' ? [...xs, ...fill(v)] : [...fill(v), ...xs]);
  return {
    ids: join(e.ids, pad.id), tokens: join(e.tokens, pad.token), offsets: join(e.offsets, [0, 0] as [number, number]),
    typeIds: join(e.typeIds, pad.typeId), attentionMask: join(e.attentionMask, 0), specialTokensMask: join(e.specialTokensMask, 1),
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parse tokenizer.json (bytes, text or an already parsed object). */
export function parseTokenizerJson(source: Uint8Array | string | Json, what = 'tokenizer.json'): Json {
  if (source instanceof Uint8Array) {
    try { source = utf8.decode(source); } catch { tokFail(`${what} is not UTF-8 text`); }
  }
  if (typeof source === 'string') {
    try { return JSON.parse(source) as Json; } catch (e) { return tokFail(`${what} is not valid JSON (${(e as Error).message})`); }
  }
  return source;
}

export interface LoadTokenizerOptions {
  /** tokenizer_config.json: bytes, text or parsed (padding side, pad token, model_max_length). */
  config?: Uint8Array | string | Json;
}

/**
 * A tokenizer from tokenizer.json bytes or its parsed JSON (see 'forwardpass/node' for folders and files).
 * @example const tok = await loadTokenizer(await (await fetch('tokenizer.json')).arrayBuffer());
 */
export async function loadTokenizer(source: Uint8Array | ArrayBuffer | Json, opts: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  if (source instanceof ArrayBuffer) source = new Uint8Array(source);
  return new Tokenizer(parseTokenizerJson(source), opts.config === undefined ? {} : parseTokenizerJson(opts.config, 'tokenizer_config.json'));
}
