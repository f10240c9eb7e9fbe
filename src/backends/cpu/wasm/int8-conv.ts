// conv2dInt8 on Wasm SIMD (int8 input, one scale per image): the output channels are the GEMM's rows and the output
// positions its columns, so the product lands in NCHW order and the per-channel rescale is a per-row one.
// Reference twin: conv2dInt8 in kernels/int8.ts (its int8-input path). Legend: N = batch, C, H, W = input,
// O = out channels, G = groups, Cg = C / G, Og = O / G, kH, kW = kernel, K = Cg·kH·kW (attrs.k), K2 = K rounded up
// to even, Kp = wq's padded row length, Ho, Wo = output size, P = output positions in a band, Pp = P rounded up to 8.
//   A: the weights widened to int16 [O, K2] once per weight (cached like int8.ts's panels), so the dot loop splats
//      a channel's k pair with one v128.load32_splat;
//   B: im2col written straight into int8.ts's packed panel layout (8 positions per panel, per k pair 16 bytes:
//      x(p0,k) x(p0,k+1) x(p1,k) .. x(p7,k+1)), so no separate packing pass and the panels stay int8;
//   C: f32 [Og, Pp], rescaled in the tile as the twin: f64(Σ) · (sx · ws[o]) + bias[o] (sx · ws[o] computed here in
//      float64 exactly as the twin does, then passed per row), one rounding to f32; then copied row by row to y.
// Exact int32 sums (K <= INT8_MAX_K) and the same float64 expression make the output the twin's bit for bit, for
// any thread split. Float x (the twin's weight-only path, float sums whose order matters) stays on the twin.
// Measured (bench/int8-conv.ts, cnn-mnist at precision int8, batch 64, 1 thread, load ~7 on 2 cores): the two
// conv2dInt8 calls per run take 4.2 ms against the twin's 46 ms; about half is the im2col, half the product.
// Threads: the product of each image splits across threads (panels); the im2col runs on the calling thread.
import type { Int8OpAttrs } from '../../../ops/attrs.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { CpuTensor } from '../types.js';
import { cachedPack, INT8_MAX_K, INT8_MR, INT8_NR, int8Threads, runInt8 } from './int8.js';
import { I32, type Local, ModuleBuilder } from './assembler.js';
import { heapF32, wasmMemory, wasmScratch } from './memory.js';

type Attrs = Int8OpAttrs['conv2dInt8'];

/** Largest im2col panel buffer in bytes: bands of output rows keep B under this (and in L2 for small layers). */
let PANEL_LIMIT = 1 << 21;
/** Tests: bound the panels at `bytes` (small values force one output row per band), or back to the default. */
export function setInt8ConvPanelLimit(bytes = 1 << 21): void { PANEL_LIMIT = bytes; }
/** Largest f32 product tile C in bytes (a few output channels over a large image would otherwise make it huge). */
const C_LIMIT = 1 << 23;

/**
 * `tap(src, pOff, kOff, rows, Wo, lo, hi, ih0, sH, H, W, sW)`: one kernel tap k (a channel, kh, kw) of im2col into
 * the packed panels: for each output row r whose input row ih = ih0 + r·sH is inside [0, H), the positions
 * p = r·Wo + ow, ow in [lo, hi), get x at src + ih·W + ow·sW (src: the channel plane plus the tap's column shift),
 * stored at byte pOff[p] + kOff (pOff: an i32 table of each position's panel offset). Everything else stays the
 * zero the caller filled. Byte by byte in Wasm: the same loop in JS (typed-array bounds checks on each element)
 * measured about 4x the time of the whole int8 product at batch 64 of cnn-mnist.
 */
function tapModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  m.func('tap', Array(12).fill(I32), [], (f, ...a) => {
    const [src, pOff, kOff, rows, Wo, lo, hi, ih0, sH, H, W, sW] = a as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
    const r = f.local(I32), ih = f.local(I32), s = f.local(I32), p = f.local(I32), q = f.local(I32);
    f.forRange(r, () => f.i32(0), () => f.get(rows), 1, () => {
      f.get(ih0).get(r).get(sH).op('i32.mul').op('i32.add').set(ih);
      f.get(ih).get(H).op('i32.lt_u').if(() => { // unsigned: a negative ih (top padding) is out too
        f.get(src).get(ih).get(W).op('i32.mul').op('i32.add').get(lo).get(sW).op('i32.mul').op('i32.add').set(s);
        f.get(pOff).get(r).get(Wo).op('i32.mul').get(lo).op('i32.add').i32(2).op('i32.shl').op('i32.add').set(q);
        f.forRange(p, () => f.get(lo), () => f.get(hi), 1, () => {
          f.get(q).mem('i32.load').get(kOff).op('i32.add');
          f.get(s).mem('i32.load8_s').mem('i32.store8');
          f.get(s).get(sW).op('i32.add').set(s);
          f.get(q).i32(4).op('i32.add').set(q);
        });
      });
    });
  });
  return m.emit();
}

type Tap = (src: number, pOff: number, kOff: number, rows: number, Wo: number, lo: number, hi: number, ih0: number, sH: number, H: number, W: number, sW: number) => void;
let tapFn: Tap | null = null;
const tap = (): Tap => (tapFn ??= new WebAssembly.Instance(new WebAssembly.Module(tapModuleBytes()), { env: { memory: wasmMemory() } }).exports.tap as Tap);

/** The im2col module's bytes (for validation tests). */
export { tapModuleBytes };

/** Output size of the conv (as ops/quant.ts computes it). */
function outSize(H: number, W: number, a: Attrs): [number, number] {
  const { kernel: [kH, kW], stride: [sH, sW], padding: [pT, pL, pB, pR], dilation: [dH, dW] } = a;
  return [Math.floor((H + pT + pB - dH * (kH - 1) - 1) / sH) + 1, Math.floor((W + pL + pR - dW * (kW - 1) - 1) / sW) + 1];
}

/** Output rows per band and the threads the first band's product splits across. */
function plan(x: readonly number[], O: number, a: Attrs): { Ho: number; Wo: number; band: number; threads: number } {
  const [Ho, Wo] = outSize(x[2]!, x[3]!, a);
  // a band's panels hold band·Wo positions of K2 bytes, its C tile Og·band·Wo floats: both bounded
  const K2 = a.k + (a.k & 1), Wp = Math.ceil(Wo / INT8_NR) * INT8_NR, Og = O / a.groups;
  const band = Math.max(1, Math.min(Ho, Math.floor(PANEL_LIMIT / (Wp * K2)), Math.floor(C_LIMIT / (Wp * Og * 4))));
  const Pp = Math.ceil((band * Wo) / INT8_NR) * INT8_NR;
  return { Ho, Wo, band, threads: int8Threads(O / a.groups, Pp, a.k) };
}

/** The trace variant of conv2dInt8 on these inputs, or '' when the twin runs (float x, K too long, nothing to do). */
export function conv2dInt8Variant(inputs: readonly Tensor[], a: Attrs): string {
  const x = inputs[0]!, wq = inputs[2]!;
  if (x.dtype !== 'int8' || wq.dtype !== 'int8' || a.k > INT8_MAX_K || x.size === 0 || wq.shape[0] === 0) return '';
  const T = plan(x.shape, wq.shape[0]!, a).threads;
  return `conv2dInt8-wasm-simd-dot-${INT8_MR}x${INT8_NR}${T > 1 ? `-threads${T}` : ''}`;
}

/** The int16 copy of wq [O, Kp] (first K columns, a zero column when K is odd): rows of K2, cached per storage `key`. */
function widenedWeights(key: object, wq: CpuTensor, O: number, K: number, K2: number, Kp: number): number {
  const bytes = O * K2 * 2;
  return cachedPack(key, `conv16:${wq.offset}:${O}:${K}:${Kp}`, null, bytes, (ptr) => {
    const h = new Int16Array(wasmMemory().buffer, ptr, O * K2), w = wq.data as Int8Array;
    for (let o = 0; o < O; o++) {
      for (let k = 0; k < K2; k++) h[o * K2 + k] = k < K ? w[wq.offset + o * Kp + k]! : 0;
    }
  });
}

/** y [N, O, Ho, Wo] = conv2dInt8(x int8 [N, C, H, W], xs [N, 1], wq [O, Kp], ws [O, 1], bias? [O]), as the twin. */
export function conv2dInt8Wasm(y: CpuTensor, [x, xs, wq, ws, bias]: readonly (CpuTensor | undefined)[], wKey: object, a: Attrs): void {
  const [N, C, H, W] = x!.shape as [number, number, number, number];
  const [O, Kp] = wq!.shape as [number, number];
  const { groups: G, kernel: [kH, kW], stride: [sH, sW], padding: [pT, pL], dilation: [dH, dW], k: K } = a;
  const Cg = C / G, Og = O / G, K2 = K + (K & 1);
  const { Ho, Wo, band } = plan(x!.shape, O, a), plane = Ho * Wo;
  const A = widenedWeights(wKey, wq!, O, K, K2, Kp);
  // scratch: B panels [Pp·K2] int8, C f32 [Og, Pp], row scales and biases f64 [O] each stored twice (16 bytes a row)
  const PpMax = Math.ceil((band * Wo) / INT8_NR) * INT8_NR, bBytes = PpMax * K2, cBytes = Og * PpMax * 4;
  // + one image of x (int8, rounded to 16 bytes) and the position table pOff (i32 [PpMax])
  const imBytes = Math.ceil((C * H * W) / 16) * 16;
  const s = wasmScratch(bBytes + cBytes + 2 * O * 16 + imBytes + PpMax * 4);
  const B = s, Cp = B + bBytes, pxs = Cp + cBytes, pb = pxs + O * 16, px = pb + O * 16, pt = px + imBytes;
  const im2col = tap();
  // views after every allocation (memory may have grown)
  const mem = wasmMemory().buffer, panels = new Int8Array(mem), heap = heapF32();
  const sc = new Float64Array(mem, pxs, 2 * O), bs = new Float64Array(mem, pb, 2 * O);
  for (let o = 0; o < O; o++) { const b0 = bias ? bias.data[bias.offset + o]! : 0; bs[2 * o] = b0; bs[2 * o + 1] = b0; }
  const xd = x!.data as Int8Array, od = y.data, wsd = ws!.data, wso = ws!.offset;
  // offset of (position p, k) in the panels: (p >> 3)·K2·8 + (p & 7)·2 + (k >> 1)·16 + (k & 1)
  const pOff = new Int32Array(mem, pt, PpMax);
  for (let p = 0; p < PpMax; p++) pOff[p] = B + (p >> 3) * K2 * INT8_NR + ((p & 7) << 1);
  for (let n = 0; n < N; n++) {
    const sx = xs!.data[xs!.offset + n]!;
    panels.set(xd.subarray(x!.offset + n * C * H * W, x!.offset + (n + 1) * C * H * W), px);
    for (let o = 0; o < O; o++) { const v = sx * wsd[wso + o]!; sc[2 * o] = v; sc[2 * o + 1] = v; } // the twin's sc
    for (let g = 0; g < G; g++) {
      const base = px + g * Cg * H * W;
      for (let oh0 = 0; oh0 < Ho; oh0 += band) {
        const rows = Math.min(band, Ho - oh0), P = rows * Wo, Pp = Math.ceil(P / INT8_NR) * INT8_NR;
        // im2col into the panels (zeros: padding, the odd k, positions past P), as the twin's fillCols
        panels.fill(0, B, B + Pp * K2);
        for (let ci = 0; ci < Cg; ci++) {
          const xPlane = base + ci * H * W;
          for (let kh = 0; kh < kH; kh++) {
            for (let kw = 0; kw < kW; kw++) {
              const k = (ci * kH + kh) * kW + kw, kOff = ((k >> 1) << 4) + (k & 1);
              const shift = kw * dW - pL;
              const lo = Math.min(Wo, Math.max(0, Math.ceil(-shift / sW)));
              const hi = Math.max(lo, Math.min(Wo, Math.floor((W - 1 - shift) / sW) + 1));
              im2col(xPlane + shift, pt, kOff, rows, Wo, lo, hi, oh0 * sH + kh * dH - pT, sH, H, W, sW);
            }
          }
        }
        runInt8(Og, Pp, K, A + g * Og * K2 * 2, B, Cp, K2 >> 1, K2 * 2, K2 * INT8_NR, Pp * 4, pxs + g * Og * 16, 0, pb + g * Og * 16, 'row');
        for (let j = 0; j < Og; j++) {
          const c0 = (Cp >> 2) + j * Pp;
          od.set(heap.subarray(c0, c0 + P), (n * O + g * Og + j) * plane + oh0 * Wo);
        }
      }
    }
  }
}
