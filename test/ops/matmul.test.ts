// matmul: hand-checked cases, random cases against a naive broadcasting triple loop over awkward shapes,
// strided/transposed inputs, float16, errors, and every CPU product variant at kernel level.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { MATMUL_VARIANTS } from '../../src/backends/cpu/kernels/matmul.js';
import { randomArray } from '../helpers.js';

/**
 * Naive NumPy matmul: 1-D operands promoted (and the dim removed after), batch dims broadcast, plain loops in
 * float64. Shapes are plain arrays; data row-major.
 */
function naiveMatmul(a: ArrayLike<number>, aShape: number[], b: ArrayLike<number>, bShape: number[]): { data: Float64Array; shape: number[] } {
  const as = aShape.length === 1 ? [1, aShape[0]!] : aShape;
  const bs = bShape.length === 1 ? [bShape[0]!, 1] : bShape;
  const [M, K] = as.slice(-2) as [number, number];
  const N = bs[bs.length - 1]!;
  const ab = as.slice(0, -2), bb = bs.slice(0, -2);
  const n = Math.max(ab.length, bb.length);
  const pa = [...new Array(n - ab.length).fill(1), ...ab], pb = [...new Array(n - bb.length).fill(1), ...bb];
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const nb = batch.reduce((x, y) => x * y, 1);
  const out = new Float64Array(nb * M * N);
  for (let bi = 0; bi < nb; bi++) {
    // multi-index of bi, then the (broadcast) flat batch index into a and b
    let rem = bi, ia = 0, ib = 0, sa = 1, sb = 1;
    for (let d = n - 1; d >= 0; d--) {
      const idx = rem % batch[d]!;
      rem = Math.floor(rem / batch[d]!);
      ia += (pa[d] === 1 ? 0 : idx) * sa;
      ib += (pb[d] === 1 ? 0 : idx) * sb;
      sa *= pa[d]!;
      sb *= pb[d]!;
    }
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[ia * M * K + i * K + k]! * b[ib * K * N + k * N + j]!;
      out[(bi * M + i) * N + j] = s;
    }
  }
  const shape = [...batch, ...(aShape.length === 1 ? [] : [M]), ...(bShape.length === 1 ? [] : [N])];
  return { data: out, shape };
}

/**
 * Tolerance used throughout: |got - want| <= 1e-5 · sqrt(K) · max|a| · max|b| (float32 rounding of a sum of K
 * terms, relative to the magnitude of the terms); inputs here lie in [-1, 1].
 */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, K: number, rel = 1e-5): void {
  expect(got.length).toBe(want.length);
  const tol = rel * Math.sqrt(Math.max(K, 1));
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThanOrEqual(tol);
}

const rand = (shape: number[], seed: number, dtype: fp.DType = 'float32') =>
  fp.tensor(randomArray(shape.reduce((x, y) => x * y, 1), seed), { shape, dtype });

async function check(aShape: number[], bShape: number[], seed: number): Promise<void> {
  const a = rand(aShape, seed), b = rand(bShape, seed + 1);
  const y = fp.matmul(a, b);
  const want = naiveMatmul(await a.data(), aShape, await b.data(), bShape);
  expect(y.shape).toEqual(want.shape);
  expectClose(await y.data(), want.data, aShape[aShape.length - 1]!);
  for (const t of [a, b, y]) t.dispose();
}

describe('matmul: hand-checked', () => {
  it('multiplies 2x2 matrices, a vector dot product and matrix-vector products', async () => {
    const a = fp.tensor([[1, 2], [3, 4]]), b = fp.tensor([[5, 6], [7, 8]]);
    expect(await fp.matmul(a, b).toArray()).toEqual([[19, 22], [43, 50]]);
    const dot = fp.matmul(fp.tensor([1, 2, 3]), fp.tensor([4, 5, 6]));
    expect(dot.shape).toEqual([]);
    expect(await dot.item()).toBe(32);
    expect(await fp.matmul(a, fp.tensor([1, -1])).toArray()).toEqual([-1, -1]); // [2,2]·[2] -> [2]
    expect(await fp.matmul(fp.tensor([1, -1]), a).toArray()).toEqual([-2, -2]); // [2]·[2,2] -> [2]
  });

  it('broadcasts batch dims as PyTorch does', () => {
    expect(fp.matmul(fp.zeros([2, 1, 3, 4]), fp.zeros([5, 4, 6])).shape).toEqual([2, 5, 3, 6]);
    expect(fp.matmul(fp.zeros([7, 3, 4]), fp.zeros([4])).shape).toEqual([7, 3]);
    expect(fp.matmul(fp.zeros([4]), fp.zeros([7, 4, 5])).shape).toEqual([7, 5]);
    expect(fp.matmul(fp.zeros([1, 3, 4]), fp.zeros([2, 1, 4, 5])).shape).toEqual([2, 1, 3, 5]);
  });

  it('handles empty dims: K = 0 gives zeros, M = 0 gives an empty result', async () => {
    expect(await fp.matmul(fp.zeros([2, 0]), fp.zeros([0, 3])).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(fp.matmul(fp.zeros([0, 4]), fp.zeros([4, 3])).shape).toEqual([0, 3]);
  });
});

describe('matmul: random against a naive triple loop', () => {
  const dims = [1, 3, 17, 33, 65];
  it('2-D products over awkward sizes (none a multiple of the tile)', async () => {
    let seed = 1;
    for (const M of dims) for (const K of [1, 7, 33]) for (const N of dims) await check([M, K], [K, N], (seed += 2));
  });

  it('larger products that take the packed, blocked path (K beyond one K block, N beyond one N block)', async () => {
    await check([127, 65], [65, 129], 101);
    await check([66, 300], [300, 70], 103);
    await check([9, 259], [259, 521], 105);
  });

  it('every 1-D / batched / broadcast combination', async () => {
    const cases: [number[], number[]][] = [
      [[17], [17]], [[33], [33, 5]], [[5, 33], [33]], [[17], [3, 17, 4]], [[3, 4, 17], [17]],
      [[3, 5, 17], [3, 17, 6]], [[2, 1, 5, 7], [3, 7, 9]], [[5, 7], [4, 7, 9]], [[2, 3, 5, 7], [7, 9]],
      [[1, 5, 7], [3, 7, 9]], [[2, 1, 5, 7], [1, 3, 7, 9]], [[3, 1, 5, 7], [3, 4, 7, 9]], [[1, 1, 5, 7], [1, 7, 9]],
    ];
    let seed = 200;
    for (const [as, bs] of cases) await check(as, bs, (seed += 2));
  });
});

describe('matmul: strided and transposed inputs', () => {
  it('b.transpose(0, 1) of a contiguous [N, K] (read without a copy) and a transposed a', async () => {
    const w = rand([19, 33], 7); // [N, K]
    const x = rand([21, 33], 8);
    const wt = w.transpose(0, 1);
    const want = naiveMatmul(await x.data(), [21, 33], await wt.data(), [33, 19]);
    expectClose(await fp.matmul(x, wt).data(), want.data, 33);
    const xt = rand([33, 21], 9).transpose(0, 1); // a as a transposed view
    const want2 = naiveMatmul(await xt.data(), [21, 33], await wt.data(), [33, 19]);
    expectClose(await fp.matmul(xt, wt).data(), want2.data, 33);
  });

  it('batched k.transpose(-2, -1) with heads, sliced and expanded views', async () => {
    const q = rand([2, 3, 17, 8], 11), k = rand([2, 3, 13, 8], 12);
    const kt = k.transpose(-2, -1);
    const want = naiveMatmul(await q.data(), [2, 3, 17, 8], await kt.data(), [2, 3, 8, 13]);
    expectClose(await fp.matmul(q, kt).data(), want.data, 8);
    const big = rand([20, 40], 13);
    const sl = big.slice(1, 3, 40, 2).narrow(0, 2, 15); // [15, 19] with column stride 2
    const b = rand([19, 6], 14);
    const want2 = naiveMatmul(await sl.data(), [15, 19], await b.data(), [19, 6]);
    expectClose(await fp.matmul(sl, b).data(), want2.data, 19);
    const ex = rand([1, 19, 6], 15).expand([4, 19, 6]);
    const a3 = rand([4, 5, 19], 16);
    const want3 = naiveMatmul(await a3.data(), [4, 5, 19], await ex.data(), [4, 19, 6]);
    expectClose(await fp.matmul(a3, ex).data(), want3.data, 19);
  });

  it('hands a transposed contiguous b to the kernel as-is with transB (no copy)', () => {
    const w = rand([19, 33], 7);
    const seen: { transB: boolean; same: boolean }[] = [];
    const off = fp.addOpHook((e) => {
      if (e.op === 'matmul') seen.push({ transB: (e.attrs as { transB: boolean }).transB, same: e.inputs[1]!.storage === w.storage });
    });
    try {
      fp.matmul(rand([4, 33], 8), w.transpose(0, 1)).dispose();
    } finally {
      off();
    }
    expect(seen).toEqual([{ transB: true, same: true }]);
  });

  it('does not leak buffers (temporaries are disposed)', () => {
    const a = rand([2, 1, 5, 7], 20), b = rand([3, 9, 7], 21).transpose(-2, -1);
    const before = fp.cpuBackend.memory().liveBuffers;
    const y = fp.matmul(a, b);
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before + 1);
    y.dispose();
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before);
  });
});

describe('matmul: float16', () => {
  it('matches the naive product of the rounded inputs within float16 output rounding', async () => {
    for (const [as, bs] of [[[17, 33], [33, 65]], [[2, 9, 40], [40, 11]], [[70, 70], [70, 70]]] as [number[], number[]][]) {
      const a = rand(as, 30, 'float16'), b = rand(bs, 31, 'float16');
      const y = fp.matmul(a, b);
      expect(y.dtype).toBe('float16');
      const want = naiveMatmul(await a.data(), as, await b.data(), bs);
      const got = await y.data();
      // f16 output rounding: half an ulp, 2^-11 relative, plus the float32 accumulation tolerance
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want.data[i]!)).toBeLessThanOrEqual(2 ** -11 * Math.abs(want.data[i]!) + 1e-5 * Math.sqrt(as[as.length - 1]!));
    }
  });

  it('promotes float16 x float32 to float32', () => {
    expect(fp.matmul(fp.zeros([2, 3], { dtype: 'float16' }), fp.zeros([3, 2])).dtype).toBe('float32');
  });
});

describe('matmul: errors', () => {
  it('names both shapes when K does not match', () => {
    expect(() => fp.matmul(fp.zeros([2, 3]), fp.zeros([4, 5]))).toThrow(/^forwardpass: matmul: shapes \[2, 3\] and \[4, 5\] do not match: a has 3 columns/);
    expect(() => fp.matmul(fp.zeros([3]), fp.zeros([4]))).toThrow(/shapes \[3\] and \[4\] do not match/);
  });

  it('rejects integer operands, 0-d operands and unbroadcastable batches', () => {
    expect(() => fp.matmul(fp.zeros([2, 2], { dtype: 'int32' }), fp.zeros([2, 2]))).toThrow(/^forwardpass: matmul: a must be float32 or float16, got int32/);
    expect(() => fp.matmul(fp.zeros([2, 2]), fp.zeros([2, 2], { dtype: 'int8' }))).toThrow(/b must be float32 or float16, got int8/);
    expect(() => fp.matmul(fp.tensor(2), fp.zeros([2]))).toThrow(/at least 1 dim/);
    expect(() => fp.matmul(fp.zeros([2, 3, 4]), fp.zeros([3, 4, 5]))).toThrow(/cannot be broadcast/);
  });
});

describe('matmul kernel contract', () => {
  it('broadcasts a batch of one on either side (Ba = 1 or Bb = 1), with transB', async () => {
    const [Bt, M, K, N] = [3, 5, 7, 6];
    for (const [ba, bb, transB] of [[Bt, 1, false], [1, Bt, false], [Bt, 1, true], [1, Bt, true]] as [number, number, boolean][]) {
      const a = rand([ba, M, K], 40), b = rand(transB ? [bb, N, K] : [bb, K, N], 41);
      const y = fp.runOp('matmul', [a, b], [{ shape: [Bt, M, N], dtype: 'float32' }], { transB })[0]!;
      const bm = transB ? b.transpose(-2, -1) : b;
      const want = naiveMatmul(await a.data(), [ba, M, K], await bm.data(), [bb, K, N]);
      expectClose(await y.data(), want.data, K);
    }
  });
});

describe('CPU product variants (kernel level)', () => {
  /** Naive C = A·B or A·Bᵀ from flat arrays, float64. */
  const ref = (M: number, N: number, K: number, a: Float32Array, b: Float32Array, transB: boolean) => {
    const c = new Float64Array(M * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[i * K + k]! * (transB ? b[j * K + k]! : b[k * N + j]!);
      c[i * N + j] = s;
    }
    return c;
  };

  it('each variant matches the naive product, with and without transB, at offsets', () => {
    const sizes: [number, number, number][] = [[1, 1, 1], [1, 65, 17], [6, 9, 10], [3, 13, 5], [17, 1, 33], [5, 7, 3], [33, 17, 65], [127, 65, 70], [9, 521, 259]];
    for (const [name, { fn }] of Object.entries(MATMUL_VARIANTS)) {
      for (const [M, N, K] of sizes) for (const transB of [false, true]) {
        const a = randomArray(M * K + 3, M + N), b = randomArray(K * N + 5, K + 1);
        const c = new Float32Array(M * N + 2).fill(NaN);
        fn(M, N, K, a, 3, b, 5, transB, c, 2);
        const want = ref(M, N, K, a.subarray(3), b.subarray(5), transB);
        let worst = 0;
        for (let i = 0; i < M * N; i++) worst = Math.max(worst, Math.abs(c[i + 2]! - want[i]!));
        expect(worst, `${name} ${M}x${N}x${K} transB=${transB}`).toBeLessThanOrEqual(1e-5 * Math.sqrt(K));
        expect(Number.isNaN(c[0]!) && Number.isNaN(c[1]!), `${name} wrote before its offset`).toBe(true);
      }
    }
  });
});
