// softmax over the last axis on the Wasm fast path (float32 exp, float64 sum) against the typed-array twin (float64
// Math.exp): within |fast - twin| <= 4e-6·|twin| + 1e-30, rows of every length mod 4, with -Inf (masked) entries,
// fully masked rows, +Inf and NaN rows giving NaN exactly where the twin does.
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { softmaxModuleBytes } from '../../src/backends/cpu/wasm/softmax.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));
const RTOL = 4e-6, ATOL = 1e-30;

function both(x: fp.Tensor, axis = -1): [Float32Array, Float32Array, string] {
  let variant = '';
  const off = fp.addOpHook((e) => { if (e.op === 'softmax') variant = e.variant ?? ''; });
  setCpuFastPath(true);
  const fast = fp.softmax(x, axis).dataSync() as Float32Array;
  off();
  setCpuFastPath(false);
  return [fast, fp.softmax(x, axis).dataSync() as Float32Array, variant];
}

function bad(a: Float32Array, b: Float32Array): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < a.length && out.length < 5; i++) {
    if (Number.isNaN(a[i]!) || Number.isNaN(b[i]!)) { if (!(Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) out.push([i, a[i]!, b[i]!]); continue; }
    if (!(Math.abs(a[i]! - b[i]!) <= RTOL * Math.abs(b[i]!) + ATOL)) out.push([i, a[i]!, b[i]!]);
  }
  return out;
}

describe('softmax on the Wasm fast path', () => {
  test('the module validates', () => {
    expect(WebAssembly.validate(softmaxModuleBytes())).toBe(true);
  });

  test.each([[64, 1], [1, 64], [17, 5], [3, 255], [8, 64], [4, 1021], [70, 3]])('%i rows of %i, logits up to ±30: within the stated tolerance', (R, L) => {
    const x = fp.tensor(randomArray(R * L, R + L, -30, 30), { shape: [R, L] });
    const [fast, ref, variant] = both(x);
    expect(variant).toBe('softmax-wasm-simd');
    expect(bad(fast, ref)).toEqual([]);
  });

  test('masked (-Inf) entries, fully masked rows, +Inf and NaN rows; float16; other axes stay on the twin', () => {
    const R = 6, L = 37, d = randomArray(R * L, 3, -5, 5);
    for (let k = 0; k < L; k += 3) d[k] = -Infinity; // row 0 partly masked
    d.fill(-Infinity, L, 2 * L); // row 1 fully masked: NaN as the twin
    d[2 * L + 4] = Infinity;
    d[3 * L + 9] = NaN;
    d[4 * L + 2] = 1e30; d[4 * L + 3] = -1e30;
    const [fast, ref, variant] = both(fp.tensor(d, { shape: [R, L] }));
    expect(variant).toBe('softmax-wasm-simd');
    expect(bad(fast, ref)).toEqual([]);
    expect(fast[0]).toBe(0);
    expect(Number.isNaN(fast[L])).toBe(true);
    const h = both(fp.tensor(randomArray(4 * 33, 4, -8, 8), { shape: [4, 33], dtype: 'float16' }));
    expect(h[2]).toBe('softmax-wasm-simd');
    for (let i = 0; i < h[0].length; i++) expect(Math.abs(h[0][i]! - h[1][i]!)).toBeLessThanOrEqual(2 ** -10 * Math.abs(h[1][i]!) + 2 ** -24);
    expect(both(fp.tensor(randomArray(8 * 16, 5), { shape: [8, 16] }), 0)[2]).toBe('');
  });
});
