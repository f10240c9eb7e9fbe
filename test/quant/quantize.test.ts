// quantize(model): layers swapped under the same names (fields, hooks, state-dict keys), honest bytes, skip and
// per-layer choices, static scales from calibration (max and percentile), and every bad input: quantizing twice,
// NaN/Inf weights, zero and constant channels, wrong calibration data, NaN activations at run time.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath, randomArray } from '../helpers.js';

const { nn } = fp;

/** conv (2 -> 4, 3x3, pad 1) -> relu -> flatten -> fc1 (64 -> 8) -> relu -> fc2 (8 -> 3), on [N, 2, 4, 4]. */
function smallNet(seed = 1): fp.nn.Sequential {
  const net = new nn.Sequential([
    ['conv', new nn.Conv2d(2, 4, 3, { padding: 1 })], ['relu0', new nn.ReLU()], ['flat', new nn.Flatten()],
    ['fc1', new nn.Linear(64, 8)], ['relu1', new nn.ReLU()], ['fc2', new nn.Linear(8, 3)],
  ]);
  const sd: Record<string, fp.Tensor> = {};
  for (const [i, [k, p]] of net.namedParameters().entries()) sd[k] = fp.tensor(randomArray(p.size, seed * 100 + i, -0.5, 0.5), { shape: [...p.shape] });
  net.loadStateDict(sd);
  return net;
}

const input = (n: number, seed = 7) => fp.tensor(randomArray(n * 32, seed), { shape: [n, 2, 4, 4] });

function cosineOf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! ** 2; bb += b[i]! ** 2; }
  return ab / Math.sqrt(aa * bb);
}

describe('quantize: layers, hooks and bytes', () => {
  it('swaps Linear and Conv2d for int8 layers under the same names; hooks keep firing; outputs stay close', async () => {
    const net = smallNet();
    const x = input(3);
    const want = net.forward(x).dataSync();
    const seen: string[] = [];
    net.registerForwardHook((_m, path) => seen.push(path));
    expect(await fp.quantize(net)).toBe(net);
    expect(net.getSubmodule('conv')).toBeInstanceOf(fp.QuantizedConv2d);
    expect(net.getSubmodule('fc1')).toBeInstanceOf(fp.QuantizedLinear);
    expect(net.at(3)).toBe(net.getSubmodule('fc1')); // the Sequential's run order follows
    expect([...net.stateDict().keys()]).toEqual(['conv.bias', 'conv.weight.qs', 'conv.weight.d', 'fc1.bias', 'fc1.weight.qs', 'fc1.weight.d', 'fc2.bias', 'fc2.weight.qs', 'fc2.weight.d']);
    expect(net.stateDict().get('fc1.weight.qs')!.dtype).toBe('int8');
    seen.length = 0;
    const got = net.forward(x).dataSync();
    expect(seen).toEqual(['conv', 'relu0', 'flat', 'fc1', 'relu1', 'fc2', '']);
    expect(cosineOf(got, want)).toBeGreaterThan(0.999);
    // bytes: int8 rows padded to 4 + one float32 scale per row, plus float32 biases
    expect(net.parameterBytes()).toBe((4 * 20 + 4 * 4) + (8 * 64 + 8 * 4) + (3 * 8 + 3 * 4) + 4 * (4 + 8 + 3));
    const r = fp.quantizationReport(net);
    expect(r.layers.map((l) => [l.name, l.weights, l.activations])).toEqual([['conv', 'per-channel', 'dynamic'], ['fc1', 'per-channel', 'dynamic'], ['fc2', 'per-channel', 'dynamic']]);
    expect(r.floatWeightBytes).toBe(4 * (72 + 512 + 24));
    expect(r.ratio).toBeCloseTo(r.weightBytes / r.floatWeightBytes, 12);
    expect(fp.formatReport(r)).toMatch(/^layer +type +weights +activations +int8 bytes +f32 bytes +ratio\nconv +Conv2d +per-channel +dynamic +96 +288 +0\.333\n/);
  });

  it('replaces the fields a model reads its layers from (GPT blocks) and keeps Q8_0 weights at 34/128 of float32', async () => {
    const gpt = new fp.GPT({ vocabSize: 11, dModel: 64, nHeads: 2, nLayers: 1, context: 8, mlpHidden: 128 });
    await fp.quantize(gpt, { weights: 'q8_0' });
    const block = gpt.h.at(0);
    expect(block.mlp.c_fc).toBeInstanceOf(fp.QuantizedLinear);
    expect(block.attn.c_attn).toBe(gpt.getSubmodule('h.0.attn.c_attn'));
    expect(gpt.lm_head).toBeInstanceOf(fp.QuantizedLinear);
    expect((gpt.lm_head as unknown as fp.QuantizedLinear).weight.d.dtype).toBe('float16'); // ggml's fp16 block scales
    expect(gpt.forward(fp.tensor(new Int32Array([1, 2, 3]), { shape: [1, 3], dtype: 'int32' })).shape).toEqual([1, 3, 11]);
    const r = fp.quantizationReport(gpt);
    expect(r.ratio).toBeCloseTo(34 / 128, 12);
  });

  it('dequantizes each weight to within half a step of the float value', async () => {
    const net = smallNet(2);
    const w = (await net.getSubmodule('fc1') as fp.nn.Linear).weight.dataSync();
    await fp.quantize(net, { weights: 'q8_0' });
    const q = (net.getSubmodule('fc1') as fp.QuantizedLinear).weight;
    const back = (await q.dequantize()).dataSync();
    const d = q.d.dataSync();
    for (let i = 0; i < w.length; i++) expect(Math.abs(back[i]! - w[i]!)).toBeLessThanOrEqual(d[Math.floor(i / 32)]! / 2 + 1e-7);
  });
});

describe('quantize: options', () => {
  it('skips layers by name or predicate and applies per-layer choices', async () => {
    const a = smallNet();
    await fp.quantize(a, { skip: ['conv', 'fc2'], layers: { fc1: { activations: 'none', weights: 'q8_0' } } });
    expect(a.getSubmodule('conv')).toBeInstanceOf(nn.Conv2d);
    expect(a.getSubmodule('fc2')).toBeInstanceOf(nn.Linear);
    expect((a.getSubmodule('fc1') as fp.QuantizedLinear).describe()).toMatchObject({ type: 'Linear', weights: 'q8_0', activations: 'none', k: 64, kp: 64, block: 32 });
    const b = smallNet();
    await fp.quantize(b, { weights: 'q8_0', skip: (name, m) => name === 'fc2' || m instanceof nn.Conv2d });
    expect(fp.quantizationReport(b).layers.map((l) => l.name)).toEqual(['fc1']);
    const c = smallNet();
    await fp.quantize(c, { weights: 'q8_0' }); // conv layers stay per channel
    expect(fp.quantizationReport(c).layers.map((l) => l.weights)).toEqual(['per-channel', 'q8_0', 'q8_0']);
  });

  it('names bad options and changes nothing', async () => {
    const net = smallNet();
    const cases: [fp.QuantizeOptions, RegExp][] = [
      [{ skip: ['fc9'] }, /^forwardpass: quantize: skip names 'fc9', which is not a Linear or Conv2d layer of the model \(have: conv, fc1, fc2\)$/],
      [{ layers: { relu1: { activations: 'none' } } }, /layers names 'relu1', which is not a Linear or Conv2d layer/],
      [{ weights: 'int4' as fp.WeightScheme }, /weights must be one of per-channel, q8_0, got 'int4'/],
      [{ layers: { fc1: { activations: 'fp8' as fp.ActivationMode } } }, /activations must be one of dynamic, static, none \(layer 'fc1'\), got 'fp8'/],
      [{ layers: { conv: { weights: 'q8_0' } } }, /layer 'conv' is a Conv2d: conv weights are quantized per output channel, not in Q8_0 blocks/],
      [{ skip: ['conv', 'fc1', 'fc2'] }, /every Linear and Conv2d layer is skipped: nothing to quantize/],
      [{ activations: 'static' }, /static activations \(layers conv, fc1, fc2\) need calibration inputs/],
      [{ activations: 'static', calibration: input(2), percentile: 0 }, /percentile must be in \(0, 100\], got 0/],
    ];
    for (const [opts, re] of cases) await expect(fp.quantize(net, opts)).rejects.toThrow(re);
    expect(fp.isQuantized(net)).toBe(false);
    await expect(fp.quantize(new nn.Sequential(new nn.ReLU()))).rejects.toThrow(/the model has no Linear or Conv2d layer to quantize/);
  });

  it('refuses to quantize an already quantized model', async () => {
    const net = smallNet();
    await fp.quantize(net);
    await expect(fp.quantize(net)).rejects.toThrow(/^forwardpass: quantize: the model is already quantized \(int8 layers: conv, fc1, fc2\); quantize the float model instead$/);
  });
});

describe('quantize: bad weights', () => {
  it('rejects NaN or Inf weights with the layer and index, leaving the model unchanged', async () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const net = smallNet();
      const w = Float32Array.from((net.getSubmodule('fc2') as fp.nn.Linear).weight.dataSync());
      w[1 * 8 + 5] = bad;
      net.loadStateDict({ 'fc2.weight': fp.tensor(w, { shape: [3, 8] }) }, { strict: false });
      await expect(fp.quantize(net)).rejects.toThrow(new RegExp(`^forwardpass: quantize: layer 'fc2' weight \\[3, 8\\] holds ${String(bad).replace('+', '')} at \\[1, 5\\]; int8 weights need finite values$`));
      expect(net.getSubmodule('fc1')).toBeInstanceOf(nn.Linear);
    }
  });

  it('gives zero, constant and tiny channels a positive finite scale and exact outputs', async () => {
    const lin = new nn.Linear(5, 4);
    const rows = [[0, 0, 0, 0, 0], [0.3, 0.3, 0.3, 0.3, 0.3], [1e-45, -1e-45, 0, 0, 0], [-7, 0, 0, 0, 7]];
    lin.loadStateDict({ weight: fp.tensor(rows), bias: fp.tensor([1, 2, 3, 4]) });
    const net = new nn.Sequential([['lin', lin]]);
    await fp.quantize(net, { activations: 'none' });
    const q = (net.getSubmodule('lin') as fp.QuantizedLinear).weight;
    const d = Array.from(q.d.dataSync());
    expect(d.every((s) => Number.isFinite(s) && s > 0)).toBe(true);
    expect(d).toEqual([1, Math.fround(0.3 / 127), 1, Math.fround(7 / 127)]);
    expect(Array.from(q.qs.dataSync()).slice(0, 16)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 127, 127, 127, 127, 127, 0, 0, 0]);
    const y = net.forward(fp.tensor([[1, 1, 1, 1, 1]])).dataSync();
    expect(y[0]).toBe(1);
    expect(y[1]).toBeCloseTo(2 + 1.5, 5);
    expect(y[2]).toBe(3);
    expect(y[3]).toBeCloseTo(4, 5);
  });
});

describe('quantize: static activations', () => {
  it('sets each layer scale to max |input| / 127 over the calibration batches, or a percentile of |input|', async () => {
    const ref = smallNet(3);
    const batches = [input(4, 11), input(3, 12)];
    const f1: number[] = [], f2: number[] = [];
    for (const b of batches) {
      f1.push(...Array.from((ref.at(0).forward(b) as fp.Tensor).dataSync()).map((v) => Math.max(0, v))); // fc1 sees relu(conv(x)) flattened
      const h: fp.Tensor = ref.at(4).forward(ref.at(3).forward(ref.at(2).forward(ref.at(1).forward(ref.at(0).forward(b)))));
      f2.push(...Array.from(h.dataSync()));
    }
    const xs = batches.flatMap((b) => Array.from(b.dataSync()));
    const amax = (v: number[]) => v.reduce((m, a) => Math.max(m, Math.abs(a)), 0);
    const net = smallNet(3);
    await fp.quantize(net, { activations: 'static', calibration: batches });
    const scale = (n: string) => (net.getSubmodule(n) as fp.QuantizedLinear | fp.QuantizedConv2d).staticScale;
    expect(scale('conv')).toBe(Math.fround(amax(xs) / 127));
    expect(scale('fc1')).toBeCloseTo(amax(f1) / 127, 7);
    expect(scale('fc2')).toBeCloseTo(amax(f2) / 127, 7);
    const pnet = smallNet(3);
    await fp.quantize(pnet, { activations: 'static', calibration: batches, percentile: 90 });
    const sorted = xs.map(Math.abs).sort((a, b) => a - b);
    expect((pnet.getSubmodule('conv') as fp.QuantizedConv2d).staticScale).toBe(Math.fround(Math.fround(sorted[Math.ceil(0.9 * sorted.length) - 1]!) / 127));
    const y = net.forward(input(2, 13)).dataSync(), want = ref.forward(input(2, 13)).dataSync();
    expect(cosineOf(y, want)).toBeGreaterThan(0.99);
  });

  it('names calibration data that does not fit, or that holds NaN', async () => {
    const net = smallNet();
    await expect(fp.quantize(net, { activations: 'static', calibration: fp.zeros([2, 3, 4, 4]) }))
      .rejects.toThrow(/^forwardpass: quantize: calibration batch 0 does not fit the model: conv2d: weight \[4, 2, 3, 3\] has 2 input channels per group, but x \[2, 3, 4, 4\] with groups=1 needs 3$/);
    await expect(fp.quantize(net, { activations: 'static', calibration: [input(1), { input: input(1) }] })).rejects.toThrow(/calibration batch 1: this model takes one tensor, got an object of input/);
    await expect(fp.quantize(net, { activations: 'static', calibration: [] })).rejects.toThrow(/calibration holds no batches/);
    const nan = Float32Array.from(input(1).dataSync());
    nan[3] = NaN;
    await expect(fp.quantize(net, { activations: 'static', calibration: fp.tensor(nan, { shape: [1, 2, 4, 4] }) })).rejects.toThrow(/the calibration inputs of batch 0 reach layer 'conv' with NaN; activations must be finite to set a static scale/);
    expect(fp.isQuantized(net)).toBe(false);
    const mlp = await fp.loadModel(fixturePath('mlp-digits'));
    await expect(fp.quantize(mlp, { activations: 'static', calibration: fp.zeros([2, 63]) })).rejects.toThrow(/^forwardpass: quantize: calibration batch 0: input 'input' must have shape \[batch, 64\], got \[2, 63\]$/);
    await expect(fp.quantize(mlp, { activations: 'static', calibration: { pixels: fp.zeros([2, 64]) } })).rejects.toThrow(/calibration batch 0: unknown input 'pixels'; the model takes 'input'/);
    await expect(fp.quantize(mlp, { activations: 'static', calibration: fp.zeros([2, 64], { dtype: 'int32' }) })).rejects.toThrow(/input 'input' must be a float tensor, got int32/);
  });
});

describe('quantized layers at run time', () => {
  it('turns a row (image) holding NaN or Inf into NaN outputs for int8 activations, float semantics for weight-only', async () => {
    for (const activations of ['dynamic', 'static', 'none'] as const) {
      for (const bad of [NaN, Infinity]) {
        const net = smallNet(4);
        await fp.quantize(net, { activations, calibration: input(2) });
        const x = Float32Array.from(input(3, 9).dataSync()), r = randomArray(3 * 64, 10);
        const conv = net.getSubmodule('conv'), fc1 = net.getSubmodule('fc1');
        const cleanC = conv.forward(fp.tensor(x, { shape: [3, 2, 4, 4] })).dataSync();
        const cleanL = fc1.forward(fp.tensor(r, { shape: [3, 64] })).dataSync();
        x[32 + 5] = bad; // image 1
        r[64 + 5] = bad; // row 1
        const yc = conv.forward(fp.tensor(x, { shape: [3, 2, 4, 4] })).dataSync();
        const yl = fc1.forward(fp.tensor(r, { shape: [3, 64] })).dataSync();
        const what = `${activations} ${bad}`;
        if (activations === 'none') expect(Array.from(yc.subarray(64, 128)).some((v) => !Number.isFinite(v)), what).toBe(true);
        else expect(Array.from(yc.subarray(64, 128)).every(Number.isNaN), what).toBe(true);
        expect(Array.from(yl.subarray(8, 16)).every((v) => !Number.isFinite(v)), what).toBe(true);
        if (activations !== 'none') expect(Array.from(yl.subarray(8, 16)).every(Number.isNaN), what).toBe(true);
        for (const [y, clean, n] of [[yc, cleanC, 64], [yl, cleanL, 8]] as const) {
          expect(Array.from(y.subarray(0, n)).concat(Array.from(y.subarray(2 * n))), what).toEqual(Array.from(clean.subarray(0, n)).concat(Array.from(clean.subarray(2 * n))));
        }
      }
    }
  });

  it('runs in float16 after model.to({ dtype: "float16" }) and names wrong input shapes', async () => {
    const net = smallNet(5);
    const want = net.forward(input(2)).dataSync();
    await fp.quantize(net);
    await net.to({ dtype: 'float16' });
    const y = net.forward(fp.cast(input(2), 'float16'));
    expect(y.dtype).toBe('float16');
    expect(cosineOf(y.dataSync(), want)).toBeGreaterThan(0.995);
    expect(() => net.forward(fp.zeros([1, 3, 4, 4]))).toThrow(/^forwardpass: QuantizedConv2d\(2 -> 4\): expected an input \[N, 2, H, W\], got \[1, 3, 4, 4\]$/);
    expect(() => (net.getSubmodule('fc1') as fp.QuantizedLinear).forward(fp.zeros([2, 63]))).toThrow(/^forwardpass: QuantizedLinear\(64 -> 8\): expected an input \[\.\.\., 64\], got \[2, 63\]$/);
  });
});
