// ONNX elementwise ops through the runtime, against naive references written here: unary activations (attribute
// defaults), broadcasting arithmetic (integer Div truncates), comparisons, Where, Cast, Clip (attribute form at
// opset 6, input form at 13), Softmax (2-D coercion before opset 13), Dropout, ConstantOfShape.
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { maxAbsDiff, randomArray } from '../../helpers.js';
import { f32c, i64, prod, ravel, runNode, unravel } from './session-helpers.js';

// Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7)
function erfRef(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x < 0 ? -y : y;
}
const sig = (x: number) => 1 / (1 + Math.exp(-x));

const UNARY: [string, (x: number) => number, Record<string, number | string | { float: number }>?][] = [
  ['Sqrt', Math.sqrt], ['Reciprocal', (x) => 1 / x], ['Exp', Math.exp], ['Log', Math.log], ['Neg', (x) => -x], ['Abs', Math.abs],
  ['Erf', erfRef], ['Tanh', Math.tanh], ['Sigmoid', sig], ['Relu', (x) => Math.max(x, 0)], ['Sin', Math.sin], ['Cos', Math.cos],
  ['LeakyRelu', (x) => (x < 0 ? 0.01 * x : x)], ['LeakyRelu', (x) => (x < 0 ? 0.2 * x : x), { alpha: { float: 0.2 } }],
  ['Elu', (x) => (x < 0 ? Math.exp(x) - 1 : x)], ['HardSigmoid', (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5))],
  ['HardSigmoid', (x) => Math.min(1, Math.max(0, x / 6 + 0.5)), { alpha: { float: 1 / 6 } }],
  ['HardSwish', (x) => x * Math.min(1, Math.max(0, x / 6 + 0.5))],
  ['Gelu', (x) => 0.5 * x * (1 + erfRef(x / Math.SQRT2))],
  ['Gelu', (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), { approximate: 'tanh' }],
];

/** Naive NumPy broadcasting of a binary function. */
function broadcastRef(a: Float32Array, as: number[], b: Float32Array, bs: number[], f: (x: number, y: number) => number): [number[], number[]] {
  const n = Math.max(as.length, bs.length);
  const pa = [...new Array(n - as.length).fill(1), ...as], pb = [...new Array(n - bs.length).fill(1), ...bs];
  const shape = pa.map((d, i) => Math.max(d, pb[i]!));
  const out = new Array<number>(prod(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    out[i] = f(a[ravel(idx.map((v, d) => (pa[d] === 1 ? 0 : v)), pa)]!, b[ravel(idx.map((v, d) => (pb[d] === 1 ? 0 : v)), pb)]!);
  }
  return [shape, out];
}

describe('ONNX elementwise ops', () => {
  it('unary ops and activations match their definitions (attribute defaults and overrides)', async () => {
    const data = randomArray(24, 3, -3, 3);
    const pos = randomArray(24, 4, 0.1, 4);
    for (const [op, ref, attrs] of UNARY) {
      const src = ['Sqrt', 'Log', 'Reciprocal'].includes(op) ? pos : data;
      const [y] = await runNode(op === 'Gelu' ? 20 : 17, op, [fp.tensor(src, { shape: [2, 3, 4] })], attrs ?? {});
      expect(y!.shape).toEqual([2, 3, 4]);
      expect(maxAbsDiff(await y!.data(), Array.from(src, ref)), `${op} ${JSON.stringify(attrs ?? {})}`).toBeLessThan(1e-5);
    }
  });

  it('binary arithmetic broadcasts like NumPy; comparisons give bool', async () => {
    const a = randomArray(2 * 3 * 4, 5, -2, 2), b = randomArray(3 * 1, 6, 0.5, 2);
    const cases: [string, (x: number, y: number) => number][] = [
      ['Add', (x, y) => x + y], ['Sub', (x, y) => x - y], ['Mul', (x, y) => x * y], ['Div', (x, y) => x / y],
      ['Pow', (x, y) => Math.pow(Math.abs(x), y)], ['Less', (x, y) => +(x < y)], ['Greater', (x, y) => +(x > y)], ['Equal', (x, y) => +(x === y)],
    ];
    for (const [op, f] of cases) {
      const A = op === 'Pow' ? a.map(Math.abs) : a;
      const [y] = await runNode(17, op, [fp.tensor(A, { shape: [2, 3, 4] }), fp.tensor(b, { shape: [3, 1] })]);
      const [shape, want] = broadcastRef(A, [2, 3, 4], b, [3, 1], f);
      expect(y!.shape, op).toEqual(shape);
      expect(y!.dtype, op).toBe(['Less', 'Greater', 'Equal'].includes(op) ? 'bool' : 'float32');
      expect(maxAbsDiff(await y!.data(), want), op).toBeLessThan(1e-5);
    }
    const [eq] = await runNode(17, 'Equal', [fp.tensor([1, 2, 3], { dtype: 'int32' }), i64([1, 5, 3])]);
    expect(Array.from(await eq!.data())).toEqual([1, 0, 1]);
  });

  it('integer Div truncates toward zero; Pow keeps the base type; Where, Not, Cast', async () => {
    const [q] = await runNode(17, 'Div', [fp.tensor([7, -7, 9, 1], { dtype: 'int32' }), i64([2, 2, -4, 3])]);
    expect(q!.dtype).toBe('int32');
    expect(Array.from(await q!.data())).toEqual([3, -3, -2, 0]);
    const [p] = await runNode(17, 'Pow', [fp.tensor([2, 3], { dtype: 'int32' }), f32c([3, 2])]);
    expect(p!.dtype).toBe('int32');
    expect(Array.from(await p!.data())).toEqual([8, 9]);
    const [w] = await runNode(17, 'Where', [fp.tensor([true, false, true]), fp.tensor([1, 2, 3]), f32c([-1], [1])]);
    expect(Array.from(await w!.data())).toEqual([1, -1, 3]);
    const [n] = await runNode(17, 'Not', [fp.tensor([true, false])]);
    expect(Array.from(await n!.data())).toEqual([0, 1]);
    const [c64] = await runNode(17, 'Cast', [fp.tensor([1.7, -2.7, 3])], { to: 7 });
    expect(c64!.dtype).toBe('int32');
    expect(Array.from(await c64!.data())).toEqual([1, -2, 3]);
    const [cb] = await runNode(17, 'Cast', [fp.tensor([0, 2, -1])], { to: 9 });
    expect(Array.from(await cb!.data())).toEqual([0, 1, 1]);
    await expect(runNode(17, 'Cast', [f32c([1, 3e10])], { to: 7 })).rejects.toThrow(/forwardpass: onnx: node 'n0' \(Cast\): value 30000001024 at index 1 does not fit int32/);
    // ±Infinity (log(0) in T5's relative buckets) saturates to the int32 limits; NaN stays an error
    const [ci] = await runNode(17, 'Cast', [fp.tensor([-Infinity, 2.5, Infinity])], { to: 7 });
    expect(Array.from(await ci!.data())).toEqual([-(2 ** 31), 2, 2 ** 31 - 1]);
    await expect(runNode(17, 'Cast', [fp.tensor([0, NaN])], { to: 7 })).rejects.toThrow(/value NaN at index 1 does not fit int32/);
    await expect(runNode(17, 'Cast', [fp.tensor([1])], { to: 8 })).rejects.toThrow(/cannot cast to string/);
  });

  it('Clip: min/max attributes at opset 6, optional inputs at opset 13', async () => {
    const x = fp.tensor([-3, -1, 0, 2, 5]);
    const [a] = await runNode(6, 'Clip', [x], { min: { float: -1.5 }, max: { float: 2.5 } });
    expect(Array.from(await a!.data())).toEqual([-1.5, -1, 0, 2, 2.5]);
    const [b] = await runNode(13, 'Clip', [x, f32c([-1.5], []), null]);
    expect(Array.from(await b!.data())).toEqual([-1.5, -1, 0, 2, 5]);
    const [c] = await runNode(13, 'Clip', [x, null, f32c([1], [])]);
    expect(Array.from(await c!.data())).toEqual([-3, -1, 0, 1, 1]);
  });

  it('Softmax / LogSoftmax: one axis from opset 13, the 2-D coercion before it', async () => {
    const d = randomArray(2 * 3 * 4, 9, -2, 2);
    const x = fp.tensor(d, { shape: [2, 3, 4] });
    const softmaxRows = (v: Float32Array, rows: number, n: number, log: boolean) => {
      const out: number[] = [];
      for (let r = 0; r < rows; r++) {
        const row = Array.from(v.subarray(r * n, r * n + n));
        const m = Math.max(...row);
        const s = row.reduce((acc, z) => acc + Math.exp(z - m), 0);
        out.push(...row.map((z) => (log ? z - m - Math.log(s) : Math.exp(z - m) / s)));
      }
      return out;
    };
    const [s13] = await runNode(13, 'Softmax', [x]); // axis -1
    expect(maxAbsDiff(await s13!.data(), softmaxRows(d, 6, 4, false))).toBeLessThan(1e-6);
    const [s11] = await runNode(11, 'Softmax', [x]); // axis 1: rows of 12
    expect(maxAbsDiff(await s11!.data(), softmaxRows(d, 2, 12, false))).toBeLessThan(1e-6);
    const [l11] = await runNode(11, 'LogSoftmax', [x], { axis: 1 });
    expect(maxAbsDiff(await l11!.data(), softmaxRows(d, 2, 12, true))).toBeLessThan(1e-5);
    // opset 13 axis 1: softmax over dim 1 only
    const [s1] = await runNode(13, 'Softmax', [x], { axis: 1 });
    const got = await s1!.data();
    for (let b = 0; b < 2; b++) for (let k = 0; k < 4; k++) {
      const col = [0, 1, 2].map((j) => d[b * 12 + j * 4 + k]!);
      const s = col.reduce((acc, z) => acc + Math.exp(z), 0);
      col.forEach((z, j) => expect(got[b * 12 + j * 4 + k]).toBeCloseTo(Math.exp(z) / s, 6));
    }
  });

  it('Dropout is the identity in inference (mask all true); ConstantOfShape fills', async () => {
    const x = fp.tensor([1, 2, 3]);
    const [y, mask] = await runNode(13, 'Dropout', [x, f32c([0.5], [])], {}, { outputs: 2 });
    expect(Array.from(await y!.data())).toEqual([1, 2, 3]);
    expect(Array.from(await mask!.data())).toEqual([1, 1, 1]);
    const [z] = await runNode(17, 'ConstantOfShape', [i64([2, 3])], { value: { tensor: { name: 'v', dataType: 'int64', dims: [1], data: new BigInt64Array([7n]) } } });
    expect(z!.dtype).toBe('int32');
    expect(z!.shape).toEqual([2, 3]);
    expect(Array.from(await z!.data())).toEqual([7, 7, 7, 7, 7, 7]);
    const [zf] = await runNode(17, 'ConstantOfShape', [i64([2])]);
    expect(zf!.dtype).toBe('float32');
    expect(Array.from(await zf!.data())).toEqual([0, 0]);
  });
});

describe('ONNX Clip with min > max', () => {
  it('gives max everywhere and keeps NaN (min(max(x, min), max), as ONNX and NumPy define it)', async () => {
    const [y] = await runNode(13, 'Clip', [fp.tensor([-5, 0, 5, Number.NaN]), f32c([2], []), f32c([1], [])]);
    expect(Array.from(await y!.data())).toEqual([1, 1, 1, Number.NaN]);
  });
});
