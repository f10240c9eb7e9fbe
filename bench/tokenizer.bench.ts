// Tokenizer throughput: MB/s of UTF-8 input that Tokenizer.encode turns into ids, on about 1 MB made of the 203
// reference case texts (repeated as they are, and as a seeded shuffle of their words), plus load time per tokenizer.
// The real tokenizers (llama3, qwen3, llama2) are read from ../shared/hf; the trained ones from test/fixtures.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRng } from '../src/index.js';
import { loadTokenizer } from '../src/node.js';
import { measure, type BenchRow, type BenchSuite } from './run.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = resolve(ROOT, '../shared/hf/tokenizers');
const FIXTURES = join(ROOT, 'test/fixtures/tokenizers');
const TARGET_BYTES = 1 << 20;

function folder(name: string): string | null {
  for (const base of [FIXTURES, SHARED]) if (existsSync(join(base, name, 'tokenizer.json'))) return join(base, name);
  return null;
}

const repeat = (once: string) => Array.from({ length: Math.ceil(TARGET_BYTES / Buffer.byteLength(once)) }, () => once).join('\n');

/** The case texts joined by newlines and repeated to about 1 MB, the same words in a seeded random order, and the
 * ASCII-only case texts (English, code, numbers, URLs) repeated to about 1 MB. */
function corpora(dir: string): { repeated: string; shuffled: string; ascii: string } {
  const texts = (JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as { cases: { text: string }[] }).cases.map((c) => c.text);
  const repeated = repeat(texts.join('\n'));
  const ascii = repeat(texts.filter((t) => /^[\x20-\x7e\n\t]+$/.test(t)).join('\n'));
  const words = repeated.split(/(?<=\s)/u);
  const rng = makeRng(11);
  for (let i = words.length - 1; i > 0; i--) { const j = Math.floor(rng() * (i + 1)); [words[i], words[j]] = [words[j]!, words[i]!]; }
  return { repeated, shuffled: words.join(''), ascii };
}

const NAMES = ['llama3', 'qwen3', 'llama2', 'bpe-bytelevel', 'wordpiece', 'unigram'];

const suite: BenchSuite = {
  name: 'tokenizer',
  description: 'Tokenizer.encode throughput (MB/s of UTF-8 input, one thread) on ~1 MB of the reference case texts, and tokenizer.json load time.',
  variants: {
    'encode repeated': 'encode() of the 203 case texts joined and repeated to ~1 MB (a third of the bytes are non-ASCII: 15 scripts, emoji, zalgo; the word caches are warm after the first pass)',
    'encode shuffled': 'encode() of the same words in a seeded random order (same vocabulary of words, new neighbours)',
    'encode repeated (CPU time)': 'the same call timed by process.cpuUsage (median of 3): less disturbed by other jobs on the machine',
    'encode shuffled (CPU time)': 'the same for the shuffled text',
    'encode ascii': 'encode() of the printable-ASCII case texts only (English, code, numbers, URLs) repeated to ~1 MB',
    'encode ascii (CPU time)': 'the same by process CPU time',
    load: 'read tokenizer.json + tokenizer_config.json, parse and build (merge table, added tokens, regexes)',
  },
  notes: [
    'MB = 2^20 bytes of UTF-8 input. Each encode call handles the whole ~1 MB string (offsets included); llama2 has no pre-tokenizer, so each stretch between added tokens is one BPE word merged with the heap loop.',
    'The Python/Rust tokenizers package is not installed here, so there is no peer figure; the machine is a 2-core VM shared with other jobs: expect ±20%.',
  ],
  async run(log, ctx) {
    const rows: BenchRow[] = [];
    for (const name of NAMES) {
      const dir = folder(name);
      if (!dir) { log(`${name}: skipped (not in test/fixtures/tokenizers or ../shared/hf/tokenizers)`); continue; }
      const load = await measure(`${name} load`, () => loadTokenizer(dir), { timeMs: 2000 * ctx.scale, minSamples: 2 });
      rows.push({ group: name, variant: 'load', medianMs: load.medianMs, minMs: load.minMs, samples: load.samples, value: load.medianMs, best: load.minMs, unit: 'ms' });
      const tok = await loadTokenizer(dir);
      const { repeated, shuffled, ascii } = corpora(dir);
      for (const [variant, text] of [['encode repeated', repeated], ['encode shuffled', shuffled], ['encode ascii', ascii]] as const) {
        const mb = Buffer.byteLength(text) / 2 ** 20;
        let n = 0;
        const t = await measure(`${name} ${variant}`, () => { n = tok.encode(text, { addSpecialTokens: false }).ids.length; }, { timeMs: 3000 * ctx.scale, minSamples: 3 });
        rows.push({ group: name, variant, medianMs: t.medianMs, minMs: t.minMs, samples: t.samples, value: mb / (t.medianMs / 1000), best: mb / (t.minMs / 1000), unit: 'MB/s' });
        // CPU time of this process: on the shared VM wall time also counts other jobs' turns
        const cpuMs: number[] = [];
        for (let i = 0; i < 3; i++) {
          const c0 = process.cpuUsage();
          tok.encode(text, { addSpecialTokens: false });
          const c = process.cpuUsage(c0);
          cpuMs.push((c.user + c.system) / 1000);
        }
        cpuMs.sort((a, b) => a - b);
        rows.push({ group: name, variant: `${variant} (CPU time)`, medianMs: cpuMs[1]!, minMs: cpuMs[0]!, samples: 3, value: mb / (cpuMs[1]! / 1000), best: mb / (cpuMs[0]! / 1000), unit: 'MB/s' });
        log(`${name} ${variant}: ${(mb / (t.medianMs / 1000)).toFixed(2)} MB/s wall, ${(mb / (cpuMs[1]! / 1000)).toFixed(2)} MB/s CPU time (${mb.toFixed(2)} MB -> ${n} tokens)`);
      }
      log(`${name} load: ${load.medianMs.toFixed(0)} ms`);
    }
    return rows;
  },
};

export default suite;
