// nn layers against naive loop implementations written here: Linear, Conv1d/2d, norms, pools, Embedding,
// activations and shape modules, with seeded random weights loaded through loadStateDict.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { maxAbsDiff, randomArray } from '../helpers.js';

const { nn } = fp;

/** Load seeded random values into every state tensor (running_var kept positive). */
function randomize(m: fp.nn.Module, seed: number): void {
  const sd: Record<string, fp.Tensor> = {};
  m.namedParameters().forEach(([k, t], i) => {
    const pos = k.endsWith('running_var');
    sd[k] = fp.tensor(randomArray(t.size, seed + i, pos ? 0.5 : -1, pos ? 1.5 : 1), { shape: t.shape });
  });
  m.loadStateDict(sd);
}
const arr = (m: fp.nn.Module, k: string) => m.stateDict().get(k)!.dataSync() as Float32Array;
const input = (shape: number[], seed: number) => fp.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), { shape });

function linearRef(x: Float32Array, m: number, k: number, w: Float32Array, b: Float32Array | null, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = b ? b[j]! : 0;
    for (let t = 0; t < k; t++) s += x[i * k + t]! * w[j * k + t]!;
    out[i * n + j] = s;
  }
  return out;
}

/** NCHW convolution with symmetric padding, stride, dilation and groups. */
function conv2dRef(x: Float32Array, [N, C, H, W]: number[], w: Float32Array, [O, Cg, KH, KW]: number[], b: Float32Array | null, s: number[], p: number[], d: number[], g: number) {
  const Ho = Math.floor((H + 2 * p[0]! - d[0]! * (KH - 1) - 1) / s[0]!) + 1;
  const Wo = Math.floor((W + 2 * p[1]! - d[1]! * (KW - 1) - 1) / s[1]!) + 1;
  const out = new Float32Array(N * O * Ho * Wo);
  const og = O / g;
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let y = 0; y < Ho; y++) for (let xo = 0; xo < Wo; xo++) {
    let acc = b ? b[o]! : 0;
    const grp = Math.floor(o / og);
    for (let c = 0; c < Cg; c++) for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
      const iy = y * s[0]! - p[0]! + ky * d[0]!;
      const ix = xo * s[1]! - p[1]! + kx * d[1]!;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      acc += x[((n * C + grp * Cg + c) * H + iy) * W + ix]! * w[((o * Cg + c) * KH + ky) * KW + kx]!;
    }
    out[((n * O + o) * Ho + y) * Wo + xo] = acc;
  }
  return { out, shape: [N, O, Ho, Wo] };
}

/** Normalize groups of `size` consecutive values (after a layout permutation given by index fn). */
function normRef(x: Float32Array, groups: number[][], eps: number, rms: boolean): Float32Array {
  const out = new Float32Array(x.length);
  for (const idx of groups) {
    const mean = rms ? 0 : idx.reduce((s, i) => s + x[i]!, 0) / idx.length;
    const v = idx.reduce((s, i) => s + (x[i]! - mean) ** 2, 0) / idx.length;
    for (const i of idx) out[i] = (x[i]! - mean) / Math.sqrt(v + eps);
  }
  return out;
}

describe('Linear', () => {
  it('matches x·Wᵀ + b on 2-D and 3-D inputs, with and without bias', async () => {
    for (const [bias, shape] of [[true, [3, 7]], [false, [2, 5, 7]]] as const) {
      const fc = new nn.Linear(7, 5, { bias });
      randomize(fc, 10);
      const x = input([...shape], 20);
      const y = fc.forward(x);
      expect(y.shape).toEqual([...shape.slice(0, -1), 5]);
      const m = x.size / 7;
      const ref = linearRef(x.dataSync() as Float32Array, m, 7, arr(fc, 'weight'), bias ? arr(fc, 'bias') : null, 5);
      expect(maxAbsDiff(await y.data(), ref)).toBeLessThan(1e-5);
    }
    expect(new nn.Linear(4, 2).stateDict().get('weight')!.shape).toEqual([2, 4]);
    expect(() => new nn.Linear(4, 2).forward(fp.zeros([3, 5]))).toThrow(/Linear\(4 -> 2\): expected an input \[\.\.\., 4\], got \[3, 5\]/);
    expect(() => new nn.Linear(0, 2)).toThrow(/inFeatures must be a positive integer, got 0/);
  });

  it('fuses an activation', async () => {
    const fc = new nn.Linear(6, 4, { activation: 'tanh' });
    randomize(fc, 3);
    const x = input([2, 6], 4);
    const ref = linearRef(x.dataSync() as Float32Array, 2, 6, arr(fc, 'weight'), arr(fc, 'bias'), 4).map(Math.tanh);
    expect(maxAbsDiff(await fc.forward(x).data(), ref)).toBeLessThan(1e-5);
  });
});

describe('Conv2d and Conv1d', () => {
  it('Conv2d matches a naive convolution (stride, padding, dilation, groups)', async () => {
    const cases = [
      { C: 3, O: 4, k: 3, s: 1, p: 1, d: 1, g: 1, H: 6, W: 5 },
      { C: 4, O: 6, k: 3, s: 2, p: 2, d: 2, g: 2, H: 9, W: 7 },
      { C: 4, O: 4, k: 1, s: 1, p: 0, d: 1, g: 4, H: 3, W: 3 },
    ];
    for (const [i, c] of cases.entries()) {
      const conv = new nn.Conv2d(c.C, c.O, c.k, { stride: c.s, padding: c.p, dilation: c.d, groups: c.g });
      randomize(conv, 30 + i);
      const xs = [2, c.C, c.H, c.W];
      const x = input(xs, 40 + i);
      const y = conv.forward(x);
      const ref = conv2dRef(x.dataSync() as Float32Array, xs, arr(conv, 'weight'), [c.O, c.C / c.g, c.k, c.k], arr(conv, 'bias'), [c.s, c.s], [c.p, c.p], [c.d, c.d], c.g);
      expect(y.shape).toEqual(ref.shape);
      expect(maxAbsDiff(await y.data(), ref.out)).toBeLessThan(1e-5);
    }
    expect(() => new nn.Conv2d(3, 4, 3, { groups: 2 })).toThrow(/inChannels 3 and outChannels 4 must both be divisible by groups 2/);
  });

  it('Conv1d matches the naive convolution on height-1 inputs', async () => {
    const conv = new nn.Conv1d(3, 5, 3, { padding: 1, stride: 2, bias: false });
    randomize(conv, 50);
    const x = input([2, 3, 9], 51);
    const y = conv.forward(x);
    const ref = conv2dRef(x.dataSync() as Float32Array, [2, 3, 1, 9], arr(conv, 'weight'), [5, 3, 1, 3], null, [1, 2], [0, 1], [1, 1], 1);
    expect(y.shape).toEqual([2, 5, 5]);
    expect(maxAbsDiff(await y.data(), ref.out)).toBeLessThan(1e-5);
  });
});

describe('normalization', () => {
  it('BatchNorm2d uses running statistics per channel', async () => {
    const bn = new nn.BatchNorm2d(3, { eps: 1e-3 });
    randomize(bn, 60);
    const x = input([2, 3, 2, 2], 61);
    const xv = x.dataSync();
    const [w, b, rm, rv] = ['weight', 'bias', 'running_mean', 'running_var'].map((k) => arr(bn, k));
    const ref = Float32Array.from(xv, (v, i) => {
      const c = Math.floor(i / 4) % 3;
      return ((v - rm![c]!) / Math.sqrt(rv![c]! + 1e-3)) * w![c]! + b![c]!;
    });
    expect(maxAbsDiff(await bn.forward(x).data(), ref)).toBeLessThan(1e-5);
    expect(() => bn.forward(fp.zeros([2, 4, 2, 2]))).toThrow(/BatchNorm2d\(3\): expected an input \[N, C, H, W\] with C = 3, got \[2, 4, 2, 2\]/);
  });

  it('LayerNorm, RMSNorm and GroupNorm match naive normalizations', async () => {
    const x = input([3, 4, 6], 70);
    const xv = x.dataSync() as Float32Array;
    const rows = Array.from({ length: 12 }, (_, r) => Array.from({ length: 6 }, (_, j) => r * 6 + j));
    const affine = (v: Float32Array, w: Float32Array, b: Float32Array | null, ch: (i: number) => number) => v.map((y, i) => y * w[ch(i)]! + (b ? b[ch(i)]! : 0));

    const ln = new nn.LayerNorm(6, { eps: 1e-12 });
    randomize(ln, 71);
    const lnRef = affine(normRef(xv, rows, 1e-12, false), arr(ln, 'weight'), arr(ln, 'bias'), (i) => i % 6);
    expect(maxAbsDiff(await ln.forward(x).data(), lnRef)).toBeLessThan(1e-5);

    const rms = new nn.RMSNorm([6], { eps: 1e-6 });
    randomize(rms, 72);
    const rmsRef = affine(normRef(xv, rows, 1e-6, true), arr(rms, 'weight'), null, (i) => i % 6);
    expect(maxAbsDiff(await rms.forward(x).data(), rmsRef)).toBeLessThan(1e-5);

    const gn = new nn.GroupNorm(2, 4);
    randomize(gn, 73);
    const groups = Array.from({ length: 6 }, (_, g) => Array.from({ length: 12 }, (_, j) => g * 12 + j)); // [3, 4, 6]: 2 channels x 6 per group
    const gnRef = affine(normRef(xv, groups, 1e-5, false), arr(gn, 'weight'), arr(gn, 'bias'), (i) => Math.floor(i / 6) % 4);
    expect(maxAbsDiff(await gn.forward(x).data(), gnRef)).toBeLessThan(1e-5);
    expect(() => new nn.GroupNorm(3, 4)).toThrow(/numChannels 4 must be divisible by numGroups 3/);
  });
});

describe('pooling, embedding, activations and shape modules', () => {
  it('MaxPool2d and AvgPool2d match naive windows', async () => {
    const x = input([1, 2, 5, 5], 80);
    const xv = x.dataSync();
    const ref = (reduce: (v: number[]) => number, k: number, s: number, p: number) => {
      const ho = Math.floor((5 + 2 * p - k) / s) + 1;
      const out: number[] = [];
      for (let c = 0; c < 2; c++) for (let i = 0; i < ho; i++) for (let j = 0; j < ho; j++) {
        const win: number[] = [];
        for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
          const y = i * s - p + a, z = j * s - p + b;
          win.push(y < 0 || y >= 5 || z < 0 || z >= 5 ? NaN : xv[c * 25 + y * 5 + z]!);
        }
        out.push(reduce(win));
      }
      return out;
    };
    const mp = new nn.MaxPool2d(3, { stride: 2, padding: 1 });
    expect(maxAbsDiff(await mp.forward(x).data(), ref((w) => Math.max(...w.filter((v) => !Number.isNaN(v))), 3, 2, 1))).toBe(0);
    const ap = new nn.AvgPool2d(2);
    expect(maxAbsDiff(await ap.forward(x).data(), ref((w) => w.reduce((s, v) => s + v, 0) / 4, 2, 2, 0))).toBeLessThan(1e-6);
  });

  it('Embedding looks up rows', async () => {
    const emb = new nn.Embedding(5, 3);
    randomize(emb, 90);
    const w = arr(emb, 'weight');
    const y = emb.forward(fp.tensor([[4, 0], [2, 2]], { dtype: 'int32' }));
    expect(y.shape).toEqual([2, 2, 3]);
    expect(Array.from(await y.data())).toEqual([4, 0, 2, 2].flatMap((r) => Array.from(w.slice(r * 3, r * 3 + 3))));
  });

  it('activations follow their formulas', async () => {
    const xs = [-3, -0.7, 0, 0.4, 2.5, 7];
    const x = fp.tensor(xs);
    const erf = (v: number) => { // Abramowitz-Stegun 7.1.26 is too coarse; integrate numerically instead
      let s = 0; const n = 2000; const h = v / n;
      for (let i = 0; i < n; i++) { const t = (i + 0.5) * h; s += Math.exp(-t * t); }
      return (2 / Math.sqrt(Math.PI)) * s * h;
    };
    const cases: [fp.nn.Module, (v: number) => number][] = [
      [new nn.ReLU(), (v) => Math.max(v, 0)],
      [new nn.ReLU6(), (v) => Math.min(Math.max(v, 0), 6)],
      [new nn.GELU(), (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))],
      [new nn.GELU({ approximate: 'tanh' }), (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))],
      [new nn.SiLU(), (v) => v / (1 + Math.exp(-v))],
      [new nn.Tanh(), Math.tanh],
      [new nn.Sigmoid(), (v) => 1 / (1 + Math.exp(-v))],
      [new nn.LeakyReLU(0.2), (v) => (v >= 0 ? v : 0.2 * v)],
      [new nn.Identity(), (v) => v],
      [new nn.Dropout(0.3), (v) => v],
    ];
    for (const [m, f] of cases) expect(maxAbsDiff(await m.forward(x).data(), xs.map(f))).toBeLessThan(1e-5);
    const sm = await new nn.Softmax(-1).forward(x).data();
    const z = xs.reduce((s, v) => s + Math.exp(v), 0);
    expect(maxAbsDiff(sm, xs.map((v) => Math.exp(v) / z))).toBeLessThan(1e-6);
    expect(() => new nn.GELU({ approximate: 'fast' as never })).toThrow(/approximate must be 'none' or 'tanh', got 'fast'/);
  });

  it('Flatten merges dims as torch.nn.Flatten', () => {
    expect(new nn.Flatten().forward(fp.zeros([2, 3, 4, 5])).shape).toEqual([2, 60]);
    expect(new nn.Flatten(0, 1).forward(fp.zeros([2, 3, 4])).shape).toEqual([6, 4]);
  });
});
