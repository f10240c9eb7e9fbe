// CLI misuse found in review: a Hugging Face model folder, `run --out` on a file or under one. Each is one
// `forwardpass:` line naming the path, what was expected and what was found, exit 1, and nothing is written.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadFixtureCases, writeNpyFile } from '../../src/node.js';
import { fixturePath } from '../helpers.js';
import { captureCli, scratchDir } from './capture.js';

const io = captureCli();

/** A folder laid out as a Hugging Face checkpoint: config.json with model_type, weights beside it. */
function hfFolder(): string {
  const dir = scratchDir('fp-hf-');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_embd: 64, n_layer: 2, vocab_size: 80 }));
  writeFileSync(join(dir, 'model.safetensors'), new Uint8Array(16));
  return dir;
}

describe('a Hugging Face config.json', () => {
  for (const cmd of ['inspect', 'run'] as const) {
    it(`${cmd} on a broken Hugging Face folder names what is wrong (weights, or config.json for run), in one line`, async () => {
      const dir = hfFolder();
      const argv = cmd === 'inspect' ? ['inspect', dir] : ['run', dir, '--out', join(dir, 'out')];
      expect(await main(argv)).toBe(1);
      expect(io.err).toMatch(cmd === 'inspect' ? /^forwardpass: .*model\.safetensors/ : /^forwardpass: config config\.json \(gpt2\): expected 'n_head' to be an integer >= 1, it is missing\n$/);
      expect(io.err).not.toMatch(/undefined/);
      expect(io.err.split('\n')).toHaveLength(2);
      expect(io.out).toBe('');
      expect(existsSync(join(dir, 'out'))).toBe(false);
    });
  }

  it('inspect on the config.json file itself: the Hugging Face architecture, or the model for ours', async () => {
    expect(await main(['inspect', join(hfFolder(), 'config.json')])).toBe(0);
    expect(io.out).toMatch(/config\.json: Hugging Face config, GPT2LMHeadModel \(model_type gpt2\)\n/);
    io.out = '';
    expect(await main(['inspect', fixturePath('tiny-gpt', 'config.json')])).toBe(0);
    expect(io.err).toBe('');
    expect(io.out).toMatch(/config\.json: model 'tiny-gpt' \(gpt2-style decoder-only transformer\) - character-level language model\ninputs: {2}input_ids \[batch, seq\]/);
  });

  it('trace on a Hugging Face folder says which commands take one, in one line', async () => {
    expect(await main(['trace', hfFolder()])).toBe(1);
    expect(io.err).toMatch(/^forwardpass: .*config\.json: this is a Hugging Face config \(model_type 'gpt2'\); expected here forwardpass's config with architecture\.type .*run, inspect and generate\n$/);
  });

  it('a config.json that is neither says what was expected and what it found', async () => {
    const dir = scratchDir('fp-cfg-');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ name: 'x', layers: [] }));
    expect(await main(['inspect', dir])).toBe(1);
    expect(io.err).toMatch(/^forwardpass: .*config\.json: expected forwardpass's config with architecture\.type \(a string\), found keys name, layers\n$/);
  });
});

describe('run --out', () => {
  async function input(dir: string): Promise<string> {
    const [c] = await loadFixtureCases(fixturePath('mlp-digits'));
    const x = join(dir, 'x.npy');
    await writeNpyFile(x, c!.inputs.input!);
    return `input=${x}`;
  }

  it('on an existing file names it and says a folder is expected, before running', async () => {
    const dir = scratchDir('fp-out-');
    const file = join(dir, 'taken.txt');
    writeFileSync(file, 'not a folder');
    expect(await main(['run', fixturePath('mlp-digits'), '--input', await input(dir), '--out', file])).toBe(1);
    expect(io.err).toBe(`forwardpass: run: --out '${file}' is a file; expected a folder to write the outputs into\n`);
    expect(io.out).toBe('');
  });

  it('under a file (a path that cannot become a folder) names both, and creates nothing', async () => {
    const dir = scratchDir('fp-out-');
    const file = join(dir, 'taken.txt');
    writeFileSync(file, 'not a folder');
    const out = join(file, 'sub', 'dir');
    expect(await main(['run', fixturePath('mlp-digits'), '--input', await input(dir), '--out', out])).toBe(1);
    expect(io.err).toBe(`forwardpass: run: --out '${out}': '${file}' is a file; expected a folder to write the outputs into\n`);
    expect(io.out).toBe('');
  });

  it('for an .onnx model too', async () => {
    const dir = scratchDir('fp-out-');
    const file = join(dir, 'taken.txt');
    writeFileSync(file, '');
    expect(await main(['run', fixturePath('mlp-digits', 'model.onnx'), '--input', await input(dir), '--out', file])).toBe(1);
    expect(io.err).toBe(`forwardpass: run: --out '${file}' is a file; expected a folder to write the outputs into\n`);
  });

  it('a folder that does not exist yet is created (nested), as before', async () => {
    const dir = scratchDir('fp-out-');
    mkdirSync(join(dir, 'a'));
    const out = join(dir, 'a', 'b', 'c');
    expect(await main(['run', fixturePath('mlp-digits'), '--input', await input(dir), '--out', out])).toBe(0);
    expect(existsSync(join(out, 'logits.npy'))).toBe(true);
  });
});
