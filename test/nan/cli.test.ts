// `forwardpass run` on NaN inputs: the NaN logits are written to the .npy as they are, stderr gets one warning per
// output naming it and counting its NaN values, and the exit code stays 0; a finite run prints no warning.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readNpyFile, writeNpyFile } from '../../src/node.js';
import * as fp from '../../src/index.js';
import { fixturePath } from '../helpers.js';
import { captureCli, scratchDir } from '../cli/capture.js';

const io = captureCli();

describe('forwardpass run on NaN inputs', () => {
  for (const model of [fixturePath('mlp-digits'), fixturePath('mlp-digits', 'model.onnx')]) {
    it(`${model.endsWith('.onnx') ? 'model.onnx' : 'model folder'}: writes the NaN logits, warns once on stderr, exits 0`, async () => {
      const dir = scratchDir('fp-nan-');
      const x = new Float32Array(3 * 64).fill(0.25);
      x.fill(NaN, 64, 128); // row 1 all NaN
      x[128 + 10] = NaN; // row 2 one NaN
      await writeNpyFile(join(dir, 'x.npy'), fp.tensor(x, { shape: [3, 64] }));
      const code = await main(['run', model, '--input', `input=${join(dir, 'x.npy')}`, '--out', join(dir, 'o')]);
      expect(code).toBe(0);
      expect(io.err).toBe("forwardpass: warning: output 'logits' holds 20 NaN of 30 values (written as they are)\n");
      const got = Array.from((await readNpyFile(join(dir, 'o', 'logits.npy'))).dataSync());
      expect(got.slice(0, 10).every(Number.isFinite)).toBe(true);
      expect(got.slice(10).every(Number.isNaN)).toBe(true);

      io.err = '';
      await writeNpyFile(join(dir, 'ok.npy'), fp.tensor(new Float32Array(64).fill(0.25), { shape: [1, 64] }));
      expect(await main(['run', model, '--input', `input=${join(dir, 'ok.npy')}`, '--out', join(dir, 'o2')])).toBe(0);
      expect(io.err).toBe('');
    });
  }
});
