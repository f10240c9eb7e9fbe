// add / sub / mul / div on the Wasm fast path against the typed-array twin, for one shape (residual adds) and for
// broadcasts (a scalar, a trailing block, a block repeated in the middle, outer products) and strided views: one
// float32 operation per element either way, so bit for bit (NaN, ±Inf, ±0 and division by zero included).
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { binaryModuleBytes, binaryPlan } from '../../src/backends/cpu/wasm/binary.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

const OPS = { add: fp.add, sub: fp.sub, mul: fp.mul, div: fp.div } as const;

function both(op: keyof typeof OPS, x: fp.Tensor, y: fp.Tensor): [number[], number[], string] {
  let variant = '';
  const off = fp.addOpHook((e) => { if (e.op === op) variant = e.variant ?? ''; });
  setCpuFastPath(true);
  const fast = Array.from(OPS[op](x, y).dataSync() as Float32Array);
  off();
  setCpuFastPath(false);
  return [fast, Array.from(OPS[op](x, y).dataSync() as Float32Array), variant];
}

function data(n: number, seed: number): Float32Array {
  const d = randomArray(n, seed, -3, 3);
  const edges = [0, -0, NaN, Infinity, -Infinity, 1e-40, 3e38];
  for (let i = 0; i < edges.length && i * 7 < n; i++) d[i * 7] = edges[i]!;
  return d;
}
/** Indices (the first 5) where two outputs differ in bits (NaN equals NaN), for a short failure message. */
const mismatches = (a: number[], b: number[]) => a.flatMap((v, i) => (Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i]!)) ? [] : [[i, v, b[i]]])).slice(0, 5);
const t = (shape: number[], seed: number, dtype: 'float32' | 'float16' = 'float32') => fp.tensor(data(shape.reduce((a, b) => a * b, 1), seed), { shape, dtype });

describe('broadcast add/sub/mul/div on the Wasm fast path', () => {
  test('the module validates', () => {
    expect(WebAssembly.validate(binaryModuleBytes())).toBe(true);
  });

  test.each([
    [[8, 4, 64, 64], []], [[8, 4, 64, 64], [1, 1]], [[], [3, 5, 7]], [[8, 64, 64], [64, 64]], [[64, 64], [8, 64, 64]],
    [[3, 5, 7], [7]], [[3, 5, 7], [5, 7]], [[1, 5, 7], [2, 3, 1, 5, 7]], [[23, 3], [3]], [[255], [1]], [[2, 3, 33], [1, 1, 33]],
  ])('%j with %j: the twin bit for bit, both operand orders', (a, b) => {
    for (const op of Object.keys(OPS) as (keyof typeof OPS)[]) {
      for (const [x, y] of [[t(a, 1), t(b, 2)], [t(b, 3), t(a, 4)]] as const) {
        const [fast, ref, variant] = both(op, x, y);
        expect(variant).toBe(`${op}-wasm-simd-broadcast`);
        expect(mismatches(fast, ref)).toEqual([]);
      }
    }
  });

  test.each([
    [[8, 4, 16, 16], [8, 1, 1, 16]], [[8, 32, 7, 9], [1, 32, 1, 1]], [[64, 1], [1, 64]], [[64, 4], [64, 1]], [[3, 1, 17], [3, 5, 1]],
    [[2, 3, 5, 7, 11], [2, 3, 1, 1, 11]], [[255, 1, 3], [1, 17, 3]], [[1, 1, 255], [17, 1, 1]],
  ])('general broadcast %j with %j: the twin bit for bit, both operand orders', (a, b) => {
    for (const op of Object.keys(OPS) as (keyof typeof OPS)[]) {
      for (const [x, y] of [[t(a, 11), t(b, 12)], [t(b, 13), t(a, 14)]] as const) {
        const [fast, ref, variant] = both(op, x, y);
        expect(variant).toBe(`${op}-wasm-simd-broadcast`);
        expect(mismatches(fast, ref)).toEqual([]);
      }
    }
  });

  test.each([[1024], [1025], [3, 17, 255], [8, 16, 64], [2, 1, 4099]])('same shape %j: the twin bit for bit', (...shape) => {
    for (const op of Object.keys(OPS) as (keyof typeof OPS)[]) {
      const [fast, ref, variant] = both(op, t(shape, 21), t(shape, 22));
      expect(variant).toBe(`${op}-wasm-simd`);
      expect(mismatches(fast, ref)).toEqual([]);
    }
  });

  test('strided views (a row window, a stepped slice, an expand, batch of permuted heads): the twin bit for bit', () => {
    const cases: [() => fp.Tensor, () => fp.Tensor][] = [
      [() => t([40, 70], 31).narrow(1, 3, 64), () => t([40, 64], 32)],
      [() => t([9, 50, 33], 33).slice(1, 0, 50, 2), () => t([33], 34)],
      [() => t([1, 6, 1, 20], 35).expand(5, 6, 7, 20), () => t([5, 6, 7, 20], 36)],
      [() => t([4, 17, 3, 8], 37).permute(0, 2, 1, 3), () => t([4, 3, 17, 8], 38)],
    ];
    for (const [mx, my] of cases) {
      for (const op of Object.keys(OPS) as (keyof typeof OPS)[]) {
        const [fast, ref, variant] = both(op, mx(), my());
        expect(variant).toBe(`${op}-wasm-simd-broadcast`);
        expect(mismatches(fast, ref)).toEqual([]);
      }
    }
  });

  test('the plan: dims merged for both operands, repeated rows as a per-row value, transposed operands refused', () => {
    const c = (shape: number[]) => ({ shape, strides: shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1)) });
    expect(binaryPlan([c([8, 4, 16, 16]), c([8, 1, 1, 16])], [8, 4, 16, 16])).toMatchObject({ dims: [1, 8, 64, 16], xs: [0, 1024, 16, 1], ys: [0, 16, 0, 1], mode: 0 });
    expect(binaryPlan([c([8, 32, 7, 9]), c([1, 32, 1, 1])], [8, 32, 7, 9])).toMatchObject({ dims: [1, 8, 32, 63], ys: [0, 0, 1, 0], mode: 1 });
    expect(binaryPlan([c([64, 1]), c([1, 64])], [64, 64])).toMatchObject({ dims: [1, 1, 64, 64], xs: [0, 0, 1, 0], mode: 2 });
    expect(binaryPlan([{ shape: [64, 64], strides: [1, 64] }, c([64, 64])], [64, 64])).toBeNull();
    expect(binaryPlan([c([2, 3, 5, 7, 11]), c([1, 3, 1, 7, 1])], [2, 3, 5, 7, 11])).toBeNull(); // 5 dims after merging
  });

  test('float16 operands; small same shapes, transposed operands and integer tensors stay on the typed-array kernels', () => {
    const [fast, ref, variant] = both('mul', t([4, 6, 8], 5, 'float16'), t([8], 6, 'float16'));
    expect(variant).toBe('mul-wasm-simd-broadcast');
    expect(fast).toEqual(ref);
    const [fast16, ref16, variant16] = both('sub', t([3, 1, 500], 5, 'float16'), t([3, 1, 500], 6, 'float16'));
    expect(variant16).toBe('sub-wasm-simd');
    expect(fast16).toEqual(ref16);
    expect(both('add', t([64, 4], 7), t([64, 4], 8))[2]).toBe('');
    expect(both('add', t([3, 4], 7), t([4], 8))[2]).toBe('');
    expect(both('add', t([64, 64], 7).transpose(), t([64, 64], 8))[2]).toBe('');
    expect(both('add', fp.tensor(new Int32Array(128).fill(3), { shape: [2, 64] }), fp.tensor(new Int32Array([2]), { shape: [1], dtype: 'int32' }))[2]).toBe('');
  });

  test('pow with a one-element exponent 2 or 0.5 (float32 or int32): the twin bit for bit; other exponents stay on the twin', () => {
    const run = (x: fp.Tensor, e: fp.Tensor): [number[], number[], string] => {
      let variant = '';
      const off = fp.addOpHook((ev) => { if (ev.op === 'pow') variant = ev.variant ?? ''; });
      setCpuFastPath(true);
      const fast = Array.from(fp.pow(x, e).dataSync() as Float32Array);
      off();
      setCpuFastPath(false);
      return [fast, Array.from(fp.pow(x, e).dataSync() as Float32Array), variant];
    };
    const edges = [0, -0, 1, -1, NaN, Infinity, -Infinity, 1e-40, -1e-40, 3e38, -3e38, 1e-23, 2.5, -2.5];
    for (const shape of [[64], [3, 17, 5], [2, 1, 255]]) {
      const x = t(shape, 41);
      const d = x.dataSync() as Float32Array;
      const xe = fp.tensor(d.map((v, i) => (i < edges.length ? edges[i]! : v)), { shape });
      for (const [e, kind] of [[fp.tensor(new Float32Array([2]), { shape: [] }), 'square'], [fp.tensor(new Float32Array([0.5]), { shape: [1] }), 'sqrt'],
        [fp.tensor(new Int32Array([2]), { shape: [1], dtype: 'int32' }), 'square']] as const) {
        for (const v of [x, xe]) {
          const [fast, ref, variant] = run(v, e);
          expect(variant).toBe(`pow-wasm-simd-${kind}`);
          expect(mismatches(fast, ref)).toEqual([]);
        }
      }
    }
    expect(run(t([64], 42), fp.tensor(new Float32Array([3]), { shape: [] }))[2]).toBe('');
    expect(run(t([63], 42), fp.tensor(new Float32Array([2]), { shape: [] }))[2]).toBe('');
    expect(run(t([64], 42), fp.tensor(new Float32Array([2]), { shape: [1, 1] }))[2]).toBe(''); // the output gains a dim
    expect(run(t([64], 42), t([64], 43))[2]).toBe('');
  });
});
