// conv2d and conv1d: hand-checked cases, random cases against a naive loop implementation, error messages, and
// (with batchNorm and pooling) the layer-by-layer PyTorch traces of the CNN fixtures.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { makeRng } from '../../src/index.js';
import { fixturePath, maxAbsDiff, randomArray } from '../helpers.js';

type Pad4 = [number, number, number, number];

/** Naive NCHW convolution straight from the definition (zero padding outside the input). */
function naiveConv2d(
  x: Float32Array, [N, C, H, W]: number[], w: Float32Array, [O, Cg, kH, kW]: number[], b: Float32Array | null,
  [sH, sW]: number[], [pT, pL, pB, pR]: Pad4, [dH, dW]: number[], groups: number,
): { data: Float64Array; shape: number[] } {
  const Ho = Math.floor((H + pT + pB - dH * (kH - 1) - 1) / sH) + 1;
  const Wo = Math.floor((W + pL + pR - dW * (kW - 1) - 1) / sW) + 1;
  const Og = O / groups;
  const out = new Float64Array(N * O * Ho * Wo);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
    let s = b ? b[o]! : 0;
    const g = Math.floor(o / Og);
    for (let c = 0; c < Cg; c++) for (let a = 0; a < kH; a++) for (let e = 0; e < kW; e++) {
      const ih = i * sH - pT + a * dH;
      const iw = j * sW - pL + e * dW;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      s += x[((n * C + g * Cg + c) * H + ih) * W + iw]! * w[((o * Cg + c) * kH + a) * kW + e]!;
    }
    out[((n * O + o) * Ho + i) * Wo + j] = s;
  }
  return { data: out, shape: [N, O, Ho, Wo] };
}

describe('conv2d: hand-checked', () => {
  const x = fp.tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);

  it('sums 2x2 windows with a ones kernel, with padding and bias', async () => {
    const w = fp.ones([1, 1, 2, 2]);
    expect(await fp.conv2d(x, w).toArray()).toEqual([[[[12, 16], [24, 28]]]]);
    // padding 1: corners see one input value; +10 bias
    expect(await fp.conv2d(x, w, fp.tensor([10]), { padding: 1 }).toArray()).toEqual([[[[11, 13, 15, 13], [15, 22, 26, 19], [21, 34, 38, 25], [17, 25, 27, 19]]]]);
  });

  it('applies a 3x3 kernel with stride 2, padding 1 and asymmetric padding', async () => {
    const w = fp.tensor([[[[0, 1, 0], [1, -4, 1], [0, 1, 0]]]]); // Laplacian
    // outputs centred on inputs (0,0): 4 + 2 - 4 = 2; (0,2): 2 + 6 - 12 = -4; (2,0): 4 + 8 - 28 = -16; (2,2): 6 + 8 - 36 = -22
    expect(await fp.conv2d(x, w, null, { padding: 1, stride: 2 }).toArray()).toEqual([[[[2, -4], [-16, -22]]]]);
    // [top, left, bottom, right] = [0, 1, 0, 0]: 1x2 output centred on (1,0): 1 + 7 + 5 - 16 = -3 and (1,1): 2 + 8 + 4 + 6 - 20 = 0
    expect(await fp.conv2d(x, w, null, { padding: [0, 1, 0, 0] }).toArray()).toEqual([[[[-3, 0]]]]);
  });

  it('runs depthwise (groups = C) with dilation', async () => {
    const xx = fp.tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 1, 1], [1, 1, 1], [1, 1, 1]]]]);
    const w = fp.tensor([[[[1, 1], [1, 1]]], [[[2, 0], [0, 3]]]]);
    // channel 0: corners 1+3+7+9 = 20; channel 1: 2*1 + 3*1 = 5
    expect(await fp.conv2d(xx, w, null, { dilation: 2, groups: 2 }).toArray()).toEqual([[[[20]], [[5]]]]);
  });

  it("pads 'same' (extra on the bottom/right for even kernels) and 'valid'", async () => {
    const w = fp.ones([1, 1, 2, 2]);
    expect(await fp.conv2d(x, w, null, { padding: 'same' }).toArray()).toEqual([[[[12, 16, 9], [24, 28, 15], [15, 17, 9]]]]);
    expect(await fp.conv2d(x, w, null, { padding: 'valid' }).toArray()).toEqual([[[[12, 16], [24, 28]]]]);
  });
});

describe('conv2d: random cases against a naive implementation', () => {
  const rng = makeRng(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)]!;
  const cases: { N: number; C: number; O: number; H: number; W: number; k: [number, number]; s: [number, number]; p: Pad4; d: [number, number]; g: 'one' | 'two' | 'dw' }[] = [];
  for (let i = 0; i < 60; i++) {
    const g = pick(['one', 'two', 'dw'] as const);
    const C = g === 'two' ? pick([2, 4]) : pick([1, 3, 5]);
    const groups = g === 'one' ? 1 : g === 'two' ? 2 : C;
    const k: [number, number] = [pick([1, 2, 3, 5]), pick([1, 3])];
    const d: [number, number] = [pick([1, 2]), pick([1, 2])];
    const p: Pad4 = pick([[0, 0, 0, 0], [1, 1, 1, 1], [2, 1, 2, 1], [0, 2, 1, 0], [3, 0, 0, 1]] as Pad4[]);
    const H = Math.max(pick([1, 3, 5, 17]), d[0] * (k[0] - 1) + 1 - p[0] - p[2]);
    const W = Math.max(pick([1, 3, 5, 17]), d[1] * (k[1] - 1) + 1 - p[1] - p[3]);
    cases.push({ N: pick([1, 2]), C, O: groups * pick([1, 2, 5]), H, W, k, s: [pick([1, 2, 3]), pick([1, 2, 3])], p, d, g });
  }

  it.each(cases.map((c, i) => [i, c] as const))('case %i', async (i, c) => {
    const groups = c.g === 'one' ? 1 : c.g === 'two' ? 2 : c.C;
    const xs = [c.N, c.C, c.H, c.W];
    const ws = [c.O, c.C / groups, c.k[0], c.k[1]];
    const xa = randomArray(xs.reduce((a, b) => a * b), 100 + i);
    const wa = randomArray(ws.reduce((a, b) => a * b), 200 + i);
    const ba = i % 2 ? randomArray(c.O, 300 + i) : null;
    const ref = naiveConv2d(xa, xs, wa, ws, ba, c.s, c.p, c.d, groups);
    const y = fp.conv2d(fp.tensor(xa, { shape: xs }), fp.tensor(wa, { shape: ws }), ba ? fp.tensor(ba) : null, { stride: c.s, padding: c.p, dilation: c.d, groups });
    expect(y.shape).toEqual(ref.shape);
    expect(maxAbsDiff(await y.data(), ref.data)).toBeLessThan(1e-5);
  });

  // The CPU kernel lowers by shape: Winograd F(2x2, 3x3) for 3x3 stride-1 undilated convs with >= 4 channels in and
  // out per group, no unrolling for 1x1 stride-1 unpadded convs, im2col in bands of output rows otherwise. These cases pin
  // each path (odd and tiny sizes, asymmetric padding, groups, batches, several bands) against the naive loops.
  const pathCases: { name: string; N: number; C: number; O: number; H: number; W: number; k: number; s: number; p: Pad4; d: number; groups: number; tol: number }[] = [
    { name: 'winograd, odd sizes, asymmetric padding', N: 2, C: 8, O: 6, H: 7, W: 9, k: 3, s: 1, p: [0, 2, 1, 0], d: 1, groups: 1, tol: 2e-5 },
    { name: 'winograd, groups = 2, 1x2 input', N: 1, C: 16, O: 10, H: 1, W: 2, k: 3, s: 1, p: [1, 1, 1, 1], d: 1, groups: 2, tol: 2e-5 },
    { name: 'winograd, several bands of tile rows', N: 1, C: 64, O: 8, H: 40, W: 37, k: 3, s: 1, p: [1, 1, 1, 1], d: 1, groups: 1, tol: 5e-5 },
    { name: 'winograd, no padding, even sizes', N: 3, C: 12, O: 4, H: 6, W: 8, k: 3, s: 1, p: [0, 0, 0, 0], d: 1, groups: 1, tol: 2e-5 },
    { name: '3x3 stride 2 (im2col), groups = 2, odd sizes', N: 2, C: 16, O: 8, H: 9, W: 11, k: 3, s: 2, p: [1, 1, 1, 1], d: 1, groups: 2, tol: 2e-5 },
    { name: '3x3 dilated (im2col), 8 channels', N: 1, C: 8, O: 5, H: 11, W: 10, k: 3, s: 1, p: [2, 2, 2, 2], d: 2, groups: 1, tol: 2e-5 },
    { name: 'im2col over several bands of output rows', N: 1, C: 32, O: 5, H: 30, W: 40, k: 5, s: 1, p: [2, 2, 2, 2], d: 1, groups: 1, tol: 5e-5 },
    { name: 'winograd, 4 channels in, 8 out, 3x3 input', N: 2, C: 4, O: 8, H: 3, W: 3, k: 3, s: 1, p: [1, 1, 1, 1], d: 1, groups: 1, tol: 2e-5 },
    { name: '3x3, 3 channels in (im2col)', N: 1, C: 3, O: 16, H: 6, W: 5, k: 3, s: 1, p: [1, 0, 1, 0], d: 1, groups: 1, tol: 2e-5 },
    { name: '1x1 stride 1 unpadded (no unrolling), groups = 2, batch 2', N: 2, C: 6, O: 10, H: 5, W: 7, k: 1, s: 1, p: [0, 0, 0, 0], d: 1, groups: 2, tol: 1e-5 },
    { name: '1x1 with bottom/right padding (im2col)', N: 1, C: 5, O: 7, H: 4, W: 3, k: 1, s: 1, p: [0, 0, 1, 2], d: 1, groups: 1, tol: 1e-5 },
    { name: '1x1 stride 2 (im2col), odd sizes', N: 2, C: 4, O: 6, H: 7, W: 5, k: 1, s: 2, p: [0, 0, 0, 0], d: 1, groups: 1, tol: 1e-5 },
  ];

  it.each(pathCases.map((c, i) => [c.name, i, c] as const))('lowering: %s', async (_name, i, c) => {
    const xs = [c.N, c.C, c.H, c.W], ws = [c.O, c.C / c.groups, c.k, c.k];
    const xa = randomArray(xs.reduce((a, b) => a * b), 500 + i), wa = randomArray(ws.reduce((a, b) => a * b), 600 + i);
    for (const ba of [null, randomArray(c.O, 700 + i)]) {
      const ref = naiveConv2d(xa, xs, wa, ws, ba, [c.s, c.s], c.p, [c.d, c.d], c.groups);
      const y = fp.conv2d(fp.tensor(xa, { shape: xs }), fp.tensor(wa, { shape: ws }), ba ? fp.tensor(ba) : null, { stride: c.s, padding: c.p, dilation: c.d, groups: c.groups });
      expect(y.shape).toEqual(ref.shape);
      expect(maxAbsDiff(await y.data(), ref.data)).toBeLessThan(c.tol);
    }
  });

  it('handles an MNIST-sized stack (1->16, then 16->32 stride 2, batch 16)', async () => {
    const xa = randomArray(16 * 28 * 28, 1);
    const w1 = randomArray(16 * 9, 2), w2 = randomArray(32 * 16 * 9, 3), b2 = randomArray(32, 4);
    const h = fp.conv2d(fp.tensor(xa, { shape: [16, 1, 28, 28] }), fp.tensor(w1, { shape: [16, 1, 3, 3] }), null, { padding: 1 });
    const y = fp.conv2d(h, fp.tensor(w2, { shape: [32, 16, 3, 3] }), fp.tensor(b2), { padding: 1, stride: 2 });
    const r1 = naiveConv2d(xa, [16, 1, 28, 28], w1, [16, 1, 3, 3], null, [1, 1], [1, 1, 1, 1], [1, 1], 1);
    const r2 = naiveConv2d(Float32Array.from(r1.data), r1.shape, w2, [32, 16, 3, 3], b2, [2, 2], [1, 1, 1, 1], [1, 1], 1);
    expect(y.shape).toEqual([16, 32, 14, 14]);
    expect(maxAbsDiff(await y.data(), r2.data)).toBeLessThan(1e-4);
  });

  it('reads strided views and computes float16 within half precision', async () => {
    const xa = randomArray(2 * 3 * 5 * 4, 11);
    const wa = randomArray(4 * 3 * 3 * 3, 12);
    const xt = fp.tensor(xa, { shape: [2, 3, 5, 4] });
    const ref = naiveConv2d(xa, [2, 3, 5, 4], wa, [4, 3, 3, 3], null, [1, 1], [1, 1, 1, 1], [1, 1], 1);
    const xT = new Float32Array(xa.length); // x stored as [2, 3, 4, 5], viewed back as [2, 3, 5, 4]
    for (let p = 0; p < 6; p++) for (let i = 0; i < 5; i++) for (let j = 0; j < 4; j++) xT[p * 20 + j * 5 + i] = xa[p * 20 + i * 4 + j]!;
    const view = fp.tensor(xT, { shape: [2, 3, 4, 5] }).transpose(2, 3);
    expect(view.isContiguous()).toBe(false);
    expect(maxAbsDiff(await fp.conv2d(view, fp.tensor(wa, { shape: [4, 3, 3, 3] }), null, { padding: 1 }).data(), ref.data)).toBeLessThan(1e-5);
    const y16 = fp.conv2d(fp.cast(xt, 'float16'), fp.tensor(wa, { shape: [4, 3, 3, 3] }), null, { padding: 1 });
    expect(y16.dtype).toBe('float16');
    expect(maxAbsDiff(await y16.data(), ref.data)).toBeLessThan(2e-2);
  });
});

describe('conv1d', () => {
  function naiveConv1d(x: Float32Array, [N, C, L]: number[], w: Float32Array, [O, Cg, k]: number[], b: Float32Array | null, s: number, [pl, pr]: number[], d: number, groups: number) {
    const Lo = Math.floor((L + pl + pr - d * (k - 1) - 1) / s) + 1;
    const out = new Float64Array(N * O * Lo);
    const Og = O / groups;
    for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let j = 0; j < Lo; j++) {
      let acc = b ? b[o]! : 0;
      for (let c = 0; c < Cg; c++) for (let e = 0; e < k; e++) {
        const i = j * s - pl + e * d;
        if (i >= 0 && i < L) acc += x[(n * C + Math.floor(o / Og) * Cg + c) * L + i]! * w[(o * Cg + c) * k + e]!;
      }
      out[(n * O + o) * Lo + j] = acc;
    }
    return { data: out, shape: [N, O, Lo] };
  }

  it('matches a naive 1-d convolution over strides, paddings, dilations and groups', async () => {
    const combos: [number, number[], number, number][] = [[1, [0, 0], 1, 1], [2, [1, 1], 1, 2], [3, [2, 0], 2, 1], [1, [0, 3], 2, 4], [2, [1, 2], 1, 4]];
    for (const [i, [s, p, d, g]] of combos.entries()) {
      const xs = [2, 4, 17], ws = [8, 4 / g, 3];
      const xa = randomArray(2 * 4 * 17, 40 + i), wa = randomArray(8 * (4 / g) * 3, 50 + i), ba = randomArray(8, 60 + i);
      const y = fp.conv1d(fp.tensor(xa, { shape: xs }), fp.tensor(wa, { shape: ws }), fp.tensor(ba), { stride: s, padding: p as [number, number], dilation: d, groups: g });
      const ref = naiveConv1d(xa, xs, wa, ws, ba, s, p, d, g);
      expect(y.shape).toEqual(ref.shape);
      expect(maxAbsDiff(await y.data(), ref.data)).toBeLessThan(1e-5);
    }
  });

  it("supports a number, 'same' and 'valid' padding, and dispatches only the conv2d kernel (no copies)", async () => {
    const xa = randomArray(1 * 2 * 6, 70), wa = randomArray(3 * 2 * 4, 71);
    const x = fp.tensor(xa, { shape: [1, 2, 6] }), w = fp.tensor(wa, { shape: [3, 2, 4] });
    const ops: string[] = [];
    const off = fp.addOpHook((e) => ops.push(e.op));
    const same = fp.conv1d(x, w, null, { padding: 'same', dilation: 2 });
    off();
    expect(ops).toEqual(['conv2d']);
    expect(same.shape).toEqual([1, 3, 6]);
    expect(maxAbsDiff(await same.data(), naiveConv1d(xa, [1, 2, 6], wa, [3, 2, 4], null, 1, [3, 3], 2, 1).data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(await fp.conv1d(x, w, null, { padding: 2 }).data(), naiveConv1d(xa, [1, 2, 6], wa, [3, 2, 4], null, 1, [2, 2], 1, 1).data)).toBeLessThan(1e-5);
    expect(fp.conv1d(x, w, null, { padding: 'valid' }).shape).toEqual([1, 3, 3]);
  });

  it('reports errors with the 3-d shapes', () => {
    const x = fp.zeros([1, 3, 5]);
    expect(() => fp.conv1d(x, fp.zeros([4, 2, 3]))).toThrow('forwardpass: conv1d: weight [4, 2, 3] has 2 input channels per group, but x [1, 3, 5] with groups=1 needs 3');
    expect(() => fp.conv1d(x, fp.zeros([4, 3, 7]))).toThrow(/forwardpass: conv1d: x \[1, 3, 5\] padded by \[0, 0\] is shorter than the kernel of weight \[4, 3, 7\]/);
    expect(() => fp.conv1d(x, fp.zeros([4, 3, 3]), null, { padding: 'same', stride: 2 })).toThrow("forwardpass: conv1d: padding 'same' needs stride 1, got stride 2");
    expect(() => fp.conv1d(x, fp.zeros([4, 3, 3]), null, { stride: 0 })).toThrow('forwardpass: conv1d: stride must be a positive integer, got 0');
    expect(() => fp.conv1d(fp.zeros([3, 5]), fp.zeros([4, 3, 3]))).toThrow('forwardpass: conv1d: x must have rank 3, got shape [3, 5]');
  });
});

describe('conv2d: errors', () => {
  const x = fp.zeros([1, 4, 5, 5]);
  it('checks channels, groups and bias against the shapes', () => {
    expect(() => fp.conv2d(x, fp.zeros([6, 2, 3, 3]), null, { groups: 3 })).toThrow('forwardpass: conv2d: input channels 4 of x [1, 4, 5, 5] are not divisible by groups=3');
    expect(() => fp.conv2d(x, fp.zeros([3, 2, 3, 3]), null, { groups: 2 })).toThrow('forwardpass: conv2d: output channels 3 of weight [3, 2, 3, 3] are not divisible by groups=2');
    expect(() => fp.conv2d(x, fp.zeros([4, 4, 3, 3]), null, { groups: 2 })).toThrow('forwardpass: conv2d: weight [4, 4, 3, 3] has 4 input channels per group, but x [1, 4, 5, 5] with groups=2 needs 2');
    expect(() => fp.conv2d(x, fp.zeros([2, 4, 3, 3]), fp.zeros([3]))).toThrow('forwardpass: conv2d: bias must have shape [2] for weight [2, 4, 3, 3], got [3]');
    expect(() => fp.conv2d(x, fp.zeros([2, 4, 3, 3]), null, { groups: 0 })).toThrow('forwardpass: conv2d: groups must be a positive integer, got 0');
  });

  it('checks the output size, options, ranks and dtypes', () => {
    expect(() => fp.conv2d(x, fp.zeros([2, 4, 3, 3]), null, { dilation: 3 })).toThrow('forwardpass: conv2d: x [1, 4, 5, 5] padded by [0, 0, 0, 0] is smaller than the kernel of weight [2, 4, 3, 3] with dilation [3, 3] (output would be -1x-1)');
    expect(() => fp.conv2d(x, fp.zeros([2, 4, 3, 3]), null, { padding: 'same', stride: 2 })).toThrow("forwardpass: conv2d: padding 'same' needs stride 1, got stride [2, 2]");
    expect(() => fp.conv2d(x, fp.zeros([2, 4, 3, 3]), null, { padding: [1, 2, 3] as never })).toThrow(/forwardpass: conv2d: padding \(a number, \[pH, pW\] or \[top, left, bottom, right\]\) must be a non-negative integer or a pair of them, got \[1,2,3\]/);
    expect(() => fp.conv2d(x, fp.zeros([2, 4, 3, 3]), null, { padding: [1, -1, 0, 0] })).toThrow('forwardpass: conv2d: padding must hold non-negative integers, got [1,-1,0,0]');
    expect(() => fp.conv2d(x, fp.zeros([2, 4, 3, 3]), null, { stride: [1, 1.5] })).toThrow('forwardpass: conv2d: stride must be a positive integer or a pair of them, got [1,1.5]');
    expect(() => fp.conv2d(fp.zeros([4, 5, 5]), fp.zeros([2, 4, 3, 3]))).toThrow('forwardpass: conv2d: x must have rank 4, got shape [4, 5, 5]');
    expect(() => fp.conv2d(fp.zeros([1, 4, 5, 5], { dtype: 'int32' }), fp.zeros([2, 4, 3, 3]))).toThrow('forwardpass: conv2d: x must be float32 or float16, got int32');
  });
});

describe('conv2d, batchNorm and pooling against PyTorch layer traces', () => {
  /** Float32 copy of `nbytes` at byte `offset` of a file (copied: typed arrays need aligned offsets). */
  const f32 = (buf: Buffer, offset: number, nbytes: number) => new Float32Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + nbytes));

  it.each([['cnn-mnist', 'max'], ['cnn-digits', 'avg']] as const)('%s: each layer from the traced input of that layer', async (model, pool) => {
    const st = readFileSync(fixturePath(model, 'model.safetensors'));
    const n = Number(st.readBigUInt64LE(0));
    const header = JSON.parse(st.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape: number[]; data_offsets: [number, number] }>;
    const weight = (name: string) => {
      const h = header[name]!;
      return fp.tensor(f32(st, 8 + n + h.data_offsets[0], h.data_offsets[1] - h.data_offsets[0]), { shape: h.shape });
    };
    const trace = JSON.parse(readFileSync(fixturePath(model, 'trace.json'), 'utf8')) as { layers: { name: string; shape: number[]; offset: number; nbytes: number }[] };
    const bin = readFileSync(fixturePath(model, 'trace.bin'));
    const act = (name: string) => {
      const l = trace.layers.find((e) => e.name === name)!;
      return fp.tensor(f32(bin, l.offset, l.nbytes), { shape: l.shape });
    };
    const bn = (name: string, x: fp.Tensor) => fp.batchNorm(x, weight(`${name}.running_mean`), weight(`${name}.running_var`), weight(`${name}.weight`), weight(`${name}.bias`), 1e-5);
    const steps: [string, fp.Tensor][] = [
      ['conv1', fp.conv2d(act('input'), weight('conv1.weight'), weight('conv1.bias'), { padding: 1 })],
      ['bn1', bn('bn1', act('conv1'))],
      ['conv2', fp.conv2d(act('relu1'), weight('conv2.weight'), weight('conv2.bias'), { padding: 1, stride: 2 })],
      ['bn2', bn('bn2', act('conv2'))],
      ['pool', pool === 'max' ? fp.maxPool2d(act('relu2'), { kernelSize: 2 }) : fp.avgPool2d(act('relu2'), { kernelSize: 2 })],
    ];
    for (const [name, y] of steps) {
      const want = await act(name).data();
      const scale = Math.max(1, ...Array.from(want, Math.abs));
      expect(maxAbsDiff(await y.data(), want) / scale, name).toBeLessThan(1e-5);
    }
  });
});

describe('conv2d lowering on the CPU', () => {
  it('is reported as the kernel variant: direct (depthwise-like), winograd (3x3 stride 1, enough channels), im2col (the rest)', () => {
    const variants: (string | undefined)[] = [];
    const off = fp.addOpHook((e) => { if (e.op === 'conv2d') variants.push(e.variant); });
    fp.setCpuFastPath(false); // the typed-array lowerings (test/wasm/conv.test.ts checks the Wasm variant's name)
    try {
      fp.conv2d(fp.ones([1, 4, 6, 6]), fp.ones([4, 1, 3, 3]), null, { groups: 4 });
      fp.conv2d(fp.ones([1, 8, 6, 6]), fp.ones([8, 8, 3, 3]));
      fp.conv2d(fp.ones([1, 8, 6, 6]), fp.ones([8, 8, 3, 3]), null, { stride: 2 });
      fp.conv2d(fp.ones([1, 1, 6, 6]), fp.ones([8, 1, 3, 3]));
    } finally {
      off();
      fp.setCpuFastPath(true);
    }
    expect(variants).toEqual(['conv2d-direct', 'conv2d-winograd', 'conv2d-im2col', 'conv2d-im2col']);
  });
});
