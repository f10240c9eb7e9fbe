// Reductions, argmax/argmin, variance and softmax vs naive loops over explicit indices.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { maxAbsDiff, randomArray } from '../helpers.js';

/** Naive reduction over `axes` of a row-major array, written with explicit multi-indices. */
function naiveReduce(data: ArrayLike<number>, shape: number[], axes: number[], init: number, f: (a: number, v: number) => number, fin = (a: number, _n: number) => a): { shape: number[]; data: number[] } {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outN = outShape.reduce((a, b) => a * b, 1);
  const acc = new Array(outN).fill(init);
  const cnt = new Array(outN).fill(0);
  const n = shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i++) {
    let rem = i;
    const idx = new Array(shape.length).fill(0);
    for (let d = shape.length - 1; d >= 0; d--) { idx[d] = rem % shape[d]!; rem = Math.floor(rem / shape[d]!); }
    let o = 0;
    for (let d = 0; d < shape.length; d++) o = o * outShape[d]! + (axes.includes(d) ? 0 : idx[d]);
    acc[o] = f(acc[o], data[i]!);
    cnt[o]++;
  }
  return { shape: outShape, data: acc.map((a, i) => fin(a, cnt[i])) };
}

describe('reductions', () => {
  const shape = [3, 4, 5];
  const data = randomArray(60, 11, -2, 2);
  const x = fp.tensor(data, { shape });
  const axesCases: number[][] = [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]];
  for (const axes of axesCases) {
    it(`sum/mean/max/min/prod over ${JSON.stringify(axes)} with and without keepdim`, () => {
      const refs: [typeof fp.sum, number, (a: number, v: number) => number, ((a: number, n: number) => number)?][] = [
        [fp.sum, 0, (a, v) => a + v], [fp.mean, 0, (a, v) => a + v, (a, n) => a / n],
        [fp.max, -Infinity, Math.max], [fp.min, Infinity, Math.min], [fp.prod, 1, (a, v) => a * v],
      ];
      for (const [op, init, f, fin] of refs) {
        const want = naiveReduce(data, shape, axes, init, f, fin);
        const kept = op(x, { axis: axes, keepdim: true });
        expect(kept.shape).toEqual(want.shape);
        expect(maxAbsDiff(kept.dataSync(), want.data.map(Math.fround))).toBeLessThan(1e-5);
        const dropped = op(x, { axis: axes });
        expect(dropped.shape).toEqual(shape.filter((_, i) => !axes.includes(i)));
      }
    });
  }

  it('negative axes, all axes by default, int sums stay int', () => {
    expect(fp.sum(x, { axis: -1 }).shape).toEqual([3, 4]);
    expect(fp.sum(x).shape).toEqual([]);
    const i = fp.tensor([1, 2, 3], { dtype: 'int8' });
    expect(fp.sum(i).dtype).toBe('int32');
    expect(fp.mean(i).dtype).toBe('float32');
    expect(fp.sum(fp.tensor([true, true, false])).dataSync()[0]).toBe(2);
    expect(() => fp.sum(x, { axis: 3 })).toThrow('forwardpass: sum: axis 3 is out of range for a tensor of rank 3 (expected -3..2)');
    expect(() => fp.max(fp.zeros([0, 2]), { axis: 0 })).toThrow(/cannot reduce an empty dim/);
  });

  it('reduces strided views', () => {
    const t = x.permute(2, 0, 1);
    const got = fp.sum(t, { axis: 0 }).dataSync();
    const want = naiveReduce(data, shape, [2], 0, (a, v) => a + v).data;
    expect(maxAbsDiff(got, want.map(Math.fround))).toBeLessThan(1e-5);
  });

  it('variance, biased and unbiased', () => {
    const t = fp.tensor([[1, 2, 3, 4], [2, 2, 2, 2]]);
    expect(Array.from(fp.variance(t, { axis: 1 }).dataSync())).toEqual([Math.fround(5 / 3), 0]);
    expect(Array.from(fp.variance(t, { axis: 1, correction: 0 }).dataSync())).toEqual([1.25, 0]);
  });

  it('argmax/argmin pick the first extreme, NaN wins like PyTorch', () => {
    const t = fp.tensor([[1, 5, 5, 0], [7, 7, -1, -1], [0, NaN, 9, 1]]);
    expect(Array.from(fp.argmax(t, { axis: 1 }).dataSync())).toEqual([1, 0, 1]);
    expect(Array.from(fp.argmin(t, { axis: 1 }).dataSync())).toEqual([3, 2, 1]);
    expect(fp.argmax(t).dataSync()[0]).toBe(9);
    expect(fp.argmax(t, { axis: 0, keepdim: true }).shape).toEqual([1, 4]);
    expect(fp.argmax(t, { axis: 1 }).dtype).toBe('int32');
  });
});

describe('softmax', () => {
  it('matches a naive softmax on every axis, and logSoftmax its log', () => {
    const shape = [2, 3, 7];
    const data = randomArray(42, 5, -30, 30);
    const x = fp.tensor(data, { shape });
    for (const axis of [0, 1, 2]) {
      const got = fp.softmax(x, axis).dataSync();
      const lg = fp.logSoftmax(x, axis).dataSync();
      const strides = [21, 7, 1];
      for (let i = 0; i < 42; i++) {
        const idx = [Math.floor(i / 21), Math.floor(i / 7) % 3, i % 7];
        const others: number[] = [];
        for (let k = 0; k < shape[axis]!; k++) {
          const j = idx.map((v, d) => (d === axis ? k : v));
          others.push(data[j[0]! * strides[0]! + j[1]! * strides[1]! + j[2]!]!);
        }
        const m = Math.max(...others);
        const s = others.reduce((a, v) => a + Math.exp(v - m), 0);
        expect(Math.abs(got[i]! - Math.exp(data[i]! - m) / s)).toBeLessThan(1e-6);
        expect(Math.abs(lg[i]! - (data[i]! - m - Math.log(s)))).toBeLessThan(1e-5);
      }
    }
  });

  it('is stable for large logits and handles -Infinity entries', () => {
    const r = fp.softmax(fp.tensor([1000, 1000, -Infinity])).dataSync();
    expect(Array.from(r)).toEqual([0.5, 0.5, 0]);
  });
});
