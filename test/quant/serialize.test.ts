// Quantized models on disk: safetensors with I8 quants, F32 (F16 for Q8_0) scales and the `quantization` metadata;
// loading rebuilds the same int8 model (identical outputs), also from a folder, and bad files are named.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath } from '../helpers.js';

const configOf = (name: string) => readFileSync(fixturePath(name, 'config.json'), 'utf8');

async function quantized(name: string, opts: fp.QuantizeOptions): Promise<fp.ConfiguredModel> {
  const m = await fp.loadModel(fixturePath(name));
  return fp.quantize(m, opts);
}

describe('saveQuantized / loadModelAutoFromBytes', () => {
  it('round-trips a static per-channel CNN and a Q8_0 MLP with skipped and weight-only layers: same tensors, same outputs', async () => {
    const ev = await fp.loadFixtureEval(fixturePath('cnn-digits'));
    const calib = ev.inputs!.narrow(0, 0, 16);
    for (const [name, opts] of [['cnn-digits', { activations: 'static', calibration: calib, percentile: 99.9 }], ['mlp-digits', { weights: 'q8_0', skip: ['fc3'], layers: { fc2: { activations: 'none' } } }]] as const) {
      const model = await quantized(name, opts);
      const bytes = await fp.saveQuantized(model, { format: 'pt' });
      const file = fp.parseSafetensors(bytes);
      const info = fp.parseQuantizationInfo(file.metadata.quantization!);
      expect(info).toEqual(fp.quantizationInfo(model));
      expect(file.metadata.format).toBe('pt');
      const back = fp.loadModelAutoFromBytes(configOf(name), bytes);
      expect(fp.quantizationInfo(back)).toEqual(info);
      for (const [k, t] of model.stateDict()) {
        const u = back.stateDict().get(k)!;
        expect(u.dtype, k).toBe(t.dtype);
        expect(Array.from(u.dataSync()), k).toEqual(Array.from(t.dataSync()));
      }
      const x = name === 'cnn-digits' ? ev.inputs!.narrow(0, 100, 8) : (await fp.loadFixtureEval(fixturePath(name))).inputs!.narrow(0, 0, 8);
      expect(Array.from(back.run({ input: x }).logits!.dataSync())).toEqual(Array.from(model.run({ input: x }).logits!.dataSync()));
    }
  });

  it('stores I8 quants, F32 per-channel scales, F16 Q8_0 scales and float biases, named <layer>.weight.qs / .d', async () => {
    const model = await quantized('mlp-digits', { layers: { fc1: { weights: 'q8_0' } } });
    const file = fp.parseSafetensors(await fp.saveQuantized(model));
    const entry = (k: string) => { const e = file.tensors.get(k)!; return [e.dtype, e.shape]; };
    expect(entry('fc1.weight.qs')).toEqual(['I8', [128, 64]]);
    expect(entry('fc1.weight.d')).toEqual(['F16', [128, 2]]);
    expect(entry('fc2.weight.qs')).toEqual(['I8', [64, 128]]);
    expect(entry('fc2.weight.d')).toEqual(['F32', [64, 1]]);
    expect(entry('fc3.bias')).toEqual(['F32', [10]]);
    expect(file.tensors.has('fc1.weight')).toBe(false);
    const info = JSON.parse(file.metadata.quantization!);
    expect(info.format).toBe('forwardpass-int8-v1');
    expect(info.layers.fc1).toEqual({ type: 'Linear', weights: 'q8_0', activations: 'dynamic', shape: [128, 64], k: 64, kp: 64, block: 32 });
  });

  it('loads int8 quants that sit at a byte offset not divisible by 4 in the file', async () => {
    // Linear(32 -> 3) in Q8_0: its F16 scales take 6 bytes, so the I8 data after them starts at an odd multiple of 2
    const config = { architecture: { type: 'mlp', layers: [{ name: 'fc', type: 'Linear', in: 32, out: 3 }] } };
    const model = fp.modelFromConfig(config);
    model.loadStateDict({ 'fc.weight': fp.randn([3, 32], { seed: 3 }), 'fc.bias': fp.randn([3], { seed: 4 }) });
    await fp.quantize(model, { weights: 'q8_0' });
    const bytes = await fp.saveQuantized(model);
    const file = fp.parseSafetensors(bytes);
    expect(file.tensors.get('fc.weight.qs')!.byteOffset % 4).not.toBe(0);
    const back = fp.loadModelAutoFromBytes(config, bytes);
    const x = fp.randn([2, 32], { seed: 5 });
    expect(Array.from(back.forward(x).dataSync())).toEqual(Array.from(model.forward(x).dataSync()));
  });

  it('loads a quantized folder with loadModel, and a float file as the float model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fp-quant-'));
    const model = await quantized('tiny-bert-cls', {});
    writeFileSync(join(dir, 'config.json'), configOf('tiny-bert-cls'));
    writeFileSync(join(dir, 'model.safetensors'), await fp.saveQuantized(model));
    const back = await fp.loadModel(dir);
    expect(fp.isQuantized(back)).toBe(true);
    const [c] = await fp.loadFixtureCases(fixturePath('tiny-bert-cls'));
    expect(Array.from(back.run(c!.inputs).logits!.dataSync())).toEqual(Array.from(model.run(c!.inputs).logits!.dataSync()));
    const plain = fp.loadModelAutoFromBytes(configOf('mlp-digits'), readFileSync(fixturePath('mlp-digits', 'model.safetensors')));
    expect(fp.isQuantized(plain)).toBe(false);
  });

  it('names what is wrong with a quantized file', async () => {
    const model = await quantized('mlp-digits', {});
    const state = model.stateDict();
    const info = fp.quantizationInfo(model);
    const withMeta = async (meta: unknown) => fp.saveSafetensors(state, { quantization: typeof meta === 'string' ? meta : JSON.stringify(meta) });
    const load = async (meta: unknown) => fp.loadModelAutoFromBytes(configOf('mlp-digits'), await withMeta(meta), { name: 'q.safetensors' });
    await expect(load('{')).rejects.toThrow(/^forwardpass: q\.safetensors: quantization metadata: not valid JSON/);
    await expect(load({ ...info, format: 'ggml' })).rejects.toThrow(/expected format 'forwardpass-int8-v1', got "ggml"/);
    await expect(load({ ...info, layers: { ...info.layers, fc9: info.layers.fc1 } })).rejects.toThrow(/^forwardpass: load: the quantized layer 'fc9' does not exist in the model built from config\.json$/);
    await expect(load({ ...info, layers: { ...info.layers, fc1: { ...info.layers.fc1, shape: [128, 65] } } })).rejects.toThrow(/layer 'fc1' has weight \[128, 64\] in the model but \[128, 65\] in the quantized file/);
    await expect(load({ ...info, layers: { ...info.layers, fc1: { ...info.layers.fc1, type: 'Conv2d' } } })).rejects.toThrow(/layer 'fc1' is a Linear in the model but a Conv2d in the quantized file/);
    await expect(load({ ...info, layers: { ...info.layers, fc1: { ...info.layers.fc1, activations: 'static' } } })).rejects.toThrow(/layer 'fc1': static activations need a positive 'scale', got undefined/);
    await expect(load({ ...info, layers: { fc1: info.layers.fc1 } })).rejects.toThrow(/unexpected keys \(fc2\.weight\.qs, fc2\.weight\.d, fc3\.weight\.qs, fc3\.weight\.d\)/);
    await expect(fp.saveQuantized(await fp.loadModel(fixturePath('mlp-digits')))).rejects.toThrow(/^forwardpass: saveQuantized: the model has no quantized layers; call quantize\(model\) first$/);
  });
});
