// The classifier fixtures (mlp-digits, cnn-digits, cnn-mnist, tiny-bert-cls) built from config.json with weights
// from model.safetensors: io cases vs outputs.bin (1e-4 abs), per-layer trace vs trace.bin (1e-5 relative to
// max(1, |ref|); attention probs 1e-5 abs), and eval-set accuracy equal to PyTorch's (logits within 1e-4).
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath, maxAbsDiff } from '../helpers.js';
import { argmaxRows, capture, compareTrace, readJson, traceInputs } from './helpers.js';

const MODELS = ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-bert-cls'] as const;

describe.each(MODELS)('%s', (name) => {
  const dir = fixturePath(name);
  const config = readJson(name, 'config.json');
  const load = () => fp.loadModel(dir);

  it('has the state dict of the config (names, shapes, count)', async () => {
    const model = await load();
    const want = config.weights.tensors as { name: string; shape: number[] }[];
    expect(model.namedParameters().map(([k, t]) => [k, t.shape])).toEqual(want.map((w) => [w.name, w.shape]));
    expect(model.parameterCount()).toBe(want.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0));
    model.dispose();
  });

  it('matches outputs.bin on every io case within 1e-4', async () => {
    const model = await load();
    for (const c of await fp.loadFixtureCases(dir)) {
      await fp.scope(async () => {
        const out = model.run(c.inputs);
        for (const [k, ref] of Object.entries(c.outputs)) {
          expect(out[k]!.shape, `${c.name} ${k}`).toEqual(ref.shape);
          expect(maxAbsDiff(await out[k]!.data(), await ref.data()), `${c.name} ${k}`).toBeLessThan(1e-4);
        }
      });
    }
    model.dispose();
  });

  it('matches every trace.bin activation', async () => {
    const model = await load();
    const inputs = await traceInputs(name, model);
    const got = await capture(model, () => model.run(inputs));
    for (const d of await compareTrace(dir, got)) {
      expect(d.shapeOk, `${d.name} captured with the right size`).toBe(true);
      if (d.name.endsWith('probs')) expect(d.abs, d.name).toBeLessThan(1e-5);
      else expect(d.rel, d.name).toBeLessThan(1e-5);
    }
    model.dispose();
  });

  it('reaches the PyTorch accuracy on the eval set, logits within 1e-4', async () => {
    const model = await load();
    const ev = await fp.loadFixtureEval(dir);
    const inputs: Record<string, fp.Tensor> = name === 'tiny-bert-cls' ? { input_ids: ev.input_ids!, attention_mask: ev.attention_mask! } : { input: ev.inputs! };
    const logits = (await fp.scope(() => model.run(inputs).logits!.data())) as Float32Array;
    const k = config.eval.num_classes as number;
    const pred = argmaxRows(logits, k);
    const labels = Array.from(await ev.labels!.data());
    const acc = pred.filter((p, i) => p === labels[i]).length / labels.length;
    expect(acc).toBeCloseTo(config.eval.accuracy_float32_pytorch, 12);
    expect(pred).toEqual(Array.from(await ev.torch_pred!.data()));
    expect(maxAbsDiff(logits, await ev.torch_logits!.data())).toBeLessThan(1e-4);
    model.dispose();
  });
});

describe('tiny-bert-cls specifics', () => {
  it('gives the same logits for a row with and without padding', async () => {
    const model = await fp.loadModel(fixturePath('tiny-bert-cls'));
    const cases = await fp.loadFixtureCases(fixturePath('tiny-bert-cls'));
    const padded = (await model.run(cases.find((c) => c.name === 'batch8_padded')!.inputs).logits!.data()).slice(0, 8);
    const unpadded = await model.run(cases.find((c) => c.name === 'row0_unpadded')!.inputs).logits!.data();
    expect(maxAbsDiff(padded, unpadded)).toBeLessThan(1e-4);
    const long = fp.zeros([1, 17], { dtype: 'int32' });
    expect(() => model.run({ input_ids: long })).toThrow(/^forwardpass: BERT: input 'input_ids' dim 1 \(sequence length\) is 17, but the model takes 1 to 16 \(the learned positions of pos_emb\)$/);
    expect(() => model.run({ attention_mask: long })).toThrow(/BERT\.run: missing input 'input_ids'; expected input_ids, attention_mask, got attention_mask/);
  });
});
