// Elementwise ops: values vs Math.* written here, broadcasting vs a naive index walk, dtype rules, errors.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { maxAbsDiff, randomArray } from '../helpers.js';

const f32 = (x: number) => Math.fround(x);

/** Naive NumPy broadcasting written independently of src/: returns the source flat index per output index. */
function naiveBroadcastIndex(shape: number[], outShape: number[]): number[] {
  const out: number[] = [];
  const total = outShape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < total; i++) {
    let rem = i;
    const idx = new Array(outShape.length).fill(0);
    for (let d = outShape.length - 1; d >= 0; d--) { idx[d] = rem % outShape[d]!; rem = Math.floor(rem / outShape[d]!); }
    let src = 0;
    const lead = outShape.length - shape.length;
    for (let d = 0; d < shape.length; d++) src = src * shape[d]! + (shape[d] === 1 ? 0 : idx[d + lead]);
    out.push(src);
  }
  return out;
}

describe('unary ops match Math', () => {
  const xs = randomArray(257, 1, -4, 4);
  const x = fp.tensor(xs);
  const cases: [string, (t: fp.Tensor) => fp.Tensor, (v: number) => number][] = [
    ['neg', fp.neg, (v) => -v],
    ['abs', fp.abs, Math.abs],
    ['exp', fp.exp, Math.exp],
    ['tanh', fp.tanh, Math.tanh],
    ['sin', fp.sin, Math.sin],
    ['cos', fp.cos, Math.cos],
    ['sigmoid', fp.sigmoid, (v) => 1 / (1 + Math.exp(-v))],
    ['relu', fp.relu, (v) => Math.max(v, 0)],
    ['relu6', fp.relu6, (v) => Math.min(Math.max(v, 0), 6)],
    ['silu', fp.silu, (v) => v / (1 + Math.exp(-v))],
    ['square', fp.square, (v) => v * v],
    ['floor', fp.floor, Math.floor],
    ['ceil', fp.ceil, Math.ceil],
    ['sign', fp.sign, Math.sign],
    ['softplus', fp.softplus, (v) => Math.log(1 + Math.exp(v))],
    ['leakyRelu', (t) => fp.leakyRelu(t, 0.1), (v) => (v < 0 ? 0.1 * v : v)],
    ['elu', (t) => fp.elu(t), (v) => (v < 0 ? Math.exp(v) - 1 : v)],
    ['hardSigmoid', (t) => fp.hardSigmoid(t), (v) => Math.min(Math.max(v / 6 + 0.5, 0), 1)],
    ['hardSwish', fp.hardSwish, (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6],
    ['clamp', (t) => fp.clamp(t, -1, 0.5), (v) => Math.min(Math.max(v, -1), 0.5)],
    ['geluTanh', (t) => fp.gelu(t, { approximate: 'tanh' }), (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))],
  ];
  for (const [name, f, ref] of cases) {
    it(name, () => {
      const got = f(x).dataSync();
      const want = Array.from(xs, (v) => f32(ref(v)));
      expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-6 * Math.max(1, ...want.map(Math.abs)));
    });
  }

  it('sqrt, log, rsqrt, reciprocal on positive inputs; NaN and Inf where math says so', () => {
    const p = fp.tensor([0.25, 1, 4, 9]);
    expect(Array.from(fp.sqrt(p).dataSync())).toEqual([0.5, 1, 2, 3]);
    expect(Array.from(fp.rsqrt(p).dataSync())).toEqual([2, 1, 0.5, f32(1 / 3)]);
    expect(Array.from(fp.reciprocal(p).dataSync())).toEqual([4, 1, 0.25, f32(1 / 9)]);
    expect(maxAbsDiff(fp.log(p).dataSync(), [Math.log(0.25), 0, Math.log(4), Math.log(9)].map(f32))).toBeLessThan(1e-7);
    const odd = fp.tensor([-1, 0]);
    const l = fp.log(odd).dataSync();
    expect(Number.isNaN(l[0])).toBe(true);
    expect(l[1]).toBe(-Infinity);
  });

  it('erf and exact GELU against tabulated values', () => {
    // erf values from Abramowitz & Stegun table 7.1 (10 digits)
    const xsE = [0, 0.1, 0.5, 1, 1.5, 2, 2.5, 3, -0.5, -2];
    const erfTable = [0, 0.1124629160, 0.5204998778, 0.8427007929, 0.9661051465, 0.9953222650, 0.9995930480, 0.9999779095, -0.5204998778, -0.9953222650];
    expect(maxAbsDiff(fp.erf(fp.tensor(xsE)).dataSync(), erfTable.map(f32))).toBeLessThan(1e-7);
    const gelu = fp.gelu(fp.tensor(xsE)).dataSync();
    expect(maxAbsDiff(gelu, xsE.map((v) => f32(0.5 * v * (1 + erfAt(v)))))).toBeLessThan(2e-7);
    function erfAt(v: number): number {
      // erf(v/sqrt2) at these points via the table's symmetry is not tabulated; integrate numerically instead
      const z = v / Math.SQRT2;
      const n = 20000;
      let s = 0;
      for (let k = 0; k < n; k++) { const t = (z * (k + 0.5)) / n; s += Math.exp(-t * t); }
      return (2 / Math.sqrt(Math.PI)) * s * (z / n);
    }
  });

  it('round is half-to-even, like PyTorch', () => {
    expect(Array.from(fp.round(fp.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6])).dataSync())).toEqual([0, 2, 2, -0, -2, 2, 3]);
  });
});

describe('binary ops and broadcasting', () => {
  const shapes: [number[], number[]][] = [
    [[3, 4], [3, 4]], [[3, 4], [4]], [[3, 1], [1, 4]], [[2, 1, 5], [3, 1]], [[1], [7, 3]], [[], [2, 3]], [[5, 1, 1], [1, 6, 2]],
  ];
  for (const [sa, sb] of shapes) {
    it(`add/sub/mul/div/maximum/minimum/pow on ${JSON.stringify(sa)} and ${JSON.stringify(sb)}`, () => {
      const na = sa.reduce((a, b) => a * b, 1), nb = sb.reduce((a, b) => a * b, 1);
      const da = randomArray(na, na + 3, 0.5, 2), db = randomArray(nb, nb + 7, 0.5, 2);
      const a = fp.tensor(da, { shape: sa }), b = fp.tensor(db, { shape: sb });
      const outShape = fp.broadcastShapes(sa, sb);
      const ia = naiveBroadcastIndex(sa, outShape), ib = naiveBroadcastIndex(sb, outShape);
      const ops: [(x: fp.Tensor, y: fp.Tensor) => fp.Tensor, (x: number, y: number) => number][] = [
        [fp.add, (x, y) => x + y], [fp.sub, (x, y) => x - y], [fp.mul, (x, y) => x * y], [fp.div, (x, y) => x / y],
        [fp.maximum, Math.max], [fp.minimum, Math.min], [fp.pow, Math.pow],
      ];
      for (const [op, ref] of ops) {
        const got = op(a, b);
        expect(got.shape).toEqual(outShape);
        const want = ia.map((i, k) => f32(ref(da[i]!, db[ib[k]!]!)));
        expect(maxAbsDiff(got.dataSync(), want)).toBeLessThan(1e-6 * 4);
      }
    });
  }

  it('reads strided and expanded views without copying first', () => {
    const base = fp.arange(12, { dtype: 'float32' }).reshape([3, 4]);
    const t = base.transpose(0, 1); // [4, 3]
    const col = fp.tensor([[100], [200], [300], [400]]).expand([4, 3]);
    const got = fp.add(t, col).dataSync();
    const want: number[] = [];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) want.push(j * 4 + i + (i + 1) * 100);
    expect(Array.from(got)).toEqual(want);
  });

  it('accepts scalars and promotes dtypes like PyTorch', () => {
    const i = fp.tensor([1, 2, 3], { dtype: 'int32' });
    expect(fp.add(i, 1).dtype).toBe('int32');
    expect(fp.mul(i, 0.5).dtype).toBe('float32');
    expect(Array.from(fp.mul(i, 0.5).dataSync())).toEqual([0.5, 1, 1.5]);
    expect(fp.div(i, 2).dtype).toBe('float32');
    expect(fp.add(i, fp.tensor([1, 1, 1], { dtype: 'int8' })).dtype).toBe('int32');
    expect(fp.add(fp.tensor([1], { dtype: 'int8' }), fp.tensor([1], { dtype: 'uint8' })).dtype).toBe('int32');
    expect(fp.add(fp.tensor([1], { dtype: 'float16' }), fp.tensor([1])).dtype).toBe('float32');
    expect(fp.add(fp.tensor([1], { dtype: 'float16' }), 2).dtype).toBe('float16');
    expect(Array.from(fp.sub(10, i).dataSync())).toEqual([9, 8, 7]);
    expect(Array.from(fp.remainder(fp.tensor([-3, 3, 5]), 2).dataSync())).toEqual([1, 1, 1]);
    expect(Array.from(fp.remainder(fp.tensor([3]), -2).dataSync())).toEqual([-1]);
  });

  it('int arithmetic wraps like the storage type', () => {
    expect(Array.from(fp.add(fp.tensor([127], { dtype: 'int8' }), 1).dataSync())).toEqual([-128]);
    expect(Array.from(fp.mul(fp.tensor([2 ** 30], { dtype: 'int32' }), 4).dataSync())).toEqual([0]);
  });

  it('computes float16 in float32 and rounds the result to half', () => {
    const a = fp.tensor([1, 2048], { dtype: 'float16' });
    const r = fp.add(a, 1);
    expect(r.dtype).toBe('float16');
    expect(Array.from(r.dataSync())).toEqual([2, 2048]); // 2049 is not a half: ties to even
  });

  it('names both shapes when broadcasting fails', () => {
    expect(() => fp.add(fp.zeros([2, 3]), fp.zeros([4]))).toThrow('forwardpass: add: shapes [2, 3] and [4] cannot be broadcast (dim -1 is 3 vs 4)');
    expect(() => fp.add(1 as never, 2 as never)).toThrow(/at least one operand must be a Tensor/);
  });
});

describe('comparisons, logical ops, where, cast', () => {
  it('compares with broadcasting into bool', () => {
    const a = fp.tensor([[1, 2, 3]]);
    const b = fp.tensor([[2], [1]]);
    const checks: [(x: fp.Tensor, y: fp.Tensor) => fp.Tensor, (x: number, y: number) => boolean][] = [
      [fp.eq, (x, y) => x === y], [fp.ne, (x, y) => x !== y], [fp.lt, (x, y) => x < y],
      [fp.le, (x, y) => x <= y], [fp.gt, (x, y) => x > y], [fp.ge, (x, y) => x >= y],
    ];
    for (const [op, ref] of checks) {
      const r = op(a, b);
      expect(r.dtype).toBe('bool');
      expect(r.shape).toEqual([2, 3]);
      const want = [2, 1].flatMap((y) => [1, 2, 3].map((x) => (ref(x, y) ? 1 : 0)));
      expect(Array.from(r.dataSync())).toEqual(want);
    }
    const t = fp.tensor([true, true, false, false]), f = fp.tensor([true, false, true, false]);
    expect(Array.from(fp.logicalAnd(t, f).dataSync())).toEqual([1, 0, 0, 0]);
    expect(Array.from(fp.logicalOr(t, f).dataSync())).toEqual([1, 1, 1, 0]);
    expect(Array.from(fp.logicalXor(t, f).dataSync())).toEqual([0, 1, 1, 0]);
    expect(Array.from(fp.logicalNot(t).dataSync())).toEqual([0, 0, 1, 1]);
  });

  it('where broadcasts condition and both branches', () => {
    const x = fp.tensor([[-1, 2], [3, -4]]);
    expect(Array.from(fp.where(fp.gt(x, 0), x, 0).dataSync())).toEqual([0, 2, 3, 0]);
    expect(Array.from(fp.where(fp.tensor([true, false]), fp.tensor([[1], [2]]), fp.tensor([9, 8])).dataSync())).toEqual([1, 8, 2, 8]);
    expect(() => fp.where(x, x, x)).toThrow('forwardpass: where: cond must be bool, got float32');
  });

  it('cast truncates toward zero, maps to bool, and round-trips float16', () => {
    const x = fp.tensor([1.7, -1.7, 0, NaN, 300]);
    expect(Array.from(fp.cast(x, 'int32').dataSync())).toEqual([1, -1, 0, 0, 300]);
    expect(Array.from(fp.cast(x, 'bool').dataSync())).toEqual([1, 1, 0, 1, 1]);
    expect(Array.from(fp.cast(fp.cast(fp.tensor([0.1, 1000.5]), 'float16'), 'float32').dataSync())).toEqual([f32(0.0999755859375), 1000.5]);
    const strided = fp.arange(6, { dtype: 'int32' }).reshape([2, 3]).transpose(0, 1);
    expect(Array.from(fp.cast(strided, 'float32').dataSync())).toEqual([0, 3, 1, 4, 2, 5]);
  });
});

describe('operands', () => {
  it('rejects operands that are neither tensors, numbers nor booleans', () => {
    expect(() => fp.add(fp.ones([2]), [1, 2] as never)).toThrow('forwardpass: add: the second operand must be a Tensor, number or boolean, got an array');
  });
});
