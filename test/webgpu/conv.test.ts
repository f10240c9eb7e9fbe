// WebGPU conv2d against a naive float64 convolution written here and against the CPU backend: strides 1-3,
// symmetric and asymmetric padding, dilation 1-2, groups 1/2/C, odd sizes, the fixtures' shapes, bias, float16,
// offset inputs, and both kernels (implicit GEMM in three tile shapes; depthwise staged and direct).
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { randomArray } from '../helpers.js';
import { webgpu } from '../webgpu.js';
import { withBackend } from './helpers.js';

type Pad4 = [number, number, number, number];
interface Case { x: number[]; w: number[]; stride?: number | [number, number]; padding?: number | Pad4; dilation?: number | [number, number]; groups?: number; bias?: boolean }

const pair = (v: number | [number, number] | undefined): [number, number] => (v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : v);
const pad4 = (v: number | Pad4 | undefined): Pad4 => (v === undefined ? [0, 0, 0, 0] : typeof v === 'number' ? [v, v, v, v] : v);

/** Naive conv2d in float64; also returns per output the scale sum |b| + sum |w * x| that bounds rounding error. */
function naiveConv(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, c: Case): { out: Float64Array; scale: Float64Array; shape: number[] } {
  const [N, C, H, W] = c.x as [number, number, number, number];
  const [O, Cg, kH, kW] = c.w as [number, number, number, number];
  const [sH, sW] = pair(c.stride), [dH, dW] = pair(c.dilation), [pT, pL, pB, pR] = pad4(c.padding);
  const G = c.groups ?? 1, Og = O / G;
  const Ho = Math.floor((H + pT + pB - dH * (kH - 1) - 1) / sH) + 1;
  const Wo = Math.floor((W + pL + pR - dW * (kW - 1) - 1) / sW) + 1;
  const out = new Float64Array(N * O * Ho * Wo), scale = new Float64Array(out.length);
  let q = 0;
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let oh = 0; oh < Ho; oh++) for (let ow = 0; ow < Wo; ow++, q++) {
    let s = b ? b[o]! : 0, a = Math.abs(s);
    for (let ci = 0; ci < Cg; ci++) for (let kh = 0; kh < kH; kh++) for (let kw = 0; kw < kW; kw++) {
      const ih = oh * sH - pT + kh * dH, iw = ow * sW - pL + kw * dW;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      const v = w[((o * Cg + ci) * kH + kh) * kW + kw]! * x[((n * C + Math.floor(o / Og) * Cg + ci) * H + ih) * W + iw]!;
      s += v;
      a += Math.abs(v);
    }
    out[q] = s;
    scale[q] = a;
  }
  return { out, scale, shape: [N, O, Ho, Wo] };
}

/**
 * f32 accumulation over K taps errs by at most about K * 2^-24 of the scale sum (|b| + sum |w*x|); in practice
 * the errors partly cancel. Allowed: 2^-20 of the scale sum (16 ulp-steps of it), plus 1e-30.
 */
const F32_TOL = 2 ** -20;

/**
 * Run `f` with a second backend on the same device registered as 'webgpu' that believes the adapter is hardware,
 * so programs make their hardware choices (the staged depthwise kernel) on SwiftShader too.
 */
let hw: fp.WebGPUBackend | undefined;
function asHardware<T>(f: () => Promise<T>): Promise<T> {
  const base = webgpu.gpu!;
  hw ??= new fp.WebGPUBackend({ ...base.setup, adapter: { ...base.setup.adapter, isSoftware: false } });
  return withBackend(hw, f);
}
const currentGpu = () => fp.getBackend('webgpu') as fp.WebGPUBackend;

let seed = 100;
async function check(c: Case, dtype: 'float32' | 'float16' = 'float32'): Promise<string> {
  const [O] = c.w as [number];
  const xs = randomArray(c.x.reduce((a, b) => a * b, 1), seed++);
  const ws = randomArray(c.w.reduce((a, b) => a * b, 1), seed++);
  const bs = c.bias ? randomArray(O, seed++) : null;
  const x = fp.tensor(xs, { shape: c.x, dtype }), w = fp.tensor(ws, { shape: c.w, dtype }), b = bs ? fp.tensor(bs, { dtype }) : null;
  // the naive reference sees what the kernels see: float16 inputs rounded to half
  const ref = naiveConv(await x.data(), await w.data(), b ? await b.data() : null, c);
  const opts = { stride: c.stride ?? 1, padding: c.padding ?? 0, dilation: c.dilation ?? 1, groups: c.groups ?? 1 };
  const want = fp.conv2d(x, w, b, opts);
  const [gx, gw, gb] = await Promise.all([x.to('webgpu'), w.to('webgpu'), b?.to('webgpu')]);
  const got = fp.conv2d(gx, gw, gb ?? null, opts);
  const variant = currentGpu().variant();
  expect(got.shape).toEqual(ref.shape);
  expect(got.dtype).toBe(dtype);
  const g = await got.data(), cpu = await want.data();
  for (let i = 0; i < ref.out.length; i++) {
    // float16 output: one rounding of the f32 result to half (2^-11 relative) on top of the f32 error
    const tol = dtype === 'float16' ? 2 ** -11 * Math.abs(ref.out[i]!) + 2 ** -24 + F32_TOL * ref.scale[i]! : F32_TOL * ref.scale[i]! + 1e-30;
    if (!(Math.abs(g[i]! - ref.out[i]!) <= tol)) throw new Error(`${JSON.stringify(c)} ${dtype} [${variant}]: output ${i} is ${g[i]}, naive ${ref.out[i]} (tolerance ${tol})`);
    // against the CPU: both within their error of the naive value; float16 may differ by one half ulp-step
    const tolCpu = dtype === 'float16' ? 2 ** -10 * Math.abs(cpu[i]!) + 2 ** -24 + F32_TOL * ref.scale[i]! : 2 * F32_TOL * ref.scale[i]! + 1e-30;
    if (!(Math.abs(g[i]! - cpu[i]!) <= tolCpu)) throw new Error(`${JSON.stringify(c)} ${dtype} [${variant}]: output ${i} is ${g[i]}, CPU ${cpu[i]}`);
  }
  [x, w, b, gx, gw, gb, want, got].forEach((t) => t?.dispose());
  return variant;
}

describe.skipIf(!webgpu.gpu)('webgpu conv2d', () => {
  it('a hand-checked 1x1x3x3 case: 2x2 kernel, padding 1, bias', async () => {
    const x = fp.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 1, 3, 3], device: 'webgpu' });
    const w = fp.tensor([1, 0, 0, -1], { shape: [1, 1, 2, 2], device: 'webgpu' });
    const y = fp.conv2d(x, w, fp.tensor([10], { device: 'webgpu' }), { padding: 1 });
    // y[i, j] = 10 + x[i-1, j-1] - x[i, j] (zero outside)
    expect(Array.from(await y.data())).toEqual([9, 8, 7, 10, 6, 6, 6, 13, 3, 6, 6, 16, 10, 17, 18, 19]);
  });

  it("the fixtures' shapes: 1->16 3x3 pad 1 at 28x28 and 16->32 3x3 stride 2, batch 1 and 4", async () => {
    for (const N of [1, 4]) {
      // 16 output channels: the 128 x 16 GEMM tile; 32: the 128 x 32 one
      expect(await check({ x: [N, 1, 28, 28], w: [16, 1, 3, 3], padding: 1, bias: true })).toContain('TM=64');
      expect(await check({ x: [N, 16, 28, 28], w: [32, 16, 3, 3], stride: 2, padding: 1, bias: true })).toContain('TM=32');
    }
  });

  it('strides 1-3, dilation 1-2, symmetric and asymmetric padding, groups 1/2/C, odd sizes, with and without bias', async () => {
    const variants = new Set<string>();
    const sizes: [number, number][] = [[1, 1], [3, 5], [5, 3], [17, 17]];
    const paddings: (number | Pad4)[] = [0, 1, [0, 1, 2, 1]];
    let n = 0;
    // every size, stride, dilation and padding together; groups, kernel size (1, 2, 3), output channels, batch
    // and bias cycle with co-prime periods so that each meets every other over the 72 cases
    for (const [H, W] of sizes) for (const stride of [1, 2, 3]) for (const dilation of [1, 2]) for (const padding of paddings) {
      n++;
      const groups = [1, 2, 4][n % 3]!, k = [1, 2, 3][Math.floor(n / 3) % 3]!, O = [8, 4, 24, 12][n % 4]!;
      const p = pad4(padding);
      if (H + p[0] + p[2] < dilation * (k - 1) + 1 || W + p[1] + p[3] < dilation * (k - 1) + 1) continue;
      // Og = O / groups: GEMM tiles of 16 and 32 channels, depthwise when groups = C = 4 and O <= 12
      variants.add(await check({ x: [n % 5 ? 1 : 2, 4, H, W], w: [O, 4 / groups, k, k], stride, dilation, padding, groups, bias: n % 2 === 0 }));
    }
    const kinds = [...variants].map((v) => v.split('{')[0]);
    expect(new Set(kinds)).toEqual(new Set(['conv2d.wgsl', 'conv2d-depthwise.wgsl']));
  });

  it('rectangular kernels, strides and dilations; more output channels than one tile; K not a multiple of the tile depth', async () => {
    const variants = [
      await check({ x: [2, 3, 17, 11], w: [80, 3, 3, 2], stride: [2, 1], dilation: [1, 2], padding: [1, 0, 2, 1], bias: true }),
      await check({ x: [1, 6, 9, 9], w: [40, 3, 5, 1], stride: [1, 3], padding: [2, 0, 2, 0], groups: 2 }),
      await check({ x: [3, 5, 7, 7], w: [17, 5, 1, 1], bias: true }),
      await check({ x: [1, 4, 7, 7], w: [20, 4, 7, 7], padding: 3 }),
    ];
    expect(variants.map((v) => /TM=(\d+)/.exec(v)?.[1])).toEqual(['16', '32', '32', '32']);
  });

  it('depthwise: multipliers 1 and 3, the staged patch (hardware adapters) and the direct path', async () => {
    const software = webgpu.gpu!.setup.adapter.isSoftware;
    const small: Case[] = [
      { x: [2, 6, 17, 17], w: [6, 1, 3, 3], padding: 1, groups: 6, bias: true },
      { x: [1, 3, 20, 33], w: [9, 1, 3, 3], stride: 2, padding: [1, 1, 0, 0], groups: 3 },
    ];
    for (const c of small) {
      expect(await check(c)).toContain(`TILED=${!software}`);
      expect(await asHardware(() => check(c))).toContain('TILED=true');
    }
    // patch (15*3 + 6*4 + 1)^2 = 4900 elements > 34 * 34: each thread reads x directly, on any adapter
    const big: Case = { x: [1, 2, 40, 40], w: [2, 1, 7, 7], stride: 3, dilation: 4, padding: 3, groups: 2, bias: true };
    expect(await asHardware(() => check(big))).toContain('TILED=false');
  });

  it('float16 inputs, weights and bias (unpacked to f32, result rounded to half)', async () => {
    await check({ x: [2, 4, 9, 9], w: [8, 4, 3, 3], padding: 1, bias: true }, 'float16');
    await check({ x: [1, 4, 9, 9], w: [4, 1, 3, 3], padding: 1, groups: 4, bias: true }, 'float16');
  });

  it('inputs at an offset in their storage and non-contiguous views', async () => {
    const big = fp.tensor(randomArray(3 * 4 * 6 * 6, 7), { shape: [3, 4, 6, 6] });
    const wBig = fp.tensor(randomArray(10 * 4 * 3 * 3, 8), { shape: [10, 4, 3, 3] });
    const bBig = fp.tensor(randomArray(12, 9), { shape: [12] });
    const run = (x: fp.Tensor, w: fp.Tensor, b: fp.Tensor) => [
      fp.conv2d(x.narrow(0, 1, 2), w.narrow(0, 2, 8), b.narrow(0, 3, 8), { padding: 1 }),
      fp.conv2d(x.transpose(2, 3), w.narrow(0, 4, 4).narrow(1, 1, 1), b.narrow(0, 1, 4), { groups: 4, stride: 2 }),
    ];
    const want = run(big, wBig, bBig);
    const got = run(await big.to('webgpu'), await wBig.to('webgpu'), await bBig.to('webgpu'));
    for (let i = 0; i < want.length; i++) {
      const g = await got[i]!.data(), c = await want[i]!.data();
      expect(g.length).toBe(c.length);
      for (let j = 0; j < c.length; j++) expect(Math.abs(g[j]! - c[j]!)).toBeLessThanOrEqual(1e-5);
    }
  });
});
