// `forwardpass tokenize`, spawned as a user runs it: JSON lines on stdin give the reference ids, tokens, offsets and
// decoded text; bad lines and bad invocations are one line on stderr with a non-zero exit.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { HAS_SHARED, readCases, SHARED_HF, SHARED_NOTE, TOKENIZER_FIXTURES } from '../text/helpers.js';
import { captureCli } from './capture.js';

const ROOT = resolve(__dirname, '../..');
const cli = (args: string[], input: string) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', join(ROOT, 'test/wgsl-hook.mjs'), join(ROOT, 'src/cli/bin.ts'), 'tokenize', ...args], { cwd: ROOT, input, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const lines = (s: string) => s.trim().split('\n').map((l) => JSON.parse(l));

describe('forwardpass tokenize (spawned)', () => {
  it('encodes one JSON string per line: ids, tokens and UTF-16 offsets of every wordpiece case; --decode gives the text back', () => {
    const dir = join(TOKENIZER_FIXTURES, 'wordpiece');
    const cases = readCases(dir);
    const r = cli([dir], cases.map((c) => JSON.stringify(c.text)).join('\n') + '\n');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual(cases.map((c) => ({ ids: c.ids, tokens: c.tokens, offsets: c.offsets_utf16 })));
    const d = cli([join(dir, 'tokenizer.json'), '--decode'], cases.map((c) => JSON.stringify(c.ids_with_special)).join('\n'));
    expect(d.code).toBe(0);
    expect(lines(d.out)).toEqual(cases.map((c) => ({ text: c.decode_with_special })));
  }, 60_000);

  it('--add-special-tokens applies the template; --decode --skip-special-tokens drops the specials', () => {
    const dir = join(TOKENIZER_FIXTURES, 'unigram');
    const c = readCases(dir).find((k) => k.text.length > 20)!;
    const r = cli([dir, '--add-special-tokens'], `${JSON.stringify(c.text)}\n\n`);
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual([{ ids: c.ids_with_special, tokens: c.tokens_with_special, offsets: expect.any(Array) }]);
    const d = cli([dir, '--decode', '--skip-special-tokens'], JSON.stringify(c.ids_with_special));
    expect(lines(d.out)).toEqual([{ text: c.decode_with_special_skip }]);
  }, 60_000);

  it('a line that is not a string (or, with --decode, not an id array) is one error naming the line, exit 1', () => {
    const dir = join(TOKENIZER_FIXTURES, 'bpe-bytelevel');
    const r = cli([dir], '"ok"\n[1, 2]\n');
    expect(r.code).toBe(1);
    expect(r.err).toBe('forwardpass: tokenize: stdin line 2 must be a JSON string to encode (or use --decode for id arrays), got [1, 2]\n');
    const d = cli([dir, '--decode'], '{oops\n');
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/^forwardpass: tokenize: stdin line 1 is not JSON \(.*\)\n$/);
  }, 60_000);
});

describe.skipIf(!HAS_SHARED)(`forwardpass tokenize on Llama 3${SHARED_NOTE}`, () => {
  it('gives the reference ids of the special-token and emoji cases', () => {
    const dir = join(SHARED_HF, 'tokenizers', 'llama3');
    const cases = readCases(dir).filter((c) => /special|emoji/.test(c.category));
    expect(cases.length).toBeGreaterThan(5);
    const r = cli([dir], cases.map((c) => JSON.stringify(c.text)).join('\n'));
    expect(r.code).toBe(0);
    expect(lines(r.out).map((l) => l.ids)).toEqual(cases.map((c) => c.ids));
  }, 60_000);
});

describe('forwardpass tokenize usage (in process)', () => {
  const io = captureCli();
  it('--help prints the full help; bad invocations are one line, exit 2 (usage) or 1 (missing file)', async () => {
    expect(await main(['tokenize', '--help'])).toBe(0);
    expect(io.out).toMatch(/^forwardpass tokenize: [^\n]*\n\nusage:\n  forwardpass tokenize <folder \| tokenizer.json>[\s\S]*--skip-special-tokens/);
    io.out = '';
    expect(await main(['tokenize'])).toBe(2);
    expect(io.err).toMatch(/^forwardpass: tokenize: expected one folder or tokenizer.json, got 0; usage: forwardpass tokenize/);
    io.err = '';
    expect(await main(['tokenize', TOKENIZER_FIXTURES, '--frobnicate'])).toBe(2);
    expect(io.err).toMatch(/^forwardpass: tokenize: unknown option --frobnicate/);
    io.err = '';
    expect(await main(['tokenize', join(TOKENIZER_FIXTURES, 'nowhere')])).toBe(1);
    expect(io.err).toMatch(/^forwardpass: tokenizer: '.*nowhere' does not exist \(expected a folder with tokenizer.json, or a tokenizer.json file\)\n$/);
    io.err = '';
    expect(await main(['tokenize', TOKENIZER_FIXTURES])).toBe(1);
    expect(io.err).toMatch(/^forwardpass: tokenizer: '.*tokenizers' has no tokenizer.json\n$/);
  });
});
