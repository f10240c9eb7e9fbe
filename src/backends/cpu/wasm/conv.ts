// conv2d on the Wasm GEMM: per image and group, out [Og, P] = W [Og, K] · cols [K, P], with the im2col columns
// written straight into the micro-kernel's 8-position panels. Reference twin: conv2d in kernels/conv.ts.
// Legend: N = batch, C = input channels, H, W = input size, O = output channels, G = groups, Cg = C/G, Og = O/G,
// kH, kW = kernel size, Ho, Wo = output size, K = Cg·kH·kW taps, P = Ho·Wo output positions, Pp = P rounded up to 8.
import type { Conv2dAttrs } from '../../../ops/attrs.js';
import type { CpuTensor, NumArray } from '../types.js';
import { NR } from './gemm-module.js';
import { batchThreads, cachedWeight, copyBlock, copyOut, gemmThreads, initRows, runPacked, runPackedEach } from './gemm.js';
import { heapF32, wasmScratch } from './memory.js';
import { im2colEach, im2colThreaded } from './im2col.js';
import { clampWasm } from './window.js';

/** Scratch for the (image, group) items a batched conv2d holds at once when they run one per task. */
const BATCH_SCRATCH_BYTES = 16 << 20;

/** Whether conv2d takes the Wasm GEMM: every lowering but the direct one (depthwise-like: one row per product). */
export function convFits(wShape: readonly number[], groups: number): boolean {
  const [O, Cg] = wShape as [number, number];
  return !(Cg === 1 && O / groups < 4);
}

/**
 * Threads conv2d on x [N, C, H, W], w [O, Cg, kH, kW] splits across: each image's GEMM (W [O/G, K] · cols [K, Ho·Wo])
 * split, else (each too small) its N·G images and groups one per task.
 */
export function convThreads(xShape: readonly number[], wShape: readonly number[], attrs: Conv2dAttrs): number {
  const [N, , H, W] = xShape as [number, number, number, number], [O, Cg, kH, kW] = wShape as [number, number, number, number];
  const { stride: [sH, sW], padding: [pT, pL, pB, pR], dilation: [dH, dW], groups } = attrs;
  const Ho = Math.floor((H + pT + pB - dH * (kH - 1) - 1) / sH) + 1, Wo = Math.floor((W + pL + pR - dW * (kW - 1) - 1) / sW) + 1;
  const M = O / groups, Np = Math.ceil((Ho * Wo) / NR) * NR, K = Cg * kH * kW, T = gemmThreads(M, Np, K);
  return T > 1 ? T : batchThreads(N * groups, M, Np, K);
}

interface Geo { H: number; W: number; Cg: number; kH: number; kW: number; Ho: number; Wo: number; sH: number; sW: number; pT: number; pL: number; dH: number; dW: number }

/**
 * im2col of one image's group (channels at xOff) as row-major cols [K, P] at byte `dst` (tap k = (c, kh, kw), row
 * k holds every output position's input); padding reads as 0. Each output row's valid run is a contiguous copy when
 * the stride is 1. The micro-kernel reads it in place (no panel packing: panel-order writes measured 13-70 ns an
 * element, scattered over the whole buffer).
 */
export function packCols(x: NumArray, xOff: number, g: Geo, dst: number): void {
  const h = heapF32(), { H, W, Cg, kH, kW, Ho, Wo, sH, sW, pT, pL, dH, dW } = g, P = Ho * Wo;
  let q = dst >>> 2;
  for (let c = 0; c < Cg; c++) {
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++, q += P) {
        const shift = kw * dW - pL;
        const lo = Math.min(Wo, Math.max(0, Math.ceil(-shift / sW))), hi = Math.max(lo, Math.min(Wo, Math.floor((W - 1 - shift) / sW) + 1));
        for (let ho = 0; ho < Ho; ho++) {
          const ih = ho * sH + kh * dH - pT, r = q + ho * Wo;
          if (ih < 0 || ih >= H) { h.fill(0, r, r + Wo); continue; }
          if (lo > 0) h.fill(0, r, r + lo);
          if (hi < Wo) h.fill(0, r + hi, r + Wo);
          const src = xOff + (c * H + ih) * W + shift;
          if (sW === 1) for (let wo = lo; wo < hi; wo++) h[r + wo] = x[src + wo]!;
          else for (let wo = lo; wo < hi; wo++) h[r + wo] = x[src + wo * sW]!;
        }
      }
    }
  }
}

let useWasmIm2col = true;
/** Tests: route convs through the JavaScript packCols (false) to compare the two im2cols. */
export function setWasmIm2col(on: boolean): void {
  useWasmIm2col = on;
}

/** x [N, C, H, W], w [O, Cg, kH, kW] (storage `wKey`), optional bias [O] -> out [N, O, Ho, Wo], all contiguous. */
export function conv2dWasm(out: CpuTensor, x: CpuTensor, w: CpuTensor, wKey: object, b: CpuTensor | undefined, attrs: Conv2dAttrs): void {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Cg, kH, kW] = w.shape as [number, number, number, number];
  const Ho = out.shape[2]!, Wo = out.shape[3]!, G = attrs.groups, Og = O / G;
  const [sH, sW] = attrs.stride, [pT, pL] = attrs.padding, [dH, dW] = attrs.dilation, clamp = attrs.clamp;
  const geo: Geo = { H, W, Cg, kH, kW, Ho, Wo, sH, sW, pT, pL, dH, dW };
  const K = Cg * kH * kW, P = Ho * Wo, Pp = Math.ceil(P / NR) * NR;
  if (N === 0 || O === 0 || P === 0) return;
  const wp = cachedWeight(wKey, 'rows', w.data, w.offset, O, K);
  const pointwise = kH === 1 && kW === 1 && sH === 1 && sW === 1 && pT === 0 && pL === 0 && Ho === H && Wo === W;
  const inWasm = !pointwise && useWasmIm2col; // im2col in Wasm (packCols: the tests' reference)
  const img = inWasm ? Math.ceil((Cg * H * W * 4) / 64) * 64 : 0, colBytes = K * P * 4 + 64, itemBytes = img + colBytes + Og * Pp * 4;
  // Items are (image, group) pairs. One at a time, each product split across threads when big enough (gemmThreads);
  // or, when each is too small to split but the batch is not, `per` items at once, one item per task.
  const items = N * G, threads = gemmThreads(Og, Pp, K);
  const per = batchThreads(items, Og, Pp, K) > 1 ? Math.max(2, Math.min(items, Math.floor(BATCH_SCRATCH_BYTES / itemBytes))) : 1;
  const s = wasmScratch(per * itemBytes);
  // instantiate the clamp's module now: its first use shares it with the worker pool, which must not be busy then
  if (clamp) clampWasm(s, 0, 0, 0);
  const image = (j: number) => s + j * itemBytes, cols = (j: number) => image(j) + img, cOf = (j: number) => cols(j) + colBytes;
  const group = (i: number) => i % G, xOff = (i: number) => x.offset + (Math.floor(i / G) * C + group(i) * Cg) * H * W;
  for (let i0 = 0; i0 < items; i0 += per) {
    const m = Math.min(per, items - i0);
    for (let j = 0; j < m; j++) {
      const xo = xOff(i0 + j);
      if (pointwise) heapF32().set(x.data.subarray(xo, xo + K * P), cols(j) >>> 2); // 1x1: the image is cols already
      else if (inWasm) heapF32().set(x.data.subarray(xo, xo + Cg * H * W), image(j) >>> 2);
      else packCols(x.data, xo, geo, cols(j));
      initRows(Og, Pp, cOf(j), b ? b.data : null, (b ? b.offset : 0) + group(i0 + j) * Og);
    }
    // C goes out of Wasm memory block by block (or item by item) on this thread as the threads finish them
    const oOff = (i: number) => (Math.floor(i / G) * O + group(i) * Og) * P;
    // the fused activation (attrs.clamp) on C's rows m0..m1, columns j0..j1 (multiples of 8) while they are in Wasm memory
    const act = (c: number, m0: number, m1: number, j0: number, j1: number) => {
      if (!clamp) return;
      if (j0 === 0 && j1 === Pp) { clampWasm(c + m0 * Pp * 4, (m1 - m0) * Pp, clamp[0], clamp[1]); return; }
      for (let r = m0; r < m1; r++) clampWasm(c + (r * Pp + j0) * 4, j1 - j0, clamp[0], clamp[1]);
    };
    if (m === 1) {
      if (inWasm) im2colThreaded(threads, image(0), cols(0), Cg, H, W, kH, kW, Ho, Wo, sH, sW, pT, pL, dH, dW); // split when the product is
      runPacked(Og, Pp, K, wp + group(i0) * Og * K * 4, cols(0), cOf(0), false, P, 0, (m0, m1, j0, j1) => {
        act(cOf(0), m0, m1, j0, j1);
        copyBlock(Pp, P, cOf(0), out.data, oOff(i0), m0, m1, j0, j1);
      });
    } else {
      if (inWasm) im2colEach(m, image, cols, Cg, H, W, kH, kW, Ho, Wo, sH, sW, pT, pL, dH, dW);
      runPackedEach(m, Og, Pp, K, (j) => [wp + group(i0 + j) * Og * K * 4, cols(j), cOf(j)], P, (j) => {
        act(cOf(j), 0, Og, 0, Pp);
        copyOut(Og, P, Pp, cOf(j), out.data, oOff(i0 + j), 'none');
      });
    }
  }
}
