// Models from made-up configs: sequential stacks of many layer types at odd widths and batch sizes 1, 3, 7 with
// random weights, checked against the same forward composed by hand from the ops; config and loading errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath, maxAbsDiff, randomArray } from '../helpers.js';

const cfg = (layers: object[], extra: object = {}) => ({ architecture: { type: 'sequential', layers }, ...extra }) as unknown as fp.nn.ModelConfig;

/** Random weights for every state tensor (running_var positive); returns them by name. */
function randomWeights(model: fp.nn.Module, seed: number): Map<string, fp.Tensor> {
  const sd = new Map<string, fp.Tensor>();
  model.namedParameters().forEach(([k, t], i) => {
    const pos = k.endsWith('running_var');
    sd.set(k, fp.tensor(randomArray(t.size, seed + i, pos ? 0.5 : -1, pos ? 2 : 1), { shape: t.shape }));
  });
  model.loadStateDict(sd);
  return sd;
}

describe('sequential models from a config', () => {
  it('MLP-like stack (Linear, LayerNorm, GELU, Tanh, Dropout, SiLU, ReLU6, Sigmoid, Softmax) equals the hand-written forward', async () => {
    const model = fp.nn.modelFromConfig(cfg([
      { name: 'fc1', type: 'Linear', in: 13, out: 7, bias: true },
      { name: 'ln1', type: 'LayerNorm', dim: 7, eps: 1e-6 },
      { name: 'act1', type: 'GELU', approximate: 'none' },
      { name: 'fc2', type: 'Linear', in_features: 7, out_features: 5, bias: false },
      { name: 'act2', type: 'Tanh' },
      { name: 'drop', type: 'Dropout', p: 0.25 },
      { name: 'fc3', type: 'Linear', in: 5, out: 11 },
      { name: 'act3', type: 'SiLU' },
      { name: 'act4', type: 'ReLU6' },
      { name: 'ln2', type: 'LayerNorm', normalized_shape: [11], elementwise_affine: false },
      { name: 'act5', type: 'GELU', approximate: 'tanh' },
      { name: 'fc4', type: 'Linear', in: 11, out: 3 },
      { name: 'act6', type: 'Sigmoid' },
      { name: 'probs', type: 'Softmax', dim: -1 },
    ]));
    const w = randomWeights(model, 7);
    expect([...w.keys()]).toEqual(['fc1.weight', 'fc1.bias', 'ln1.weight', 'ln1.bias', 'fc2.weight', 'fc3.weight', 'fc3.bias', 'fc4.weight', 'fc4.bias']);
    for (const batch of [1, 3, 7]) {
      const x = fp.tensor(randomArray(batch * 13, 100 + batch, -2, 2), { shape: [batch, 13] });
      const g = (k: string) => w.get(k)!;
      let h = fp.layerNorm(fp.linear(x, g('fc1.weight'), g('fc1.bias')), [7], g('ln1.weight'), g('ln1.bias'), 1e-6);
      h = fp.tanh(fp.linear(fp.gelu(h), g('fc2.weight')));
      h = fp.relu6(fp.silu(fp.linear(h, g('fc3.weight'), g('fc3.bias'))));
      h = fp.gelu(fp.layerNorm(h, [11], null, null, 1e-5), { approximate: 'tanh' });
      const ref = fp.softmax(fp.sigmoid(fp.linear(h, g('fc4.weight'), g('fc4.bias'))), -1);
      const y = model.run({ input: x }).logits!;
      expect(y.shape).toEqual([batch, 3]);
      expect(maxAbsDiff(await y.data(), await ref.data())).toBeLessThan(1e-6);
    }
  });

  it('CNN-like stack (Conv2d with groups, BatchNorm2d, ReLU6, pools with ceil mode, Flatten, Linear) equals the hand-written forward', async () => {
    const model = fp.nn.modelFromConfig(cfg([
      { name: 'c1', type: 'Conv2d', in_channels: 3, out_channels: 6, kernel: [3, 3], stride: [2, 2], padding: [1, 1], groups: 3 },
      { name: 'bn', type: 'BatchNorm2d', channels: 6, eps: 1e-3 },
      { name: 'a', type: 'ReLU6' },
      { name: 'mp', type: 'MaxPool2d', kernel: 2, stride: 2, ceil_mode: true },
      { name: 'c2', type: 'Conv2d', in_channels: 6, out_channels: 5, kernel_size: 1, bias: false },
      { name: 'gn', type: 'GroupNorm', groups: 5, channels: 5 },
      { name: 'ap', type: 'AvgPool2d', kernel: [2, 2], padding: [1, 1], count_include_pad: false },
      { name: 'flat', type: 'Flatten', start_dim: 1 },
      { name: 'fc', type: 'Linear', in: 5 * 2 * 2, out: 9 },
    ]));
    const w = randomWeights(model, 21);
    const g = (k: string) => w.get(k)!;
    for (const batch of [1, 3, 7]) {
      const x = fp.tensor(randomArray(batch * 3 * 11 * 9, 200 + batch), { shape: [batch, 3, 11, 9] });
      let h = fp.conv2d(x, g('c1.weight'), g('c1.bias'), { stride: 2, padding: 1, groups: 3 });
      h = fp.relu6(fp.batchNorm(h, g('bn.running_mean'), g('bn.running_var'), g('bn.weight'), g('bn.bias'), 1e-3));
      h = fp.maxPool2d(h, { kernelSize: 2, ceilMode: true });
      h = fp.groupNorm(fp.conv2d(h, g('c2.weight')), 5, g('gn.weight'), g('gn.bias'));
      h = fp.avgPool2d(h, { kernelSize: 2, padding: 1, countIncludePad: false });
      const ref = fp.linear(h.flatten(1), g('fc.weight'), g('fc.bias'));
      const y = model.run({ input: x }).logits!;
      expect(y.shape).toEqual([batch, 9]);
      expect(maxAbsDiff(await y.data(), await ref.data())).toBeLessThan(1e-6);
    }
  });

  it('Embedding and Conv1d layers build from config too', async () => {
    const emb = fp.nn.modelFromConfig(cfg([
      { name: 'emb', type: 'Embedding', num: 17, dim: 3 },
      { name: 'flat', type: 'Flatten' },
      { name: 'fc', type: 'Linear', in: 12, out: 2 },
    ]));
    const w = randomWeights(emb, 40);
    const ids = fp.tensor([[3, 16, 0, 5], [1, 1, 2, 9], [0, 0, 0, 0]], { dtype: 'int32' });
    const ref = fp.linear(fp.embedding(ids, w.get('emb.weight')!).flatten(1), w.get('fc.weight')!, w.get('fc.bias')!);
    expect(maxAbsDiff(await emb.run({ input: ids }).logits!.data(), await ref.data())).toBeLessThan(1e-6);

    const c1 = fp.nn.modelFromConfig(cfg([{ name: 'conv', type: 'Conv1d', in_channels: 4, out_channels: 6, kernel: 3, padding: 1, groups: 2 }]));
    const wc = randomWeights(c1, 50);
    const x = fp.tensor(randomArray(3 * 4 * 10, 51), { shape: [3, 4, 10] });
    const refc = fp.conv1d(x, wc.get('conv.weight')!, wc.get('conv.bias')!, { padding: 1, groups: 2 });
    expect(maxAbsDiff(await c1.run({ input: x }).logits!.data(), await refc.data())).toBeLessThan(1e-6);
  });

  it('records the input checkpoint and names modules by layer name', () => {
    const model = fp.nn.modelFromConfig(cfg([{ name: 'fc', type: 'Linear', in: 2, out: 2 }, { name: 'act', type: 'ReLU' }]));
    const paths: string[] = [];
    model.registerForwardHook((_m, p) => paths.push(p));
    model.run({ input: fp.zeros([1, 2]) });
    expect(paths).toEqual(['input', 'fc', 'act', '']);
  });
});

describe('config errors', () => {
  it('names an unknown layer type and lists the known ones', () => {
    expect(() => fp.nn.modelFromConfig(cfg([{ name: 'x', type: 'Swish' }]))).toThrow(/config layer 'x': unknown type 'Swish'; known types: Linear, Conv2d, Conv1d, BatchNorm2d, .*Flatten/);
  });

  it('names a missing or mistyped field with its layer', () => {
    expect(() => fp.nn.modelFromConfig(cfg([{ name: 'fc', type: 'Linear', in: 3 }]))).toThrow(/config layer 'fc' \(Linear\): expected 'out' or 'out_features' to be an integer >= 1, it is missing/);
    expect(() => fp.nn.modelFromConfig(cfg([{ name: 'c', type: 'Conv2d', in_channels: 1, out_channels: 2, kernel: [3, 0] }]))).toThrow(/layer 'c' \(Conv2d\): expected 'kernel' or 'kernel_size' to be an integer >= 1 or a list of 2 of them, found \[3,0\]/);
    expect(() => fp.nn.modelFromConfig(cfg([{ name: 'a', type: 'ReLU' }, { name: 'a', type: 'ReLU' }]))).toThrow(/config layer 'a': the name is used twice/);
    expect(() => fp.nn.modelFromConfig(cfg([]))).toThrow(/architecture\.layers must be a non-empty list/);
  });

  it('names an unknown architecture type, and a config without one', () => {
    expect(() => fp.nn.modelFromConfig({ architecture: { type: 'rnn' } })).toThrow(/unknown architecture\.type 'rnn'; known: 'mlp', 'cnn' or 'sequential'.*'gpt…'.*'bert…'/);
    expect(() => fp.nn.modelFromConfig({ name: 'x' } as never)).toThrow(/expected forwardpass's config with architecture\.type \(a string\), found keys name/);
    expect(() => fp.nn.modelFromConfig('{oops')).toThrow(/the config is not valid JSON/);
  });

  it('loading weights of another shape lists every mismatch', () => {
    const config = JSON.parse(readFileSync(fixturePath('mlp-digits', 'config.json'), 'utf8'));
    config.architecture.layers[2].out = 65;
    config.architecture.layers[4].in = 65;
    const bytes = readFileSync(fixturePath('mlp-digits', 'model.safetensors'));
    expect(() => fp.nn.loadModelFromBytes(config, bytes)).toThrow(/3 shape mismatches \(fc2\.weight: model \[65, 128\] vs state dict \[64, 128\], fc2\.bias: model \[65\] vs state dict \[64\], fc3\.weight: model \[10, 65\] vs state dict \[10, 64\]\)/);
  });

  it('frees the model it built when the file cannot be read or does not fit', () => {
    const config = JSON.parse(readFileSync(fixturePath('mlp-digits', 'config.json'), 'utf8'));
    const before = fp.cpuBackend.memory().liveBuffers;
    expect(() => fp.nn.loadModelFromBytes(config, new Uint8Array([1, 2, 3]))).toThrow(/forwardpass: safetensors/);
    config.architecture.layers[2].out = 65;
    config.architecture.layers[4].in = 65;
    expect(() => fp.nn.loadModelFromBytes(config, readFileSync(fixturePath('mlp-digits', 'model.safetensors')))).toThrow(/shape mismatches/);
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before);
  });
});
