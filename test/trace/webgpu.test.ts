// Tracing on WebGPU: kernel variants and their WGSL on every record (packing steps listed but not shown as the
// variant for float16), statistics read back after the forward equal to the CPU trace's, 'gpu-sync' replay timing,
// and compare mode CPU vs WebGPU finding no divergence.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath, maxAbsDiff } from '../helpers.js';
import { traceInputs } from '../models/helpers.js';
import { webgpu } from '../webgpu.js';

describe.skipIf(!webgpu.gpu)(`trace on webgpu (${webgpu.gpu?.setup.adapter.description ?? 'no adapter'})`, () => {
  it('tiny-gpt: variants with WGSL source, values equal to the CPU trace within 1e-3', async () => {
    const cpu = await fp.loadModel(fixturePath('tiny-gpt'));
    const gpu = await fp.loadModel(fixturePath('tiny-gpt'), { device: 'webgpu' });
    const ref = await fp.trace(cpu, await traceInputs('tiny-gpt', cpu), { values: 'full' });
    const t = await fp.trace(gpu, await traceInputs('tiny-gpt', gpu, 'webgpu'), { values: 'full' });
    expect(t.records.map((r) => [r.path, r.op])).toEqual(ref.records.map((r) => [r.path, r.op]));
    for (const r of t.records) {
      expect(r.backend).toBe('webgpu');
      expect(r.timing).toBe('gpu-encode');
      expect(r.variant, `${r.index} ${r.op}`).toMatch(/\.wgsl/);
      expect(r.wgsl, `${r.index} ${r.op}`).toMatch(/@compute/);
      expect(r.kernels!.length).toBeGreaterThan(0);
      const want = ref.records[r.index]!.output.values!;
      expect(maxAbsDiff(r.output.values!, want), `${r.index} ${r.path} ${r.op}`).toBeLessThan(1e-3 * Math.max(1, ...Array.from(want, (v) => (Number.isFinite(v) ? Math.abs(v) : 0))));
      expect(r.output.stats!.nan).toBe(ref.records[r.index]!.output.stats!.nan);
      expect(r.output.stats!.inf).toBe(ref.records[r.index]!.output.stats!.inf);
    }
    expect(t.find('h.0.attn.c_attn')!.variant).toMatch(/^(matmul|matvec|linear)[\w-]*\.wgsl\{/);
    gpu.dispose();
  });

  it('float16 storage: the variant is the compute kernel, the packing steps are in kernels', async () => {
    const gpu = await fp.loadModel(fixturePath('mlp-digits'), { device: 'webgpu' });
    await gpu.to({ dtype: 'float16' });
    const x = fp.cast((await traceInputs('mlp-digits', gpu, 'webgpu')).input!, 'float16');
    const t = await fp.trace(gpu, x);
    for (const r of t.records) {
      expect(r.output.dtype).toBe('float16');
      expect(r.variant).not.toMatch(/pack\.wgsl/);
      expect(r.kernels![r.kernels!.length - 1]).toMatch(/^pack\.wgsl\{KIND=f16/);
      expect(r.kernels!.some((k) => k.startsWith('unpack.wgsl'))).toBe(true);
    }
    gpu.dispose();
  });

  it('sync: true replays each op alone and labels the times gpu-sync; steps pause a Sequential on the GPU too', async () => {
    const gpu = await fp.loadModel(fixturePath('mlp-digits'), { device: 'webgpu' });
    const inputs = await traceInputs('mlp-digits', gpu, 'webgpu');
    const t = await fp.trace(gpu, inputs, { sync: true, values: 'full' });
    expect(t.timing).toBe('gpu-sync');
    expect(t.records.every((r) => r.timing === 'gpu-sync' && r.ms > 0)).toBe(true);
    const plain = await fp.trace(gpu, inputs, { values: 'full' });
    expect(maxAbsDiff(t.records[4]!.output.values!, plain.records[4]!.output.values!)).toBe(0);
    const seen: string[] = [];
    for await (const s of gpu.steps(inputs)) seen.push(s.path);
    expect(seen).toEqual(['fc1', 'relu1', 'fc2', 'relu2', 'fc3']);
    gpu.dispose();
  });

  it('compare mode: WebGPU against the CPU reference, no divergence above 1e-3', async () => {
    const cpu = await fp.loadModel(fixturePath('cnn-digits'));
    const inputs = await traceInputs('cnn-digits', cpu);
    const { other, comparison } = await fp.traceCompare(cpu, inputs, { against: { backend: 'webgpu' }, threshold: 1e-3 });
    expect(other.backend).toBe('webgpu');
    expect(comparison.rows.length).toBe(other.length);
    expect(comparison.firstDivergence).toBeUndefined();
    expect(Math.min(...comparison.rows.map((r) => r.cosine))).toBeGreaterThan(0.99999);
  });
});
