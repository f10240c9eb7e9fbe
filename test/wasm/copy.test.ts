// The strided copy (contiguous() of a view) on the Wasm fast path against the typed-array twin: data movement only,
// so bit for bit (NaN payloads aside, -0 and ±Inf kept) for head split/merge permutes, transposes, stepped slices,
// expands (stride 0), rank 5 views that merge to 4, int32 and float16; views the plan cannot take stay on the twin.
import { afterEach, describe, expect, test } from 'vitest';
import * as fp from '../../src/index.js';
import { setCpuFastPath } from '../../src/backends/cpu/wasm/index.js';
import { copyModuleBytes, copyPlan, isTranspose } from '../../src/backends/cpu/wasm/copy.js';
import { randomArray } from '../helpers.js';

afterEach(() => setCpuFastPath(true));

function both(view: () => fp.Tensor): [number[], number[], string] {
  let variant = '';
  const off = fp.addOpHook((e) => { if (e.op === 'copy') variant = e.variant ?? ''; });
  setCpuFastPath(true);
  const fast = Array.from(view().contiguous().dataSync());
  off();
  setCpuFastPath(false);
  return [fast, Array.from(view().contiguous().dataSync()), variant];
}
const same = (a: number[], b: number[]) => a.flatMap((v, i) => (Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i]!)) ? [] : [[i, v, b[i]]])).slice(0, 5);
const t = (shape: number[], seed: number, dtype: 'float32' | 'float16' = 'float32') => {
  const d = randomArray(shape.reduce((x, y) => x * y, 1), seed, -4, 4);
  [NaN, -0, Infinity, -Infinity].forEach((v, i) => { if (i * 13 < d.length) d[i * 13] = v; });
  return fp.tensor(d, { shape, dtype });
};

describe('strided copy on the Wasm fast path', () => {
  test('the module validates; the plan merges contiguous dims and drops size-1 dims', () => {
    expect(WebAssembly.validate(copyModuleBytes())).toBe(true);
    expect(copyPlan([2, 3, 4], [12, 4, 1])).toEqual({ shape: [1, 1, 1, 24], strides: [0, 0, 0, 1], span: 24 });
    expect(copyPlan([2, 1, 3, 5], [15, 7, 1, 3])).toEqual({ shape: [1, 2, 3, 5], strides: [0, 15, 1, 3], span: 30 });
    expect(copyPlan([2, 2, 2, 2, 2], [1, 2, 4, 8, 16])).toBeNull();
  });

  test.each([
    ['head split [B, T, H, Dh] -> [B, H, T, Dh]', () => t([8, 17, 4, 16], 1).permute(0, 2, 1, 3)],
    ['head merge [B, H, T, Dh] -> [B, T, H, Dh]', () => t([2, 12, 33, 64], 2).permute(0, 2, 1, 3)],
    ['transpose of the last two dims (odd sizes)', () => t([3, 17, 255], 3).transpose(-2, -1)],
    ['k transposed for scores [B, H, Dh, T], Dh = 80', () => t([1, 2, 9, 80], 4).permute(0, 1, 3, 2)],
    ['stepped slice', () => t([5, 40, 9], 5).slice(1, 1, 39, 3)],
    ['narrow of the last dim', () => t([6, 50], 6).narrow(1, 3, 45)],
    ['expand (stride 0)', () => t([1, 3, 1, 7], 7).expand(4, 3, 5, 7)],
    ['rank 5 that merges to 4', () => t([2, 3, 4, 5, 6], 8).permute(0, 1, 3, 2, 4)],
    ['float16 permute', () => t([4, 9, 3, 8], 9, 'float16').permute(0, 2, 1, 3)],
    ['int32 transpose', () => fp.tensor(Int32Array.from({ length: 96 }, (_, i) => i * 7 - 300), { shape: [8, 12], dtype: 'int32' }).transpose()],
  ])('%s: the twin bit for bit', (_name, view) => {
    const [fast, ref, variant] = both(view);
    const v = view();
    expect(variant).toBe(isTranspose(copyPlan(v.shape, v.strides)!) ? 'copy-wasm-transpose-4x4' : 'copy-wasm-strided');
    expect(same(fast, ref)).toEqual([]);
  });

  test.each([
    ['a batch of single 4x4 tiles', () => t([16, 4, 4], 20).transpose(1, 2)],
    ['edges on both sides (5 x 7, batch 3)', () => t([3, 7, 5], 21).transpose(1, 2)],
    ['1 x n and n x 4 edges', () => t([2, 4, 255], 22).transpose(1, 2)],
    ['more than one cache block of columns (300 x 203)', () => t([203, 300], 23).transpose()],
    ['NCHW -> NHWC', () => t([2, 16, 9, 11], 24).permute(0, 2, 3, 1)],
    ['NHWC -> NCHW', () => t([2, 9, 11, 16], 25).permute(0, 3, 1, 2)],
    ['kᵀ out of a fused qkv row [B, S, 3, H, D] -> [B, H, D, S]', () => t([2, 17, 3, 4, 16], 26).narrow(2, 1, 1).reshape([2, 17, 4, 16]).permute(0, 2, 3, 1)],
    ['float16 kᵀ', () => t([2, 3, 33, 8], 27, 'float16').transpose(-2, -1)],
  ])('transposes, tiled: %s: the twin bit for bit', (_name, view) => {
    const v = view();
    expect(isTranspose(copyPlan(v.shape, v.strides)!)).toBe(true);
    const [fast, ref, variant] = both(view);
    expect(variant).toBe('copy-wasm-transpose-4x4');
    expect(same(fast, ref)).toEqual([]);
  });

  test('small views, rank 5 that does not merge, a sparse window of a big tensor and bool stay on the twin', () => {
    expect(both(() => t([4, 4], 10).transpose())[2]).toBe('');
    expect(both(() => t([2, 3, 4, 5, 6], 11).permute(4, 3, 2, 1, 0))[2]).toBe('');
    expect(both(() => t([400, 400], 12).slice(0, 0, 400, 50).narrow(1, 0, 20))[2]).toBe('');
    const b = fp.tensor(Uint8Array.from({ length: 128 }, (_, i) => i % 3 === 0 ? 1 : 0), { shape: [8, 16], dtype: 'bool' });
    expect(both(() => b.transpose())[2]).toBe('');
  });
});
