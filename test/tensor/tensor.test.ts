// Tensor basics: creation, views (reshape, permute, narrow, slice, expand, squeeze), reading, dtypes, scopes.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';

describe('creation', () => {
  it('infers shape from nested arrays and rejects ragged ones', async () => {
    const t = fp.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(Array.from(await t.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => fp.tensor([[1, 2], [3]])).toThrow(/ragged nested array at values\[1\]: expected 2 elements, found 1/);
  });

  it('creates zeros, ones, full, arange and seeded random tensors', async () => {
    expect(Array.from(await fp.zeros([2, 2], { dtype: 'int32' }).data())).toEqual([0, 0, 0, 0]);
    expect(Array.from(await fp.ones([3]).data())).toEqual([1, 1, 1]);
    expect(Array.from(await fp.full([2], 7, { dtype: 'int8' }).data())).toEqual([7, 7]);
    expect(Array.from(await fp.arange(5).data())).toEqual([0, 1, 2, 3, 4]);
    expect(fp.arange(0, 1, 0.25).dtype).toBe('float32');
    const a = await fp.randn([100], { seed: 3 }).data();
    const b = await fp.randn([100], { seed: 3 }).data();
    expect(Array.from(a)).toEqual(Array.from(b));
    const m = Array.from(a).reduce((s, v) => s + v, 0) / 100;
    expect(Math.abs(m)).toBeLessThan(0.3);
  });

  it('checks data length against shape', () => {
    expect(() => fp.tensor(new Float32Array(5), { shape: [2, 3] })).toThrow(/5 values do not fill shape \[2, 3\] \(6 elements\)/);
    expect(() => fp.tensor([1], { dtype: 'float64' as never })).toThrow(/unknown dtype 'float64'/);
  });
});

describe('dtypes', () => {
  it('stores float16 as halves, rounding to nearest even', async () => {
    const t = fp.tensor([1, 1 / 3, 65504, 70000, -2.5e-8, 1e-7], { dtype: 'float16' });
    const v = await t.data();
    expect(v[0]).toBe(1);
    expect(v[1]).toBeCloseTo(0.333251953125, 12); // nearest half to 1/3
    expect(v[2]).toBe(65504);
    expect(v[3]).toBe(Infinity);
    expect(v[4]).toBe(-0);
    expect(v[5]).toBeCloseTo(1.1920928955078125e-7, 15); // subnormal half 2^-23
    expect(fp.f16ToF32(fp.f32ToF16(0.1))).toBeCloseTo(0.0999755859375, 12);
    expect(Number.isNaN(fp.f16ToF32(fp.f32ToF16(NaN)))).toBe(true);
  });

  it('round-trips every float16 bit pattern', () => {
    for (let h = 0; h < 0x10000; h++) {
      const f = fp.f16ToF32(h);
      if (Number.isNaN(f)) continue;
      expect(fp.f32ToF16(f)).toBe(h);
    }
  });

  it('holds int32, int8, uint8 and bool with wrap-around of stored values', async () => {
    expect(Array.from(await fp.tensor([127, 128, -129], { dtype: 'int8' }).data())).toEqual([127, -128, 127]);
    expect(Array.from(await fp.tensor([255, 256, -1], { dtype: 'uint8' }).data())).toEqual([255, 0, 255]);
    expect(await fp.tensor([true, false]).toArray()).toEqual([true, false]);
    expect(fp.tensor([true, false]).dtype).toBe('bool');
  });
});

describe('views', () => {
  const base = () => fp.arange(24, { dtype: 'float32' }).reshape([2, 3, 4]);

  it('reshape of a contiguous tensor shares storage', async () => {
    const t = base();
    const r = t.reshape([6, -1]);
    expect(r.shape).toEqual([6, 4]);
    expect(r.storage).toBe(t.storage);
    expect(() => t.reshape([5, -1])).toThrow(/cannot reshape \[2, 3, 4\] \(24 elements\)/);
  });

  it('permute and transpose produce strided views with the right values', async () => {
    const t = base();
    const p = t.permute(2, 0, 1);
    expect(p.shape).toEqual([4, 2, 3]);
    expect(p.strides).toEqual([1, 12, 4]);
    expect(p.isContiguous()).toBe(false);
    const d = await p.data();
    // p[i, j, k] = t[j, k, i] = j*12 + k*4 + i
    for (let i = 0; i < 4; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 3; k++) expect(d[i * 6 + j * 3 + k]).toBe(j * 12 + k * 4 + i);
    expect(() => t.permute(0, 0, 1)).toThrow(/expected a permutation of 3 dims/);
  });

  it('view refuses what would need a copy; reshape copies', async () => {
    const t = base().transpose(1, 2); // [2, 4, 3]
    expect(() => t.view([8, 3])).toThrow(/cannot be viewed as \[8, 3\]/);
    const r = t.reshape([8, 3]);
    expect(r.storage).not.toBe(t.storage);
    expect(Array.from(await r.data())).toEqual(Array.from(await t.data()));
    // splitting a dim of a strided tensor is a view; merging dims that are not adjacent in memory is not
    const u = base().permute(1, 0, 2); // [3, 2, 4], strides [4, 12, 1]
    const split = u.reshape([3, 2, 2, 2]);
    expect(split.storage).toBe(u.storage);
    expect(split.strides).toEqual([4, 12, 2, 1]);
    expect(Array.from(await split.data())).toEqual(Array.from(await u.data()));
    expect(() => u.view([3, 8])).toThrow(/cannot be viewed as \[3, 8\]/);
  });

  it('narrow, slice, select and expand are views with offsets and zero strides', async () => {
    const t = base();
    const n = t.narrow(2, 1, 2);
    expect(n.shape).toEqual([2, 3, 2]);
    expect(Array.from(await n.data())).toEqual([1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22]);
    const s = t.slice(1, 0, undefined, 2);
    expect(s.shape).toEqual([2, 2, 4]);
    expect(Array.from(await s.select(0, 1).data())).toEqual([12, 13, 14, 15, 20, 21, 22, 23]);
    expect(Array.from(await t.slice(2, -1).data())).toEqual([3, 7, 11, 15, 19, 23]);
    const e = fp.tensor([[1], [2]]).expand([2, 3]);
    expect(e.strides).toEqual([1, 0]);
    expect(Array.from(await e.data())).toEqual([1, 1, 1, 2, 2, 2]);
    expect(() => fp.tensor([1, 2]).expand([3])).toThrow(/cannot expand \[2\] to \[3\]/);
    expect(() => t.narrow(0, 1, 2)).toThrow(/range 1\.\.3 is outside dim 0 of size 2/);
  });

  it('squeeze, unsqueeze and flatten', () => {
    const t = fp.zeros([1, 3, 1, 2]);
    expect(t.squeeze().shape).toEqual([3, 2]);
    expect(t.squeeze(2).shape).toEqual([1, 3, 2]);
    expect(t.unsqueeze(-1).shape).toEqual([1, 3, 1, 2, 1]);
    expect(t.unsqueeze(0).shape).toEqual([1, 1, 3, 1, 2]);
    expect(t.flatten(1).shape).toEqual([1, 6]);
    expect(t.flatten().shape).toEqual([6]);
  });

  it('contiguous copies strided views only', () => {
    const t = base();
    expect(t.contiguous().storage).toBe(t.storage);
    const p = t.transpose(0, 2);
    const c = p.contiguous();
    expect(c.storage).not.toBe(t.storage);
    expect(c.isContiguous()).toBe(true);
  });
});

describe('reading and printing', () => {
  it('toArray nests values and item reads scalars', async () => {
    expect(await fp.tensor([[1, 2], [3, 4]]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(await fp.tensor(5).item()).toBe(5);
    await expect(fp.tensor([1, 2]).item()).rejects.toThrow(/one element/);
  });

  it('prints like PyTorch', () => {
    expect(fp.tensor([[1, 2], [3, 4]]).toString()).toBe('tensor([[1., 2.],\n        [3., 4.]])');
    expect(fp.tensor([0.5, -1.25]).toString()).toBe('tensor([ 0.5000, -1.2500])');
    expect(fp.tensor([1, 2], { dtype: 'int8' }).toString()).toBe('tensor([1, 2], dtype=int8)');
    const big = fp.arange(2000, { dtype: 'float32' });
    expect(big.toString()).toBe('tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.], shape=[2000])');
    expect(fp.arange(24, { dtype: 'float32' }).reshape([2, 3, 4]).toString()).toBe(
      'tensor([[[ 0.,  1.,  2.,  3.],\n         [ 4.,  5.,  6.,  7.],\n         [ 8.,  9., 10., 11.]],\n\n        [[12., 13., 14., 15.],\n         [16., 17., 18., 19.],\n         [20., 21., 22., 23.]]])',
    );
  });
});

describe('memory', () => {
  it('dispose frees storage when the last view goes; use after dispose is a clear error', () => {
    const before = fp.cpuBackend.memory().liveBuffers;
    const t = fp.zeros([4]);
    const v = t.reshape([2, 2]);
    t.dispose();
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before + 1);
    v.dispose();
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before);
    expect(() => fp.relu(v)).toThrow(/relu input 0: tensor #\d+ \[2, 2\] float32 was disposed/);
    t.dispose(); // idempotent
  });

  it('scope disposes what it created except its result, across await', async () => {
    const before = fp.cpuBackend.memory().liveBuffers;
    const kept = fp.zeros([1]);
    const out = await fp.scope(async () => {
      const a = fp.ones([8]);
      await new Promise((r) => setTimeout(r, 5));
      const b = fp.add(a, 1);
      fp.keep(fp.mul(b, 2)).dispose();
      return { y: fp.mul(b, kept) };
    });
    expect(out.y.disposed).toBe(false);
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before + 2);
    out.y.dispose();
    kept.dispose();
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before);
  });

  it('scope disposes on throw; using works with Symbol.dispose', async () => {
    const before = fp.cpuBackend.memory().liveBuffers;
    await expect(fp.scope(async () => { fp.ones([3]); throw new Error('boom'); })).rejects.toThrow('boom');
    {
      using t = fp.ones([3]);
      expect(t.size).toBe(3);
    }
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before);
  });
});

describe('arange overloads', () => {
  it('follows torch.arange: end only, start/end, start/end/step, options last', async () => {
    expect(Array.from(await fp.arange(4, { dtype: 'float32' }).data())).toEqual([0, 1, 2, 3]);
    expect(fp.arange(4, { dtype: 'float32' }).dtype).toBe('float32');
    expect(Array.from(await fp.arange(2, 5).data())).toEqual([2, 3, 4]);
    expect(Array.from(await fp.arange(5, 0, -2).data())).toEqual([5, 3, 1]);
    expect(Array.from(await fp.arange(0, 1, 0.25, { dtype: 'float16' }).data())).toEqual([0, 0.25, 0.5, 0.75]);
    expect(() => fp.arange(0, 1, 0)).toThrow(/step must be a non-zero finite number, got 0/);
  });
});

describe('float16 bulk conversion', () => {
  it('decodes every half exactly as the scalar conversion does (NaNs stay NaN)', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const bulk = fp.f16ArrayToF32(all);
    for (let h = 0; h < 65536; h++) {
      const want = fp.f16ToF32(h);
      if (Number.isNaN(want)) expect(Number.isNaN(bulk[h])).toBe(true);
      else expect(bulk[h]).toBe(want);
    }
  });
});
