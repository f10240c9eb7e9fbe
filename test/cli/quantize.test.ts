// The CLI's INT8 paths in-process: `quantize <folder> -o <out>` (schemes, calibration, skip, weight-only layers)
// writes a folder that run / inspect / generate take; `run --precision int8` quantizes on load; bad invocations
// are one line with a non-zero exit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import * as fp from '../../src/node.js';
import { fixturePath } from '../helpers.js';
import { captureCli, scratchDir } from './capture.js';

const io = captureCli();
const tmp = () => scratchDir('fp-cli-quant-');

function cosineOf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! ** 2; bb += b[i]! ** 2; }
  return ab / Math.sqrt(aa * bb);
}

describe('forwardpass quantize', () => {
  it('writes an int8 folder that run and inspect take, and prints the per-layer report', async () => {
    const dir = tmp();
    expect(await main(['quantize', fixturePath('mlp-digits'), '-o', join(dir, 'q'), '--weights', 'q8_0', '--skip', 'fc3', '--weight-only', 'fc2'])).toBe(0);
    expect(io.err).toBe('');
    expect(io.out).toMatch(/^layer +type +weights +activations +int8 bytes +f32 bytes +ratio\nfc1 +Linear +q8_0 +dynamic +8704 +32768 +0\.266\nfc2 +Linear +q8_0 +none +/);
    expect(io.out).toMatch(/quantized mlp-digits: int8 weights are 0\.\d+x their float32 bytes; wrote .*model\.safetensors \(\d+ bytes\) and config\.json\n$/);
    const model = await fp.loadModel(join(dir, 'q'));
    expect(fp.quantizationReport(model).layers.map((l) => `${l.name} ${l.weights} ${l.activations}`)).toEqual(['fc1 q8_0 dynamic', 'fc2 q8_0 none']);
    expect(readFileSync(join(dir, 'q', 'config.json'), 'utf8')).toBe(readFileSync(fixturePath('mlp-digits', 'config.json'), 'utf8'));

    const [c] = await fp.loadFixtureCases(fixturePath('mlp-digits'));
    await fp.writeNpyFile(join(dir, 'x.npy'), c!.inputs.input!);
    io.out = '';
    expect(await main(['run', join(dir, 'q'), '--input', `input=${join(dir, 'x.npy')}`, '--out', join(dir, 'o')])).toBe(0);
    expect(io.out).toMatch(/ran mlp-digits on cpu \(int8 q8_0\/dynamic, q8_0\/none\) in [\d.]+ ms\n$/);
    const got = await fp.readNpyFile(join(dir, 'o', 'logits.npy'));
    expect(cosineOf(got.dataSync(), c!.outputs.logits!.dataSync())).toBeGreaterThan(0.9999);

    io.out = '';
    expect(await main(['inspect', join(dir, 'q')])).toBe(0);
    expect(io.out).toMatch(/fc1\.weight\.qs +I8 +\[128, 64\] +8192\n/);
    expect(io.out).toMatch(/fc1\.weight\.d +F16 +\[128, 2\] +512\n/);
    expect(io.out).toMatch(/quantization: \{"format":"forwardpass-int8-v1"/);
  });

  it('calibrates static scales from a .npy (with a percentile) and the folder reproduces the eval accuracy', async () => {
    const dir = tmp();
    const ev = await fp.loadFixtureEval(fixturePath('cnn-digits'));
    await fp.writeNpyFile(join(dir, 'calib.npy'), ev.inputs!.narrow(0, 0, 32).contiguous());
    expect(await main(['quantize', fixturePath('cnn-digits'), '-o', join(dir, 'q'), '--activations', 'static', '--calibration', join(dir, 'calib.npy'), '--percentile', '99.9'])).toBe(0);
    expect(io.out).toMatch(/conv2 +Conv2d +per-channel +static \(0\.\d+\) +4736 +18432 +0\.257\n/);
    const model = await fp.loadModel(join(dir, 'q'));
    const pred = fp.argmax(model.run({ input: ev.inputs! }).logits!, { axis: 1 });
    const labels = ev.labels!.dataSync();
    const acc = Array.from(pred.dataSync()).filter((p, i) => p === labels[i]).length / labels.length;
    expect(acc).toBeGreaterThanOrEqual(0.9907 - 0.01);
  });

  it('generates from an int8 tiny-gpt folder like the float model', async () => {
    const dir = tmp();
    expect(await main(['quantize', fixturePath('tiny-gpt'), '-o', dir, '--weight-only', 'h.0.attn.c_attn,lm_head'])).toBe(0);
    io.out = '';
    expect(await main(['generate', dir, '--prompt', 'you must ', '--max-new-tokens', '30'])).toBe(0);
    expect(io.out).toBe('you must be distributed under the terms\n');
  });
});

describe('forwardpass run --precision int8', () => {
  it('quantizes a float folder on load (dynamic W8A8) and stays close to PyTorch', async () => {
    const dir = tmp();
    const cases = await fp.loadFixtureCases(fixturePath('tiny-bert-cls'));
    const c = cases.find((k) => k.name === 'batch3_padded')!;
    await fp.writeNpyFile(join(dir, 'ids.npy'), c.inputs.input_ids!, { dtype: 'int64' });
    await fp.writeNpyFile(join(dir, 'mask.npy'), c.inputs.attention_mask!);
    expect(await main(['run', fixturePath('tiny-bert-cls'), '--input', `input_ids=${join(dir, 'ids.npy')}`, '--input', `attention_mask=${join(dir, 'mask.npy')}`, '--out', dir, '--precision', 'int8'])).toBe(0);
    expect(io.err).toBe('');
    expect(io.out).toMatch(/ran tiny-bert-cls on cpu \(int8 per-channel\/dynamic, quantized on load\) in [\d.]+ ms\n$/);
    const got = (await fp.readNpyFile(join(dir, 'logits.npy'))).dataSync();
    const want = c.outputs.logits!.dataSync();
    expect(cosineOf(got, want)).toBeGreaterThan(0.999);
    expect(Array.from(fp.argmax(fp.tensor(got, { shape: [3, 8] }), { axis: 1 }).dataSync())).toEqual(Array.from(fp.argmax(c.outputs.logits!, { axis: 1 }).dataSync()));
  });
});

describe('forwardpass quantize: bad invocations', () => {
  it('says what is wrong in one line with exit 2 (usage) or 1 (data)', async () => {
    const dir = tmp();
    await fp.writeNpyFile(join(dir, 'bad.npy'), fp.zeros([4, 63]));
    expect(await main(['quantize', fixturePath('mlp-digits'), '-o', join(dir, 'q')])).toBe(0);
    await fp.writeNpyFile(join(dir, 'x.npy'), fp.zeros([1, 64]));
    const m = fixturePath('mlp-digits');
    const cases: [string[], RegExp, number][] = [
      [['quantize', m], /^forwardpass: quantize: -o <out-folder> is required; usage: forwardpass quantize <model-folder> -o <out-folder>/, 2],
      [['quantize', m, '-o', m], /^forwardpass: quantize: the output folder must differ from the model folder /, 2],
      [['quantize', m, '-o', dir, '--weights', 'int4'], /^forwardpass: quantize: --weights must be one of per-channel, q8_0, got 'int4'\n$/, 2],
      [['quantize', m, '-o', dir, '--activations', 'fp8'], /^forwardpass: quantize: --activations must be one of dynamic, static, none, got 'fp8'\n$/, 2],
      [['quantize', m, '-o', dir, '--activations', 'static'], /^forwardpass: quantize: --activations static needs --calibration FILE\.npy \(sample inputs\)\n$/, 2],
      [['quantize', m, '-o', dir, '--percentile', '0'], /^forwardpass: quantize: --percentile must be a number in \(0, 100\], got '0'\n$/, 2],
      [['quantize', m, '-o', dir, '--activations', 'static', '--calibration', join(dir, 'bad.npy')], /^forwardpass: quantize: calibration batch 0: input 'input' must have shape \[batch, 64\], got \[4, 63\]\n$/, 1],
      [['quantize', m, '-o', dir, '--skip', 'fc1,fc7'], /^forwardpass: quantize: skip names 'fc7', which is not a Linear or Conv2d layer of the model \(have: fc1, fc2, fc3\)\n$/, 1],
      [['quantize', join(dir, 'q'), '-o', join(dir, 'q2')], /^forwardpass: quantize: '.*q' already holds a quantized model; quantize the float model folder\n$/, 1],
      [['run', join(dir, 'q'), '--input', `input=${join(dir, 'x.npy')}`, '--out', dir, '--precision', 'f16'], /^forwardpass: run: '.*q' holds an int8 model; --precision f16 applies to float models only\n$/, 1],
      [['generate', fixturePath('tiny-gpt'), '--prompt', 'a', '--precision', 'int8'], /^forwardpass: generate: --precision int8 applies to Hugging Face folders; quantize a forwardpass folder with forwardpass quantize\n$/, 2],
    ];
    for (const [argv, re, code] of cases) {
      io.err = '';
      expect(await main(argv), argv.join(' ')).toBe(code);
      expect(io.err, argv.join(' ')).toMatch(re);
    }
  });
});
