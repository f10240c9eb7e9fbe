// where(cond, a, b) on the Wasm fast path against the typed-array twin: a selection, so bit for bit (NaN, ±Inf, -0),
// for a bool cond and float a, b that are full, single values or trailing blocks (the causal mask shape), both orders.
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { whereModuleBytes } from '../../src/backends/cpu/wasm/where.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

function both(c: fp.Tensor, a: fp.Tensor, b: fp.Tensor): [number[], number[], string] {
  let variant = '';
  const off = fp.addOpHook((e) => { if (e.op === 'where') variant = e.variant ?? ''; });
  setCpuFastPath(true);
  const fast = Array.from(fp.where(c, a, b).dataSync() as Float32Array);
  off();
  setCpuFastPath(false);
  return [fast, Array.from(fp.where(c, a, b).dataSync() as Float32Array), variant];
}
const n = (s: number[]) => s.reduce((x, y) => x * y, 1);
const f = (s: number[], seed: number, dtype: 'float32' | 'float16' = 'float32') => {
  const d = randomArray(n(s), seed, -2, 2);
  [NaN, -0, Infinity, -Infinity].forEach((v, i) => { if (i * 5 < d.length) d[i * 5] = v; });
  return fp.tensor(d, { shape: s, dtype });
};
const cond = (s: number[], seed: number) => { const r = fp.makeRng(seed); return fp.tensor(Uint8Array.from({ length: n(s) }, () => (r() < 0.5 ? 1 : 0)), { shape: s, dtype: 'bool' }); };
const same = (a: number[], b: number[]) => a.flatMap((v, i) => (Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i]!)) ? [] : [[i, v, b[i]]])).slice(0, 5);

describe('where on the Wasm fast path', () => {
  test('the module validates', () => {
    expect(WebAssembly.validate(whereModuleBytes())).toBe(true);
  });

  test.each([
    [[64, 64], [], [8, 4, 64, 64]], [[64, 64], [8, 4, 64, 64], []], [[2, 3, 5, 7], [5, 7], [7]], [[5, 7], [2, 3, 5, 7], [1, 1, 5, 7]],
    [[3, 33], [3, 33], [33]], [[1, 99], [], [4, 99]], [[17, 5], [17, 5], [17, 5]],
  ])('cond %j, a %j, b %j: the twin bit for bit', (cs, as, bs) => {
    const [fast, ref, variant] = both(cond(cs, 1), f(as, 2), f(bs, 3));
    expect(variant).toBe('where-wasm-simd');
    expect(same(fast, ref)).toEqual([]);
  });

  test('float16 values; other broadcasts and small outputs stay on the twin', () => {
    const [fast, ref, variant] = both(cond([8, 16], 4), f([], 5, 'float16'), f([2, 8, 16], 6, 'float16'));
    expect(variant).toBe('where-wasm-simd');
    expect(same(fast, ref)).toEqual([]);
    expect(both(cond([64, 1], 7), f([1, 64], 8), f([64, 64], 9))[2]).toBe('');
    expect(both(cond([4, 4], 7), f([4, 4], 8), f([4, 4], 9))[2]).toBe('');
    // an expanded (stride 0) cond view, as attention passes its padding mask: the twin reads it
    const m = cond([3, 1, 1, 7], 10).expand([3, 2, 5, 7]), sc = f([3, 2, 5, 7], 11);
    const [fe, re, ve] = both(m, sc, fp.tensor(new Float32Array([-Infinity]), { shape: [] }));
    expect(ve).toBe('');
    expect(same(fe, re)).toEqual([]);
  });
});
