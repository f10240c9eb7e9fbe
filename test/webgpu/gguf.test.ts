// GGUF llama files on WebGPU: the Q8_0 file's int8 layers on the device (dot4I8Packed where the adapter has it)
// give the CPU int8 model's logits and greedy ids; the F32 file reproduces transformers within 1e-3.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { readReference, referenceInputs, SHARED_MODELS, validMaxDiff } from '../hf/helpers.js';
import { webgpu } from '../webgpu.js';

const DIR = resolve(SHARED_MODELS, 'llama');
const HAS = existsSync(resolve(DIR, 'model-q8_0.gguf'));

describe.skipIf(!webgpu.gpu || !HAS)(`GGUF on webgpu (${webgpu.gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  it('model-f32.gguf within 1e-3 of logits.npy; model-q8_0.gguf int8 on the device matches the CPU int8 model', async () => {
    const ref = readReference(DIR);
    const f32 = await fp.loadGguf(resolve(DIR, 'model-f32.gguf'), { device: 'webgpu' });
    const out = f32.run(await referenceInputs(DIR, ref, 'webgpu')).logits!;
    expect(out.device).toBe('webgpu');
    expect(await validMaxDiff(out, await fp.readNpyFile(resolve(DIR, 'logits.npy')), ref)).toBeLessThan(1e-3);
    f32.dispose();
    const gpu = await fp.loadGguf(resolve(DIR, 'model-q8_0.gguf'), { device: 'webgpu' });
    const cpu = await fp.loadGguf(resolve(DIR, 'model-q8_0.gguf'));
    expect(gpu.getSubmodule('model.layers.0.mlp.up_proj')).toBeInstanceOf(fp.QuantizedLinear);
    const a = gpu.run(await referenceInputs(DIR, ref, 'webgpu')).logits!;
    const b = cpu.run(await referenceInputs(DIR, ref)).logits!;
    const d = await validMaxDiff(a, b, ref);
    expect(d).toBeLessThan(1e-4); // measured 9.5e-7 on SwiftShader: the same int8 sums, float rounding differs
    const g = JSON.parse(readFileSync(resolve(DIR, 'reference.json'), 'utf8')).gguf.files.q8_0;
    expect(await fp.generate(gpu, g.generation_sequence_ids.slice(0, 5), { maxNewTokens: 20 })).toEqual(await fp.generate(cpu, g.generation_sequence_ids.slice(0, 5), { maxNewTokens: 20 }));
    gpu.dispose(); cpu.dispose();
  }, 120_000);
});
