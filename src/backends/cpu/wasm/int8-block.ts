// Block-scaled int8 linear layers on Wasm SIMD (Q8_0 and the like: one scale per (row, block of `block` along K)).
// Reference twins in kernels/int8.ts: linearInt8 with block > 0 (dotsQ8 in int8-gemm.ts) and linearW8.
// - W8A8 (`q8rows{mr}`): exact int32 sums per block with i32x4.dot_i16x8_s, then each block's sum scaled in float64
//   in the twin's own order (f += (sum · xs) · ws, blocks in order), so outputs equal the twin's bit for bit.
// - Weight-only W8: float32 activations times int8 weights widened to f32 and scaled in registers (w8f: batch 1..3)
//   or dequantized panel by panel into the f32 GEMM (more rows); f32 sums either way, where the twin sums in
//   float64, so results differ by f32 rounding only (and not at all between batch sizes).
// Legend: M = rows, Kp = padded row length (a multiple of the block), block = values per scale (bl = Kp for one
// scale per row), nb = Kp / bl blocks, N = out features, Np = N rounded up to NR = 8 (one panel of 8 columns).
// Packed weights, per 8-column panel and per block: the block's quants, then the panel's 8 scales as f32 (32 bytes).
//   W8A8 quants: per k pair, [w(n0,k) w(n0,k+1) w(n1,k) .. w(n3,k+1)] then n4..n7 (16 int8, read with load8x8_s),
//   against activation pairs pre-widened to int16 (one load32_splat per row and pair).
//   W8 quants: per k, w(n0..n7, k) (8 int8, load8x8_s, then widened to two f32x4).
import { linearEpilogue } from '../kernels/linear.js';
import type { ActivationName } from '../../../ops/attrs.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { CpuTensor, NumArray } from '../types.js';
import { type FunctionBuilder, I32, type Local, ModuleBuilder, V128 } from './assembler.js';
import { addr, cachedPack, emitInt8DotLoop, INT8_MAX_K } from './int8.js';
import { runPacked } from './gemm.js';
import { heapF32, heapF64, heapI16, wasmMemory, wasmScratch } from './memory.js';

const MR = 4, NR = 8, MC = 64;
/** Bytes of the 8 f32 scales that follow each panel's block of quants. */
const SCALE_BYTES = NR * 4;
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

/** Locals holding r · stride for r = 0..mr-1 (index 0 is unused: offset 0). */
function rowOffsets(f: FunctionBuilder, mr: number, stride: Local): Local[] {
  const out: Local[] = [];
  for (let r = 0; r < mr; r++) { const l = f.local(I32); f.get(stride).i32(r).op('i32.mul').set(l); out.push(l); }
  return out;
}

/**
 * `q8rows{mr}(a, b, c, xs, blocks, panels, nbk, pairs, lda, bStride, ldc, xsStride)`: for each panel and each of
 * `blocks` blocks of mr rows, C f64 tile [mr, 8] += Σ over nbk K blocks of (int32 Σ over `pairs` k pairs) · xs · ws.
 * a = int16 activations (rows lda bytes apart), b = packed panels (bStride apart), c = f64 C (rows ldc apart),
 * xs = f32 activation scales (rows xsStride apart, one per K block).
 */
function emitQ8Rows(f: FunctionBuilder, mr: number, p: Local[]): void {
  const [a, b, c, xs, blocks, panels, nbk, pairs, lda, bStride, ldc, xsStride] = p as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const j = f.local(I32), ib = f.local(I32), kb = f.local(I32), k = f.local(I32), ap = f.local(I32), bp = f.local(I32), cr = f.local(I32), xp = f.local(I32);
  const aOff = rowOffsets(f, mr, lda), cOff = rowOffsets(f, mr, ldc), xOff = rowOffsets(f, mr, xsStride);
  const acc: Local[][] = [];
  for (let r = 0; r < mr; r++) acc.push([f.local(V128), f.local(V128)]);
  const w0 = f.local(V128), w1 = f.local(V128), xv = f.local(V128), sx = f.local(V128), t = f.local(V128), cp = f.local(I32);
  const wd = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  f.forRange(j, () => f.i32(0), () => f.get(panels), 1, () => {
    f.forRange(ib, () => f.i32(0), () => f.get(blocks), 1, () => {
      f.get(b).get(j).get(bStride).op('i32.mul').op('i32.add').set(bp);
      f.get(a).get(ib).get(lda).i32(mr).op('i32.mul').op('i32.mul').op('i32.add').set(ap);
      f.get(xs).get(ib).get(xsStride).i32(mr).op('i32.mul').op('i32.mul').op('i32.add').set(xp);
      f.get(c).get(ib).get(ldc).i32(mr).op('i32.mul').op('i32.mul').op('i32.add').get(j).i32(6).op('i32.shl').op('i32.add').set(cr);
      f.forRange(kb, () => f.i32(0), () => f.get(nbk), 1, () => {
        emitInt8DotLoop(f, mr, ap, aOff, bp, k, pairs, acc, w0, w1, xv);
        // the panel's 8 weight scales for this block, as four f64x2
        for (let q = 0; q < 2; q++) {
          f.get(bp).vmem('v128.load', 16 * q).tee(t).simd('f64x2.promote_low_f32x4').set(wd[2 * q]!);
          f.get(t).get(t).shuffle(HIGH_HALF).simd('f64x2.promote_low_f32x4').set(wd[2 * q + 1]!);
        }
        for (let r = 0; r < mr; r++) {
          addr(f, xp, xOff[r], r);
          f.mem('f32.load').op('f64.promote_f32').simd('f64x2.splat').set(sx);
          addr(f, cr, cOff[r], r);
          f.set(cp);
          for (let q = 0; q < 4; q++) {
            // f[col] += (f64(sum) · xs) · ws, as the twin: c0 * sx * ws[..]
            f.get(cp).get(cp).vmem('v128.load', 16 * q);
            f.get(acc[r]![q >> 1]!);
            if (q & 1) f.get(acc[r]![q >> 1]!).shuffle(HIGH_HALF);
            f.simd('f64x2.convert_low_i32x4_s').get(sx).simd('f64x2.mul').get(wd[q]!).simd('f64x2.mul').simd('f64x2.add').vmem('v128.store', 16 * q);
          }
        }
        f.get(bp).i32(SCALE_BYTES).op('i32.add').set(bp);
        f.get(xp).i32(4).op('i32.add').set(xp);
      });
    });
  });
}

/** Panels side by side in the few-row W8 kernel, by rows (independent sums; 1 row: 2 panels with their scales held in registers measured 0.84-0.99x f32 at 512x512, 4 panels reading scales per k 0.64x). */
const W8_PANELS = [0, 2, 2, 1];

/**
 * `w8f{mr}x{P}(a, b, c, groups, nbk, bl4, lda, bStride, ldc)` for mr < MR rows: C f32 [mr, 8·P] per group of P
 * panels = Σ over k in order of x[k] · (f32(w[k]) · ws[block]), one accumulator per output (mul, then add). That
 * is exactly what the f32 GEMM computes on panels that w8deq dequantized, so a result does not depend on how many
 * rows run together (a KV-cached step equals the full pass). a = f32 rows (lda bytes apart), b = packed panels
 * (bStride apart), c = C (rows ldc apart).
 */
function emitW8Few(f: FunctionBuilder, mr: number, P: number, p: Local[]): void {
  const [a, b, c, groups, nbk, bl4, lda, bStride, ldc] = p as [Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const g = f.local(I32), kb = f.local(I32), k = f.local(I32), ap = f.local(I32), cr = f.local(I32);
  const bp = Array.from({ length: P }, () => f.local(I32)), sp = Array.from({ length: P }, () => f.local(I32));
  const aOff = rowOffsets(f, mr, lda), cOff = rowOffsets(f, mr, ldc);
  const acc = Array.from({ length: P }, () => Array.from({ length: mr }, () => [f.local(V128), f.local(V128)]));
  const xv = Array.from({ length: mr }, () => f.local(V128)), wv = f.local(V128), w0 = f.local(V128), w1 = f.local(V128);
  // the block's scales in registers when they fit beside the accumulators (16 vector registers), else read per k
  const held = 2 * P * (mr + 1) + mr + 3 <= 16 ? Array.from({ length: P }, () => [f.local(V128), f.local(V128)]) : null;
  const scale = (q: number, h: number): void => { if (held) f.get(held[q]![h]!); else f.get(sp[q]!).vmem('v128.load', 16 * h); };
  f.forRange(g, () => f.i32(0), () => f.get(groups), 1, () => {
    for (let q = 0; q < P; q++) f.get(b).get(g).i32(P).op('i32.mul').i32(q).op('i32.add').get(bStride).op('i32.mul').op('i32.add').set(bp[q]!);
    f.get(c).get(g).i32(P * NR * 4).op('i32.mul').op('i32.add').set(cr);
    f.get(a).set(ap);
    for (const pa of acc) for (const row of pa) for (const v of row) f.v128f32(0).set(v);
    f.forRange(kb, () => f.i32(0), () => f.get(nbk), 1, () => {
      for (let q = 0; q < P; q++) {
        f.get(bp[q]!).get(bl4).i32(5).op('i32.shl').op('i32.add').set(sp[q]!); // the block's scales
        if (held) for (let h = 0; h < 2; h++) f.get(sp[q]!).vmem('v128.load', 16 * h).set(held[q]![h]!);
      }
      f.get(bl4).set(k);
      f.loop(() => {
        for (let u = 0; u < 4; u++) {
          for (let r = 0; r < mr; r++) { addr(f, ap, aOff[r], r); f.vmem('v128.load32_splat', 4 * u).set(xv[r]!); }
          for (let q = 0; q < P; q++) {
            f.get(bp[q]!).vmem('v128.load8x8_s', 8 * u).tee(wv).simd('i32x4.extend_low_i16x8_s').simd('f32x4.convert_i32x4_s'); scale(q, 0); f.simd('f32x4.mul').set(w0);
            f.get(wv).simd('i32x4.extend_high_i16x8_s').simd('f32x4.convert_i32x4_s'); scale(q, 1); f.simd('f32x4.mul').set(w1);
            for (let r = 0; r < mr; r++) for (let h = 0; h < 2; h++) f.get(acc[q]![r]![h]!).get(h === 0 ? w0 : w1).get(xv[r]!).simd('f32x4.mul').simd('f32x4.add').set(acc[q]![r]![h]!);
          }
        }
        f.get(ap).i32(16).op('i32.add').set(ap);
        for (const l of bp) f.get(l).i32(32).op('i32.add').set(l);
        f.get(k).i32(1).op('i32.sub').tee(k).brIf(0);
      });
      for (const l of bp) f.get(l).i32(SCALE_BYTES).op('i32.add').set(l);
    });
    for (let q = 0; q < P; q++) for (let r = 0; r < mr; r++) for (let h = 0; h < 2; h++) {
      addr(f, cr, cOff[r], r);
      f.get(acc[q]![r]![h]!).vmem('v128.store', q * NR * 4 + 16 * h);
    }
  });
}

/** `w8deq(src, dst, panels, nbk, bl4)`: W8 packed panels -> f32 panels [Kp, 8] of f32(w) · ws[block] (the GEMM's B). */
function emitW8Dequant(f: FunctionBuilder, p: Local[]): void {
  const [src, dst, panels, nbk, bl4] = p as [Local, Local, Local, Local, Local];
  const n = f.local(I32), k = f.local(I32), sp = f.local(I32), s0 = f.local(V128), s1 = f.local(V128), wv = f.local(V128);
  f.get(panels).get(nbk).op('i32.mul').set(n);
  f.forRange(k, () => f.i32(0), () => f.get(n), 1, () => {
    f.get(src).get(bl4).i32(5).op('i32.shl').op('i32.add').tee(sp).vmem('v128.load', 0).set(s0);
    f.get(sp).vmem('v128.load', 16).set(s1);
    f.block(() => f.loop(() => {
      f.get(dst).get(src).vmem('v128.load8x8_s', 0).tee(wv).simd('i32x4.extend_low_i16x8_s').simd('f32x4.convert_i32x4_s').get(s0).simd('f32x4.mul').vmem('v128.store', 0);
      f.get(dst).get(wv).simd('i32x4.extend_high_i16x8_s').simd('f32x4.convert_i32x4_s').get(s1).simd('f32x4.mul').vmem('v128.store', 16);
      f.get(src).i32(8).op('i32.add').set(src);
      f.get(dst).i32(32).op('i32.add').set(dst);
      f.get(src).get(sp).op('i32.lt_s').brIf(0);
    }));
    f.get(src).i32(SCALE_BYTES).op('i32.add').set(src);
  });
}

/** The block-scaled int8 module: q8rows1..4 (W8A8), w8f{mr}x{P} for 1..3 rows and w8deq (weight-only). */
export function int8BlockModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  for (let mr = 1; mr <= MR; mr++) m.func(`q8rows${mr}`, Array<typeof I32>(12).fill(I32), [], (f, ...p) => emitQ8Rows(f, mr, p));
  for (let mr = 1; mr < MR; mr++) for (const P of new Set([W8_PANELS[mr]!, 1])) m.func(`w8f${mr}x${P}`, Array<typeof I32>(9).fill(I32), [], (f, ...p) => emitW8Few(f, mr, P, p));
  m.func('w8deq', Array<typeof I32>(5).fill(I32), [], (f, ...p) => emitW8Dequant(f, p));
  return m.emit();
}

type Q8Rows = (a: number, b: number, c: number, xs: number, blocks: number, panels: number, nbk: number, pairs: number, lda: number, bStride: number, ldc: number, xsStride: number) => void;
type W8Few = (a: number, b: number, c: number, groups: number, nbk: number, bl4: number, lda: number, bStride: number, ldc: number) => void;
type W8Dequant = (src: number, dst: number, panels: number, nbk: number, bl4: number) => void;
interface Kernels { q8: Q8Rows[]; w8: Record<string, W8Few>; w8deq: W8Dequant }
let fns: Kernels | null = null;
const kernels = (): Kernels => {
  if (!fns) {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(int8BlockModuleBytes()), { env: { memory: wasmMemory() } });
    const w8: Record<string, W8Few> = {};
    for (const [name, fn] of Object.entries(inst.exports)) if (name.startsWith('w8f')) w8[name] = fn as W8Few;
    fns = { q8: Array.from({ length: MR }, (_, i) => inst.exports[`q8rows${i + 1}`] as Q8Rows), w8, w8deq: inst.exports.w8deq as W8Dequant };
  }
  return fns;
};

/** Where the weight and its scales are: wq [N, Kp] int8 at wo, ws [N, nb] at wso; the keys are their storages. */
export interface BlockWeight { wq: Int8Array; wo: number; wKey: object; ws: NumArray; wso: number; sKey: object; N: number; Kp: number; block: number }

/**
 * Pack a weight into per-panel blocks of quants followed by the panel's 8 f32 scales (see the file comment), once
 * per weight (cached with the weight storage, freed with it). `pairs`: the W8A8 k-pair layout; else the W8 layout.
 */
function packBlocks(w: BlockWeight, pairs: boolean): number {
  const { wq, wo, ws, wso, N, Kp, block } = w;
  const bl = block > 0 ? block : Kp, nb = Kp / bl, nbs = block > 0 ? nb : 1, Np = Math.ceil(N / NR) * NR;
  const per = bl * NR + SCALE_BYTES, bytes = (Np / NR) * nb * per;
  return cachedPack(w.wKey, `${pairs ? 'q8' : 'w8'}:${wo}:${wso}:${N}:${Kp}:${block}`, w.sKey, bytes, (ptr) => {
    const buf = wasmMemory().buffer, h = new Int8Array(buf, ptr, bytes), hs = new Float32Array(buf, ptr, bytes >> 2);
    let q = 0;
    for (let j0 = 0; j0 < Np; j0 += NR) {
      for (let b = 0; b < nb; b++) {
        if (pairs) {
          for (let k = b * bl; k < (b + 1) * bl; k += 2) {
            for (let c = 0; c < NR; c++, q += 2) {
              const n = j0 + c, row = wo + n * Kp;
              h[q] = n < N ? wq[row + k]! : 0;
              h[q + 1] = n < N ? wq[row + k + 1]! : 0;
            }
          }
        } else {
          for (let k = b * bl; k < (b + 1) * bl; k++) for (let c = 0; c < NR; c++, q++) h[q] = j0 + c < N ? wq[wo + (j0 + c) * Kp + k]! : 0;
        }
        for (let c = 0; c < NR; c++) hs[(q >> 2) + c] = j0 + c < N ? ws[wso + (j0 + c) * nbs + b]! : 0;
        q += SCALE_BYTES;
      }
    }
  });
}

/** Run `run(rows, mr, i0)` over M rows: chunks of MC, each split into blocks of MR rows and one rest call. */
function rowBlocks(M: number, run: (mr: number, i0: number, blocks: number) => void): void {
  for (let i0 = 0; i0 < M; i0 += MC) {
    const mc = Math.min(MC, M - i0), blocks = Math.floor(mc / MR), rest = mc - blocks * MR;
    if (blocks) run(MR, i0, blocks);
    if (rest) run(rest, i0 + blocks * MR, 1);
  }
}

/** Round up to 16 bytes. */
const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/**
 * W8A8 with block scales: y [M, N] = act(Σ over blocks of int32(xq·wq) · xs[m, b] · ws[n, b] + bias[n]), as the
 * twin (linearInt8, block > 0) bit for bit. xq [M, Kp] int8 at xo, xs [M, nb] at xso.
 */
export function linearQ8Wasm(y: NumArray, xq: Int8Array, xo: number, xs: NumArray, xso: number, w: BlockWeight, bias: NumArray | null, bo: number, M: number, activation: ActivationName): void {
  const { N, Kp, block } = w, nb = Kp / block, Np = Math.ceil(N / NR) * NR;
  const wp = packBlocks(w, true);
  const aBytes = align16(M * Kp * 2), sBytes = align16(M * nb * 4), base = wasmScratch(aBytes + sBytes + M * Np * 8);
  const sxs = base + aBytes, c = sxs + sBytes;
  // the cached heap views (memory.ts), not new typed arrays per call; c is 16-byte aligned (align16 above)
  heapI16().set(xq.subarray(xo, xo + M * Kp), base >> 1);
  heapF32().set(xs.subarray(xso, xso + M * nb), sxs >> 2);
  const f = heapF64(), fc = c >> 3;
  f.fill(0, fc, fc + M * Np);
  const { q8 } = kernels(), lda = Kp * 2, ldc = Np * 8, bStride = nb * (block * NR + SCALE_BYTES);
  rowBlocks(M, (mr, i0, blocks) => q8[mr - 1]!(base + i0 * lda, wp, c + i0 * ldc, sxs + i0 * nb * 4, blocks, Np / NR, nb, block >> 1, lda, bStride, ldc, nb * 4));
  for (let m = 0, p = 0; m < M; m++) for (let n = 0; n < N; n++, p++) y[p] = f[fc + m * Np + n]! + (bias ? bias[bo + n]! : 0);
  linearEpilogue(y, M, N, null, 0, activation);
}

/** Dequantized panels per f32 GEMM call in the many-row W8 path: about 128 KB of them, so they stay in L2. */
const deqPanels = (Kp: number): number => Math.max(1, Math.floor(4096 / Kp));

/**
 * Weight-only: y [M, N] = act(x · (wq · ws)ᵀ + bias) for x [M, K] float (K ≤ Kp; the rest of each row reads 0),
 * one scale per row (block 0) or per block: y = Σ_k x·f32(w·ws) in order in f32, + bias (the twin sums in float64).
 * Fewer than MR rows: the fused kernel reads the int8 panels directly (batch 1 is bound by reading the weights);
 * more: groups of panels are dequantized to f32 and run through the f32 GEMM micro-kernel (gemm.ts runPacked),
 * which sums the same products in the same order.
 */
export function linearW8Wasm(y: NumArray, x: NumArray, xo: number, K: number, w: BlockWeight, bias: NumArray | null, bo: number, M: number, activation: ActivationName): void {
  const { N, Kp, block } = w, bl = block > 0 ? block : Kp, nb = Kp / bl, Np = Math.ceil(N / NR) * NR, panels = Np / NR;
  const wp = packBlocks(w, false), bStride = nb * (bl * NR + SCALE_BYTES);
  const G = M < MR ? 0 : Math.min(panels, deqPanels(Kp)), Cw = M < MR ? Np : G * NR;
  const aBytes = align16(M * Kp * 4), cBytes = align16(M * Cw * 4), dBytes = G * NR * Kp * 4;
  const base = wasmScratch(aBytes + cBytes + dBytes + Cw * 4), c = base + aBytes, deq = c + cBytes, pb = deq + dBytes;
  const heap = heapF32(), a0 = base >> 2, c0 = c >> 2;
  if (K === Kp) heap.set(x.subarray(xo, xo + M * K), a0);
  else for (let m = 0; m < M; m++) { heap.set(x.subarray(xo + m * K, xo + (m + 1) * K), a0 + m * Kp); heap.fill(0, a0 + m * Kp + K, a0 + (m + 1) * Kp); }
  const k = kernels(), lda = Kp * 4;
  if (M < MR) {
    const P = W8_PANELS[M]!, full = Math.floor(panels / P);
    if (full) k.w8[`w8f${M}x${P}`]!(base, wp, c, full, nb, bl >> 2, lda, bStride, Np * 4);
    if (full * P < panels) k.w8[`w8f${M}x1`]!(base, wp + full * P * bStride, c + full * P * NR * 4, panels - full * P, nb, bl >> 2, lda, bStride, Np * 4);
    for (let m = 0, p = 0; m < M; m++) for (let n = 0; n < N; n++, p++) y[p] = heap[c0 + m * Np + n]! + (bias ? bias[bo + n]! : 0);
  } else {
    for (let g0 = 0; g0 < panels; g0 += G) {
      const gp = Math.min(G, panels - g0), j0 = g0 * NR, w = gp * NR, n1 = Math.min(N, j0 + w);
      k.w8deq(wp + g0 * bStride, deq, gp, nb, bl >> 2);
      heap.fill(0, c0, c0 + M * w);
      if (bias) { heap.set(bias.subarray(bo + j0, bo + n1), pb >> 2); heap.fill(0, (pb >> 2) + n1 - j0, (pb >> 2) + w); }
      runPacked(M, w, Kp, base, deq, c, false, 0, bias ? pb : 0, undefined, true); // plain SIMD128, never relaxed_madd: the few-row kernel's bits
      for (let m = 0; m < M; m++) y.set(heap.subarray(c0 + m * w, c0 + m * w + n1 - j0), m * N + j0);
    }
  }
  linearEpilogue(y, M, N, null, 0, activation);
}

/** The variant name for linearInt8 with block scales or linearW8 on these inputs, or '' (typed-array kernel). */
export function int8BlockVariant(op: 'linearInt8' | 'linearW8', inputs: readonly Tensor[], block: number): string {
  if (op === 'linearInt8') return block <= INT8_MAX_K && inputs[0]!.dtype === 'int8' && inputs[2]!.dtype === 'int8' ? `linearInt8-wasm-simd-q8-block${block}-${MR}x${NR}` : '';
  return inputs[1]!.dtype === 'int8' && inputs[0]!.size > 0 ? `linearW8-wasm-simd-f32-${MR}x${NR}` : '';
}

/** Run linearInt8 (block > 0) or linearW8 from the backend's kernel views; true when done. */
export function runInt8Block(op: 'linearInt8' | 'linearW8', inputs: readonly Tensor[], outs: CpuTensor[], ins: CpuTensor[], attrs: { block: number; activation: ActivationName }): boolean {
  const int = op === 'linearInt8', [x, wq, ws, bias] = (int ? [ins[0], ins[2], ins[3], ins[4]] : ins) as [CpuTensor, CpuTensor, CpuTensor, CpuTensor | undefined];
  const [M, K] = x.shape as [number, number], [N, Kp] = wq.shape as [number, number];
  if (M === 0 || N === 0) return true;
  const w: BlockWeight = { wq: wq.data as Int8Array, wo: wq.offset, wKey: inputs[int ? 2 : 1]!.storage.handle as object, ws: ws.data, wso: ws.offset,
    sKey: inputs[int ? 3 : 2]!.storage.handle as object, N, Kp, block: attrs.block };
  const y = outs[0]!.data, b = bias ? bias.data : null, bo = bias ? bias.offset : 0;
  if (int) linearQ8Wasm(y, x.data as Int8Array, x.offset, ins[1]!.data, ins[1]!.offset, w, b, bo, M, attrs.activation);
  else linearW8Wasm(y, x.data, x.offset, K, w, b, bo, M, attrs.activation);
  return true;
}
