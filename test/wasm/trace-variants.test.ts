// The step-through tracer names the Wasm kernels of the norms, pools, depthwise conv and strided copy (an ONNX graph
// written with the test writer), and names none of them with the fast path off, where the outputs are the same
// within the norms' stated tolerance (test/wasm/norm.test.ts); those kernels and sdpa leave memory() and the Wasm
// heap flat over many runs of changing sizes.
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { wasmHeapTop } from '../../src/backends/cpu/wasm/memory.js';
import { onnxModel } from '../io/onnx/writer.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

function model(): Uint8Array {
  const C = 8, f = (name: string, dims: number[], seed: number) => ({ name, type: 'float' as const, dims, data: randomArray(dims.reduce((a, b) => a * b, 1), seed) });
  return onnxModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'dw'], outputs: ['c'], attrs: { group: C, kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'MaxPool', inputs: ['c'], outputs: ['m'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'AveragePool', inputs: ['m'], outputs: ['a'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { op: 'Transpose', inputs: ['a'], outputs: ['t'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'LayerNormalization', inputs: ['t', 'g', 'b'], outputs: ['y'], attrs: { axis: -1, epsilon: { type: 'float', value: 1e-5 } } },
    ],
    initializers: [f('dw', [C, 1, 3, 3], 2), f('g', [C], 3), f('b', [C], 4)],
    inputs: [{ name: 'x', type: 'float', shape: [2, C, 12, 12] }],
    outputs: [{ name: 'y', type: 'float', shape: [2, 6, 6, C] }],
  });
}

describe('the tracer names the fast path kernels', () => {
  test('depthwise conv, maxPool, avgPool, strided copy and layerNorm: named on, unnamed off, the same numbers', async () => {
    const s = await fp.loadOnnx(model(), { backend: 'cpu' });
    const x = fp.tensor(randomArray(2 * 8 * 12 * 12, 1), { shape: [2, 8, 12, 12] });
    const variants = async (on: boolean): Promise<[Record<string, string>, Float32Array]> => {
      setCpuFastPath(on);
      const t = await s.trace({ x });
      const names = Object.fromEntries(t.records.map((r) => [r.op, r.variant ?? '']));
      const { y } = await s.run({ x });
      return [names, y!.dataSync() as Float32Array];
    };
    const [on, fast] = await variants(true);
    expect(on).toMatchObject({
      conv2d: 'conv2d-depthwise-wasm-simd', maxPool2d: 'maxPool2d-wasm-simd', avgPool2d: 'avgPool2d-wasm-simd',
      copy: 'copy-wasm-transpose-4x4', layerNorm: 'layerNorm-wasm-simd-f64',
    });
    const [off, ref] = await variants(false);
    expect(Object.values(off).some((v) => v.includes('wasm'))).toBe(false);
    for (let i = 0; i < ref.length; i++) expect(Math.abs(fast[i]! - ref[i]!)).toBeLessThanOrEqual(2 ** -22 * Math.abs(ref[i]!) + 2 ** -22);
    s.dispose();
  });

  test('1,000 runs of layerNorm, rmsNorm, pools, depthwise conv, strided copy and sdpa leave every count flat', () => {
    const rand = (shape: number[], seed: number) => fp.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), { shape });
    const step = (i: number) => fp.scopeSync(() => {
      const n = 3 + (i % 7), x = rand([2, 4, n + 5, n + 6], i);
      fp.layerNorm(x, n + 6);
      fp.rmsNorm(x, [n + 5, n + 6]);
      fp.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
      fp.avgPool2d(x, { kernelSize: 2 });
      fp.conv2d(x, rand([4, 1, 3, 3], i + 1), null, { groups: 4, padding: 1 });
      x.permute(0, 2, 1, 3).contiguous();
      fp.scaledDotProductAttention(rand([1, 2, n, 8], i + 2), rand([1, 2, n + 1, 8], i + 3), rand([1, 2, n + 1, 8], i + 4), { isCausal: true });
    });
    for (let i = 0; i < 50; i++) step(i);
    const m0 = fp.cpuBackend.memory(), top0 = wasmHeapTop();
    for (let i = 50; i < 1050; i++) step(i);
    expect(fp.cpuBackend.memory()).toEqual(m0);
    expect(wasmHeapTop()).toBe(top0);
  });
});
