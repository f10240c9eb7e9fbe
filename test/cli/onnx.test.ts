// The CLI on .onnx files: run feeds .npy inputs (float, int32 or int64 ids, uint8) to loadOnnx and writes one .npy
// per output (int64 outputs as int64), matching the fixtures and onnxruntime; inspect prints the graph's
// signature, opset, op histogram with backend support and parameter count; bad invocations are one line.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadFixtureCases, readNpyFile, writeNpyFile } from '../../src/node.js';
import * as fp from '../../src/index.js';
import { fixturePath, maxAbsDiff } from '../helpers.js';
import { onnxModel } from '../io/onnx/writer.js';
import { runOrt } from '../io/onnx/ort.js';
import { webgpu } from '../webgpu.js';
import { captureCli, scratchDir } from './capture.js';

const io = captureCli();
const tmp = () => scratchDir('fp-onnx-cli-');
const onnx = (name: string) => fixturePath(name, 'model.onnx');

describe('forwardpass run model.onnx', () => {
  it('runs mlp-digits and cnn-digits on float32 .npy inputs within 1e-4 of PyTorch', async () => {
    for (const name of ['mlp-digits', 'cnn-digits']) {
      const dir = tmp();
      const cases = await loadFixtureCases(fixturePath(name));
      const c = cases[cases.length - 1]!;
      await writeNpyFile(join(dir, 'x.npy'), c.inputs.input!);
      io.out = '';
      expect(await main(['run', onnx(name), '--input', `input=${join(dir, 'x.npy')}`, '--out', join(dir, 'o')])).toBe(0);
      expect(io.err).toBe('');
      expect(io.out).toMatch(new RegExp(`logits: \\[${c.inputs.input!.shape[0]}, 10\\] float32 ->`));
      expect(io.out).toMatch(/ran model\.onnx on cpu \(f32\) in [\d.]+ ms/);
      const got = await readNpyFile(join(dir, 'o', 'logits.npy'));
      expect(maxAbsDiff(got.dataSync(), c.outputs.logits!.dataSync())).toBeLessThan(1e-4);
    }
  });

  it('takes token ids as int64 or int32 .npy (tiny-bert-cls, two inputs)', async () => {
    const dir = tmp();
    const c = (await loadFixtureCases(fixturePath('tiny-bert-cls'))).find((k) => k.name === 'batch3_padded')!;
    await writeNpyFile(join(dir, 'ids.npy'), c.inputs.input_ids!, { dtype: 'int64' });
    await writeNpyFile(join(dir, 'mask.npy'), c.inputs.attention_mask!);
    expect(await main(['run', onnx('tiny-bert-cls'), '--input', `input_ids=${join(dir, 'ids.npy')}`, '--input', `attention_mask=${join(dir, 'mask.npy')}`, '--out', dir])).toBe(0);
    expect(io.err).toBe('');
    const got = await readNpyFile(join(dir, 'logits.npy'));
    expect(got.shape).toEqual([3, 8]);
    expect(maxAbsDiff(got.dataSync(), c.outputs.logits!.dataSync())).toBeLessThan(1e-4);
  });

  it('--precision f16 and int8 run the fixture with half or int8 weights and keep every prediction', async () => {
    const dir = tmp();
    const c = (await loadFixtureCases(fixturePath('cnn-mnist'))).find((k) => k.name === 'batch16')!;
    await writeNpyFile(join(dir, 'x.npy'), c.inputs.input!);
    const want = c.outputs.logits!.dataSync() as Float32Array;
    const argmax = (a: ArrayLike<number>) => Array.from({ length: a.length / 10 }, (_, r) => { let b = 0; for (let j = 1; j < 10; j++) if (a[r * 10 + j]! > a[r * 10 + b]!) b = j; return b; });
    for (const precision of ['f16', 'int8']) {
      io.out = '';
      expect(await main(['run', onnx('cnn-mnist'), '--input', `input=${join(dir, 'x.npy')}`, '--out', dir, '--precision', precision])).toBe(0);
      expect(io.out).toMatch(new RegExp(`on cpu \\(${precision}\\)`));
      const got = (await readNpyFile(join(dir, 'logits.npy'))).dataSync() as Float32Array;
      const diff = maxAbsDiff(got, want);
      expect(diff).toBeGreaterThan(1e-5); // really ran at lower precision
      expect(diff).toBeLessThan(precision === 'f16' ? 0.05 : 0.5);
      expect(argmax(got)).toEqual(argmax(want));
    }
  });

  it('writes int64 outputs as int64 .npy and runs uint8 inputs through quantized ops as onnxruntime does', async () => {
    const dir = tmp();
    const model = onnxModel({
      opset: 17,
      nodes: [
        { op: 'Shape', inputs: ['a'], outputs: ['shape'] },
        { op: 'QLinearMatMul', inputs: ['a', 'sa', 'za', 'b', 'sb', 'zb', 'sy', 'zy'], outputs: ['y'] },
      ],
      initializers: [
        { name: 'sa', type: 'float', dims: [], data: [0.02] }, { name: 'za', type: 'uint8', dims: [], data: [120] },
        { name: 'b', type: 'uint8', dims: [5, 3], data: Array.from({ length: 15 }, (_, i) => (i * 53) % 256) },
        { name: 'sb', type: 'float', dims: [], data: [0.01] }, { name: 'zb', type: 'uint8', dims: [], data: [128] },
        { name: 'sy', type: 'float', dims: [], data: [0.05] }, { name: 'zy', type: 'uint8', dims: [], data: [100] },
      ],
      inputs: [{ name: 'a', type: 'uint8', shape: ['n', 5] }],
      outputs: [{ name: 'shape', type: 'int64', shape: [2] }, { name: 'y', type: 'uint8', shape: ['n', 3] }],
    });
    writeFileSync(join(dir, 'q.onnx'), model);
    const a = Uint8Array.from({ length: 20 }, (_, i) => (i * 97 + 11) % 256);
    await writeNpyFile(join(dir, 'a.npy'), fp.tensor(Array.from(a), { shape: [4, 5], dtype: 'uint8' }));
    expect(await main(['run', join(dir, 'q.onnx'), '--input', `a=${join(dir, 'a.npy')}`, '--out', dir])).toBe(0);
    expect(io.out).toMatch(/shape: \[2\] int64 ->/);
    expect(io.out).toMatch(/y: \[4, 3\] uint8 ->/);
    const shapeNpy = readFileSync(join(dir, 'shape.npy'));
    expect(shapeNpy.subarray(0, 80).toString('latin1')).toMatch(/'descr': '<i8'/);
    expect(Array.from((await readNpyFile(join(dir, 'shape.npy'))).dataSync())).toEqual([4, 5]);
    const want = await runOrt(model, { a: { type: 'uint8', dims: [4, 5], data: a } });
    expect(Array.from((await readNpyFile(join(dir, 'y.npy'))).dataSync())).toEqual(Array.from(want.y!.data as Uint8Array));
  });

  it('names what is wrong, in one line, with exit code 1', async () => {
    const dir = tmp();
    await writeNpyFile(join(dir, 'f.npy'), fp.zeros([1, 4]));
    await writeNpyFile(join(dir, 'i.npy'), fp.tensor([[1, 2, 3, 4]], { dtype: 'int32' }));
    const cases: [string[], RegExp][] = [
      [['run', onnx('mlp-digits'), '--input', `x=${join(dir, 'f.npy')}`, '--out', dir], /^forwardpass: run: unknown input 'x'; the model takes 'input'\n$/],
      [['run', onnx('mlp-digits'), '--out', dir], /^forwardpass: run: missing input 'input' \(give --input input=FILE\.npy\)\n$/],
      [['run', onnx('tiny-gpt'), '--input', `input_ids=${join(dir, 'f.npy')}`, '--out', dir], /^forwardpass: run: input 'input_ids' must hold integers \(an int32 or int64 \.npy for ONNX int64\), got float32\n$/],
      [['run', onnx('mlp-digits'), '--input', `input=${join(dir, 'i.npy')}`, '--out', dir], /^forwardpass: run: input 'input' must hold float values \(a float \.npy\), got int32\n$/],
      [['run', onnx('mlp-digits'), '--input', `input=${join(dir, 'f.npy')}`, '--out', dir], /^forwardpass: onnx: run: input 'input' .*\[1, 4\].*\n$/],
      [['run', join(dir, 'nowhere.onnx'), '--out', dir], /^forwardpass: run: ONNX file '.*nowhere\.onnx' does not exist\n$/],
    ];
    for (const [argv, re] of cases) {
      io.err = '';
      expect(await main(argv)).toBe(1);
      expect(io.err).toMatch(re);
    }
  });
});

describe('forwardpass inspect model.onnx', () => {
  it('prints inputs, outputs, opset, the op histogram with backend support and the parameter count', async () => {
    expect(await main(['inspect', onnx('mlp-digits')])).toBe(0);
    expect(io.out).toMatch(/ONNX model, IR version 8, opset 17, produced by pytorch/);
    expect(io.out).toMatch(/inputs: {2}input float \[batch, 64\]/);
    expect(io.out).toMatch(/outputs: logits float \[batch, 10\]/);
    expect(io.out).toMatch(/parameters: 17,226 in 6 initializers \(67\.3 KiB\)/);
    expect(io.out).toMatch(/ops: 2 types, 5 nodes/);
    expect(io.out).toMatch(/Gemm\s+3\s+yes\s+yes\n/);
    expect(io.out).toMatch(/Relu\s+2\s+yes\s+yes\n/);
    expect(io.out).toMatch(/every op is supported on cpu and webgpu/);
  });

  it('--json gives the same facts, and unsupported ops are named', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'odd.onnx'), onnxModel({
      opset: 18,
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['h'] }, { op: 'FancyOp', inputs: ['h'], outputs: ['y'], domain: 'com.example' }, { op: 'FancyOp', inputs: ['y'], outputs: ['z'], domain: 'com.example' }],
      inputs: [{ name: 'x', type: 'float', shape: [2] }],
      outputs: [{ name: 'z', type: 'float', shape: [2] }],
      initializers: [{ name: 'unused', type: 'int64', dims: [3], data: [1n, 2n, 3n] }],
    }));
    expect(await main(['inspect', join(dir, 'odd.onnx')])).toBe(0);
    expect(io.out).toMatch(/com\.example\.FancyOp\s+2\s+no\s+no/);
    expect(io.out).toMatch(/unsupported: com\.example\.FancyOp \(cpu, webgpu\)/);
    expect(io.out).toMatch(/parameters: 0 in 1 initializers \(24 B\), plus 3 integer\/bool initializer values/);
    io.out = '';
    expect(await main(['inspect', onnx('tiny-gpt'), '--json'])).toBe(0);
    const j = JSON.parse(io.out);
    expect(j).toMatchObject({ format: 'onnx', irVersion: 8, opsetImport: [{ domain: '', version: 17 }], parameters: 114432, nodes: 192 });
    expect(j.inputs).toEqual([{ name: 'input_ids', elemType: 'int64', shape: ['batch', 'seq'] }]);
    expect(j.ops.find((o: { opType: string }) => o.opType === 'LayerNormalization')).toMatchObject({ count: 5, cpu: true, webgpu: true });
    expect(j.ops.reduce((a: number, o: { count: number }) => a + o.count, 0)).toBe(192);
  });

  it('refuses a corrupt .onnx file with one line naming it', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.onnx'), new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f]));
    expect(await main(['inspect', join(dir, 'bad.onnx')])).toBe(1);
    expect(io.err).toMatch(/^forwardpass: onnx: .*bad\.onnx: .*\n$/);
  });
});

describe.skipIf(!webgpu.gpu)('forwardpass run model.onnx --backend webgpu', () => {
  it('runs cnn-digits on the device within 1e-3 of PyTorch and says so', async () => {
    const dir = tmp();
    const [c] = await loadFixtureCases(fixturePath('cnn-digits'));
    await writeNpyFile(join(dir, 'x.npy'), c!.inputs.input!);
    expect(await main(['run', onnx('cnn-digits'), '--input', `input=${join(dir, 'x.npy')}`, '--out', dir, '--backend', 'webgpu'])).toBe(0);
    expect(io.err).toMatch(/^forwardpass: using webgpu on .+\n$/);
    expect(io.out).toMatch(/ran model\.onnx on webgpu \(f32\)/);
    expect(maxAbsDiff((await readNpyFile(join(dir, 'logits.npy'))).dataSync(), c!.outputs.logits!.dataSync())).toBeLessThan(1e-3);
  });
});
