// The pieces of the tokenizer on their own: regex translation, split behaviours, the BPE merge loop against its
// naive twin, WordPiece/Unigram corner cases, decoders, added-token flags, pairs, batches and load-time errors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../../src/index.js';
import { BpeModel } from '../../src/text/bpe.js';
import { buildDecoder } from '../../src/text/decoders.js';
import { buildNormalizer } from '../../src/text/normalizers.js';
import { buildPreTokenizer, byteLevel } from '../../src/text/pre-tokenizers.js';
import { toByteChars } from '../../src/text/byte-level.js';
import { NStr, type SplitBehavior } from '../../src/text/normalized.js';
import { compileRegex, translateRegex } from '../../src/text/regex.js';
import { UnigramModel } from '../../src/text/unigram.js';
import { WordPieceModel } from '../../src/text/wordpiece.js';
import { makeRng } from '../../src/index.js';
import { readCases, TOKENIZER_FIXTURES } from './helpers.js';

const fixtureJson = (name: string) => JSON.parse(readFileSync(join(TOKENIZER_FIXTURES, name, 'tokenizer.json'), 'utf8'));
const fixtureConfig = (name: string) => JSON.parse(readFileSync(join(TOKENIZER_FIXTURES, name, 'tokenizer_config.json'), 'utf8'));
const all = (re: RegExp, s: string) => [...s.matchAll(re)].map((m) => m[0]);

describe('regex translation (Oniguruma -> JavaScript)', () => {
  it('expands (?i:...) letter by letter and keeps the rest case-sensitive', () => {
    expect(translateRegex("(?i:'s|'re)|x")).toBe("(?:'[sS]|'[rR][eE])|x");
    expect(all(compileRegex("(?i:'s|'ll)|x"), "it'S he'LL X x")).toEqual(["'S", "'LL", 'x']);
  });

  it('\\s is Unicode White_Space: U+0085 is a space, the BOM U+FEFF is not (JavaScript\'s \\s says the opposite)', () => {
    const re = compileRegex('\\s+');
    expect(all(re, 'a\u0085b')).toEqual(['\u0085']);
    expect(all(re, 'a\ufeffb')).toEqual([]);
    expect(all(compileRegex('[^\\s\\p{L}]+'), 'ab\ufeff!')).toEqual(['\ufeff!']);
  });

  it('\\w and \\d are Unicode; \\p{..} classes and lookaheads pass through', () => {
    expect(all(compileRegex('\\w+'), 'héllo wörld_1 ٣')).toEqual(['héllo', 'wörld_1', '٣']);
    expect(all(compileRegex('\\s+(?!\\S)|\\s+'), 'a   b')).toEqual(['  ', ' ']);
  });

  it('possessive quantifiers never give back what they matched', () => {
    expect(all(compileRegex('a?+a'), 'a')).toEqual([]);
    expect(all(compileRegex('a?a'), 'a')).toEqual(['a']);
    expect(all(compileRegex("[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}"), ' hello 12345')).toEqual([' hello', '123', '45']);
  });

  it('an unsupported construct is one clear error naming the pattern', () => {
    expect(() => compileRegex('(?>ab)')).toThrow(/^forwardpass: tokenizer: cannot translate the regex "\(\?>ab\)": atomic groups$/);
    expect(() => compileRegex('\\Qab')).toThrow(/escape \\Q is not supported/);
  });
});

describe('splitting with offsets (NStr)', () => {
  // the examples of the tokenizers documentation for SplitDelimiterBehavior
  const cases: [SplitBehavior, string[]][] = [
    ['Removed', ['the', 'final', 'countdown']],
    ['Isolated', ['the', '-', 'final', '-', '-', 'countdown']],
    ['MergedWithPrevious', ['the-', 'final-', '-', 'countdown']],
    ['MergedWithNext', ['the', '-final', '-', '-countdown']],
    ['Contiguous', ['the', '-', 'final', '--', 'countdown']],
  ];
  for (const [behavior, want] of cases) {
    it(`${behavior}`, () => {
      const parts = NStr.of('the-final--countdown').split('-', behavior);
      expect(parts.map((p) => p.s)).toEqual(want);
      for (const p of parts) expect('the-final--countdown'.slice(p.origStart, p.origEnd)).toBe(p.s);
    });
  }

  it('invert keeps the matches as delimiters of the gaps', () => {
    expect(NStr.of('ab12cd3').split(compileRegex('\\p{L}+'), 'Removed', true).map((p) => p.s)).toEqual(['ab', 'cd']);
  });

  it('spans survive a replace and a prepend', () => {
    const n = NStr.of('a bc');
    n.replace(' ', '▁▁');
    n.prepend('▁');
    expect(n.s).toBe('▁a▁▁bc');
    expect(n.toOriginal(0, 2)).toEqual([0, 1]);
    expect(n.toOriginal(2, 4)).toEqual([1, 2]);
    expect(n.toOriginal(4, 6)).toEqual([2, 4]);
  });
});

describe('pre-tokenizers and normalizers on the examples of the tokenizers documentation', () => {
  const pre = (cfg: object, text: string) => buildPreTokenizer(cfg)!([NStr.of(text)]).map((p) => [p.s, [p.origStart, p.origEnd]]);
  it('Whitespace, BertPreTokenizer, Punctuation, Digits', () => {
    expect(pre({ type: 'Whitespace' }, "Hello! How are you? I'm fine, thank you.")).toEqual([['Hello', [0, 5]], ['!', [5, 6]], ['How', [7, 10]], ['are', [11, 14]], ['you', [15, 18]], ['?', [18, 19]], ['I', [20, 21]], ["'", [21, 22]], ['m', [22, 23]], ['fine', [24, 28]], [',', [28, 29]], ['thank', [30, 35]], ['you', [36, 39]], ['.', [39, 40]]]);
    expect(pre({ type: 'BertPreTokenizer' }, 'Hey friend!     How are you?!?')).toEqual([['Hey', [0, 3]], ['friend', [4, 10]], ['!', [10, 11]], ['How', [16, 19]], ['are', [20, 23]], ['you', [24, 27]], ['?', [27, 28]], ['!', [28, 29]], ['?', [29, 30]]]);
    expect(pre({ type: 'Punctuation', behavior: 'Isolated' }, 'Hi, you!').map((p) => p[0])).toEqual(['Hi', ',', ' you', '!']);
    expect(pre({ type: 'Digits', individual_digits: true }, 'Call 123 please').map((p) => p[0])).toEqual(['Call ', '1', '2', '3', ' please']);
    expect(pre({ type: 'Digits', individual_digits: false }, 'Call 123 please').map((p) => p[0])).toEqual(['Call ', '123', ' please']);
  });

  it('ByteLevel (no prefix space) and Metaspace', () => {
    expect(pre({ type: 'ByteLevel', add_prefix_space: false }, 'Hello my friend, how are you?')).toEqual([['Hello', [0, 5]], ['Ġmy', [5, 8]], ['Ġfriend', [8, 15]], [',', [15, 16]], ['Ġhow', [16, 20]], ['Ġare', [20, 24]], ['Ġyou', [24, 28]], ['?', [28, 29]]]);
    expect(pre({ type: 'Metaspace', replacement: '▁', prepend_scheme: 'always' }, 'Hey friend!')).toEqual([['▁Hey', [0, 3]], ['▁friend!', [3, 11]]]);
    expect(pre({ type: 'Split', pattern: { String: ' ' }, behavior: 'Removed', invert: false }, 'a  b').map((p) => p[0])).toEqual(['a', 'b']);
  });

  it('NFD + StripAccents, Lowercase, Strip, Replace with spans', () => {
    const norm = (cfg: object, text: string) => buildNormalizer(cfg)!(NStr.of(text));
    expect(norm({ type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }] }, 'Héllò hôw are ü?').s).toBe('Hello how are u?');
    const n = norm({ type: 'Sequence', normalizers: [{ type: 'Strip', left: true, right: true }, { type: 'Lowercase' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: '_' }] }, '  Ab  CD ');
    expect(n.s).toBe('ab_cd');
    expect([n.toOriginal(0, 2), n.toOriginal(2, 3), n.toOriginal(3, 5)]).toEqual([[2, 4], [4, 6], [6, 8]]);
  });
});

describe('fast paths against their reference twins, on every case text', () => {
  const texts = readCases(join(TOKENIZER_FIXTURES, 'bpe-bytelevel')).map((c) => c.text);
  const view = (ps: NStr[]) => ps.map((p) => [p.s, p.origStart, p.origEnd, Array.from({ length: p.s.length }, (_, i) => p.toOriginal(i, i + 1).join('-')).join(' ')]);

  it('split Isolated on a regex (no match list) equals the generic split', () => {
    const re = compileRegex("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
    for (const t of texts) {
      expect(view(NStr.of(t, 3).split(re, 'Isolated'))).toEqual(view(NStr.of(t, 3).splitReference(re, 'Isolated')));
      const n = NStr.of(t);
      n.replace(' ', '  '); // spans no longer the identity
      n.prepend('x');
      if (t.length) expect(n.starts).not.toBeNull();
      expect(view(n.split(re, 'Isolated'))).toEqual(view(n.splitReference(re, 'Isolated')));
    }
  });

  it('the byte-level rewrite (ASCII replace, UTF-8 by hand) equals mapping every character through TextEncoder', () => {
    for (const t of texts) {
      for (const prefix of ['', 'É']) {
        const fast = NStr.of(prefix + t), ref = NStr.of(prefix + t);
        if (prefix) { fast.replace('É', 'E'); ref.replace('É', 'E'); }
        byteLevel(fast);
        ref.mapChars(toByteChars);
        expect(view([fast])).toEqual(view([ref]));
      }
    }
  });

  it('cached model results equal uncached ones after repeated use', () => {
    const tok = new Tokenizer(fixtureJson('bpe-bytelevel'));
    const model = tok.model as BpeModel;
    for (let r = 0; r < 2; r++) for (const t of texts.slice(0, 60)) for (const w of tok.encode(t).tokens) expect(model.tokenize(w)).toEqual(model.tokenizeUncached(w));
  });
});

describe('BPE merge loop', () => {
  it('the heap merge gives the naive rescan\'s ids on every case word and 500 random byte strings', () => {
    const json = fixtureJson('bpe-bytelevel');
    const model = new BpeModel(json.model);
    const tok = new Tokenizer(json);
    const words = new Set<string>();
    for (const c of readCases(join(TOKENIZER_FIXTURES, 'bpe-bytelevel'))) for (const t of tok.encode(c.text).tokens) words.add(t);
    const rng = makeRng(7);
    const alphabet = [...'ĠabcdeĊthinrs'];
    for (let i = 0; i < 500; i++) words.add(Array.from({ length: 1 + Math.floor(rng() * 40) }, () => alphabet[Math.floor(rng() * alphabet.length)]).join(''));
    let checked = 0;
    for (const w of words) {
      expect(model.tokenizeUncached(w).map((t) => t.id)).toEqual(model.mergeNaive(w));
      checked++;
    }
    expect(checked).toBeGreaterThan(600);
  });

  it('merges as "a b" strings and as ["a", "b"] pairs build the same tokenizer', () => {
    const json = fixtureJson('bpe-bytelevel');
    const asStrings = structuredClone(json);
    asStrings.model.merges = json.model.merges.map((m: [string, string]) => m.join(' '));
    const a = new Tokenizer(json), b = new Tokenizer(asStrings);
    for (const c of readCases(join(TOKENIZER_FIXTURES, 'bpe-bytelevel')).slice(0, 80)) expect(b.encode(c.text).ids).toEqual(a.encode(c.text).ids);
  });

  it('continuing_subword_prefix and end_of_word_suffix take part in lookups and merges', () => {
    const m = new BpeModel({ vocab: { a: 0, '##b': 1, 'c</w>': 2, '##c</w>': 3, 'ab': 4, 'abc</w>': 5 }, merges: ['a ##b', 'ab ##c</w>'], continuing_subword_prefix: '##', end_of_word_suffix: '</w>' });
    expect(m.tokenize('abc').map((t) => t.value)).toEqual(['abc</w>']);
  });

  it('ignore_merges emits a word found whole in the vocabulary, byte_fallback spells unknown characters in bytes', () => {
    const vocab = { a: 0, b: 1, ab: 2, abb: 3, '<0xC3>': 4, '<0xA9>': 5, '<unk>': 6 };
    expect(new BpeModel({ vocab, merges: ['a b'], ignore_merges: true }).tokenize('abb').map((t) => t.value)).toEqual(['abb']);
    expect(new BpeModel({ vocab, merges: ['a b'] }).tokenize('abb').map((t) => t.value)).toEqual(['ab', 'b']);
    expect(new BpeModel({ vocab, merges: [], byte_fallback: true, unk_token: '<unk>' }).tokenize('aé').map((t) => [t.value, t.start, t.end])).toEqual([['a', 0, 1], ['<0xC3>', 1, 2], ['<0xA9>', 1, 2]]);
    expect(new BpeModel({ vocab, merges: [], unk_token: '<unk>', fuse_unk: true }).tokenize('xya').map((t) => [t.value, t.start, t.end])).toEqual([['<unk>', 0, 2], ['a', 2, 3]]);
  });
});

describe('WordPiece and Unigram models', () => {
  it('WordPiece: a word with an unknown part, or too long, is one unk spanning the word', () => {
    const m = new WordPieceModel({ vocab: { '[UNK]': 0, un: 1, '##aff': 2, '##able': 3 }, unk_token: '[UNK]', max_input_chars_per_word: 8 });
    expect(m.tokenize('unaffable').map((t) => t.value)).toEqual(['[UNK]']);
    expect(new WordPieceModel({ vocab: { '[UNK]': 0, un: 1, '##aff': 2, '##able': 3 } }).tokenize('unaffable').map((t) => [t.value, t.start, t.end])).toEqual([['un', 0, 2], ['##aff', 2, 5], ['##able', 5, 9]]);
    expect(m.tokenize('unx').map((t) => [t.value, t.end])).toEqual([['[UNK]', 3]]);
  });

  it('WordLevel: whole words, unk_token otherwise (an error without one)', () => {
    const tok = new Tokenizer({ model: { type: 'WordLevel', vocab: { '[UNK]': 0, hello: 1, world: 2 }, unk_token: '[UNK]' }, pre_tokenizer: { type: 'WhitespaceSplit' } });
    const e = tok.encode('hello  there world');
    expect([e.ids, e.tokens, e.offsets]).toEqual([[1, 0, 2], ['hello', '[UNK]', 'world'], [[0, 5], [7, 12], [13, 18]]]);
    const strict = new Tokenizer({ model: { type: 'WordLevel', vocab: { hello: 0 }, unk_token: '<unk>' } });
    expect(() => strict.encode('bye')).toThrow(/^forwardpass: tokenizer: WordLevel: "bye" is not in the vocabulary and unk_token "<unk>" is not either$/);
  });

  it('Unigram: Viterbi picks the best-scoring path; uncovered characters become one fused unk', () => {
    const m = new UnigramModel({ unk_id: 0, vocab: [['<unk>', 0], ['a', -1], ['b', -1], ['ab', -3], ['abc', -1.5], ['c', -1]] });
    expect(m.tokenize('abc').map((t) => t.value)).toEqual(['abc']);
    expect(m.tokenize('ab').map((t) => t.value)).toEqual(['a', 'b']);
    expect(m.tokenize('axyb').map((t) => [t.id, t.value])).toEqual([[1, 'a'], [0, 'xy'], [2, 'b']]);
  });
});

describe('decoders', () => {
  it('ByteFallback turns byte tokens into text, an invalid sequence into one U+FFFD per byte', () => {
    const d = buildDecoder({ type: 'ByteFallback' })!;
    expect(d(['a', '<0xC3>', '<0xA9>', 'b']).join('')).toBe('aéb');
    expect(d(['<0xC3>', 'b']).join('')).toBe('\ufffdb');
    expect(d(['<0xE2>', '<0x82>']).join('')).toBe('\ufffd\ufffd');
  });

  it('Strip, Replace, Fuse, CTC and WordPiece cleanup', () => {
    expect(buildDecoder({ type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] })!(['▁Hello', '▁world'])).toEqual(['Hello world']);
    expect(buildDecoder({ type: 'CTC', pad_token: '<pad>', word_delimiter_token: '|', cleanup: true })!(['h', 'h', '<pad>', 'i', '|', 'y', 'o', 'u']).join('')).toBe('hi you');
    expect(buildDecoder({ type: 'WordPiece', prefix: '##', cleanup: true })!(['hello', ',', 'it', "'s", 'know', '##n', '!']).join('')).toBe("hello, it's known!");
    expect(buildDecoder({ type: 'WordPiece', prefix: '##', cleanup: false })!(['hello', ',', 'know', '##n']).join('')).toBe('hello , known');
  });
});

describe('added tokens, pairs and batches', () => {
  const withAdded = (extra: object[]) => {
    const json = fixtureJson('wordpiece');
    json.added_tokens.push(...extra);
    return new Tokenizer(json, fixtureConfig('wordpiece'));
  };

  it('lstrip and rstrip take the surrounding spaces into the token\'s span; single_word needs word boundaries', () => {
    const tok = withAdded([{ id: 1000, content: '<mask>', lstrip: true, rstrip: true, single_word: false, normalized: false, special: true },
      { id: 1001, content: 'zz', lstrip: false, rstrip: false, single_word: true, normalized: false, special: false }]);
    const e = tok.encode('the <mask>  end', { addSpecialTokens: false });
    expect(e.tokens).toEqual(['the', '<mask>', 'end']);
    expect(e.offsets).toEqual([[0, 3], [3, 12], [12, 15]]);
    expect(tok.encode('a zz b', { addSpecialTokens: false }).ids).toContain(1001);
    expect(tok.encode('azz b', { addSpecialTokens: false }).ids).not.toContain(1001);
  });

  it('a normalized added token is found after the normalizer (here: lowercased)', () => {
    const tok = withAdded([{ id: 1000, content: 'new york', lstrip: false, rstrip: false, single_word: false, normalized: true, special: false }]);
    const e = tok.encode('I love NEW YORK', { addSpecialTokens: false });
    expect(e.tokens.at(-1)).toBe('new york');
    expect(e.offsets.at(-1)).toEqual([7, 15]);
  });

  it('encodePair uses the pair template with type ids 0 then 1', () => {
    const tok = new Tokenizer(fixtureJson('wordpiece'));
    const e = tok.encodePair('the cat', 'a dog');
    expect(e.tokens[0]).toBe('[CLS]');
    expect(e.tokens.filter((t) => t === '[SEP]')).toHaveLength(2);
    const sep = e.tokens.indexOf('[SEP]');
    expect(e.typeIds).toEqual(e.tokens.map((_, i) => (i <= sep ? 0 : 1)));
    expect(e.specialTokensMask).toEqual(e.tokens.map((t) => (t === '[CLS]' || t === '[SEP]' ? 1 : 0)));
  });

  it('encodeBatch pads with the config\'s pad token on its side and truncates to maxLength, specials kept', () => {
    const json = fixtureJson('wordpiece');
    const right = new Tokenizer(json, fixtureConfig('wordpiece'));
    const [a, b] = right.encodeBatch(['hello', 'the quick brown fox jumps'], { padding: true });
    expect(a!.ids.length).toBe(b!.ids.length);
    expect(a!.ids.slice(-1)).toEqual([right.tokenToId('[PAD]')]);
    expect(a!.attentionMask.at(-1)).toBe(0);
    const left = new Tokenizer(json, { ...fixtureConfig('wordpiece'), padding_side: 'left' });
    expect(left.encodeBatch(['hello', 'the quick brown fox jumps'], { padding: true })[0]!.ids[0]).toBe(right.tokenToId('[PAD]'));
    const t = right.encodeBatch(['the quick brown fox jumps over the lazy dog'], { truncation: true, maxLength: 5 })[0]!;
    expect(t.tokens).toEqual(['[CLS]', 'the', 'quick', 'br', '[SEP]']);
    const fixed = right.encodeBatch(['hi'], { padding: 'max_length', maxLength: 6 })[0]!;
    const n = right.encode('hi').ids.length;
    expect(fixed.attentionMask).toEqual([0, 1, 2, 3, 4, 5].map((i) => (i < n ? 1 : 0)));
    expect(fixed.ids).toHaveLength(6);
  });
});

describe('post-processors', () => {
  it('BertProcessing gives what the [CLS] $A [SEP] template gives, single and pair', () => {
    const json = fixtureJson('wordpiece');
    const template = new Tokenizer(json);
    const bert = new Tokenizer({ ...json, post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] } });
    for (const e of [(t: Tokenizer) => t.encode('the cat sat.'), (t: Tokenizer) => t.encodePair('the cat', 'a dog')]) expect(e(bert)).toEqual(e(template));
  });

  it('RobertaProcessing: <s> A </s></s> B </s>; ByteLevel trim_offsets takes the leading space out of a span', () => {
    const json = fixtureJson('bpe-bytelevel');
    const rob = new Tokenizer({ ...json, post_processor: { type: 'RobertaProcessing', sep: ['<|endoftext|>', 0], cls: ['<|endoftext|>', 0], trim_offsets: true, add_prefix_space: false } });
    const p = rob.encodePair('hi there', 'yo');
    expect(p.specialTokensMask.join('')).toMatch(/^1(0+)11(0+)1$/);
    const trimmed = new Tokenizer({ ...json, post_processor: { type: 'ByteLevel', trim_offsets: true, add_prefix_space: false } });
    const plain = new Tokenizer(json);
    const text = 'hello   world';
    const a = plain.encode(text), b = trimmed.encode(text);
    expect(b.ids).toEqual(a.ids);
    const k = a.tokens.findIndex((t) => t.startsWith('Ġ') && t.length > 1 && /[a-z]/.test(t));
    expect(text.slice(...a.offsets[k]!)).toMatch(/^ \w/);
    expect(text.slice(...b.offsets[k]!)).toMatch(/^\w/);
    expect(b.offsets[k]![1]).toBe(a.offsets[k]![1]);
  });
});

describe('load-time errors', () => {
  const base = () => fixtureJson('wordpiece');
  const cases: [string, (j: ReturnType<typeof base>) => void, RegExp][] = [
    ['model', (j) => { j.model.type = 'CharLevel'; }, /^forwardpass: tokenizer: unsupported model type "CharLevel" \(supported: BPE, WordPiece, Unigram, WordLevel\)$/],
    ['normalizer', (j) => { j.normalizer = { type: 'Precompiled' }; }, /^forwardpass: tokenizer: unsupported normalizer type "Precompiled" \(supported: NFC, .*Sequence\)$/],
    ['pre-tokenizer', (j) => { j.pre_tokenizer = { type: 'UnicodeScripts' }; }, /^forwardpass: tokenizer: unsupported pre-tokenizer type "UnicodeScripts" \(supported: ByteLevel, .*\)$/],
    ['decoder', (j) => { j.decoder = { type: 'Nope' }; }, /^forwardpass: tokenizer: unsupported decoder type "Nope" \(supported: ByteLevel, .*\)$/],
    ['post-processor', (j) => { j.post_processor = { type: 'Nope' }; }, /^forwardpass: tokenizer: unsupported post-processor type "Nope" \(supported: TemplateProcessing, .*\)$/],
  ];
  for (const [what, edit, re] of cases) {
    it(`an unknown ${what} type names it and the supported ones`, () => {
      const j = base();
      edit(j);
      expect(() => new Tokenizer(j)).toThrow(re);
    });
  }

  it('BPE dropout other than null is refused', () => {
    const j = fixtureJson('bpe-bytelevel');
    j.model.dropout = 0.1;
    expect(() => new Tokenizer(j)).toThrow(/^forwardpass: tokenizer: BPE dropout must be null .*got 0.1$/);
  });
});
