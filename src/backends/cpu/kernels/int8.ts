// CPU INT8 kernels: symmetric row quantization, int8 x int8 linear (int32 sums, float rescale with the bias fused),
// weight-only linear (int8 weights dequantized in the product) and conv2d with int8 weights (im2col + int8 product).
// Legend: M = rows (tokens or batch), K = true inner size, Kp = K padded (multiple of 4 or of the block),
// Kw = Kp / 4 words, N = out features, nb = scales per row; conv: N = batch, C, H, W = input, O = out channels,
// G = groups, Cg = C / G, Og = O / G, kH, kW = kernel, Ho, Wo = output size, P = output positions in a band.
import type { Conv2dAttrs, Int8OpAttrs } from '../../../ops/attrs.js';
import type { CpuKernel, CpuTensor, NumArray } from '../types.js';
import { dotsQ8, dotsW8, int8Words } from './int8-gemm.js';
import { dotsPacked, packedWeights } from './int8-packed.js';
import { linearEpilogue } from './linear.js';
import { quantizeBlock } from '../../../quant/formats.js';

let f64Scratch = new Float64Array(0);
const f64 = (n: number) => (f64Scratch.length >= n ? f64Scratch : (f64Scratch = new Float64Array(n)));

/** quantizeRows: x [M, K] float -> q int8 [M, Kp], scales [M, nb] (dynamic max|x|/127, or one static scale). */
export const quantizeRows: CpuKernel<Int8OpAttrs['quantizeRows']> = ([q, s], [x], { block, staticScale }) => {
  const [M, K] = x!.shape as [number, number];
  const Kp = q!.shape[1]!, nb = s!.shape[1]!;
  const bl = block > 0 ? block : Kp;
  const qd = q!.data as Int8Array, sd = s!.data;
  for (let m = 0; m < M; m++) {
    for (let b = 0; b < nb; b++) {
      const k0 = b * bl, n = Math.max(0, Math.min(K, k0 + bl) - k0);
      sd[m * nb + b] = quantizeBlock(x!.data, x!.offset + m * K + k0, n, qd, m * Kp + k0, staticScale);
      qd.fill(0, m * Kp + k0 + n, m * Kp + Math.min(Kp, k0 + bl));
    }
  }
};

/** linearInt8: xq [M, Kp], xs [M, nb], wq [N, Kp], ws [N, nb], bias? [N] -> y [M, N]. */
export const linearInt8: CpuKernel<Int8OpAttrs['linearInt8']> = ([y], [xq, xs, wq, ws, bias], { block, k, activation }) => {
  const [M, Kp] = xq!.shape as [number, number];
  const N = wq!.shape[0]!, Kw = Kp >> 2;
  const o = y!.data;
  const xsd = xs!.data, xso = xs!.offset, wsd = ws!.data, wso = ws!.offset;
  const bd = bias ? bias.data : null, bo = bias ? bias.offset : 0;
  if (block === 0) {
    // lane-packed weights (int8-packed.ts): measured faster than 2x4 int32 word tiles at every M from 1 to 64
    const acc = f64(M * N);
    dotsPacked(M, N, k, Kp, xq!.data as Int8Array, xq!.offset, packedWeights(wq!.data as Int8Array, wq!.offset, N, k, Kp), acc);
    for (let m = 0, p = 0; m < M; m++) {
      const sx = xsd[xso + m]!;
      for (let n = 0; n < N; n++, p++) o[p] = acc[p]! * sx * wsd[wso + n]! + (bd ? bd[bo + n]! : 0);
    }
  } else {
    const a = int8Words(xq!.data as Int8Array, xq!.offset, M * Kp);
    const w = int8Words(wq!.data as Int8Array, wq!.offset, N * Kp);
    const f = f64(M * N);
    dotsQ8(M, N, Kw, block >> 2, a, w, xsd, xso, wsd, wso, f);
    for (let m = 0, p = 0; m < M; m++) for (let n = 0; n < N; n++, p++) o[p] = f[p]! + (bd ? bd[bo + n]! : 0);
  }
  linearEpilogue(o, M, N, null, 0, activation);
};

/** linearW8 (weight-only): x [M, K] float, wq [N, Kp], ws [N, nb], bias? [N] -> y [M, N]. */
export const linearW8: CpuKernel<Int8OpAttrs['linearW8']> = ([y], [x, wq, ws, bias], { block, activation }) => {
  const [M, K] = x!.shape as [number, number];
  const [N, Kp] = wq!.shape as [number, number];
  const Kw = Kp >> 2;
  const w = int8Words(wq!.data as Int8Array, wq!.offset, N * Kp);
  const o = y!.data;
  const wsd = ws!.data, wso = ws!.offset;
  const bd = bias ? bias.data : null, bo = bias ? bias.offset : 0;
  const nb = block > 0 ? Kp / block : 1, bl = block > 0 ? block : Kp;
  const part = f64(M * N);
  const f = nb > 1 ? new Float64Array(M * N) : part;
  for (let b = 0; b < nb; b++) {
    dotsW8(M, N, Kw, x!.data, x!.offset, K, w, b * bl, Math.min(K, (b + 1) * bl), part);
    if (nb > 1) for (let m = 0, p = 0; m < M; m++) for (let n = 0; n < N; n++, p++) f[p] += part[p]! * wsd[wso + n * nb + b]!;
  }
  for (let m = 0, p = 0; m < M; m++) {
    for (let n = 0; n < N; n++, p++) o[p] = (nb > 1 ? f[p]! : f[p]! * wsd[wso + n]!) + (bd ? bd[bo + n]! : 0);
  }
  linearEpilogue(o, M, N, null, 0, activation);
};

/** Largest im2col buffer, in elements (bands of output rows keep it under this). */
const COLS_LIMIT = 1 << 20;

/** conv2dInt8: x [N, C, H, W] int8 (scale per image xs [N, 1]) or float, wq [O, Kp], ws [O, 1], bias? [O]. */
export const conv2dInt8: CpuKernel<Int8OpAttrs['conv2dInt8']> = ([out], [x, xs, wq, ws, bias], attrs) => {
  const [N, C, H, W] = x!.shape as [number, number, number, number];
  const [O, Kp] = wq!.shape as [number, number];
  const { groups: G, kernel: [kH, kW] } = attrs;
  const Cg = C / G, Og = O / G, K = Cg * kH * kW, Kw = Kp >> 2;
  const Ho = out!.shape[2]!, Wo = out!.shape[3]!, plane = Ho * Wo;
  const int = x!.dtype === 'int8';
  const w = int8Words(wq!.data as Int8Array, wq!.offset, O * Kp);
  const band = Math.max(1, Math.min(Ho, Math.floor(COLS_LIMIT / Math.max(1, Kp * Wo))));
  const cols = int ? new Int8Array(band * Wo * Kp) : new Float32Array(band * Wo * Kp);
  const acc = f64(band * Wo * Og);
  const od = out!.data, wsd = ws!.data, wso = ws!.offset;
  const bd = bias ? bias.data : null, bo = bias ? bias.offset : 0;
  const geo = { C, H, W, Cg, kH, kW, Wo, Kp, ...attrs };
  for (let n = 0; n < N; n++) {
    const sx = int ? xs!.data[xs!.offset + n]! : 1;
    for (let g = 0; g < G; g++) {
      const wg = w.subarray(g * Og * Kw, (g + 1) * Og * Kw);
      for (let oh0 = 0; oh0 < Ho; oh0 += band) {
        const rows = Math.min(band, Ho - oh0), P = rows * Wo;
        fillCols(cols, x!, x!.offset + (n * C + g * Cg) * H * W, oh0, rows, geo);
        // int8 input: exact int sums, two products per float64 multiply (int8-packed.ts); float input: weight-only
        if (int) dotsPacked(P, Og, K, Kp, cols as Int8Array, 0, packedWeights(wq!.data as Int8Array, wq!.offset + g * Og * Kp, Og, K, Kp), acc);
        else dotsW8(P, Og, Kw, cols as Float32Array, 0, Kp, wg, 0, K, acc);
        for (let j = 0; j < Og; j++) {
          const o = g * Og + j;
          const sc = sx * wsd[wso + o]!, b0 = bd ? bd[bo + o]! : 0;
          const dst = (n * O + o) * plane + oh0 * Wo;
          for (let p = 0; p < P; p++) od[dst + p] = acc[p * Og + j]! * sc + b0;
        }
      }
    }
  }
};

interface ColsGeometry extends Conv2dAttrs {
  C: number; H: number; W: number; Cg: number; kH: number; kW: number; Wo: number; Kp: number;
}

/** cols[p, k] = x[.., ci, ih, iw] for output rows oh0..oh0+rows (0 in the padding and for k >= K), p = r·Wo + ow. */
function fillCols(cols: Int8Array | Float32Array, x: CpuTensor, base: number, oh0: number, rows: number, g: ColsGeometry): void {
  const { H, W, Cg, kH, kW, Wo, Kp, stride: [sH, sW], padding: [pT, pL], dilation: [dH, dW] } = g;
  const xd: NumArray = x.data;
  cols.fill(0, 0, rows * Wo * Kp);
  for (let ci = 0; ci < Cg; ci++) {
    const xPlane = base + ci * H * W;
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        const k = (ci * kH + kh) * kW + kw;
        const shift = kw * dW - pL;
        const lo = Math.min(Wo, Math.max(0, Math.ceil(-shift / sW)));
        const hi = Math.max(lo, Math.min(Wo, Math.floor((W - 1 - shift) / sW) + 1));
        for (let r = 0; r < rows; r++) {
          const ih = (oh0 + r) * sH + kh * dH - pT;
          if (ih < 0 || ih >= H) continue;
          let p = xPlane + ih * W + lo * sW + shift;
          for (let ow = lo, q = (r * Wo + lo) * Kp + k; ow < hi; ow++, p += sW, q += Kp) cols[q] = xd[p]!;
        }
      }
    }
  }
}
