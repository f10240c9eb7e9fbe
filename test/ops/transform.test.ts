// gather/embedding, concat/stack, split/chunk and pad: hand-checked cases, naive references, error messages.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { makeRng } from '../../src/index.js';
import { randomArray } from '../helpers.js';

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Row-major multi-index of flat index `i` in `shape`. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(i % shape[d]!);
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}
const ravel = (idx: number[], shape: readonly number[]) => idx.reduce((acc, v, d) => acc * shape[d]! + v, 0);

const ints = (v: fp.NestedArray) => fp.tensor(v, { dtype: 'int32' });

describe('gather and embedding', () => {
  it('picks rows, columns and nested index shapes; negative indices count from the end', async () => {
    const x = fp.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(await fp.gather(x, ints([1, 0, 1])).toArray()).toEqual([[4, 5, 6], [1, 2, 3], [4, 5, 6]]);
    expect(await fp.gather(x, ints([[2], [-3]]), 1).toArray()).toEqual([[[3], [1]], [[6], [4]]]);
    expect(await fp.gather(x, ints(-1), -1).toArray()).toEqual([3, 6]); // 0-d indices drop the axis
    expect(await fp.gather(x, fp.tensor([1], { dtype: 'uint8' })).toArray()).toEqual([[4, 5, 6]]);
  });

  it('matches a naive gather for every axis and several dtypes', async () => {
    const shape = [3, 4, 5];
    const xa = Int32Array.from({ length: prod(shape) }, (_, i) => i * 7 - 50);
    const rng = makeRng(3);
    for (const dtype of ['float32', 'float16', 'int32', 'int8'] as const) {
      for (let axis = 0; axis < 3; axis++) {
        const A = shape[axis]!;
        const ishape = [2, 3];
        const ia = Int32Array.from({ length: 6 }, () => Math.floor(rng() * 2 * A) - A);
        const y = fp.gather(fp.tensor(xa, { shape, dtype }), fp.tensor(ia, { shape: ishape }), axis);
        const oshape = [...shape.slice(0, axis), ...ishape, ...shape.slice(axis + 1)];
        expect(y.shape).toEqual(oshape);
        expect(y.dtype).toBe(dtype);
        const want = Array.from({ length: prod(oshape) }, (_, i) => {
          const o = unravel(i, oshape);
          const k = ia[ravel(o.slice(axis, axis + 2), ishape)]!;
          const src = [...o.slice(0, axis), k < 0 ? k + A : k, ...o.slice(axis + 2)];
          const v = xa[ravel(src, shape)]!;
          return dtype === 'int8' ? ((v + 128) & 255) - 128 : v;
        });
        expect(Array.from(await y.data())).toEqual(want);
      }
    }
  });

  it('rejects out-of-range indices with the index, its position and the valid range', () => {
    const x = fp.zeros([5, 2]);
    expect(() => fp.gather(x, ints([[0, 1], [5, 2]]))).toThrow('forwardpass: gather: index 5 at indices[1, 0] is out of range for axis 0 of size 5 (valid: -5..4)');
    expect(() => fp.gather(x, ints([-3]), 1)).toThrow('forwardpass: gather: index -3 at indices[0] is out of range for axis 1 of size 2 (valid: -2..1)');
    expect(() => fp.gather(fp.zeros([0, 2]), ints([0]))).toThrow('forwardpass: gather: index 0 at indices[0] is out of range for axis 0 of size 0 (valid: none: the axis is empty)');
    expect(() => fp.gather(x, fp.tensor([0.5]))).toThrow('forwardpass: gather: indices must be int32, got float32');
    expect(() => fp.gather(x, ints([0]), 2)).toThrow(/forwardpass: gather: axis 2 is out of range for a tensor of rank 2/);
  });

  it('embedding looks up rows of a [V, D] table', async () => {
    const table = fp.tensor([[0, 0], [1, 1], [2, 4]]);
    const y = fp.embedding(ints([[2, 1], [0, 2]]), table);
    expect(y.shape).toEqual([2, 2, 2]);
    expect(await y.toArray()).toEqual([[[2, 4], [1, 1]], [[0, 0], [2, 4]]]);
    // unlike gather, negative ids are an error, as in torch.nn.functional.embedding
    expect(() => fp.embedding(ints([[2, 1], [0, -1]]), table)).toThrow('forwardpass: embedding: index -1 at indices[1, 1] is out of range for axis 0 of size 3 (valid: 0..2)');
    expect(() => fp.embedding(ints([3]), table)).toThrow('forwardpass: embedding: index 3 at indices[0] is out of range for axis 0 of size 3 (valid: 0..2)');
    expect(() => fp.embedding(ints([0]), fp.zeros([3]))).toThrow('forwardpass: embedding: weight must have rank 2, got shape [3]');
  });
});

describe('concat, cat and stack', () => {
  /** Naive concat of row-major arrays along `axis`. */
  function naiveConcat(parts: { data: ArrayLike<number>; shape: number[] }[], axis: number): number[] {
    const oshape = [...parts[0]!.shape];
    oshape[axis] = parts.reduce((a, p) => a + p.shape[axis]!, 0);
    return Array.from({ length: prod(oshape) }, (_, i) => {
      const idx = unravel(i, oshape);
      let a = idx[axis]!;
      for (const p of parts) {
        if (a < p.shape[axis]!) return p.data[ravel([...idx.slice(0, axis), a, ...idx.slice(axis + 1)], p.shape)]!;
        a -= p.shape[axis]!;
      }
      throw new Error('unreachable');
    });
  }

  it('joins strided views along every axis', async () => {
    const base = [2, 3, 4];
    for (let axis = 0; axis < 3; axis++) {
      const parts = [1, 2, 3].map((n, j) => {
        const shape = [...base];
        shape[axis] = n;
        const data = randomArray(prod(shape), 10 * axis + j);
        return { data, shape };
      });
      // feed transposed-back views (non-contiguous) for part 0, a slice view for part 1, the plain tensor for part 2
      const p0 = parts[0]!;
      const rev = [...p0.shape].reverse();
      const revData = Float32Array.from({ length: p0.data.length }, (_, i) => p0.data[ravel(unravel(i, rev).reverse(), p0.shape)]!);
      const v0 = fp.tensor(revData, { shape: rev }).permute(2, 1, 0);
      const p1 = parts[1]!;
      const wide = fp.tensor(Float32Array.from({ length: p1.data.length * 2 }, (_, i) => (i % 2 ? -99 : p1.data[i >> 1]!)), { shape: [...p1.shape.slice(0, 2), p1.shape[2]! * 2] });
      const v1 = wide.slice(2, 0, undefined, 2);
      expect(v0.isContiguous() || v1.isContiguous()).toBe(false);
      const y = fp.concat([v0, v1, fp.tensor(parts[2]!.data, { shape: parts[2]!.shape })], axis - 3);
      const want = naiveConcat(parts, axis);
      expect(y.shape).toEqual(base.map((n, d) => (d === axis ? 6 : n)));
      expect(Array.from(await y.data())).toEqual(Array.from(Float32Array.from(want)));
    }
  });

  it('promotes mixed dtypes, takes empty parts, and cat is the same function', async () => {
    const y = fp.cat([fp.tensor([1, 2], { dtype: 'int32' }), fp.zeros([0]), fp.tensor([0.5])]);
    expect(y.dtype).toBe('float32');
    expect(await y.toArray()).toEqual([1, 2, 0.5]);
    expect(fp.cat).toBe(fp.concat);
  });

  it('stacks along a new axis', async () => {
    const a = fp.tensor([1, 2, 3]), b = fp.tensor([4, 5, 6]);
    expect(await fp.stack([a, b]).toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(await fp.stack([a, b], -1).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
  });

  it('reports mismatched shapes and empty lists', () => {
    expect(() => fp.concat([fp.zeros([2, 3]), fp.zeros([2, 4])])).toThrow('forwardpass: concat: tensor 1 has shape [2, 4] but tensor 0 has [2, 3]; they must match except along axis 0');
    expect(() => fp.concat([fp.zeros([2, 3]), fp.zeros([6])], 1)).toThrow('forwardpass: concat: tensor 1 has shape [6] but tensor 0 has [2, 3]; they must match except along axis 1');
    expect(() => fp.concat([])).toThrow('forwardpass: concat: expected a non-empty array of tensors');
    expect(() => fp.concat([fp.tensor(1)])).toThrow('forwardpass: concat: cannot concatenate 0-d tensors; use stack');
    expect(() => fp.stack([fp.zeros([2]), fp.zeros([3])])).toThrow('forwardpass: stack: tensor 1 has shape [3] but tensor 0 has [2]; all must be equal');
  });
});

describe('split and chunk', () => {
  const x = fp.arange(10, { dtype: 'float32' }).reshape([2, 5]);

  it('splits by size (last piece smaller) and by sections, as views', async () => {
    const parts = fp.split(x, 2, 1);
    expect(parts.map((p) => p.shape)).toEqual([[2, 2], [2, 2], [2, 1]]);
    expect(await parts[2]!.toArray()).toEqual([[4], [9]]);
    expect(parts[1]!.storage).toBe(x.storage);
    const secs = fp.split(x, [1, 0, 4], -1);
    expect(secs.map((p) => p.shape)).toEqual([[2, 1], [2, 0], [2, 4]]);
    expect(await secs[2]!.toArray()).toEqual([[1, 2, 3, 4], [6, 7, 8, 9]]);
  });

  it('chunks into ceil(dim / chunks) pieces, possibly fewer than asked', async () => {
    expect(fp.chunk(x, 2, 1).map((p) => p.shape)).toEqual([[2, 3], [2, 2]]);
    expect(fp.chunk(fp.zeros([6]), 4).map((p) => p.shape)).toEqual([[2], [2], [2]]);
    expect(fp.chunk(fp.zeros([0]), 3).map((p) => p.shape)).toEqual([[0], [0], [0]]);
    const [q, k] = fp.chunk(x, 2);
    expect(await k!.toArray()).toEqual([[5, 6, 7, 8, 9]]);
    expect(q!.shape).toEqual([1, 5]);
  });

  it('reports bad sizes', () => {
    expect(() => fp.split(x, [2, 2], 1)).toThrow('forwardpass: split: sections [2,2] must be non-negative integers adding up to dim 1 of x [2, 5] (5)');
    expect(() => fp.split(x, 0, 1)).toThrow('forwardpass: split: split size must be a positive integer, got 0');
    expect(() => fp.chunk(x, 0)).toThrow('forwardpass: chunk: chunks must be a positive integer, got 0');
  });
});

describe('pad', () => {
  /** Naive pad with torch order (pairs from the last dim); source index per dim by the mode's rule. */
  function naivePad(data: ArrayLike<number>, shape: number[], pads: number[], mode: string, value: number): { out: number[]; shape: number[] } {
    const before = shape.map(() => 0), after = shape.map(() => 0);
    for (let i = 0; i < pads.length / 2; i++) {
      before[shape.length - 1 - i] = pads[2 * i]!;
      after[shape.length - 1 - i] = pads[2 * i + 1]!;
    }
    const oshape = shape.map((n, d) => n + before[d]! + after[d]!);
    const out = Array.from({ length: prod(oshape) }, (_, i) => {
      const src = unravel(i, oshape).map((o, d) => {
        const n = shape[d]!;
        const j = o - before[d]!;
        if (j >= 0 && j < n) return j;
        if (mode === 'constant') return -1;
        if (mode === 'replicate') return Math.min(Math.max(j, 0), n - 1);
        return j < 0 ? -j : 2 * n - 2 - j; // reflect about the edge element
      });
      return src.includes(-1) ? value : data[ravel(src, shape)]!;
    });
    return { out, shape: oshape };
  }

  it('hand-checked 1-d modes, torch order on 2-d', async () => {
    const r = fp.tensor([1, 2, 3, 4]);
    expect(await fp.pad(r, [2, 1]).toArray()).toEqual([0, 0, 1, 2, 3, 4, 0]);
    expect(await fp.pad(r, [2, 3], { mode: 'reflect' }).toArray()).toEqual([3, 2, 1, 2, 3, 4, 3, 2, 1]);
    expect(await fp.pad(r, [2, 1], { mode: 'replicate' }).toArray()).toEqual([1, 1, 1, 2, 3, 4, 4]);
    expect(await fp.pad(r, [-1, -2]).toArray()).toEqual([2]);
    // [left, right, top, bottom]: the last dim gets (1, 0), the one before gets (0, 1)
    expect(await fp.pad(fp.tensor([[1, 2], [3, 4]]), [1, 0, 0, 1], { value: 9 }).toArray()).toEqual([[9, 1, 2], [9, 3, 4], [9, 9, 9]]);
  });

  it('matches a naive pad for all modes, with negative pads and strided inputs', async () => {
    const shape = [2, 3, 4];
    const xa = randomArray(prod(shape), 77);
    const base = fp.tensor(xa, { shape });
    const cases: [number[], 'constant' | 'reflect' | 'replicate'][] = [
      [[1, 2], 'constant'], [[0, 0, 2, 1, 1, 0], 'constant'], [[-1, 2, 1, -2], 'constant'], [[3, 3, 2, 2], 'reflect'],
      [[-2, 1, 2, -1], 'reflect'], [[4, 1, 0, 5, 1, 1], 'replicate'], [[-3, -1], 'replicate'], [[0, 0, 0, 0, 0, 0], 'reflect'],
    ];
    for (const [pads, mode] of cases) {
      const want = naivePad(xa, shape, pads, mode, 2.5);
      const y = fp.pad(base, pads, { mode, value: 2.5 });
      expect(y.shape).toEqual(want.shape);
      expect(Array.from(await y.data())).toEqual(Array.from(Float32Array.from(want.out)));
    }
    // a transposed view pads like its contiguous copy
    const t = base.transpose(0, 2);
    const y = fp.pad(t, [1, 1], { mode: 'reflect' });
    const copy = await t.contiguous().data();
    expect(Array.from(await y.data())).toEqual(Array.from(Float32Array.from(naivePad(copy, [4, 3, 2], [1, 1], 'reflect', 0).out)));
    expect(Array.from(await fp.pad(fp.tensor([1, 2], { dtype: 'int32' }), [1, 0], { value: 7 }).data())).toEqual([7, 1, 2]);
    // all-zero pads: x's values, contiguous (a copy of a strided view)
    const z = fp.pad(t, [0, 0, 0, 0]);
    expect(z.isContiguous()).toBe(true);
    expect(Array.from(await z.data())).toEqual(Array.from(copy));
  });

  it('reports bad pads', () => {
    const x = fp.zeros([2, 3]);
    expect(() => fp.pad(x, [3, 0], { mode: 'reflect' })).toThrow('forwardpass: pad: reflect pads [3, 0] must each be smaller than dim 1 of x [2, 3] (size 3)');
    expect(() => fp.pad(x, [0, 0, 0, 2], { mode: 'reflect' })).toThrow('forwardpass: pad: reflect pads [0, 2] must each be smaller than dim 0 of x [2, 3] (size 2)');
    expect(() => fp.pad(x, [-2, -2])).toThrow('forwardpass: pad: pads [-2, -2] crop dim 1 of x [2, 3] below zero');
    expect(() => fp.pad(x, [1])).toThrow('forwardpass: pad: pads must be an even-length list of integers with at most 2 per dim of x [2, 3], got [1]');
    expect(() => fp.pad(x, [1, 1, 1, 1, 1, 1])).toThrow(/at most 2 per dim of x \[2, 3\], got \[1,1,1,1,1,1\]/);
    expect(() => fp.pad(x, [1, 1], { mode: 'circular' as never })).toThrow(`forwardpass: pad: mode must be 'constant', 'reflect' or 'replicate', got "circular"`);
    expect(() => fp.pad(fp.zeros([0]), [1, 0], { mode: 'replicate' })).toThrow('forwardpass: pad: cannot replicate-pad the empty dim 0 of x [0]');
  });
});
