// The quantized ONNX ops on hand-checked tables (rounding half to even, saturation, per-axis scales, zero-point
// corrections, padding with the zero point), and their one-sentence errors. Random graphs: oracle-quant.test.ts.
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { onnxModel, type NodeSpec, type TensorSpec, type ValueSpec } from './writer.js';

/** Run one node whose inputs are all initializers; resolves to its outputs as plain numbers. */
async function runNode(node: Omit<NodeSpec, 'outputs'>, inits: TensorSpec[], outputs: ValueSpec[], opset = 17): Promise<number[][]> {
  const bytes = onnxModel({ opset, nodes: [{ ...node, outputs: outputs.map((o) => o.name) }], initializers: inits, outputs });
  const s = await fp.loadOnnx(bytes, { backend: 'cpu' });
  try {
    const out = await s.run({});
    return outputs.map((o) => Array.from(out[o.name]!.dataSync() as ArrayLike<number>));
  } finally {
    s.dispose();
  }
}

const t = (name: string, type: TensorSpec['type'], dims: number[], data: number[]): TensorSpec => ({ name, type, dims, data });

describe('QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear', () => {
  it('quantizes with rounding half to even and saturation, per tensor (uint8) and per axis (int8)', async () => {
    const [u] = await runNode({ op: 'QuantizeLinear', inputs: ['x', 's', 'z'] }, [t('x', 'float', [6], [0.5, 1.5, 2.5, -2.6, 300, -300]), t('s', 'float', [], [1]), t('z', 'uint8', [], [10])], [{ name: 'y', type: 'uint8' }]);
    expect(u).toEqual([10, 12, 12, 7, 255, 0]);
    const [i] = await runNode({ op: 'QuantizeLinear', inputs: ['x', 's', 'z'], attrs: { axis: 0 } }, [t('x', 'float', [2, 2], [1, 2, 3, 5]), t('s', 'float', [2], [0.5, 2]), t('z', 'int8', [2], [0, -1])], [{ name: 'y', type: 'int8' }]);
    expect(i).toEqual([2, 4, 1, 1]); // row 1: 3/2 = 1.5 -> 2, 5/2 = 2.5 -> 2; minus 1
    const [d] = await runNode({ op: 'QuantizeLinear', inputs: ['x', 's'] }, [t('x', 'float', [3], [-1, 0.2, 1000]), t('s', 'float', [], [0.1])], [{ name: 'y', type: 'uint8' }]);
    expect(d).toEqual([0, 2, 255]); // no zero point: uint8, zero point 0
  });

  it('dequantizes (x - zp) · scale per tensor and per axis, and int32 without zero point', async () => {
    const [a] = await runNode({ op: 'DequantizeLinear', inputs: ['x', 's', 'z'] }, [t('x', 'uint8', [3], [0, 128, 255]), t('s', 'float', [], [0.5]), t('z', 'uint8', [], [128])], [{ name: 'y', type: 'float' }]);
    expect(a).toEqual([-64, 0, 63.5]);
    const [b] = await runNode({ op: 'DequantizeLinear', inputs: ['x', 's', 'z'], attrs: { axis: -1 } }, [t('x', 'int8', [2, 2], [-128, 127, 4, -4]), t('s', 'float', [2], [1, 0.25]), t('z', 'int8', [2], [-128, 0])], [{ name: 'y', type: 'float' }]);
    expect(b).toEqual([0, 31.75, 132, -1]);
    const [c] = await runNode({ op: 'DequantizeLinear', inputs: ['x', 's'] }, [t('x', 'int32', [2], [-100000, 7]), t('s', 'float', [], [0.5])], [{ name: 'y', type: 'float' }]);
    expect(c).toEqual([-50000, 3.5]);
  });

  it('DynamicQuantizeLinear widens the range to 0, scale (max - min) / 255, rounded zero point', async () => {
    const [y, s, z] = await runNode({ op: 'DynamicQuantizeLinear', inputs: ['x'] }, [t('x', 'float', [4], [-1, 0, 2, 1])], [{ name: 'y', type: 'uint8' }, { name: 's', type: 'float' }, { name: 'z', type: 'uint8' }]);
    expect(s![0]).toBe(Math.fround(3 / 255));
    expect(z).toEqual([85]);
    expect(y).toEqual([0, 85, 255, 170]);
    const [y2, s2, z2] = await runNode({ op: 'DynamicQuantizeLinear', inputs: ['x'] }, [t('x', 'float', [2], [0, 0])], [{ name: 'y', type: 'uint8' }, { name: 's', type: 'float' }, { name: 'z', type: 'uint8' }]);
    expect([y2, s2, z2]).toEqual([[0, 0], [1], [0]]); // an all-zero input: scale 1, as onnxruntime
  });
});

describe('MatMulInteger / QLinearMatMul', () => {
  it('MatMulInteger subtracts a per-tensor and a per-column zero point exactly', async () => {
    const [y] = await runNode({ op: 'MatMulInteger', inputs: ['a', 'b', 'za', 'zb'] }, [t('a', 'uint8', [2, 2], [1, 2, 3, 4]), t('b', 'uint8', [2, 2], [5, 6, 7, 8]), t('za', 'uint8', [], [1]), t('zb', 'uint8', [2], [5, 0])], [{ name: 'y', type: 'int32' }]);
    // (A - 1) = [[0, 1], [2, 3]]; (B - zb) = [[0, 6], [2, 8]]
    expect(y).toEqual([2, 8, 6, 36]);
    const [z] = await runNode({ op: 'MatMulInteger', inputs: ['a', 'b'] }, [t('a', 'int8', [1, 3], [-128, 127, -1]), t('b', 'int8', [3, 1], [-128, -128, 5])], [{ name: 'y', type: 'int32' }]);
    expect(z).toEqual([128 * 128 - 127 * 128 - 5]);
  });

  it('QLinearMatMul requantizes the exact sums with sa·sb/sy and the output zero point', async () => {
    const [y] = await runNode({ op: 'QLinearMatMul', inputs: ['a', 'sa', 'za', 'b', 'sb', 'zb', 'sy', 'zy'] }, [
      t('a', 'uint8', [1, 2], [130, 126]), t('sa', 'float', [], [0.5]), t('za', 'uint8', [], [128]),
      t('b', 'uint8', [2, 1], [140, 129]), t('sb', 'float', [], [0.25]), t('zb', 'uint8', [], [128]),
      t('sy', 'float', [], [0.0625]), t('zy', 'uint8', [], [10]),
    ], [{ name: 'y', type: 'uint8' }]);
    // acc = 2·12 + (-2)·1 = 22; multiplier 0.5·0.25/0.0625 = 2 -> 44 + 10
    expect(y).toEqual([54]);
  });
});

describe('ConvInteger / QLinearConv', () => {
  it('ConvInteger pads with the zero point (padded taps add nothing)', async () => {
    const [y] = await runNode({ op: 'ConvInteger', inputs: ['x', 'w', 'zx'], attrs: { pads: [1, 1, 0, 0] } }, [
      t('x', 'uint8', [1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]), t('w', 'int8', [1, 1, 2, 2], [1, 0, 0, -1]), t('zx', 'uint8', [], [1]),
    ], [{ name: 'y', type: 'int32' }]);
    expect(y).toEqual([0, -1, -2, -3, -4, -4, -6, -4, -4]);
  });

  it('QLinearConv adds the int32 bias before requantizing, rounding half to even', async () => {
    const [y] = await runNode({ op: 'QLinearConv', inputs: ['x', 'sx', 'zx', 'w', 'sw', 'zw', 'sy', 'zy', 'b'] }, [
      t('x', 'uint8', [1, 1, 1, 2], [130, 126]), t('sx', 'float', [], [1]), t('zx', 'uint8', [], [128]),
      t('w', 'int8', [1, 1, 1, 1], [3]), t('sw', 'float', [], [1]), t('zw', 'int8', [], [0]),
      t('sy', 'float', [], [2]), t('zy', 'uint8', [], [0]), t('b', 'int32', [1], [5]),
    ], [{ name: 'y', type: 'uint8' }]);
    expect(y).toEqual([6, 0]); // (6 + 5) / 2 = 5.5 -> 6; (-6 + 5) / 2 = -0.5 -> 0
  });
});

describe('quantized op errors', () => {
  it('refuses float operands, mismatched zero points and blocked scales of the wrong shape with one sentence', async () => {
    await expect(runNode({ op: 'MatMulInteger', inputs: ['a', 'b'], name: 'mm' }, [t('a', 'float', [1, 2], [1, 2]), t('b', 'uint8', [2, 1], [1, 2])], [{ name: 'y', type: 'int32' }]))
      .rejects.toThrow(/^forwardpass: onnx: node 'mm' \(MatMulInteger\): A must be uint8 or int8, found float32$/);
    await expect(runNode({ op: 'MatMulInteger', inputs: ['a', 'b', 'za'], name: 'mm' }, [t('a', 'uint8', [1, 2], [1, 2]), t('b', 'uint8', [2, 1], [1, 2]), t('za', 'int8', [], [0])], [{ name: 'y', type: 'int32' }]))
      .rejects.toThrow(/a_zero_point \(int8\) must have the type of its operand \(uint8\)/);
    await expect(runNode({ op: 'QuantizeLinear', inputs: ['x', 's', 'z'], name: 'q', attrs: { block_size: 2 } }, [t('x', 'float', [2, 2], [1, 2, 3, 4]), t('s', 'float', [2, 2], [1, 1, 1, 1]), t('z', 'uint8', [2, 1], [0, 0])], [{ name: 'y', type: 'uint8' }], 21))
      .rejects.toThrow(/^forwardpass: onnx: node 'q' \(QuantizeLinear\): y_scale \[2, 2\] must be \[2, 1\] for blocks of 2 along axis 1 of x \[2, 2\]$/);
    await expect(runNode({ op: 'ConvInteger', inputs: ['x', 'w'], name: 'c', attrs: { group: 2 } }, [t('x', 'uint8', [1, 3, 2, 2], new Array(12).fill(1)), t('w', 'uint8', [2, 1, 1, 1], [1, 1])], [{ name: 'y', type: 'int32' }]))
      .rejects.toThrow(/^forwardpass: onnx: node 'c' \(ConvInteger\): x \[1, 3, 2, 2\] and w \[2, 1, 1, 1\] do not fit group 2/);
  });
});
