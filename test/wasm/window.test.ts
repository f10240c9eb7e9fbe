// maxPool2d, avgPool2d and depthwise conv2d (one input channel per group) on the Wasm fast path against their
// typed-array twins (kernels/pool.ts, kernels/conv.ts direct): the same operations in the same order per output, so
// bit for bit (NaN, ±Inf, -0 included) over strides 1, 2, 3, dilation, asymmetric padding, ceilMode, widths that are
// not multiples of 4, batches and channel multipliers.
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { windowModuleBytes } from '../../src/backends/cpu/wasm/window.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

function both(run: () => fp.Tensor, op: string): [number[], number[], string] {
  let variant = '';
  const off = fp.addOpHook((e) => { if (e.op === op) variant = e.variant ?? ''; });
  setCpuFastPath(true);
  const fast = Array.from(run().dataSync() as Float32Array);
  off();
  setCpuFastPath(false);
  return [fast, Array.from(run().dataSync() as Float32Array), variant];
}
const same = (a: number[], b: number[]) => a.flatMap((v, i) => (Object.is(v, b[i]) ? [] : [[i, v, b[i]]])).slice(0, 5);
const input = (shape: number[], seed: number, special = true) => {
  const d = randomArray(shape.reduce((x, y) => x * y, 1), seed, -3, 3);
  if (special) [NaN, -0, Infinity, -Infinity, 0].forEach((v, i) => { if (i * 37 < d.length) d[i * 37] = v; });
  return fp.tensor(d, { shape });
};

type Case = [shape: number[], k: number | [number, number], s: number | [number, number], p: number | [number, number, number, number], d: number, ceil: boolean];
const cases: Case[] = [
  [[1, 1, 1, 1], 1, 1, 0, 1, false], [[2, 3, 17, 17], 3, 2, 1, 1, true], [[1, 4, 16, 255], [2, 3], [1, 3], [1, 1, 0, 1], 1, false],
  [[3, 2, 9, 10], 2, 2, 0, 1, true], [[1, 5, 12, 13], 3, 1, 1, 2, false], [[2, 64, 28, 28], 3, 2, 1, 1, false], [[1, 3, 7, 5], [3, 1], [2, 1], 0, 1, true],
];

describe('pooling and depthwise conv on the Wasm fast path', () => {
  test('the module validates', () => {
    expect(WebAssembly.validate(windowModuleBytes())).toBe(true);
  });

  test.each(cases)('maxPool2d %j k %j s %j pad %j dilation %i ceil %s: bit for bit', (shape, k, s, p, d, ceil) => {
    const x = input(shape, shape[3]! + 1);
    const [fast, ref, variant] = both(() => fp.maxPool2d(x, { kernelSize: k, stride: s, padding: p, dilation: d, ceilMode: ceil }), 'maxPool2d');
    expect(variant).toBe('maxPool2d-wasm-simd');
    expect(same(fast, ref)).toEqual([]);
  });

  test.each(cases.filter((c) => c[4] === 1))('avgPool2d %j k %j s %j pad %j ceil %s, with and without padding in the count: bit for bit', (shape, k, s, p, _d, ceil) => {
    const x = input(shape, shape[2]! + 2);
    for (const countIncludePad of [true, false]) {
      const [fast, ref, variant] = both(() => fp.avgPool2d(x, { kernelSize: k, stride: s, padding: p, ceilMode: ceil, countIncludePad }), 'avgPool2d');
      expect(variant).toBe('avgPool2d-wasm-simd');
      expect(same(fast, ref)).toEqual([]);
    }
  });

  test.each([
    [[1, 8, 17, 17], 3, 1, 1, 1, 1], [[2, 6, 15, 14], 3, 2, 1, 1, 1], [[1, 4, 9, 11], 5, 1, 2, 2, 1], [[1, 3, 10, 10], 3, 3, 0, 1, 2],
    [[2, 32, 28, 28], 3, 1, 1, 1, 1], [[1, 5, 1, 1], 1, 1, 0, 1, 1], [[1, 1, 13, 7], 3, 2, 1, 1, 3],
  ])('depthwise conv2d x %j k %i s %i pad %i dilation %i, %i outputs per channel: bit for bit', (shape, k, s, p, d, mult) => {
    const C = shape[1]!, x = input(shape, C + k);
    const w = fp.tensor(randomArray(C * mult * k * k, C + 5, -1, 1), { shape: [C * mult, 1, k, k] });
    const b = fp.tensor(randomArray(C * mult, C + 6, -1, 1));
    for (const bias of [b, null]) {
      const [fast, ref, variant] = both(() => fp.conv2d(x, w, bias, { stride: s, padding: p, dilation: d, groups: C }), 'conv2d');
      expect(variant).toBe('conv2d-depthwise-wasm-simd');
      expect(same(fast, ref)).toEqual([]);
    }
  });

  test('non-finite weights, a -0 bias and float16 stay on the twin; float16 pooling matches', () => {
    const x = input([1, 2, 6, 6], 3, false);
    const w = fp.tensor([1, 2, Infinity, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5], { shape: [2, 1, 3, 3] });
    expect(both(() => fp.conv2d(x, w, null, { padding: 1, groups: 2 }), 'conv2d')[2]).toBe('conv2d-direct');
    const w2 = fp.tensor(randomArray(18, 4), { shape: [2, 1, 3, 3] }), b2 = fp.tensor([-0, 1]);
    expect(both(() => fp.conv2d(x, w2, b2, { padding: 1, groups: 2 }), 'conv2d')[2]).toBe('conv2d-direct');
    // the first of equal values wins, as in the twin: -0 then 0 gives -0
    const z = fp.tensor([-0, 0, 0, -0, NaN, 1, -Infinity, -Infinity], { shape: [1, 1, 1, 8] });
    const [zf, zr] = both(() => fp.maxPool2d(z, { kernelSize: [1, 2], stride: 1 }), 'maxPool2d');
    expect(zf.map((v) => Object.is(v, -0))).toEqual([true, false, false, false, false, false, false]);
    expect(same(zf, zr)).toEqual([]);
    const h = fp.tensor(randomArray(2 * 9 * 9, 5, -2, 2), { shape: [1, 2, 9, 9], dtype: 'float16' });
    for (const op of ['maxPool2d', 'avgPool2d'] as const) {
      const [fast, ref, variant] = both(() => fp[op](h, { kernelSize: 3, stride: 2, padding: 1 }), op);
      expect(variant).toBe(`${op}-wasm-simd`);
      expect(same(fast, ref)).toEqual([]);
    }
  });
  test('avgPool2d divisors remembered per window: the same output size with other padding, then the first again, bit for bit', () => {
    const x = input([1, 2, 8, 8], 11);
    for (const p of [[1, 1, 1, 1], [0, 0, 2, 2], [1, 1, 1, 1], [2, 2, 0, 0]] as [number, number, number, number][]) {
      const [fast, ref, variant] = both(() => fp.avgPool2d(x, { kernelSize: 5, stride: 1, padding: p, countIncludePad: false }), 'avgPool2d');
      expect(variant).toBe('avgPool2d-wasm-simd');
      expect(fast.length).toBe(2 * 6 * 6);
      expect(same(fast, ref)).toEqual([]);
    }
  });
});
