// The tokenizer a GGUF file carries (`tokenizer.ggml.*`) as a src/text Tokenizer: "gpt2" byte-level BPE (tokens,
// merges, the pre-tokenizer `tokenizer.ggml.pre` names) or "llama" SentencePiece BPE (tokens, scores, byte
// fallback), control tokens as special added tokens, add_bos/add_eos as the post-processor's template.
import { loadTokenizer, type Tokenizer } from '../../text/tokenizer.js';
import type { Json } from '../../text/errors.js';
import type { GgufFile, GgufValue } from './reader.js';

const W = 'gguf tokenizer';
const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** llama.cpp token types. */
const CONTROL = 3, USER_DEFINED = 4, UNKNOWN = 2;

function get(file: GgufFile, key: string): GgufValue | undefined {
  return file.metadata.get(`tokenizer.ggml.${key}`)?.value;
}

function strings(file: GgufFile, key: string, required: boolean): string[] | null {
  const v = get(file, key);
  if (v === undefined && !required) return null;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new Error(`forwardpass: ${W}: 'tokenizer.ggml.${key}' must be an array of strings, found ${v === undefined ? 'nothing' : typeof v}`);
  return v as string[];
}

function numbers(file: GgufFile, key: string, n: number): number[] | null {
  const v = get(file, key);
  if (v === undefined) return null;
  if (!Array.isArray(v) || v.length !== n || v.some((s) => typeof s !== 'number')) throw new Error(`forwardpass: ${W}: 'tokenizer.ggml.${key}' must be ${n} numbers (one per token)`);
  return v as number[];
}

function id(file: GgufFile, key: string, n: number): number | null {
  const v = get(file, key);
  if (v === undefined) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= n) throw new Error(`forwardpass: ${W}: 'tokenizer.ggml.${key}' = ${String(v)} is not a token id (0..${n - 1})`);
  return v;
}

function flag(file: GgufFile, key: string, fallback: boolean): boolean {
  const v = get(file, key);
  return typeof v === 'boolean' ? v : fallback;
}

function preTokenizer(pre: string): { pre_tokenizer: Json; normalizer: Json | null; ignoreMerges: boolean } {
  const byteLevel = (useRegex: boolean) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: useRegex });
  const split = (re: string) => ({ type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: re }, behavior: 'Isolated', invert: false }, byteLevel(false)] });
  switch (pre) {
    case 'default': case 'gpt-2': case 'gpt2': return { pre_tokenizer: byteLevel(true), normalizer: null, ignoreMerges: false };
    case 'llama3': case 'llama-bpe': case 'llama-v3': case 'smaug-bpe': return { pre_tokenizer: split(LLAMA3_SPLIT), normalizer: null, ignoreMerges: true };
    case 'qwen2': return { pre_tokenizer: split(QWEN2_SPLIT), normalizer: { type: 'NFC' }, ignoreMerges: false };
    default: throw new Error(`forwardpass: ${W}: pre-tokenizer 'tokenizer.ggml.pre' = '${pre}' is not supported; supported: default, gpt-2, llama-bpe (llama3), smaug-bpe, qwen2`);
  }
}

/** SentencePiece pieces -> BPE merges: every split of a piece into two pieces, ranked by the piece's score. */
function spmMerges(tokens: string[], scores: number[], types: number[] | null): string[] {
  const index = new Map(tokens.map((t, i) => [t, i]));
  const out: [string, number, number][] = [];
  tokens.forEach((t, i) => {
    if (types && types[i] !== 1) return;
    const cps = [...t];
    for (let s = 1; s < cps.length; s++) {
      const l = cps.slice(0, s).join(''), r = cps.slice(s).join('');
      const li = index.get(l), ri = index.get(r);
      if (li !== undefined && ri !== undefined) out.push([`${l} ${r}`, scores[i]!, li * tokens.length + ri]);
    }
  });
  out.sort((a, b) => b[1] - a[1] || a[2] - b[2]);
  return out.map((m) => m[0]);
}

/**
 * The tokenizer.json (as an object) equivalent to a GGUF file's `tokenizer.ggml.*` metadata.
 *
 * @example const tok = await loadTokenizer(ggufTokenizerJson(file));
 */
export function ggufTokenizerJson(file: GgufFile): Json {
  const model = get(file, 'model');
  const tokens = strings(file, 'tokens', true)!;
  const n = tokens.length;
  const types = numbers(file, 'token_type', n);
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => { if (!Object.hasOwn(vocab, t)) vocab[t] = i; }); // not `in`: 'toString' is a token
  const added = tokens.flatMap((t, i) => (types && (types[i] === CONTROL || types[i] === USER_DEFINED || types[i] === UNKNOWN)
    ? [{ id: i, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: types[i] !== USER_DEFINED }] : []));
  const bos = id(file, 'bos_token_id', n), eos = id(file, 'eos_token_id', n), unk = id(file, 'unknown_token_id', n);
  const addBos = flag(file, 'add_bos_token', model === 'llama'), addEos = flag(file, 'add_eos_token', false);
  const single: Json[] = [];
  const special: Record<string, Json> = {};
  for (const [on, tid] of [[addBos, bos], [null, -1], [addEos, eos]] as const) {
    if (on === null) { single.push({ Sequence: { id: 'A', type_id: 0 } }); continue; }
    if (!on) continue;
    if (tid === null) throw new Error(`forwardpass: ${W}: add_${single.length ? 'eos' : 'bos'}_token is set but the file gives no id for it`);
    single.push({ SpecialToken: { id: tokens[tid]!, type_id: 0 } });
    special[tokens[tid]!] = { id: tokens[tid]!, ids: [tid], tokens: [tokens[tid]!] };
  }
  const post = single.length > 1 ? { type: 'TemplateProcessing', single, pair: [...single, ...single.map((s) => (s && typeof s === 'object' && 'Sequence' in (s as object) ? { Sequence: { id: 'B', type_id: 1 } } : s))], special_tokens: special } : null;
  if (model === 'gpt2') {
    const merges = strings(file, 'merges', true)!;
    const pre = get(file, 'pre');
    const p = preTokenizer(typeof pre === 'string' ? pre : 'default');
    const byteLevel = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true };
    return {
      version: '1.0', added_tokens: added, normalizer: p.normalizer, pre_tokenizer: p.pre_tokenizer,
      post_processor: post ?? byteLevel, decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: p.ignoreMerges, vocab, merges },
    };
  }
  if (model === 'llama') {
    const scores = numbers(file, 'scores', n);
    if (!scores) throw new Error(`forwardpass: ${W}: a "llama" (SentencePiece) tokenizer needs 'tokenizer.ggml.scores'`);
    const prefix = flag(file, 'add_space_prefix', true);
    const normalizers: Json[] = [{ type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }];
    if (prefix) normalizers.unshift({ type: 'Prepend', prepend: '\u2581' });
    const decoders: Json[] = [{ type: 'Replace', pattern: { String: '\u2581' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }];
    if (prefix) decoders.push({ type: 'Strip', content: ' ', start: 1, stop: 0 });
    return {
      version: '1.0', added_tokens: added, normalizer: { type: 'Sequence', normalizers }, pre_tokenizer: null, post_processor: post,
      decoder: { type: 'Sequence', decoders },
      model: { type: 'BPE', dropout: null, unk_token: unk === null ? null : tokens[unk]!, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges: spmMerges(tokens, scores, types) },
    };
  }
  throw new Error(`forwardpass: ${W}: 'tokenizer.ggml.model' = ${JSON.stringify(String(model))} is not supported (gpt2 byte-level BPE, llama SentencePiece)`);
}

/**
 * The tokenizer stored in a GGUF file.
 *
 * @example const tok = await ggufTokenizer(await readGgufFile('model.gguf')); tok.encode('Hello').ids
 */
export async function ggufTokenizer(file: GgufFile): Promise<Tokenizer> {
  return loadTokenizer(ggufTokenizerJson(file));
}
