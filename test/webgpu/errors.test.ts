// WebGPU failure modes, each a clear error: no adapter, a WGSL compile error (variant and shader line), a lost
// device (pending and later calls fail; a new device works), and a tensor beyond the adapter's binding limit.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { setupGpu } from '../../src/backends/webgpu/device.js';
import { preprocess } from '../../src/backends/webgpu/wgsl.js';
import { webgpu } from '../webgpu.js';

/** A private backend on its own device, so breaking it cannot disturb the shared one. */
async function privateBackend(): Promise<fp.WebGPUBackend> {
  return new fp.WebGPUBackend(await setupGpu());
}

describe('no adapter', () => {
  it('names what was tried', async () => {
    const nav = (globalThis as { navigator?: unknown }).navigator;
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter: async () => null } }, configurable: true, writable: true });
    try {
      await expect(setupGpu()).rejects.toThrow('forwardpass: webgpu: requestAdapter() returned no adapter (tried navigator.gpu; the browser offers no WebGPU adapter)');
    } finally {
      Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
    }
  });
});

describe('the WGSL preprocessor', () => {
  const src = (code: string) => ({ name: 'k.wgsl', code });
  it('selects branches, substitutes names and includes files with parameters', () => {
    const out = preprocess(src('#if A == x\nfn a() {}\n#elif B\nfn b() {}\n#else\nfn c() {}\n#endif\n#include "inc.wgsl" N=q\nlet v = {{V}};'), { A: 'y', B: true, V: 3 }, { 'inc.wgsl': 'fn f_{{N}}() {}' });
    expect(out).toBe('fn b() {}\nfn f_q() {}\nlet v = 3;');
  });
  it('throws on unknown names, directives and unbalanced blocks, naming file and line', () => {
    expect(() => preprocess(src('x\n{{NOPE}}'), { A: 1 })).toThrow("forwardpass: wgsl: k.wgsl line 2: unknown name 'NOPE' in {{...}} (known: A)");
    expect(() => preprocess(src('#if B\n#endif'), {})).toThrow("forwardpass: wgsl: k.wgsl line 1: unknown name 'B' in #if (known: none)");
    expect(() => preprocess(src('#if A\nx'), { A: 1 })).toThrow('forwardpass: wgsl: k.wgsl line 1: #if without #endif');
    expect(() => preprocess(src('#pragma x'), {})).toThrow("forwardpass: wgsl: k.wgsl line 1: unknown directive '#pragma'");
    expect(() => preprocess(src('#include "x.wgsl"'), {})).toThrow("forwardpass: wgsl: k.wgsl line 1: unknown include 'x.wgsl' (known: none)");
    expect(() => preprocess(src('{{A}}'), { A: undefined as never })).toThrow("'A' has no usable value");
  });
});

describe.skipIf(!webgpu.gpu)('webgpu errors', () => {
  it('a WGSL compile error names the kernel variant and the shader line', async () => {
    const b = await privateBackend();
    const buf = (b.alloc('float32', 4) as { buffer: GPUBuffer }).buffer;
    b.dispatch({ kernel: { name: 'broken.wgsl', code: '@group(0) @binding(0) var<storage, read_write> y: array<f32>;\n@compute @workgroup_size(1)\nfn main() {\n  y[0] = undefined_thing;\n}' }, defines: { MODE: 'x' }, buffers: [buf], workgroups: [1] });
    await expect(b.sync()).rejects.toThrow(/^forwardpass: webgpu: kernel broken\.wgsl\{MODE=x\} failed to compile: line 4:\d+: .*undefined_thing/);
    b.destroy();
  });

  it('device lost: later calls fail clearly, and a new device works', async () => {
    const b = await privateBackend();
    const h = b.alloc('float32', 4);
    const pending = b.read(h, 'float32', 4);
    b.destroy();
    await expect(pending).rejects.toThrow(/^forwardpass: webgpu: read: the device was lost \(destroyed/);
    await new Promise((r) => setTimeout(r, 10));
    expect(() => b.alloc('float32', 4)).toThrow(/^forwardpass: webgpu: alloc: the device was lost \(destroyed.*\); create a new one with initWebGPU\(\)$/);
    const again = await privateBackend();
    const h2 = again.alloc('float32', 2);
    again.write(h2, 'float32', new Float32Array([1.5, 2.5]));
    expect(Array.from(await again.read(h2, 'float32', 2))).toEqual([1.5, 2.5]);
    again.destroy();
  });

  it("a tensor larger than the adapter's binding limit is refused naming the limit", () => {
    const gpu = webgpu.gpu!;
    const max = gpu.setup.limits.maxStorageBufferBindingSize;
    const n = Math.floor(max / 4) + 1;
    expect(() => gpu.alloc('float32', n)).toThrow(`forwardpass: webgpu: a float32 tensor of ${n} elements needs ${n * 4} bytes, more than this adapter's maxStorageBufferBindingSize of ${max} bytes`);
  });

  it('reports the adapter and the optional features it detected', () => {
    const s = webgpu.gpu!.setup;
    expect(typeof s.adapter.description).toBe('string');
    expect(Object.keys(s.features).sort()).toEqual(['packed_4x8_integer_dot_product', 'shader-f16', 'subgroups', 'timestamp-query']);
    expect(s.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
  });
});
