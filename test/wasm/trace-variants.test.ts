// The step-through tracer names the Wasm kernels of the norms, pools, depthwise conv and strided copy (an ONNX graph
// written with the test writer), and names none of them with the fast path off, where the outputs are the same
// within the norms' stated tolerance (test/wasm/norm.test.ts).
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
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
      copy: 'copy-wasm-strided', layerNorm: 'layerNorm-wasm-simd-f64',
    });
    const [off, ref] = await variants(false);
    expect(Object.values(off).some((v) => v.includes('wasm'))).toBe(false);
    for (let i = 0; i < ref.length; i++) expect(Math.abs(fast[i]! - ref[i]!)).toBeLessThanOrEqual(2 ** -22 * Math.abs(ref[i]!) + 2 ** -22);
    s.dispose();
  });
});
