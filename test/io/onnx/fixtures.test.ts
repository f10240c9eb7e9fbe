// ONNX runtime on the fixture models (CPU): every io case of every model.onnx within 1e-4 of PyTorch, symbolic
// output shapes from load-time inference, float16 storage within a small tolerance, and int8 eval accuracy of
// the classifiers within 1 point of float32.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/node.js';
import { fixturePath, maxAbsDiff } from '../../helpers.js';

const MODELS = ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-gpt', 'tiny-bert-cls'];
const CLASSIFIERS = ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-bert-cls'];
const bytes = (name: string) => readFileSync(fixturePath(name, 'model.onnx'));
const config = (name: string) => JSON.parse(readFileSync(fixturePath(name, 'config.json'), 'utf8'));

/** Worst |got - want| over every io case of a fixture. */
async function worstDiff(name: string, session: fp.OnnxSession): Promise<number> {
  let worst = 0;
  for (const c of await fp.loadFixtureCases(fixturePath(name))) {
    const out = await session.run(c.inputs);
    for (const [k, want] of Object.entries(c.outputs)) {
      expect(out[k]!.shape, `${name} ${c.name} ${k}`).toEqual(want.shape);
      worst = Math.max(worst, maxAbsDiff(await out[k]!.data(), await want.data()));
    }
  }
  return worst;
}

/** Eval-set accuracy of a classifier session (one batch). */
async function accuracy(name: string, session: fp.OnnxSession): Promise<number> {
  const ev = await fp.loadFixtureEval(fixturePath(name));
  const feeds: Record<string, fp.Tensor> = name === 'tiny-bert-cls' ? { input_ids: ev.input_ids!, attention_mask: ev.attention_mask! } : { input: name === 'mlp-digits' ? ev.inputs! : ev.inputs!.reshape([-1, 1, ...(name === 'cnn-mnist' ? [28, 28] : [8, 8])]) };
  const { logits } = await session.run(feeds);
  const pred = await fp.argmax(logits!, { axis: -1 }).data();
  const labels = await ev.labels!.data();
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) ok++;
  return ok / labels.length;
}

describe('ONNX fixtures on the CPU', () => {
  for (const name of MODELS) {
    it(`${name}: every io case within 1e-4 of PyTorch, outputs declared with symbolic dims`, async () => {
      const s = await fp.loadOnnx(bytes(name), { backend: 'cpu' });
      expect(s.opset).toBe(17);
      expect(s.outputs[0]!.shape[0]).toBe('batch');
      expect(s.inputs.map((v) => v.name)).toEqual(config(name).onnx.inputs?.map((v: { name: string }) => v.name) ?? s.inputs.map((v) => v.name));
      const d = await worstDiff(name, s);
      console.log(`onnx cpu f32 ${name}: max abs diff ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-4);
      expect(s.supported.every((e) => e.cpu && e.webgpu)).toBe(true);
      s.dispose();
    });
  }

  it('precision f16 stores float initializers as float16 and stays within 0.1 of PyTorch (1e-2 on the classifiers)', async () => {
    for (const name of MODELS) {
      const s = await fp.loadOnnx(bytes(name), { backend: 'cpu', precision: 'f16' });
      const d = await worstDiff(name, s);
      console.log(`onnx cpu f16 ${name}: max abs diff ${d.toExponential(2)}`);
      expect(d, name).toBeLessThan(name === 'tiny-gpt' ? 0.1 : 1e-2);
      expect(d, name).toBeGreaterThan(0); // the weights really were rounded
      s.dispose();
    }
  });

  it('precision int8: eval accuracy of every classifier within 1 point of float32, and the int8 kernels run', async () => {
    for (const name of CLASSIFIERS) {
      const ops = new Set<string>();
      const off = fp.addOpHook((e) => ops.add(e.op));
      const s = await fp.loadOnnx(bytes(name), { backend: 'cpu', precision: 'int8' });
      const acc = await accuracy(name, s);
      off();
      const f32 = config(name).eval.accuracy_float32_pytorch as number;
      console.log(`onnx cpu int8 ${name}: accuracy ${(100 * acc).toFixed(2)}% (float32 ${(100 * f32).toFixed(2)}%)`);
      expect(acc, name).toBeGreaterThanOrEqual(f32 - 0.01);
      expect(ops.has(name.startsWith('cnn') ? 'conv2dInt8' : 'linearInt8'), name).toBe(true);
      expect(ops.has(name.startsWith('cnn') ? 'conv2d' : 'linear'), name).toBe(false);
      s.dispose();
    }
  }, 120_000);

  it('float32 eval accuracy through the session equals PyTorch (cnn-digits)', async () => {
    const s = await fp.loadOnnx(bytes('cnn-digits'), { backend: 'cpu' });
    expect(await accuracy('cnn-digits', s)).toBeCloseTo(config('cnn-digits').eval.accuracy_float32_pytorch, 6);
    s.dispose();
  });

  it('frees every intermediate: live CPU memory is the same after 20 runs as after 1 (as after 2 with replay, which then holds them)', async () => {
    for (const replay of [false, true]) {
      const s = await fp.loadOnnx(bytes('tiny-gpt'), { backend: 'cpu', replay });
      const [c] = await fp.loadFixtureCases(fixturePath('tiny-gpt'));
      const cpu = fp.getBackend('cpu');
      // the 2nd run with a shape is captured for replay (src/io/onnx/replay.ts): its intermediates stay allocated
      for (let i = 0; i < (replay ? 2 : 1); i++) (await s.run(c!.inputs)).logits!.dispose();
      // live bytes plus those the collector released meanwhile (earlier tests leave tensors to it)
      const held = () => { const m = cpu.memory(); return m.liveBytes + m.leakedBytes!; };
      const before = held();
      for (let i = 0; i < 20; i++) (await s.run(c!.inputs)).logits!.dispose();
      expect(held()).toBe(before);
      expect(s.replayInfo.replays).toBe(replay ? 20 : 0);
      s.dispose();
    }
  });

  it('loading, running and disposing a session at each precision leaves no CPU buffer behind (Gemm bias included)', async () => {
    const cpu = fp.getBackend('cpu');
    const [c] = await fp.loadFixtureCases(fixturePath('mlp-digits'));
    for (const precision of ['f32', 'f16', 'int8'] as const) {
      const before = cpu.memory().liveBuffers;
      const s = await fp.loadOnnx(bytes('mlp-digits'), { backend: 'cpu', precision });
      (await s.run(c!.inputs)).logits!.dispose();
      s.dispose();
      expect(cpu.memory().liveBuffers, precision).toBe(before);
    }
  });

  it('names every op by its ONNX node for the tracer (withOpContext)', async () => {
    const s = await fp.loadOnnx(bytes('mlp-digits'), { backend: 'cpu' });
    const seen: unknown[] = [];
    const off = fp.addOpHook((e) => seen.push(e.context[e.context.length - 1]));
    await s.run({ input: fp.randn([2, 64], { seed: 1 }) });
    off();
    expect(seen).toContain('/fc1/Gemm');
    expect(seen).toContain('/Relu_1');
    s.dispose();
  });
});
