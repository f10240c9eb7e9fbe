// CPU 2-D convolution with stride, asymmetric padding, dilation and groups, in three lowerings: Winograd F(2x2, 3x3)
// (3x3 stride-1 convs), im2col (general case), both on matmul.ts's register-tiled product, and direct row-wise
// multiply-adds (depthwise-like: one input channel per group).
// Legend: N = batch, C = input channels, H, W = input size, O = output channels, G = groups, Cg = C/G and
// Og = O/G channels per group, kH, kW = kernel size, Ho, Wo = output size, K = Cg*kH*kW taps per output,
// P = output positions in a band of output rows, T = 2x2 output tiles in a band of tile rows (Winograd).
import type { Conv2dAttrs } from '../../../ops/attrs.js';
import type { CpuKernel, CpuTensor, NumArray } from '../types.js';
import { matmulTiled } from './matmul.js';

/**
 * Largest im2col band, in elements: bands of output rows keep it under this, so that the product's passes over it
 * (one per 4 output channels) read it from L2 (256 KiB measured faster than 1-4 MiB bands).
 */
const COLS_LIMIT = 1 << 16;

interface Geometry {
  N: number; C: number; H: number; W: number; O: number; Cg: number; Og: number; kH: number; kW: number;
  Ho: number; Wo: number; sH: number; sW: number; pT: number; pL: number; dH: number; dW: number; G: number;
  /** For kernel column kw: output columns [owLo, owHi) read an input column inside [0, W). */
  owLo: Int32Array; owHi: Int32Array;
}

/** x [N, C, H, W], w [O, Cg, kH, kW], optional bias [O] -> out [N, O, Ho, Wo]. */
export const conv2d: CpuKernel<Conv2dAttrs> = ([out], [x, w, b], { stride, padding, dilation, groups, clamp }) => {
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
  const how = lowering(geo);
  if (how === 'direct') direct(out!.data, x!, w!, b, geo);
  else if (how === 'winograd') {
    winograd(out!.data, x!, w!, b, geo);
    // Winograd's transforms mix a tile's 4x4 inputs, so one NaN or ±inf input (or weight) makes the whole 2x2 output
    // tile NaN (inf - inf), where the direct sum (and PyTorch) keeps NaN to the outputs that read it and ±inf as is.
    // Such a conv is redone by im2col: one pass over the output costs far less than the conv.
    if (!allFinite(out!.data)) im2col(out!.data, x!, w!, b, geo);
  } else im2col(out!.data, x!, w!, b, geo);
  if (clamp) clampInPlace(out!.data, clamp[0], clamp[1]);
};

/** The fused activation (attrs.clamp): clamp's reference on every output, NaN kept (x < lo and x > hi are false). */
export function clampInPlace(a: NumArray, lo: number, hi: number): void {
  for (let i = 0; i < a.length; i++) { const v = a[i]!; a[i] = v < lo ? lo : v > hi ? hi : v; }
}

type Lowering = 'direct' | 'winograd' | 'im2col';

/** Whether every value is finite (v - v is 0 for finite v, NaN for ±inf and NaN). */
function allFinite(a: NumArray): boolean {
  for (let i = 0; i < a.length; i++) if (a[i]! - a[i]! !== 0) return false;
  return true;
}

function lowering(g: Pick<Geometry, 'Cg' | 'Og' | 'kH' | 'kW' | 'sH' | 'sW' | 'dH' | 'dW'>): Lowering {
  if (g.Cg === 1 && g.Og < 4) return 'direct';
  return winogradFits(g) ? 'winograd' : 'im2col';
}

/**
 * Which lowering conv2d takes for weights [O, Cg, kH, kW] (the CPU backend reports it as the kernel variant).
 * @example conv2dLowering([32, 16, 3, 3], { stride: [1, 1], dilation: [1, 1], groups: 1 }) // 'winograd'
 */
export function conv2dLowering(wShape: readonly number[], attrs: Pick<Conv2dAttrs, 'stride' | 'dilation' | 'groups'>): Lowering {
  const [O, Cg, kH, kW] = wShape as [number, number, number, number];
  return lowering({ Cg, Og: O / attrs.groups, kH, kW, sH: attrs.stride[0], sW: attrs.stride[1], dH: attrs.dilation[0], dW: attrs.dilation[1] });
}

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

/** im2col scratch, reused across calls (kernels run one at a time); grows up to COLS_LIMIT elements. */
let colsScratch = new Float32Array(0);

/**
 * im2col: for each image, group and band of output rows, unroll the input patches into cols [K, P] (each row one
 * tap over the band's positions, contiguous), then out[o, p] = w[o, :] · cols[:, p] by matmul.ts's register-tiled
 * product, written straight into the output plane (row stride Ho·Wo), and the bias added in the same band.
 * A 1x1, stride-1, unpadded conv needs no unrolling: x's channel planes already are cols [Cg, Ho·Wo].
 */
function im2col(od: NumArray, x: CpuTensor, w: CpuTensor, b: CpuTensor | undefined, g: Geometry): void {
  const { N, C, H, W, O, Cg, Og, kH, kW, Ho, Wo, sH, sW, pT, pL, dH, dW, G, owLo, owHi } = g;
  const K = Cg * kH * kW;
  const xd = x.data, wd = w.data;
  const plane = Ho * Wo;
  const pointwise = kH === 1 && kW === 1 && sH === 1 && sW === 1 && pT === 0 && pL === 0 && Ho === H && Wo === W;
  const band = pointwise ? Ho : Math.max(1, Math.min(Ho, Math.floor(COLS_LIMIT / (K * Wo))));
  if (!pointwise && colsScratch.length < K * band * Wo) colsScratch = new Float32Array(K * band * Wo);
  const cols = colsScratch;
  for (let n = 0; n < N; n++) {
    for (let grp = 0; grp < G; grp++) {
      const xGroup = x.offset + (n * C + grp * Cg) * H * W;
      const wGroup = w.offset + grp * Og * K;
      for (let oh0 = 0; oh0 < Ho; oh0 += band) {
        const rows = Math.min(band, Ho - oh0);
        const P = rows * Wo;
        const outBase = (n * O + grp * Og) * plane + oh0 * Wo;
        if (pointwise) {
          matmulTiled(Og, P, K, wd, wGroup, xd, xGroup, false, od, outBase, plane);
        } else {
          // cols[k, p] = x[n, grp*Cg + ci, ih, iw] (0 in the padding), k = (ci*kH + kh)*kW + kw, p = r*Wo + ow
          for (let ci = 0; ci < Cg; ci++) {
            const xPlane = xGroup + ci * H * W;
            for (let kh = 0; kh < kH; kh++) {
              for (let kw = 0; kw < kW; kw++) {
                const row = ((ci * kH + kh) * kW + kw) * P;
                const lo = owLo[kw]!, hi = owHi[kw]!;
                for (let r = 0; r < rows; r++) {
                  const ih = (oh0 + r) * sH + kh * dH - pT;
                  const q0 = row + r * Wo;
                  if (ih < 0 || ih >= H) { cols.fill(0, q0, q0 + Wo); continue; }
                  for (let ow = 0; ow < lo; ow++) cols[q0 + ow] = 0;
                  let p = xPlane + ih * W + lo * sW + kw * dW - pL;
                  if (sW === 1) for (let q = q0 + lo, end = q0 + hi; q < end; q++, p++) cols[q] = xd[p]!;
                  else for (let q = q0 + lo, end = q0 + hi; q < end; q++, p += sW) cols[q] = xd[p]!;
                  for (let ow = hi; ow < Wo; ow++) cols[q0 + ow] = 0;
                }
              }
            }
          }
          matmulTiled(Og, P, K, wd, wGroup, cols, 0, false, od, outBase, plane);
        }
        if (b) {
          for (let j = 0; j < Og; j++) {
            const bv = b.data[b.offset + grp * Og + j]!;
            for (let q = outBase + j * plane, end = q + P; q < end; q++) od[q] += bv;
          }
        }
      }
    }
  }
}

// ---- Winograd F(2x2, 3x3): 3x3, stride-1, undilated convs with enough channels (winogradFits) ----
// Each 2x2 output tile comes from a 4x4 input tile d: Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A, so per tile and channel pair
// 16 multiplies replace 36. Over all tiles the ⊙ becomes 16 products U[ξ] [Og, Cg] · V[ξ] [Cg, T] (ξ = one of the
// 4x4 positions, T = tiles in the band), run by the same register-tiled product as im2col.

/** Winograd scratch (transformed weights U, inputs V, products M), reused across calls. */
let wU = new Float32Array(0), wV = new Float32Array(0), wM = new Float32Array(0);
/** Elements of V or M per band: bands of tile rows keep each under this. */
const WINO_LIMIT = 1 << 17;
let padRows = new Float64Array(0);

/**
 * Whether the Winograd path takes this conv: 3x3, stride 1, dilation 1, and products big enough for the transforms
 * to pay (measured: ahead of im2col from 4 channels in and out per group, Cg·Og >= 32).
 */
function winogradFits(g: Pick<Geometry, 'Cg' | 'Og' | 'kH' | 'kW' | 'sH' | 'sW' | 'dH' | 'dW'>): boolean {
  const { kH, kW, sH, sW, dH, dW, Cg, Og } = g;
  return kH === 3 && kW === 3 && sH === 1 && sW === 1 && dH === 1 && dW === 1 && Cg >= 4 && Og >= 4 && Cg * Og >= 32;
}

/** U[ξ, o, ci] = (G g Gᵀ)[ξ] for each 3x3 filter g = w[o, ci], G = [[1,0,0],[½,½,½],[½,-½,½],[0,0,1]]. */
function transformWeights(w: CpuTensor, O: number, Cg: number): Float32Array {
  const n = O * Cg;
  if (wU.length < 16 * n) wU = new Float32Array(16 * n);
  const U = wU, wd = w.data;
  const u = new Float64Array(12);
  for (let f = 0; f < n; f++) {
    const p = w.offset + f * 9;
    for (let c = 0; c < 3; c++) { // G g: rows of the 4x3 intermediate u
      const g0 = wd[p + c]!, g1 = wd[p + 3 + c]!, g2 = wd[p + 6 + c]!;
      u[c] = g0; u[3 + c] = (g0 + g1 + g2) / 2; u[6 + c] = (g0 - g1 + g2) / 2; u[9 + c] = g2;
    }
    for (let r = 0; r < 4; r++) { // (G g) Gᵀ
      const a = u[3 * r]!, b = u[3 * r + 1]!, c = u[3 * r + 2]!, q = 4 * r * n + f;
      U[q] = a; U[q + n] = (a + b + c) / 2; U[q + 2 * n] = (a - b + c) / 2; U[q + 3 * n] = c;
    }
  }
  return U;
}

/** Winograd lowering: per image, group and band of tile rows: V = Bᵀ d B, 16 products, Y = Aᵀ M A + bias. */
function winograd(od: NumArray, x: CpuTensor, w: CpuTensor, b: CpuTensor | undefined, g: Geometry): void {
  const { N, C, H, W, O, Cg, Og, Ho, Wo, pT, pL, G } = g;
  const th = (Ho + 1) >> 1, tw = (Wo + 1) >> 1, Wp = 2 * tw + 2, plane = Ho * Wo;
  const U = transformWeights(w, O, Cg);
  const bandT = Math.max(1, Math.min(th, Math.floor(WINO_LIMIT / (16 * Math.max(Cg, Og) * tw))));
  const cap = 16 * Math.max(Cg, Og) * bandT * tw;
  if (wV.length < cap) { wV = new Float32Array(cap); wM = new Float32Array(cap); }
  if (padRows.length < 4 * Wp) padRows = new Float64Array(4 * Wp);
  const V = wV, Mb = wM, rowsBuf = padRows, xd = x.data;
  for (let n = 0; n < N; n++) {
    for (let grp = 0; grp < G; grp++) {
      const xGroup = x.offset + (n * C + grp * Cg) * H * W;
      for (let ty0 = 0; ty0 < th; ty0 += bandT) {
        const T = Math.min(bandT, th - ty0) * tw;
        const vs = Cg * T; // V[ξ, ci, t] at ξ·vs + ci·T + t
        for (let ci = 0; ci < Cg; ci++) {
          const xPlane = xGroup + ci * H * W;
          for (let ty = ty0, t = ci * T; ty < ty0 + T / tw; ty++) {
            // the tile row's 4 input rows, zero-padded: rowsBuf[r·Wp + c] = x[2ty - pT + r, c - pL]
            for (let r = 0; r < 4; r++) {
              const ih = 2 * ty - pT + r, q0 = r * Wp;
              if (ih < 0 || ih >= H) { rowsBuf.fill(0, q0, q0 + Wp); continue; }
              const src = xPlane + ih * W - pL;
              for (let c = 0; c < Wp; c++) { const iw = c - pL; rowsBuf[q0 + c] = iw >= 0 && iw < W ? xd[src + c]! : 0; }
            }
            for (let tx = 0, c = 0; tx < tw; tx++, t++, c += 2) {
              for (let j = 0; j < 4; j++) { // Bᵀ d down each column j, then d B across the rows
                const d0 = rowsBuf[c + j]!, d1 = rowsBuf[Wp + c + j]!, d2 = rowsBuf[2 * Wp + c + j]!, d3 = rowsBuf[3 * Wp + c + j]!;
                tcol[j] = d0 - d2; tcol[4 + j] = d1 + d2; tcol[8 + j] = d2 - d1; tcol[12 + j] = d1 - d3;
              }
              for (let i = 0; i < 4; i++) {
                const a = tcol[4 * i]!, bb = tcol[4 * i + 1]!, cc = tcol[4 * i + 2]!, dd = tcol[4 * i + 3]!, q = 4 * i * vs + t;
                V[q] = a - cc; V[q + vs] = bb + cc; V[q + 2 * vs] = cc - bb; V[q + 3 * vs] = bb - dd;
              }
            }
          }
        }
        const ms = Og * T; // M[ξ, o, t] at ξ·ms + o·T + t
        for (let xi = 0; xi < 16; xi++) matmulTiled(Og, T, Cg, U, xi * O * Cg + grp * Og * Cg, V, xi * vs, false, Mb, xi * ms);
        for (let o = 0; o < Og; o++) {
          const bv = b ? b.data[b.offset + grp * Og + o]! : 0;
          const outPlane = (n * O + grp * Og + o) * plane;
          for (let ty = ty0, t = o * T; ty < ty0 + T / tw; ty++) {
            const oh = 2 * ty, two = oh + 1 < Ho;
            for (let tx = 0; tx < tw; tx++, t++) {
              for (let j = 0; j < 4; j++) { // Aᵀ m down each column, Aᵀ = [[1,1,1,0],[0,1,-1,-1]]
                const m0 = Mb[j * ms + t]!, m1 = Mb[(4 + j) * ms + t]!, m2 = Mb[(8 + j) * ms + t]!, m3 = Mb[(12 + j) * ms + t]!;
                tcol[j] = m0 + m1 + m2; tcol[4 + j] = m1 - m2 - m3;
              }
              const ow = 2 * tx, q = outPlane + oh * Wo + ow, wide = ow + 1 < Wo;
              od[q] = tcol[0]! + tcol[1]! + tcol[2]! + bv;
              if (wide) od[q + 1] = tcol[1]! - tcol[2]! - tcol[3]! + bv;
              if (two) {
                od[q + Wo] = tcol[4]! + tcol[5]! + tcol[6]! + bv;
                if (wide) od[q + Wo + 1] = tcol[5]! - tcol[6]! - tcol[7]! + bv;
              }
            }
          }
        }
      }
    }
  }
}

/** 4x4 intermediate of the tile transforms. */
const tcol = new Float64Array(16);
