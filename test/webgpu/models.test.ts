// The fixture models on WebGPU: every io case within 1e-3 of PyTorch, per-layer traces, tiny-gpt generation
// identical to PyTorch (KV cache on the device), float16 storage, and memory flat over 1,000 forward passes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath, maxAbsDiff } from '../helpers.js';
import { capture, compareTrace, traceInputs } from '../models/helpers.js';
import { webgpu } from '../webgpu.js';

const MODELS = ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-gpt', 'tiny-bert-cls'];

describe.skipIf(!webgpu.gpu)(`models on webgpu (${webgpu.gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  for (const name of MODELS) {
    it(`${name}: every io case matches PyTorch within 1e-3, and every traced layer within 1e-3`, async () => {
      const model = await fp.loadModel(fixturePath(name), { device: 'webgpu' });
      const cases = await fp.loadFixtureCases(fixturePath(name), { device: 'webgpu' });
      for (const c of cases) {
        const out = model.run(c.inputs);
        for (const [k, want] of Object.entries(c.outputs)) {
          const got = out[k]!;
          expect(got.device).toBe('webgpu');
          expect(maxAbsDiff(await got.data(), await want.data()), `${name} ${c.name} ${k}`).toBeLessThan(1e-3);
        }
      }
      const traced = await traceInputs(name, model, 'webgpu');
      const got = await capture(model, () => model.run(traced));
      for (const d of await compareTrace(fixturePath(name), got)) {
        expect(d.shapeOk, d.name).toBe(true);
        expect(d.rel, `${name} trace ${d.name}`).toBeLessThan(1e-3);
      }
      model.dispose();
    });
  }

  it('tiny-gpt greedy generation with the KV cache on the device reproduces PyTorch exactly', async () => {
    const gpt = (await fp.loadModel(fixturePath('tiny-gpt'), { device: 'webgpu' })) as fp.GPT;
    const gen = JSON.parse(readFileSync(fixturePath('tiny-gpt', 'generate.json'), 'utf8')) as { generations: { prompt_ids: number[]; generated_ids: number[] }[] };
    for (const g of gen.generations) {
      expect(await fp.generate(gpt, g.prompt_ids, { maxNewTokens: g.generated_ids.length })).toEqual(g.generated_ids);
    }
    gpt.dispose();
  });

  it('float16 weights and activations (packed halves, f32 arithmetic) stay within half-precision error', async () => {
    const model = await fp.loadModel(fixturePath('mlp-digits'), { device: 'webgpu' });
    await model.to({ dtype: 'float16' });
    expect([...model.namedParameters()].every(([, t]) => t.dtype === 'float16' && t.device === 'webgpu')).toBe(true);
    const [c] = await fp.loadFixtureCases(fixturePath('mlp-digits'), { device: 'webgpu' });
    const out = model.run({ input: fp.cast(c!.inputs.input!, 'float16') }).logits!;
    expect(out.dtype).toBe('float16');
    const d = maxAbsDiff(await out.data(), await c!.outputs.logits!.data());
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(0.05);
    model.dispose();
  });

  it('1,000 tiny-gpt forward passes leave live and pooled GPU memory flat', async () => {
    const gpu = webgpu.gpu!;
    const gpt = (await fp.loadModel(fixturePath('tiny-gpt'), { device: 'webgpu' })) as fp.GPT;
    const ids = fp.tensor(Int32Array.from({ length: 8 }, (_, i) => (i * 7) % 80), { shape: [1, 8], dtype: 'int32', device: 'webgpu' });
    // 50 passes, then wait for the device: the pool holds what one such cycle needs at its peak
    const cycle = async () => {
      for (let i = 0; i < 50; i++) (gpt.forward(ids) as fp.Tensor).dispose();
      await gpu.sync();
    };
    await cycle();
    const before = gpu.memory();
    for (let i = 0; i < 20; i++) await cycle();
    const after = gpu.memory();
    // counts the collector cannot move (it turns live buffers of tensors that earlier tests left undisposed into
    // leaked and pooled ones, at any time). Not live + leaked *bytes*: live bytes count a buffer's pool bucket, leaked
    // bytes its tensor's own bytes, so a collection in between moved that sum (a CI run: 1,046,632 -> 1,045,092)
    const flat = (m: fp.MemoryInfo) => ({ held: m.liveBuffers + m.leaked!, owned: m.liveBuffers + m.pooledBuffers, ownedBytes: m.liveBytes + m.pooledBytes });
    expect(flat(after)).toEqual(flat(before));
    expect(after.liveBuffers).toBeGreaterThan(0); // the weights
    ids.dispose();
    gpt.dispose();
  }, 600_000);
});
