// ONNX MatMul/Gemm/Conv/pooling/normalization/reduction/Resize through the runtime, against naive loops written
// here: Gemm's alpha/beta/transA/transB and bias broadcast, Conv auto_pad/group/dilations in 1-D and 2-D, pools
// with ceil_mode/count_include_pad/pads up to the kernel, reductions with axes as attribute (opset 13) or input (opset 18), Resize.
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { maxAbsDiff, randomArray } from '../../helpers.js';
import { f32c, i64, prod, ravel, runNode, unravel } from './session-helpers.js';

/** Naive 2-D convolution over NCHW with [top, left, bottom, right] pads. */
function convRef(x: ArrayLike<number>, xs: number[], w: ArrayLike<number>, ws: number[], b: ArrayLike<number> | null, s: number[], pads: number[], dil: number[], group: number): [number[], number[]] {
  const [N, , H, W] = xs as [number, number, number, number];
  const [O, Cg, kH, kW] = ws as [number, number, number, number];
  const Ho = Math.floor((H + pads[0]! + pads[2]! - dil[0]! * (kH - 1) - 1) / s[0]!) + 1;
  const Wo = Math.floor((W + pads[1]! + pads[3]! - dil[1]! * (kW - 1) - 1) / s[1]!) + 1;
  const out: number[] = [];
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
    let acc = b ? b[o]! : 0;
    const g = Math.floor(o / (O / group));
    for (let c = 0; c < Cg; c++) for (let p = 0; p < kH; p++) for (let q = 0; q < kW; q++) {
      const y = i * s[0]! - pads[0]! + p * dil[0]!, z = j * s[1]! - pads[1]! + q * dil[1]!;
      if (y < 0 || y >= H || z < 0 || z >= W) continue;
      acc += x[ravel([n, g * Cg + c, y, z], xs)]! * w[ravel([o, c, p, q], ws)]!;
    }
    out.push(acc);
  }
  return [[N, O, Ho, Wo], out];
}

describe('ONNX linear algebra, conv, pooling, norms, reductions, resize', () => {
  it('MatMul broadcasts batch dims; Gemm alpha/beta/transA/transB with bias broadcast', async () => {
    const a = randomArray(2 * 3 * 4, 1), b = randomArray(4 * 5, 2);
    const [m] = await runNode(13, 'MatMul', [fp.tensor(a, { shape: [2, 3, 4] }), fp.tensor(b, { shape: [4, 5] })]);
    const want = Array.from({ length: 30 }, (_, i) => { const [p, r, c] = unravel(i, [2, 3, 5]); let s = 0; for (let k = 0; k < 4; k++) s += a[ravel([p!, r!, k], [2, 3, 4])]! * b[k * 5 + c!]!; return s; });
    expect(maxAbsDiff(await m!.data(), want)).toBeLessThan(1e-5);
    const A = randomArray(12, 3), B = randomArray(20, 4), C = randomArray(5, 5);
    for (const [transA, transB, alpha, beta, cShape] of [[0, 0, 1, 1, [5]], [1, 1, 0.5, 2, [1, 5]], [0, 1, 1, 1, [3, 1]], [1, 0, 2, 0, [5]], [0, 1, 1, 1, null]] as const) {
      const Am = transA ? fp.tensor(A, { shape: [4, 3] }) : fp.tensor(A, { shape: [3, 4] });
      const Cv = cShape ? C.subarray(0, prod(cShape)) : null;
      const [y] = await runNode(13, 'Gemm', [Am, f32c(B, transB ? [5, 4] : [4, 5]), Cv ? fp.tensor(Cv, { shape: [...cShape!] }) : null], { transA, transB, alpha: { float: alpha }, beta: { float: beta } });
      const ref = Array.from({ length: 15 }, (_, i) => {
        const [r, c] = [Math.floor(i / 5), i % 5];
        let s = 0;
        for (let k = 0; k < 4; k++) s += (transA ? A[k * 3 + r]! : A[r * 4 + k]!) * (transB ? B[c * 4 + k]! : B[k * 5 + c]!);
        const cv = !Cv ? 0 : cShape![0] === 3 ? Cv[r]! : Cv[c]!;
        return alpha * s + beta * cv;
      });
      expect(maxAbsDiff(await y!.data(), ref), JSON.stringify([transA, transB, alpha, beta, cShape])).toBeLessThan(1e-5);
    }
  });

  it('Conv: explicit pads, SAME_UPPER/SAME_LOWER/VALID, strides, dilations, groups; 1-D', async () => {
    const xs = [1, 4, 7, 6], x = randomArray(prod(xs), 7);
    const cases: [Record<string, number[] | number | string>, number[], number, number[]][] = [
      [{ pads: [1, 0, 2, 1] }, [1, 1], 1, [1, 0, 2, 1]],
      [{ auto_pad: 'SAME_UPPER', strides: [2, 2] }, [2, 2], 1, [1, 0, 1, 1]], // H 7: total 2; W 6: total 1, extra at the end
      [{ auto_pad: 'SAME_LOWER', strides: [2, 2] }, [2, 2], 1, [1, 1, 1, 0]],
      [{ auto_pad: 'VALID', dilations: [2, 1] }, [1, 1], 1, [0, 0, 0, 0]],
      [{ group: 2, pads: [1, 1, 1, 1] }, [1, 1], 2, [1, 1, 1, 1]],
    ];
    for (const [attrs, s, group, pads] of cases) {
      const ws = [6, 4 / group, 3, 3], w = randomArray(prod(ws), 8), b = randomArray(6, 9);
      const [y] = await runNode(13, 'Conv', [fp.tensor(x, { shape: xs }), f32c(w, ws), f32c(b)], attrs);
      const dil = (attrs.dilations as number[] | undefined) ?? [1, 1];
      const [shape, want] = convRef(x, xs, w, ws, b, s, pads, dil, group);
      expect(y!.shape, JSON.stringify(attrs)).toEqual(shape);
      expect(maxAbsDiff(await y!.data(), want), JSON.stringify(attrs)).toBeLessThan(1e-4);
    }
    const w1 = randomArray(3 * 2 * 3, 10);
    const [y1] = await runNode(13, 'Conv', [fp.tensor(x.subarray(0, 2 * 9), { shape: [1, 2, 9] }), f32c(w1, [3, 2, 3])], { pads: [2, 0], strides: [2] });
    const [, want1] = convRef(x.subarray(0, 18), [1, 2, 1, 9], w1, [3, 2, 1, 3], null, [1, 2], [0, 2, 0, 0], [1, 1], 1);
    expect(y1!.shape).toEqual([1, 3, 5]);
    expect(maxAbsDiff(await y1!.data(), want1)).toBeLessThan(1e-5);
  });

  it('MaxPool / AveragePool (pads, ceil_mode, count_include_pad, 1-D), global pools', async () => {
    const x = randomArray(2 * 5 * 5, 11);
    const pool = (kind: 'max' | 'avg', k: number, s: number, p: number, ceil: boolean, countPad: boolean) => {
      let Ho = (ceil ? Math.ceil : Math.floor)((5 + 2 * p - k) / s) + 1;
      if (ceil && (Ho - 1) * s >= 5 + p) Ho--;
      const out: number[] = [];
      for (let c = 0; c < 2; c++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Ho; j++) {
        let m = -Infinity, sum = 0, n = 0, nPad = 0;
        for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
          const y = i * s - p + a, z = j * s - p + b;
          if (y < 5 + p && z < 5 + p) nPad++;
          if (y < 0 || z < 0 || y >= 5 || z >= 5) continue;
          const v = x[c * 25 + y * 5 + z]!;
          m = Math.max(m, v); sum += v; n++;
        }
        out.push(kind === 'max' ? m : sum / (countPad ? nPad : n));
      }
      return out;
    };
    for (const [k, s, p, ceil] of [[2, 2, 0, 0], [3, 2, 1, 1], [3, 1, 1, 0], [2, 2, 1, 1]] as const) {
      const [mx] = await runNode(13, 'MaxPool', [fp.tensor(x, { shape: [1, 2, 5, 5] })], { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], ceil_mode: ceil });
      expect(maxAbsDiff(await mx!.data(), pool('max', k, s, p, !!ceil, false)), `max ${k} ${s} ${p} ${ceil}`).toBe(0);
      for (const cip of [0, 1]) {
        const [av] = await runNode(13, 'AveragePool', [fp.tensor(x, { shape: [1, 2, 5, 5] })], { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], ceil_mode: ceil, count_include_pad: cip });
        expect(maxAbsDiff(await av!.data(), pool('avg', k, s, p, !!ceil, !!cip)), `avg ${k} ${s} ${p} ${ceil} ${cip}`).toBeLessThan(1e-6);
      }
    }
    const [m1] = await runNode(13, 'MaxPool', [fp.tensor([1, 5, 2, 4, 3, 0], { shape: [1, 1, 6] })], { kernel_shape: [2], strides: [2] });
    expect(Array.from(await m1!.data())).toEqual([5, 4, 3]);
    await expect(runNode(13, 'MaxPool', [fp.tensor(x, { shape: [1, 2, 5, 5] })], { kernel_shape: [2, 2], storage_order: 3 })).rejects.toThrow(/attribute 'storage_order' must be one of 0, 1, found 3/);
    const [g] = await runNode(13, 'GlobalAveragePool', [fp.tensor(x, { shape: [1, 2, 5, 5] })]);
    expect(g!.shape).toEqual([1, 2, 1, 1]);
    expect(maxAbsDiff(await g!.data(), [0, 1].map((c) => x.subarray(c * 25, c * 25 + 25).reduce((a, b) => a + b, 0) / 25))).toBeLessThan(1e-6);
  });

  it('MaxPool / AveragePool: pads up to the kernel size (ONNX), windows missing the input as onnxruntime', async () => {
    // general naive pool: per-side pads [top, left, bottom, right], dilation, ceil rule (last window starts before H + top)
    const LOWEST = -3.4028234663852886e38; // onnxruntime's MaxPool start value (numeric_limits<float>::lowest)
    const ref = (kind: 'max' | 'avg', x: ArrayLike<number>, [P, H, W]: number[], k: number[], s: number[], pads: number[], dil: number[], ceil: boolean, countPad: boolean) => {
      const len = (n: number, b: number, a: number, kk: number, ss: number, dd: number, bb: number) => {
        const span = n + b + a - dd * (kk - 1) - 1;
        let o = (ceil ? Math.ceil : Math.floor)(span / ss) + 1;
        if (ceil && (o - 1) * ss >= n + bb) o--;
        return o;
      };
      const Ho = len(H!, pads[0]!, pads[2]!, k[0]!, s[0]!, dil[0]!, pads[0]!), Wo = len(W!, pads[1]!, pads[3]!, k[1]!, s[1]!, dil[1]!, pads[1]!);
      const out: number[] = [];
      for (let p = 0; p < P!; p++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
        let m = LOWEST, sum = 0, n = 0, nPad = 0;
        for (let a = 0; a < k[0]!; a++) for (let b = 0; b < k[1]!; b++) {
          const y = i * s[0]! - pads[0]! + a * dil[0]!, z = j * s[1]! - pads[1]! + b * dil[1]!;
          if (y >= -pads[0]! && y < H! + pads[2]! && z >= -pads[1]! && z < W! + pads[3]!) nPad++;
          if (y < 0 || z < 0 || y >= H! || z >= W!) continue;
          const v = x[p * H! * W! + y * W! + z]!;
          m = Math.max(m, v); sum += v; n++;
        }
        out.push(kind === 'max' ? m : sum / (countPad ? nPad : n));
      }
      return { shape: [Ho, Wo], out };
    };
    const x = randomArray(2 * 7 * 5, 12);
    // [kernel, strides, pads, dilations (max only), ceil]
    const cases: [number[], number[], number[], number[], number][] = [
      [[3, 1], [1, 1], [2, 0, 1, 0], [1, 1], 0], // the oracle's AveragePool seed 17042
      [[1, 3], [1, 1], [0, 0, 0, 2], [1, 1], 0],
      [[3, 3], [2, 2], [2, 2, 2, 2], [1, 1], 1],
      [[4, 2], [3, 1], [3, 1, 2, 0], [1, 1], 1],
      [[2, 2], [1, 2], [3, 1, 3, 1], [8, 1], 0], // dilated: output row 2 reads input rows -1 and 7, both padding
    ];
    for (const [k, st, pads, dil, ceil] of cases) {
      const what = `k ${k} s ${st} pads ${pads} d ${dil} ceil ${ceil}`;
      const [mx] = await runNode(17, 'MaxPool', [fp.tensor(x, { shape: [1, 2, 7, 5] })], { kernel_shape: k, strides: st, pads, dilations: dil, ceil_mode: ceil });
      const want = ref('max', x, [2, 7, 5], k, st, pads, dil, !!ceil, false);
      expect(mx!.shape, what).toEqual([1, 2, ...want.shape]);
      expect(Array.from(await mx!.data()), what).toEqual(Array.from(Float32Array.from(want.out)));
      if (dil.some((d) => d > 1)) {
        expect(want.out.includes(LOWEST), what).toBe(true);
        continue;
      }
      for (const cip of [0, 1]) {
        const [av] = await runNode(17, 'AveragePool', [fp.tensor(x, { shape: [1, 2, 7, 5] })], { kernel_shape: k, strides: st, pads, ceil_mode: ceil, count_include_pad: cip });
        const w = ref('avg', x, [2, 7, 5], k, st, pads, [1, 1], !!ceil, !!cip);
        expect(av!.shape, what).toEqual([1, 2, ...w.shape]);
        expect(maxAbsDiff(await av!.data(), w.out), `${what} cip ${cip}`).toBeLessThan(1e-6);
      }
    }
    // 1-D, values checked by hand (and against onnxruntime 1.30)
    const v = fp.tensor([1, 2, 3, 4], { shape: [1, 1, 4] });
    expect(Array.from(await (await runNode(19, 'MaxPool', [v], { kernel_shape: [3], pads: [2, 2] }))[0]!.data())).toEqual([1, 2, 3, 4, 4, 4]);
    expect(Array.from(await (await runNode(19, 'AveragePool', [v], { kernel_shape: [3], pads: [2, 1] }))[0]!.data())).toEqual([1, 1.5, 2, 3, 3.5]);
    const [a1] = await runNode(19, 'AveragePool', [v], { kernel_shape: [3], pads: [2, 1], count_include_pad: 1 });
    expect(maxAbsDiff(await a1!.data(), [1 / 3, 1, 2, 3, 7 / 3])).toBeLessThan(1e-6);
    const [md] = await runNode(19, 'MaxPool', [fp.tensor([5, 6], { shape: [1, 1, 2] })], { kernel_shape: [2], pads: [1, 1], dilations: [3] });
    expect(Array.from(await md!.data())).toEqual([LOWEST]);
    // a pad as large as the (dilated) kernel leaves windows with nothing to average: refused
    await expect(runNode(17, 'AveragePool', [v], { kernel_shape: [3], pads: [3, 0] })).rejects.toThrow(/node 'n0' \(AveragePool\): avgPool2d: padding \[0, 3, 0, 0\] must be less than the kernel size \[1, 3\]/);
    await expect(runNode(17, 'MaxPool', [v], { kernel_shape: [2], pads: [0, 4], dilations: [3] })).rejects.toThrow(/must be less than the dilated kernel size \[1, 4\]/);
    // the PyTorch-facing ops keep PyTorch's half-kernel rule unless asked
    const x4 = fp.tensor(x, { shape: [1, 2, 7, 5] });
    expect(() => fp.avgPool2d(x4, { kernelSize: [3, 1], stride: 1, padding: [2, 0, 1, 0] })).toThrow(/avgPool2d: padding \[2, 0, 1, 0\] must be at most half the kernel size \[3, 1\]/);
    expect(() => fp.maxPool2d(x4, { kernelSize: [3, 1], stride: 1, padding: [2, 0, 1, 0] })).toThrow(/maxPool2d: padding \[2, 0, 1, 0\] must be at most half the dilated kernel size/);
    expect(fp.avgPool2d(x4, { kernelSize: [3, 1], stride: 1, padding: [2, 0, 1, 0], padLimit: 'kernel' }).shape).toEqual([1, 2, 8, 5]);
  });

  it('BatchNormalization, LayerNormalization (axis), InstanceNormalization', async () => {
    const x = randomArray(2 * 3 * 4, 12), sc = randomArray(3, 13, 0.5, 1.5), bi = randomArray(3, 14), mu = randomArray(3, 15), va = randomArray(3, 16, 0.5, 2);
    const [bn] = await runNode(15, 'BatchNormalization', [fp.tensor(x, { shape: [2, 3, 4] }), f32c(sc), f32c(bi), f32c(mu), f32c(va)], { epsilon: { float: 1e-3 } });
    expect(maxAbsDiff(await bn!.data(), Array.from(x, (v, i) => { const c = Math.floor(i / 4) % 3; return (v - mu[c]!) / Math.sqrt(va[c]! + 1e-3) * sc[c]! + bi[c]!; }))).toBeLessThan(1e-5);
    const norm = (vals: number[]) => { const m = vals.reduce((a, b) => a + b, 0) / vals.length; const v = vals.reduce((a, b) => a + (b - m) ** 2, 0) / vals.length; return vals.map((z) => (z - m) / Math.sqrt(v + 1e-5)); };
    const lnScale = randomArray(12, 17);
    const [ln] = await runNode(17, 'LayerNormalization', [fp.tensor(x, { shape: [2, 3, 4] }), f32c(lnScale, [3, 4])], { axis: 1 });
    const lnWant = [0, 1].flatMap((b) => norm(Array.from(x.subarray(b * 12, b * 12 + 12))).map((v, i) => v * lnScale[i]!));
    expect(maxAbsDiff(await ln!.data(), lnWant)).toBeLessThan(1e-5);
    const [inn] = await runNode(17, 'InstanceNormalization', [fp.tensor(x, { shape: [2, 3, 4] }), f32c(sc), f32c(bi)]);
    const inWant = [0, 1, 2, 3, 4, 5].flatMap((r) => norm(Array.from(x.subarray(r * 4, r * 4 + 4))).map((v) => v * sc[r % 3]! + bi[r % 3]!));
    expect(maxAbsDiff(await inn!.data(), inWant)).toBeLessThan(1e-5);
  });

  it('ReduceSum/Mean/Max: axes input (13 for Sum, 18 for others) or attribute, keepdims, noop_with_empty_axes', async () => {
    const x = randomArray(24, 18);
    const t = () => fp.tensor(x, { shape: [2, 3, 4] });
    const red = (axis: number, f: (v: number[]) => number) => {
      const shape = [2, 3, 4];
      const outShape = shape.map((d, i) => (i === axis ? 1 : d));
      return Array.from({ length: prod(outShape) }, (_, i) => { const idx = unravel(i, outShape); return f(Array.from({ length: shape[axis]! }, (_, k) => x[ravel(idx.map((v, d) => (d === axis ? k : v)), shape)]!)); });
    };
    const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
    const [s] = await runNode(13, 'ReduceSum', [t(), i64([1])], { keepdims: 0 });
    expect(s!.shape).toEqual([2, 4]);
    expect(maxAbsDiff(await s!.data(), red(1, sum))).toBeLessThan(1e-6);
    const [m17] = await runNode(17, 'ReduceMean', [t()], { axes: [-1] });
    expect(m17!.shape).toEqual([2, 3, 1]);
    expect(maxAbsDiff(await m17!.data(), red(2, (v) => sum(v) / v.length))).toBeLessThan(1e-6);
    const [m18] = await runNode(18, 'ReduceMax', [t(), i64([0])]);
    expect(maxAbsDiff(await m18!.data(), red(0, (v) => Math.max(...v)))).toBe(0);
    const [all] = await runNode(18, 'ReduceSum', [t()], { keepdims: 0 });
    expect(all!.shape).toEqual([]);
    const [noop] = await runNode(18, 'ReduceSum', [t(), i64([])], { noop_with_empty_axes: 1 });
    expect(Array.from(await noop!.data())).toEqual(Array.from(x));
  });

  it('Resize: nearest (asymmetric/floor, half_pixel/round_prefer_floor) and linear (half_pixel, align_corners)', async () => {
    const x = fp.tensor([1, 2, 3, 4], { shape: [1, 1, 2, 2] });
    const [n1] = await runNode(13, 'Resize', [x, null, f32c([1, 1, 2, 2])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
    expect(Array.from(await n1!.data())).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    const [n2] = await runNode(13, 'Resize', [x, null, null, i64([1, 1, 3, 1])], { mode: 'nearest' });
    expect(n2!.shape).toEqual([1, 1, 3, 1]);
    // half_pixel: src = (i + .5) * 2/3 - .5 -> -0.17, 0.5, 1.17 -> round_prefer_floor 0, 0, 1; columns: (0 + .5)*2 - .5 = .5 -> 0
    expect(Array.from(await n2!.data())).toEqual([1, 1, 3]);
    const lin = (coord: string, out: number) => runNode(13, 'Resize', [fp.tensor([0, 10], { shape: [1, 2] }), null, null, i64([1, out])], { mode: 'linear', coordinate_transformation_mode: coord });
    const ref = (src: (i: number) => number, out: number) => Array.from({ length: out }, (_, i) => { const p = Math.min(Math.max(src(i), 0), 1); return 10 * p; });
    expect(maxAbsDiff(await (await lin('half_pixel', 4))[0]!.data(), ref((i) => (i + 0.5) / 2 - 0.5, 4))).toBeLessThan(1e-6);
    expect(maxAbsDiff(await (await lin('align_corners', 5))[0]!.data(), ref((i) => i / 4, 5))).toBeLessThan(1e-6);
    await expect(runNode(13, 'Resize', [x, null, f32c([1, 1, 2, 2])], { mode: 'area' })).rejects.toThrow(/attribute 'mode' must be one of 'nearest', 'linear', 'cubic', found 'area'/);
  });
});
