// layerNorm / rmsNorm on the Wasm fast path against the typed-array twin (kernels/norm.ts). Both compute in float64
// and round once; only the order of the two row sums differs (four lanes, then the tail), so the outputs agree within
// 2 float32 ulps of the result plus 2^-24·|w|·(1 + |b|) where results cancel; most elements are equal bit for bit.
// NaN and ±Inf give NaN exactly where the twin's do (a whole row for layerNorm). Rows of 1, 3, 17, 255 and non-multiples of 4.
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { normModuleBytes } from '../../src/backends/cpu/wasm/norm.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

function both(run: () => fp.Tensor, op: string): [Float32Array, Float32Array, string] {
  let variant = '';
  const off = fp.addOpHook((e) => { if (e.op === op) variant = e.variant ?? ''; });
  setCpuFastPath(true);
  const fast = run().dataSync() as Float32Array;
  off();
  setCpuFastPath(false);
  return [fast, run().dataSync() as Float32Array, variant];
}

/** Elements outside the stated tolerance (NaN must match NaN); returns up to 5 [index, fast, twin]. */
function bad(a: Float32Array, b: Float32Array): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < a.length && out.length < 5; i++) {
    if (Number.isNaN(a[i]!) || Number.isNaN(b[i]!)) { if (!(Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) out.push([i, a[i]!, b[i]!]); continue; }
    if (!(Math.abs(a[i]! - b[i]!) <= 2 ** -22 * Math.abs(b[i]!) + 2 ** -22)) out.push([i, a[i]!, b[i]!]);
  }
  return out;
}

describe('layerNorm and rmsNorm on the Wasm fast path', () => {
  test('the module validates', () => {
    expect(WebAssembly.validate(normModuleBytes())).toBe(true);
  });

  test.each([[1, 1], [3, 3], [17, 17], [2, 255], [64, 384], [5, 33], [7, 6]])('%i rows of %i, with and without weight and bias', (R, D) => {
    const x = fp.tensor(randomArray(R * D, R * 7 + D, -3, 5), { shape: [R, D] });
    const w = fp.tensor(randomArray(D, D + 1, -2, 2)), b = fp.tensor(randomArray(D, D + 2, -1, 1));
    let equal = 0, total = 0;
    for (const [op, run] of [
      ['layerNorm', () => fp.layerNorm(x, D, w, b, 1e-5)], ['layerNorm', () => fp.layerNorm(x, D)],
      ['rmsNorm', () => fp.rmsNorm(x, D, w, 1e-6)], ['rmsNorm', () => fp.rmsNorm(x, D)],
    ] as const) {
      const [fast, ref, variant] = both(run, op);
      expect(variant).toBe(`${op}-wasm-simd-f64`);
      expect(bad(fast, ref)).toEqual([]);
      for (let i = 0; i < fast.length; i++, total++) if (Object.is(fast[i], ref[i])) equal++;
    }
    expect(equal / total).toBeGreaterThan(0.9); // the sums' order moves few results by an ulp
  });

  test('several normalized dims, a batch, float16, large offsets; NaN and ±Inf rows as the twin', () => {
    const x = fp.tensor(randomArray(2 * 3 * 4 * 5, 9, 1000, 1001), { shape: [2, 3, 4, 5] });
    const w = fp.tensor(randomArray(20, 10, -2, 2), { shape: [4, 5] });
    const [fast, ref, variant] = both(() => fp.layerNorm(x, [4, 5], w), 'layerNorm');
    expect(variant).toBe('layerNorm-wasm-simd-f64');
    expect(bad(fast, ref)).toEqual([]);
    const d = randomArray(6 * 19, 11);
    d[3] = NaN; d[19 + 18] = Infinity; d[38 + 5] = -Infinity; d.fill(0, 57, 76); // a zero row: 0 for layerNorm (eps)
    for (const op of ['layerNorm', 'rmsNorm'] as const) {
      const t = fp.tensor(d, { shape: [6, 19] });
      const [f2, r2] = both(() => (op === 'layerNorm' ? fp.layerNorm(t, 19) : fp.rmsNorm(t, 19)), op);
      expect(bad(f2, r2)).toEqual([]);
      if (op === 'layerNorm') for (const row of [0, 1, 2]) expect(f2.subarray(row * 19, row * 19 + 19).every(Number.isNaN)).toBe(true);
      expect(Array.from(f2.subarray(57, 76))).toEqual(Array.from(r2.subarray(57, 76)));
    }
    const h = fp.tensor(randomArray(4 * 10, 12, -2, 2), { shape: [4, 10], dtype: 'float16' });
    const [fh, rh, vh] = both(() => fp.layerNorm(h, 10), 'layerNorm');
    expect(vh).toBe('layerNorm-wasm-simd-f64');
    expect(Array.from(fh)).toEqual(Array.from(rh)); // one float16 rounding hides the sums' last bits
  });
});
