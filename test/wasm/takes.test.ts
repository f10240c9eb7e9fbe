// wasmTakes (the hot path's check: does the fast path run this op?) and wasmVariant (the kernel name the tracer shows)
// must agree on every input: an op named but not run, or run but not named, would mislead traces. Cases on both
// sides of each fit check: sizes below the elementwise minimum, int dtypes, strided views, other axes.
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import type { OpName } from '../../src/ops/attrs.js';
import { setCpuFastPath, wasmTakes, wasmVariant } from '../../src/backends/cpu/wasm/index.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

const t = (shape: number[], seed = 1, dtype: 'float32' | 'int32' = 'float32'): fp.Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return dtype === 'int32' ? fp.tensor(Int32Array.from({ length: n }, (_, i) => i % 7), { shape, dtype }) : fp.tensor(randomArray(n, seed), { shape });
};
const pool = { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0], dilation: [1, 1], ceilMode: false, countIncludePad: true };

const cases: [string, OpName, () => fp.Tensor[], unknown][] = [
  ['add, same shape', 'add', () => [t([8, 16]), t([8, 16], 2)], undefined],
  ['add, broadcast', 'add', () => [t([8, 16]), t([16], 2)], undefined],
  ['add, below the minimum', 'add', () => [t([3, 5]), t([3, 5], 2)], undefined],
  ['add, int32', 'add', () => [t([8, 16], 1, 'int32'), t([8, 16], 2, 'int32')], undefined],
  ['relu, contiguous', 'relu', () => [t([17, 33])], undefined],
  ['relu, transposed view', 'relu', () => [t([17, 33]).transpose(0, 1)], undefined],
  ['softmax, last axis', 'softmax', () => [t([4, 255])], { axis: 1 }],
  ['softmax, first axis', 'softmax', () => [t([4, 255])], { axis: 0 }],
  ['sum, rows', 'sum', () => [t([16, 64])], { axes: [1], keepDims: false }],
  ['sum, columns', 'sum', () => [t([16, 64])], { axes: [0], keepDims: false }],
  ['sum, small', 'sum', () => [t([3, 5])], { axes: [1], keepDims: false }],
  ['matmul', 'matmul', () => [t([1, 17, 33]), t([1, 33, 9], 2)], { transB: false }],
  ['matmul, K = 0', 'matmul', () => [t([1, 4, 0]), t([1, 0, 3], 2)], { transB: false }],
  ['linear', 'linear', () => [t([3, 64]), t([255, 64], 2)], { activation: 'none' }],
  ['maxPool2d', 'maxPool2d', () => [t([1, 3, 8, 8])], pool],
  ['avgPool2d, empty', 'avgPool2d', () => [t([1, 3, 0, 8])], pool],
  ['copy, transposed', 'copy', () => [t([16, 17]).transpose(0, 1)], undefined],
  ['copy, contiguous', 'copy', () => [t([16, 17])], undefined],
  ['layerNorm', 'layerNorm', () => [t([4, 64]), t([64], 2), t([64], 3)], { eps: 1e-5, dims: 1 }],
];

describe('wasmTakes agrees with wasmVariant', () => {
  test.each(cases)('%s', (_, op, inputs, attrs) => {
    const xs = inputs();
    setCpuFastPath(true);
    const name = wasmVariant(op, xs, attrs);
    expect(wasmTakes(op, xs, attrs)).toBe(name !== '');
    setCpuFastPath(false);
    expect([wasmTakes(op, xs, attrs), wasmVariant(op, xs, attrs)]).toEqual([false, '']);
  });

  test('both sides occur among the cases (the test can tell them apart)', () => {
    setCpuFastPath(true);
    const taken = cases.map(([, op, inputs, attrs]) => wasmTakes(op, inputs(), attrs));
    expect(taken).toContain(true);
    expect(taken).toContain(false);
  });
});
