// --threads T on the CLI: run with 1 and 2 threads writes the same bytes, the option sets the thread count, a bad
// value is a usage error (exit 2) naming the command and the value, and the step-through page refuses it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { setGemmThreadsMinFlops } from '../../src/backends/cpu/wasm/gemm.js';
import * as fp from '../../src/node.js';
import { fixturePath } from '../helpers.js';
import { captureCli, scratchDir } from '../cli/capture.js';

const io = captureCli();
afterAll(() => { setGemmThreadsMinFlops(); fp.setNumThreads(1); });

describe('forwardpass --threads', () => {
  it('run cnn-mnist at batch 4 with --threads 1 and --threads 2 (every GEMM split): the same output bytes', async () => {
    setGemmThreadsMinFlops(0);
    const dir = scratchDir('fp-threads-');
    await fp.writeNpyFile(join(dir, 'x.npy'), fp.rand([4, 1, 28, 28], { seed: 3 }));
    const out: Buffer[] = [];
    for (const t of ['1', '2']) {
      const code = await main(['run', fixturePath('cnn-mnist'), '--input', `input=${join(dir, 'x.npy')}`, '--out', join(dir, t), '--threads', t]);
      expect(io.err).toBe('');
      expect(code).toBe(0);
      expect(fp.getNumThreads()).toBe(Number(t));
      out.push(readFileSync(join(dir, t, 'logits.npy')));
    }
    expect(out[1]!.equals(out[0]!)).toBe(true);
  });

  it('a bad --threads is a usage error naming the command and the value', async () => {
    const cases: [string[], RegExp][] = [
      [['run', fixturePath('mlp-digits'), '--out', 'o', '--threads', '0'], /^forwardpass: run: --threads must be a positive integer, got '0'\n$/],
      [['generate', fixturePath('tiny-gpt'), '--prompt', 'a', '--threads', 'two'], /^forwardpass: generate: --threads must be a positive integer, got 'two'\n$/],
      [['bench', fixturePath('mlp-digits'), '--threads', '1.5'], /^forwardpass: bench: --threads must be a positive integer, got '1.5'\n$/],
      [['serve', '--model', fixturePath('mlp-digits'), '--threads', '300'], /^forwardpass: serve: --threads must be at most 256, got '300'\n$/],
      [['serve', '--threads', '2'], /^forwardpass: serve: --threads applies to the model server; give --model PATH too/],
    ];
    for (const [argv, re] of cases) {
      io.err = '';
      expect(await main(argv), argv.join(' ')).toBe(2);
      expect(io.err).toMatch(re);
    }
  });
});
