// The divergence rule shared by `forwardpass trace --compare` and the page: the reference is the more precise run
// whichever way round the CLI is asked, both orders print the same rows with the right labels, and the page's
// int8-vs-f32 table (computeDivergence) carries the CLI's numbers for the same input.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { formatHelp } from '../../src/cli/args.js';
import { TRACE_SPEC } from '../../src/cli/specs.js';
import { loadFixtureCases, writeNpyFile } from '../../src/node.js';
import * as fp from '../../src/index.js';
import { computeDivergence } from '../../examples/web/divergence.js';
import { fixturePath } from '../helpers.js';
import { captureCli, scratchDir } from '../cli/capture.js';

const io = captureCli();

/** Compare rows of the CLI output by op index: the line and its max|Δ| and rel. */
function cliRows(out: string): Map<number, { line: string; maxAbs: number; rel: number }> {
  const rows = new Map<number, { line: string; maxAbs: number; rel: number }>();
  for (const line of out.split('\n')) {
    const m = /^ +(\d+) {2}.*max\|Δ\| +(\S+) +rel +(\S+) +cos/.exec(line);
    if (m) rows.set(Number(m[1]), { line, maxAbs: Number(m[2]), rel: Number(m[3]) });
  }
  return rows;
}

/** Both numbers agree to the 4 significant digits the CLI prints. */
const close = (a: number, b: number) => Math.abs(a - b) <= 6e-4 * Math.max(Math.abs(a), Math.abs(b)) + 1e-30;

describe('the divergence rule', () => {
  it('takes the more precise run as the reference, then the CPU run, and the threshold of the less precise', () => {
    const s = (backend: string, precision: fp.RunSetting['precision']): fp.RunSetting => ({ backend, precision });
    expect(fp.referenceOf(s('cpu', 'int8'), s('cpu', 'f32'))).toBe('b');
    expect(fp.referenceOf(s('cpu', 'f32'), s('cpu', 'int8'))).toBe('a');
    expect(fp.referenceOf(s('webgpu', 'f16'), s('cpu', 'int8'))).toBe('a');
    expect(fp.referenceOf(s('webgpu', 'f32'), s('cpu', 'f32'))).toBe('b');
    expect(fp.referenceOf(s('cpu', 'f32'), s('webgpu', 'f32'))).toBe('a');
    expect(fp.divergenceThreshold(s('cpu', 'f32'), s('cpu', 'int8'))).toBe(0.05);
    expect(fp.divergenceThreshold(s('cpu', 'f16'), s('cpu', 'f32'))).toBe(0.01);
    expect(fp.divergenceThreshold(s('cpu', 'f32'), s('webgpu', 'f32'))).toBe(0.001);
    expect(formatHelp(TRACE_SPEC)).toContain(fp.DIVERGENCE_RULE);
  });

  for (const name of ['mlp-digits', 'cnn-digits']) {
    it(`${name}: --precision f32 --compare int8 and --precision int8 --compare f32 label the runs the right way round; the page's table has the same numbers`, async () => {
      const dir = scratchDir('fp-divergence-');
      const [c] = await loadFixtureCases(fixturePath(name));
      const x = c!.inputs.input!.narrow(0, 0, 1);
      const file = join(dir, 'x.npy');
      await writeNpyFile(file, x);
      const pixels = (await x.data()) as Float32Array;

      expect(await main(['trace', fixturePath(name), '--input', `input=${file}`, '--precision', 'f32', '--compare', 'int8'])).toBe(0);
      const f32First = io.out;
      io.out = '';
      expect(await main(['trace', fixturePath(name), '--input', `input=${file}`, '--precision', 'int8', '--compare', 'f32'])).toBe(0);
      const int8First = io.out;
      expect(f32First).toMatch(/^compare: this run cpu f32 with cpu int8 \(--compare\); reference: this run, f32 \(the more precise run\); \d+ ops matched\n/);
      expect(int8First).toMatch(/^compare: this run cpu int8 with cpu f32 \(--compare\); reference: the --compare run, f32 \(the more precise run\); \d+ ops matched\n/);
      for (const out of [f32First, int8First]) {
        expect(out.split('\n')[1]).toBe('rows: op index and path in the f32 run, op f32→int8; rel = max|int8 - f32| / max|f32|; diverges above 0.05');
        expect(out).toMatch(/^unmatched: 0 f32 ops, \d+ int8 ops \(quantizeRows\)$/m);
        expect(out).toMatch(/ linear→linearInt8 /);
        expect(out).not.toMatch(/linearInt8→/);
      }
      // the same rows, whichever run the user named first
      expect(f32First.split('\n').slice(1)).toEqual(int8First.split('\n').slice(1));

      const cli = cliRows(f32First);
      const page = await computeDivergence({
        label: name, kind: 'nn', config: readFileSync(fixturePath(name, 'config.json'), 'utf8'),
        weights: new Uint8Array(readFileSync(fixturePath(name, 'model.safetensors'))),
      }, 'cpu', { pixels });
      expect(page.threshold).toBe(0.05);
      expect(page.rows.length).toBeGreaterThanOrEqual(3);
      for (const r of page.rows) {
        const line = cli.get(r.index);
        expect(line, `CLI row for op ${r.index} (${r.layer})`).toBeDefined();
        expect(close(line!.maxAbs, r.maxAbs), `${r.layer}: max abs ${line!.maxAbs} (CLI) vs ${r.maxAbs} (page)`).toBe(true);
        expect(close(line!.rel, r.rel), `${r.layer}: rel ${line!.rel} (CLI) vs ${r.rel} (page)`).toBe(true);
        expect(line!.line.endsWith('◀ diverges')).toBe(r.diverged);
      }
      for (const t of Object.values(c!.inputs)) t.dispose();
      x.dispose();
    });
  }
});
