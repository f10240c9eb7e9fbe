// CPU 2-D convolution with stride, asymmetric padding, dilation and groups, in two lowerings:
// im2col + dot products (general case) and direct row-wise multiply-adds (depthwise-like: one input channel per group).
// Legend: N = batch, C = input channels, H, W = input size, O = output channels, G = groups, Cg = C/G and
// Og = O/G channels per group, kH, kW = kernel size, Ho, Wo = output size, K = Cg*kH*kW taps per output,
// P = output positions in the current band of output rows.
import type { Conv2dAttrs } from '../../../ops/attrs.js';
import type { CpuKernel, CpuTensor, NumArray } from '../types.js';

/** Largest im2col buffer, in elements (bands of output rows keep it under this). */
const COLS_LIMIT = 1 << 20;

interface Geometry {
  N: number; C: number; H: number; W: number; O: number; Cg: number; Og: number; kH: number; kW: number;
  Ho: number; Wo: number; sH: number; sW: number; pT: number; pL: number; dH: number; dW: number; G: number;
  /** For kernel column kw: output columns [owLo, owHi) read an input column inside [0, W). */
  owLo: Int32Array; owHi: Int32Array;
}

/** x [N, C, H, W], w [O, Cg, kH, kW], optional bias [O] -> out [N, O, Ho, Wo]. */
export const conv2d: CpuKernel<Conv2dAttrs> = ([out], [x, w, b], { stride, padding, dilation, groups }) => {
  const [N, C, H, W] = x!.shape as [number, number, number, number];
  const [O, Cg, kH, kW] = w!.shape as [number, number, number, number];
  const Ho = out!.shape[2]!, Wo = out!.shape[3]!;
  const [sH, sW] = stride, [pT, pL] = padding, [dH, dW] = dilation;
  const owLo = new Int32Array(kW), owHi = new Int32Array(kW);
  for (let kw = 0; kw < kW; kw++) {
    const shift = kw * dW - pL; // input column read by output column 0
    owLo[kw] = Math.min(Wo, Math.max(0, Math.ceil(-shift / sW)));
    owHi[kw] = Math.max(owLo[kw]!, Math.min(Wo, Math.floor((W - 1 - shift) / sW) + 1));
  }
  const geo: Geometry = { N, C, H, W, O, Cg, Og: O / groups, kH, kW, Ho, Wo, sH, sW, pT, pL, dH, dW, G: groups, owLo, owHi };
  if (Cg === 1 && geo.Og < 4) direct(out!.data, x!, w!, b, geo);
  else im2col(out!.data, x!, w!, b, geo);
};

/** Direct: per output plane, each weight tap adds w * (an input row) to a float64 accumulator row. */
function direct(od: NumArray, x: CpuTensor, w: CpuTensor, b: CpuTensor | undefined, g: Geometry): void {
  const { N, C, H, W, O, Cg, Og, kH, kW, Ho, Wo, sH, sW, pT, pL, dH, dW, owLo, owHi } = g;
  const xd = x.data, wd = w.data;
  const plane = Ho * Wo;
  const acc = new Float64Array(plane);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      acc.fill(b ? b.data[b.offset + o]! : 0);
      for (let ci = 0; ci < Cg; ci++) {
        const xPlane = x.offset + (n * C + Math.floor(o / Og) * Cg + ci) * H * W;
        const taps = w.offset + (o * Cg + ci) * kH * kW;
        for (let kh = 0; kh < kH; kh++) {
          for (let kw = 0; kw < kW; kw++) {
            const lo = owLo[kw]!, hi = owHi[kw]!;
            const wv = wd[taps + kh * kW + kw]!;
            const col0 = lo * sW + kw * dW - pL;
            for (let oh = 0; oh < Ho; oh++) {
              const ih = oh * sH + kh * dH - pT;
              if (ih < 0 || ih >= H) continue;
              let p = xPlane + ih * W + col0;
              const end = oh * Wo + hi;
              for (let q = oh * Wo + lo; q < end; q++, p += sW) acc[q] += wv * xd[p]!;
            }
          }
        }
      }
      const base = (n * O + o) * plane;
      for (let q = 0; q < plane; q++) od[base + q] = acc[q]!;
    }
  }
}

/**
 * im2col: for each image, group and band of output rows, unroll the input patches into cols [P, K], then
 * out[o, p] = bias[o] + dot(w[o, :], cols[p, :]), four output channels per pass, summed in float64.
 */
function im2col(od: NumArray, x: CpuTensor, w: CpuTensor, b: CpuTensor | undefined, g: Geometry): void {
  const { N, C, H, W, O, Cg, Og, kH, kW, Ho, Wo, sH, sW, pT, pL, dH, dW, G, owLo, owHi } = g;
  const K = Cg * kH * kW;
  const xd = x.data, wd = w.data, wo = w.offset;
  const bias = (o: number) => (b ? b.data[b.offset + o]! : 0);
  const band = Math.max(1, Math.min(Ho, Math.floor(COLS_LIMIT / Math.max(1, K * Wo))));
  const cols = new Float32Array(K * band * Wo);
  const plane = Ho * Wo;
  for (let n = 0; n < N; n++) {
    for (let grp = 0; grp < G; grp++) {
      for (let oh0 = 0; oh0 < Ho; oh0 += band) {
        const rows = Math.min(band, Ho - oh0);
        const P = rows * Wo;
        // cols[p, k] = x[n, grp*Cg + ci, ih, iw] (0 in the padding), p = r*Wo + ow, k = (ci*kH + kh)*kW + kw
        for (let ci = 0; ci < Cg; ci++) {
          const xPlane = x.offset + (n * C + grp * Cg + ci) * H * W;
          for (let kh = 0; kh < kH; kh++) {
            for (let kw = 0; kw < kW; kw++) {
              const k = (ci * kH + kh) * kW + kw;
              const lo = owLo[kw]!, hi = owHi[kw]!;
              for (let r = 0; r < rows; r++) {
                const ih = (oh0 + r) * sH + kh * dH - pT;
                const q0 = r * Wo * K + k;
                if (ih < 0 || ih >= H) { for (let ow = 0; ow < Wo; ow++) cols[q0 + ow * K] = 0; continue; }
                for (let ow = 0; ow < lo; ow++) cols[q0 + ow * K] = 0;
                let p = xPlane + ih * W + lo * sW + kw * dW - pL;
                for (let ow = lo; ow < hi; ow++, p += sW) cols[q0 + ow * K] = xd[p]!;
                for (let ow = hi; ow < Wo; ow++) cols[q0 + ow * K] = 0;
              }
            }
          }
        }
        const outBase = (n * O + grp * Og) * plane + oh0 * Wo;
        let o0 = 0;
        for (; o0 + 4 <= Og; o0 += 4) {
          const o = grp * Og + o0;
          const w0 = wo + o * K, w1 = w0 + K, w2 = w1 + K, w3 = w2 + K;
          const b0 = bias(o), b1 = bias(o + 1), b2 = bias(o + 2), b3 = bias(o + 3);
          for (let p = 0; p < P; p++) {
            let s0 = b0, s1 = b1, s2 = b2, s3 = b3;
            const c0 = p * K;
            for (let k = 0; k < K; k++) {
              const v = cols[c0 + k]!;
              s0 += wd[w0 + k]! * v;
              s1 += wd[w1 + k]! * v;
              s2 += wd[w2 + k]! * v;
              s3 += wd[w3 + k]! * v;
            }
            const dst = outBase + o0 * plane + p;
            od[dst] = s0;
            od[dst + plane] = s1;
            od[dst + 2 * plane] = s2;
            od[dst + 3 * plane] = s3;
          }
        }
        for (; o0 < Og; o0++) {
          const o = grp * Og + o0;
          const w0 = wo + o * K;
          const b0 = bias(o);
          for (let p = 0; p < P; p++) {
            let s0 = b0;
            const c0 = p * K;
            for (let k = 0; k < K; k++) s0 += wd[w0 + k]! * cols[c0 + k]!;
            od[outBase + o0 * plane + p] = s0;
          }
        }
      }
    }
  }
}
