// conv2d on the Wasm GEMM against its typed-array twin (kernels/conv.ts with the fast path off): strides, padding
// (asymmetric too), dilation, groups, 1x1, odd sizes, batch, bias, strided input. Tolerance as the GEMM's:
// (K + 2)·2⁻²⁴·Σ|x·w| per output, bounded here by (K + 2)·2⁻²⁴·K·max|x|·max|w| + |bias| (inputs in [-1, 1]).
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { setWasmIm2col } from '../../src/backends/cpu/wasm/conv.js';
import { im2colModuleBytes } from '../../src/backends/cpu/wasm/im2col.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

const rand = (shape: number[], seed: number) => fp.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), { shape });
const U = 2 ** -24;

function both(f: () => fp.Tensor): [Float32Array, Float32Array, string[]] {
  const variants: string[] = [];
  const off = fp.addOpHook((e) => { if (e.op === 'conv2d') variants.push(e.variant ?? ''); });
  try {
    setCpuFastPath(true);
    const fast = f().dataSync() as Float32Array;
    setCpuFastPath(false);
    const ref = f().dataSync() as Float32Array;
    return [fast, ref, variants];
  } finally {
    off();
    setCpuFastPath(true);
  }
}

type Case = [string, number[], number[], fp.Conv2dOptions];
const CASES: Case[] = [
  ['3x3 pad 1', [2, 5, 9, 11], [7, 5, 3, 3], { padding: 1 }],
  ['3x3 stride 2, asymmetric pad', [1, 4, 13, 10], [9, 4, 3, 3], { stride: 2, padding: [0, 1, 2, 1] }],
  ['1x1', [3, 17, 5, 7], [33, 17, 1, 1], {}],
  ['5x3 dilation 2', [1, 3, 15, 12], [8, 3, 5, 3], { dilation: 2, padding: 2 }],
  ['groups 2', [2, 8, 7, 7], [12, 4, 3, 3], { groups: 2, padding: 1 }],
  ['7x7 stride 2 (a ResNet stem, small)', [1, 3, 30, 30], [16, 3, 7, 7], { stride: 2, padding: 3 }],
  ['single output position', [1, 6, 3, 3], [5, 6, 3, 3], {}],
];

describe('conv2d on the Wasm fast path against the typed-array twin', () => {
  test.each(CASES)('%s', (_name, xs, ws, opts) => {
    const x = rand(xs, xs[1]! + 1), w = rand(ws, ws[0]! + 2), b = rand([ws[0]!], 3);
    for (const bias of [b, null]) {
      const [fast, ref, variants] = both(() => fp.conv2d(x, w, bias, opts));
      expect(variants[0]).toMatch(new RegExp(`^conv2d-wasm-${fp.wasmRelaxedSimdEnabled() ? 'relaxed' : 'simd'}-4x8(-threads\\d+)?$`)); // relaxed: where relaxed SIMD is on (test/wasm/relaxed.test.ts); -threadsT: large enough to split (test/threads/)
      const K = ws[1]! * ws[2]! * ws[3]!;
      expect(fast.length).toBe(ref.length);
      for (let p = 0; p < ref.length; p++) expect(Math.abs(fast[p]! - ref[p]!)).toBeLessThanOrEqual((K + 2) * U * (K + 1) + U * Math.abs(ref[p]!));
    }
  });

  test('a strided (permuted) input and NaN in one input pixel', () => {
    const x = rand([1, 6, 6, 4], 5).permute([0, 3, 1, 2]); // NHWC storage viewed as NCHW
    const w = rand([8, 4, 3, 3], 6);
    const [fast, ref] = both(() => fp.conv2d(x, w, null, { padding: 1 }));
    for (let p = 0; p < ref.length; p++) expect(Math.abs(fast[p]! - ref[p]!)).toBeLessThanOrEqual(40 * U * 37);
    const xv = randomArray(1 * 2 * 5 * 5, 7); xv[12] = NaN; // channel 0, pixel (2, 2)
    const y = fp.conv2d(fp.tensor(xv, { shape: [1, 2, 5, 5] }), rand([4, 2, 3, 3], 8)).dataSync() as Float32Array; // out [1, 4, 3, 3]
    for (let o = 0; o < 4; o++) for (let p = 0; p < 9; p++) expect(Number.isNaN(y[o * 9 + p]!)).toBe(true); // every window covers (2, 2)
  });

  test('the Wasm im2col (memory.copy / memory.fill runs) gives the JavaScript packCols result bit for bit', () => {
    expect(WebAssembly.validate(im2colModuleBytes())).toBe(true);
    for (const [, xs, ws, opts] of CASES) {
      const x = rand(xs, 30), w = rand(ws, 31);
      const wasm = fp.conv2d(x, w, null, opts).dataSync();
      setWasmIm2col(false);
      try {
        expect(Array.from(fp.conv2d(x, w, null, opts).dataSync())).toEqual(Array.from(wasm));
      } finally {
        setWasmIm2col(true);
      }
    }
  });

  test('depthwise convs take the direct Wasm kernel (test/wasm/window.test.ts compares it), not the GEMM', () => {
    const [, , variants] = both(() => fp.conv2d(rand([1, 4, 6, 6], 9), rand([4, 1, 3, 3], 10), null, { groups: 4 }));
    expect(variants[0]).toBe('conv2d-depthwise-wasm-simd');
  });
});
