// add / sub / mul / div with a scalar or trailing-block broadcast on the Wasm fast path against the typed-array twin:
// one float32 operation per element either way, so bit for bit (NaN, ±Inf, ±0 and division by zero included).
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { binaryModuleBytes } from '../../src/backends/cpu/wasm/binary.js';
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

  test('float16 operands; other broadcasts, same shapes, small and integer tensors stay on the typed-array kernels', () => {
    const [fast, ref, variant] = both('mul', t([4, 6, 8], 5, 'float16'), t([8], 6, 'float16'));
    expect(variant).toBe('mul-wasm-simd-broadcast');
    expect(fast).toEqual(ref);
    expect(both('add', t([64, 1], 7), t([1, 64], 8))[2]).toBe('');
    expect(both('add', t([64, 4], 7), t([64, 1], 8))[2]).toBe('');
    expect(both('add', t([64, 4], 7), t([64, 4], 8))[2]).toBe('');
    expect(both('add', t([3, 4], 7), t([4], 8))[2]).toBe('');
    expect(both('add', fp.tensor(new Int32Array(128).fill(3), { shape: [2, 64] }), fp.tensor(new Int32Array([2]), { shape: [1], dtype: 'int32' }))[2]).toBe('');
  });
});
