// The CLI in-process: run writes .npy outputs that match the fixtures, inspect lists tensors, generate
// reproduces the reference continuation, and every bad invocation is one line with a non-zero exit.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadFixtureCases, readNpyFile, writeNpyFile } from '../../src/node.js';
import * as fp from '../../src/index.js';
import { fixturePath, maxAbsDiff } from '../helpers.js';
import { webgpu } from '../webgpu.js';
import { captureCli, scratchDir } from './capture.js';

const io = captureCli();
const tmp = () => scratchDir('fp-cli-');

describe('forwardpass run', () => {
  it('runs mlp-digits on a float32 .npy and writes logits.npy matching PyTorch within 1e-4', async () => {
    const dir = tmp();
    const [c] = await loadFixtureCases(fixturePath('mlp-digits'));
    await writeNpyFile(join(dir, 'x.npy'), c!.inputs.input!);
    const code = await main(['run', fixturePath('mlp-digits'), '--input', `input=${join(dir, 'x.npy')}`, '--out', join(dir, 'o')]);
    expect(io.err).toBe('');
    expect(code).toBe(0);
    expect(io.out).toMatch(/logits: \[1, 10\] float32 ->/);
    const got = await readNpyFile(join(dir, 'o', 'logits.npy'));
    expect(maxAbsDiff(got.dataSync(), c!.outputs.logits!.dataSync())).toBeLessThan(1e-4);
  });

  it('accepts int64 token ids for tiny-bert-cls (two inputs)', async () => {
    const dir = tmp();
    const cases = await loadFixtureCases(fixturePath('tiny-bert-cls'));
    const c = cases.find((k) => k.name === 'batch3_padded')!;
    await writeNpyFile(join(dir, 'ids.npy'), c.inputs.input_ids!, { dtype: 'int64' });
    await writeNpyFile(join(dir, 'mask.npy'), c.inputs.attention_mask!);
    const code = await main(['run', fixturePath('tiny-bert-cls'), '--input', `input_ids=${join(dir, 'ids.npy')}`, '--input', `attention_mask=${join(dir, 'mask.npy')}`, '--out', dir]);
    expect(io.err).toBe('');
    expect(code).toBe(0);
    const got = await readNpyFile(join(dir, 'logits.npy'));
    expect(got.shape).toEqual([3, 8]);
    expect(maxAbsDiff(got.dataSync(), c.outputs.logits!.dataSync())).toBeLessThan(1e-4);
  });

  it('names what is wrong with the inputs, in one line, exit 1', async () => {
    const dir = tmp();
    await writeNpyFile(join(dir, 'bad.npy'), fp.zeros([2, 63]));
    await writeNpyFile(join(dir, 'ids.npy'), fp.zeros([1, 4]));
    const cases: [string[], RegExp, number][] = [
      [['run', fixturePath('mlp-digits'), '--input', `input=${join(dir, 'bad.npy')}`, '--out', dir], /^forwardpass: run: input 'input' must have shape \[batch, 64\], got \[2, 63\] \(dim 1 is 63, expected 64\)\n$/, 1],
      [['run', fixturePath('mlp-digits'), '--input', `x=${join(dir, 'bad.npy')}`, '--out', dir], /^forwardpass: run: unknown input 'x'; the model takes 'input'\n$/, 1],
      [['run', fixturePath('mlp-digits'), '--out', dir], /^forwardpass: run: missing input 'input' \(give --input input=FILE.npy\)\n$/, 1],
      [['run', fixturePath('tiny-gpt'), '--input', `input_ids=${join(dir, 'ids.npy')}`, '--out', dir], /^forwardpass: run: input 'input_ids' must hold integers \(int32 or int64 \.npy\), got float32\n$/, 1],
      [['run', fixturePath('mlp-digits'), '--input', `input=${join(dir, 'missing.npy')}`, '--out', dir], /^forwardpass: .*missing\.npy.*\n$/, 1],
      [['run', join(dir, 'nowhere'), '--out', dir], /^forwardpass: model folder '.*nowhere' does not exist\n$/, 1],
      [['run', fixturePath('mlp-digits'), '--input', 'input'], /^forwardpass: run: --out DIR is required/, 2],
      [['run', fixturePath('mlp-digits'), '--out', dir, '--input', 'input'], /^forwardpass: run: --input expects NAME=FILE.npy, got 'input'\n$/, 2],
      [['run', fixturePath('mlp-digits'), '--frobnicate'], /^forwardpass: run: unknown option --frobnicate/, 2],
      [['run', fixturePath('mlp-digits'), '--out', dir, '--backend', 'tpu'], /^forwardpass: run: --backend must be one of cpu, webgpu, auto, got 'tpu'\n$/, 2],
      [['run', fixturePath('mlp-digits'), '--out', dir, '--precision', 'f8'], /^forwardpass: run: --precision must be one of f32, f16, int8, got 'f8'\n$/, 2],
      [['fly'], /^forwardpass: unknown command 'fly'/, 2],
    ];
    for (const [argv, re, code] of cases) {
      io.err = '';
      expect(await main(argv)).toBe(code);
      expect(io.err).toMatch(re);
      expect(io.err.split('\n').length).toBe(2);
    }
  });
});

describe('forwardpass inspect', () => {
  it('lists the tensors of a safetensors file with dtypes, shapes and bytes', async () => {
    expect(await main(['inspect', fixturePath('mlp-digits', 'model.safetensors')])).toBe(0);
    expect(io.out).toMatch(/safetensors, 6 tensors, 17,226 elements, 67\.3 KiB of data/);
    expect(io.out).toMatch(/fc1\.weight\s+F32\s+\[128, 64\]\s+32768/);
    expect(io.out).toMatch(/metadata:\n {2}format: pt/);
  });

  it('describes a model folder and an .npy file; --json is machine-readable', async () => {
    expect(await main(['inspect', fixturePath('tiny-gpt')])).toBe(0);
    expect(io.out).toMatch(/model 'tiny-gpt' \(gpt2-style decoder-only transformer\)/);
    expect(io.out).toMatch(/inputs: {2}input_ids \[batch, seq\]/);
    const dir = tmp();
    await writeNpyFile(join(dir, 'a.npy'), fp.tensor([[1, 2, 3]]));
    io.out = '';
    expect(await main(['inspect', join(dir, 'a.npy'), '--json'])).toBe(0);
    expect(JSON.parse(io.out)).toMatchObject({ format: 'npy', dtype: 'float32', shape: [1, 3], stats: { min: 1, max: 3, mean: 2 } });
  });

  it('refuses files it cannot read, naming them', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'w.safetensors'), new Uint8Array([1, 2, 3]));
    expect(await main(['inspect', join(dir, 'w.safetensors')])).toBe(1);
    expect(io.err).toMatch(/^forwardpass: .*w\.safetensors.*\n$/);
    io.err = '';
    writeFileSync(join(dir, 'x.bin'), 'x');
    expect(await main(['inspect', join(dir, 'x.bin')])).toBe(1);
    expect(io.err).toMatch(/cannot tell the format of '.*x\.bin'; expected a \.safetensors, \.npy, \.onnx or config\.json file or a model folder/);
  });
});

describe('forwardpass generate', () => {
  it('reproduces the reference greedy continuation of tiny-gpt', async () => {
    const gen = JSON.parse(readFileSync(fixturePath('tiny-gpt', 'generate.json'), 'utf8')) as { generations: { prompt: string; generated_text: string }[] };
    const g = gen.generations[2]!;
    expect(await main(['generate', fixturePath('tiny-gpt'), '--prompt', g.prompt, '--max-new-tokens', '50'])).toBe(0);
    expect(io.out).toBe(`${g.prompt}${g.generated_text}\n`);
  });

  it('rejects characters outside the vocabulary and non-decoder models', async () => {
    expect(await main(['generate', fixturePath('tiny-gpt'), '--prompt', 'héllo'])).toBe(1);
    expect(io.err).toMatch(/the character "é" \(U\+00E9\) at position 1 is not in the vocabulary/);
    io.err = '';
    expect(await main(['generate', fixturePath('mlp-digits'), '--prompt', 'a'])).toBe(1);
    expect(io.err).toMatch(/generation needs a decoder-only/);
    io.err = '';
    expect(await main(['generate', fixturePath('tiny-gpt'), '--prompt', 'a', '--max-new-tokens', '0'])).toBe(2);
    expect(io.err).toMatch(/--max-new-tokens must be a positive integer, got '0'/);
  });
});

describe('forwardpass run --precision f16', () => {
  it('stores weights and inputs as halves and stays within half-precision error of PyTorch', async () => {
    const dir = tmp();
    const [, c] = await loadFixtureCases(fixturePath('cnn-digits'));
    await writeNpyFile(join(dir, 'x.npy'), c!.inputs.input!);
    expect(await main(['run', fixturePath('cnn-digits'), '--input', `input=${join(dir, 'x.npy')}`, '--out', dir, '--precision', 'f16'])).toBe(0);
    expect(io.out).toMatch(/ran cnn-digits on cpu \(f16\)/);
    const got = (await readNpyFile(join(dir, 'logits.npy'))).dataSync();
    const want = c!.outputs.logits!.dataSync();
    const diff = maxAbsDiff(got, want);
    expect(diff).toBeGreaterThan(1e-5); // really ran in half precision
    expect(diff).toBeLessThan(0.05); // logits of magnitude ~10: a few half ULPs through 3 layers
  });
});

describe.skipIf(!webgpu.gpu)('forwardpass on webgpu', () => {
  it('run --backend webgpu matches PyTorch within 1e-3 and names the adapter on stderr; auto picks webgpu', async () => {
    const dir = tmp();
    const [c] = await loadFixtureCases(fixturePath('cnn-digits'));
    await writeNpyFile(join(dir, 'x.npy'), c!.inputs.input!);
    for (const backend of ['webgpu', 'auto']) {
      io.err = '';
      expect(await main(['run', fixturePath('cnn-digits'), '--input', `input=${join(dir, 'x.npy')}`, '--out', dir, '--backend', backend])).toBe(0);
      expect(io.err).toMatch(/^forwardpass: using webgpu on .+\n$/);
      expect(io.out).toMatch(/ran cnn-digits on webgpu \(f32\)/);
      expect(maxAbsDiff((await readNpyFile(join(dir, 'logits.npy'))).dataSync(), c!.outputs.logits!.dataSync())).toBeLessThan(1e-3);
    }
  });

  it('generate --backend webgpu --precision f16 runs the decoder with half weights on the device', async () => {
    expect(await main(['generate', fixturePath('tiny-gpt'), '--prompt', 'you must ', '--max-new-tokens', '8', '--backend', 'webgpu', '--precision', 'f16'])).toBe(0);
    expect(io.out).toMatch(/^you must .{8}\n$/);
  });
});
