// W8A8 linear on Wasm SIMD: exact int32 sums with i32x4.dot_i16x8_s (two int8 products per lane and instruction),
// then the twin's own float epilogue (in the tile's registers), so outputs equal the typed-array kernel's bit for bit.
// Reference twin:
// linearInt8 (block = 0: one scale per row) in kernels/int8.ts. Legend: M = rows, K = true inner size (attrs.k),
// Kp = padded row length of xq and wq, K2 = K rounded up to even, N = out features, Np = N rounded up to 8.
// Weights are packed per 8-column panel and k pair: [w(n0,k) w(n0,k+1) w(n1,k) w(n1,k+1) .. w(n3,k+1)] then n4..n7
// (16 int8 per k pair), read with v128.load8x8_s; x is widened to int16 once per call (in Wasm), so each row's k pair
// is one v128.load32_splat. A 4x8 tile step is 2 widening loads, 4 splats, 8 dots and 8 adds for 64 multiply-adds,
// where the f32 GEMM's step does 32 with 8 mul + 8 add: the two-vector-ops-per-8-products floor of plain SIMD128.
// Weights packed as int16 instead (plain v128.load, no widening) measured 5-8% faster at M >= 64 but double the
// packed bytes, and batch 1 reads every weight once per call, so the int8 panels stay.
import { linearEpilogue } from '../kernels/linear.js';
import type { ActivationName } from '../../../ops/attrs.js';
import type { NumArray } from '../types.js';
import { type FunctionBuilder, I32, type Local, ModuleBuilder, V128 } from './assembler.js';
import { gemmThreads } from './gemm.js';
import { heapF32, heapI8, trackCached, wasmAlloc, wasmFree, wasmMemory, wasmScratch } from './memory.js';
import { parallelFor, shareKernels } from './threads.js';

const MR = 4, NR = 8, MC = 64;
/** The int8 tile: MR rows by NR columns (a panel is NR columns wide). */
export { MR as INT8_MR, NR as INT8_NR };
/** Push `base + off` (off omitted for row 0). */
export const addr = (f: FunctionBuilder, base: Local, off: Local | undefined, r: number): void => { f.get(base); if (r > 0) f.get(off!).op('i32.add'); };

/**
 * The int8 dot loop both int8 kernels emit (per-row here, Q8_0 blocks in int8-block.ts): zero the mr x 2 int32
 * accumulators `acc`, then `pairs` times (counted down in `k`) add row r's int16 pair, a splat read at
 * ap + aOff[r], times the panel's next 8 int8 weights widened to int16 (two i32x4.dot_i16x8_s), advancing ap by
 * 4 bytes and bp by 16.
 */
export function emitInt8DotLoop(f: FunctionBuilder, mr: number, ap: Local, aOff: readonly (Local | undefined)[], bp: Local, k: Local, pairs: Local,
  acc: readonly (readonly Local[])[], w0: Local, w1: Local, xv: Local): void {
  for (let r = 0; r < mr; r++) for (let h = 0; h < 2; h++) f.i32(0).simd('i32x4.splat').set(acc[r]![h]!);
  f.get(pairs).set(k);
  f.loop(() => {
    f.get(bp).vmem('v128.load8x8_s', 0).set(w0);
    f.get(bp).vmem('v128.load8x8_s', 8).set(w1);
    for (let r = 0; r < mr; r++) {
      addr(f, ap, aOff[r], r);
      f.vmem('v128.load32_splat', 0).set(xv);
      for (let h = 0; h < 2; h++) f.get(acc[r]![h]!).get(h === 0 ? w0 : w1).get(xv).simd('i32x4.dot_i16x8_s').simd('i32x4.add').set(acc[r]![h]!);
    }
    f.get(ap).i32(4).op('i32.add').set(ap);
    f.get(bp).i32(16).op('i32.add').set(bp);
    f.get(k).i32(1).op('i32.sub').tee(k).brIf(0);
  });
}

/** Longest K whose int32 sums cannot overflow even for -128·-128 products (2^31 / 2^14). */
export const INT8_MAX_K = 131071;

const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

/**
 * Pop an i32x4 of exact sums and push its f32x4 ((f64(sum) · sx) · w) + b, in float64 and rounded once to f32: the
 * twin's expression, so the same value bit for bit. sx: the row scale as f64x2; w, b: 4 column scales and biases.
 */
function emitRescale(f: FunctionBuilder, sum: Local, sx: Local, w: Local, b: Local, lo: Local): void {
  const half = (v: Local, hi: boolean) => { f.get(v); if (hi) f.get(v).shuffle(HIGH); };
  for (const hi of [false, true]) {
    half(sum, hi); f.simd('f64x2.convert_low_i32x4_s').get(sx).simd('f64x2.mul');
    half(w, hi); f.simd('f64x2.promote_low_f32x4').simd('f64x2.mul');
    half(b, hi); f.simd('f64x2.promote_low_f32x4').simd('f64x2.add').simd('f32x4.demote_f64x2_zero');
    if (!hi) f.set(lo);
  }
  f.set(sum);
  f.get(lo).get(sum).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
}

/**
 * Pop an i32x4 of exact sums and push its f32x4 f64(sum) · sc + b, in float64 and rounded once to f32: the conv twin's
 * expression (kernels/int8.ts conv2dInt8: acc · (sx · ws[o]) + bias[o]), with sc and b one row's float64 scale and
 * bias splatted (the conv's rows are output channels, so both belong to the row).
 */
function emitRowRescale(f: FunctionBuilder, sum: Local, sc: Local, b: Local, lo: Local): void {
  for (const hi of [false, true]) {
    f.get(sum); if (hi) f.get(sum).shuffle(HIGH);
    f.simd('f64x2.convert_low_i32x4_s').get(sc).simd('f64x2.mul').get(b).simd('f64x2.add').simd('f32x4.demote_f64x2_zero');
    if (!hi) f.set(lo);
  }
  f.set(sum);
  f.get(lo).get(sum).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
}

/**
 * How a tile's sums are rescaled. 'col' (linearInt8): row scales at `xs` (f32, one per row), the panel's column
 * scales and biases at `ws`, `bias` (f32, 8 per panel). 'row' (conv2dInt8): one float64 scale and one float64 bias per
 * row at `xs` and `bias`, each stored twice (16 bytes a row: one v128.load is the f64x2 splat), `ws` unused; the
 * scale is the per-channel one already multiplied by the image's.
 */
export type Epilogue = 'col' | 'row';
/** Bytes per row of the row scales (and, in 'row' mode, of the biases). */
const xsBytes = (e: Epilogue): number => (e === 'row' ? 16 : 4);

/**
 * `i8rows{mr}` / `i8rowsR{mr}` (a, b, c, blocks, panels, pairs, lda, bStride, ldc, xs, ws, bias): for each panel and
 * each of `blocks` tiles of mr rows, the int32 sums over `pairs` k pairs, rescaled in registers (see Epilogue) and
 * stored as f32 into C (rows ldc bytes apart). Rescaling in the tile saves a second pass over C.
 */
function emitRows(m: ModuleBuilder, mr: number, epi: Epilogue): void {
  m.func(`i8rows${epi === 'row' ? 'R' : ''}${mr}`, Array(12).fill(I32), [], (f, ...p) => {
    const [a, b, c, blocks, panels, pairs, lda, bStride, ldc, xs, ws, bias] = p as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
    const j = f.local(I32), ib = f.local(I32), k = f.local(I32), ap = f.local(I32), bp = f.local(I32), cr = f.local(I32), bj = f.local(I32), xr = f.local(I32);
    const rowOff: Local[] = [];
    for (let r = 1; r < mr; r++) { const l = f.local(I32); f.get(lda).i32(r).op('i32.mul').set(l); rowOff.push(l); }
    const acc: Local[][] = [];
    for (let r = 0; r < mr; r++) acc.push([f.local(V128), f.local(V128)]);
    const w0 = f.local(V128), w1 = f.local(V128), xv = f.local(V128);
    const bv = [f.local(V128), f.local(V128)], lo = f.local(V128);
    f.forRange(j, () => f.i32(0), () => f.get(panels), 1, () => {
      f.get(b).get(j).get(bStride).op('i32.mul').op('i32.add').set(bj);
      f.forRange(ib, () => f.i32(0), () => f.get(blocks), 1, () => {
        f.get(bj).set(bp);
        f.get(a).get(ib).get(lda).i32(mr).op('i32.mul').op('i32.mul').op('i32.add').set(ap);
        emitInt8DotLoop(f, mr, ap, [undefined, ...rowOff], bp, k, pairs, acc, w0, w1, xv);
        // C tile row r at c + (ib·mr + r)·ldc + j·32, its row scale at xs + (ib·mr + r)·xsBytes; the loop's registers
        // are free now: w0, w1 take the column scales (or row bias), xv the row scale, bp and ap addresses
        f.get(c).get(ib).i32(mr).op('i32.mul').get(ldc).op('i32.mul').op('i32.add').get(j).i32(5).op('i32.shl').op('i32.add').set(cr);
        f.get(ib).i32(mr * xsBytes(epi)).op('i32.mul').set(ap);
        f.get(xs).get(ap).op('i32.add').set(xr);
        if (epi === 'col') {
          f.get(j).i32(5).op('i32.shl').set(bp);
          for (let h = 0; h < 2; h++) f.get(ws).get(bp).op('i32.add').vmem('v128.load', 16 * h).set(h === 0 ? w0 : w1);
          for (let h = 0; h < 2; h++) f.get(bias).get(bp).op('i32.add').vmem('v128.load', 16 * h).set(bv[h]!);
        } else {
          f.get(bias).get(ap).op('i32.add').set(bp); // this tile's first row bias
        }
        for (let r = 0; r < mr; r++) {
          if (epi === 'col') {
            f.get(xr).mem('f32.load', 4 * r).op('f64.promote_f32').simd('f64x2.splat').set(xv);
          } else {
            f.get(xr).vmem('v128.load', 16 * r).set(xv);
            f.get(bp).vmem('v128.load', 16 * r).set(w0);
          }
          for (let h = 0; h < 2; h++) {
            f.get(cr);
            if (epi === 'col') emitRescale(f, acc[r]![h]!, xv, h === 0 ? w0 : w1, bv[h]!, lo);
            else emitRowRescale(f, acc[r]![h]!, xv, w0, lo);
            f.vmem('v128.store', 16 * h);
          }
          if (r + 1 < mr) f.get(cr).get(ldc).op('i32.add').set(cr);
        }
      });
    });
  });
}

/**
 * `i8gemm` / `i8gemmR` (a, b, c, M, panels, pairs, lda, bStride, ldc, xs, ws, bias): the whole product, blocks of MC
 * rows (A's block stays in L2 while the panels pass it, each panel in L1 while the row tiles pass it), MR-row tiles
 * and a remainder tile, calling the rows functions at `first` (mr = 1..MR). One call is one task of the thread pool:
 * a range of panels or of whole tiles runs as one thread runs it.
 */
function emitGemm(m: ModuleBuilder, name: string, first: number, epi: Epilogue): void {
  const xb = xsBytes(epi);
  m.func(name, Array(12).fill(I32), [], (f, a, b, c, M, panels, pairs, lda, bStride, ldc, xs, ws, bias) => {
    const i0 = f.local(I32), mc = f.local(I32), blocks = f.local(I32), rest = f.local(I32), ai = f.local(I32), ci = f.local(I32), xi = f.local(I32), bi = f.local(I32);
    f.forRange(i0, () => f.i32(0), () => f.get(M!), MC, () => {
      f.get(M!).get(i0).op('i32.sub').i32(MC).get(M!).get(i0).op('i32.sub').i32(MC).op('i32.lt_s').op('select').set(mc); // min(M - i0, MC)
      f.get(mc).i32(MR).op('i32.div_u').set(blocks);
      f.get(mc).get(blocks).i32(MR).op('i32.mul').op('i32.sub').set(rest);
      f.get(a!).get(i0).get(lda!).op('i32.mul').op('i32.add').set(ai);
      f.get(c!).get(i0).get(ldc!).op('i32.mul').op('i32.add').set(ci);
      f.get(i0).i32(xb).op('i32.mul').set(xi);
      // 'row': the biases follow the rows as the scales do; 'col': they belong to the panels
      if (epi === 'row') f.get(bias!).get(xi).op('i32.add').set(bi); else f.get(bias!).set(bi);
      f.get(xs!).get(xi).op('i32.add').set(xi);
      const call = (mr: number, n: () => void, tail: boolean) => {
        n(); f.get(panels!).get(pairs!).get(lda!).get(bStride!).get(ldc!);
        f.get(xi); if (tail) f.get(blocks).i32(MR * xb).op('i32.mul').op('i32.add');
        f.get(ws!);
        f.get(bi); if (tail && epi === 'row') f.get(blocks).i32(MR * xb).op('i32.mul').op('i32.add');
        f.call(first + mr - 1);
      };
      f.get(blocks).if(() => call(MR, () => f.get(ai).get(b!).get(ci).get(blocks), false));
      for (let r = 1; r < MR; r++) {
        f.get(rest).i32(r).op('i32.eq').if(() => call(r, () => {
          f.get(ai).get(blocks).i32(MR).op('i32.mul').get(lda!).op('i32.mul').op('i32.add').get(b!);
          f.get(ci).get(blocks).i32(MR).op('i32.mul').get(ldc!).op('i32.mul').op('i32.add').i32(1);
        }, true));
      }
    });
  });
}

function int8ModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  // function indices: i8rows1..4 are 0..3, i8rowsR1..4 are 4..7 (no imported functions)
  for (let mr = 1; mr <= MR; mr++) emitRows(m, mr, 'col');
  for (let mr = 1; mr <= MR; mr++) emitRows(m, mr, 'row');
  emitGemm(m, 'i8gemm', 0, 'col');
  emitGemm(m, 'i8gemmR', MR, 'row');
  // widen(src, dst, n16): int16 dst [16·n16] = int8 src [16·n16]
  m.func('widen', [I32, I32, I32], [], (f, src, dst, n16) => {
    const i = f.local(I32), v = f.local(V128);
    f.forRange(i, () => f.i32(0), () => f.get(n16!), 1, () => {
      f.get(src!).vmem('v128.load').set(v);
      f.get(dst!).get(v).simd('i16x8.extend_low_i8x16_s').vmem('v128.store', 0);
      f.get(dst!).get(v).simd('i16x8.extend_high_i8x16_s').vmem('v128.store', 16);
      f.get(src!).i32(16).op('i32.add').set(src!);
      f.get(dst!).i32(32).op('i32.add').set(dst!);
    });
  });
  return m.emit();
}

type I8Gemm = (a: number, b: number, c: number, M: number, panels: number, pairs: number, lda: number, bStride: number, ldc: number, xs: number, ws: number, bias: number) => void;
type Widen = (src: number, dst: number, n16: number) => void;
interface Int8Kernels { gemm: I8Gemm; gemmId: number; gemmR: I8Gemm; gemmRId: number; widen: Widen }
let fns: Int8Kernels | null = null;
/** This thread's instance of the int8 module (compiled once; i8gemm and i8gemmR shared with the worker threads). */
const kernels = (): Int8Kernels => {
  if (!fns) {
    const module = new WebAssembly.Module(int8ModuleBytes());
    const exports = new WebAssembly.Instance(module, { env: { memory: wasmMemory() } }).exports;
    const [gemmId, gemmRId] = shareKernels(module, exports, ['i8gemm', 'i8gemmR']) as [number, number];
    fns = { gemm: exports.i8gemm as I8Gemm, gemmId, gemmR: exports.i8gemmR as I8Gemm, gemmRId, widen: exports.widen as Widen };
  }
  return fns;
};

/** Tasks per thread a threaded product is cut into (as the f32 GEMM), so that a thread slowed by other processes gets fewer. */
const TASKS_PER_THREAD = 4;

/**
 * Threads the per-row int8 product of M rows, N outputs and K inputs splits across (1: not split): the f32 GEMM's
 * rule at twice the size (2K), since a dot_i16x8_s step does a multiply-add in about half an f32 one's time, so waking
 * a worker pays off only from twice the work (at 8 x 512 x 512, 2 threads measured 82 us against 67 on one, load 10).
 */
export const int8Threads = (M: number, N: number, K: number): number => (M > 0 && N > 0 ? gemmThreads(M, Math.ceil(N / NR) * NR, 2 * K) : 1);

/**
 * C f32 [M, Np] at byte `c` = the rescaled products of A (int16 pairs [M, pairs], rows lda bytes apart, at `a`) and
 * the packed panels at `b` (scales and biases at `xs`, `ws`, `bias` as Epilogue `epi` says), on
 * int8Threads(M, Np, K) threads: tasks of whole panels, or of whole MR-row tiles when there are too few panels.
 * Each output is computed alone (exact integer sum, then its own rescale), so any split gives the same C.
 */
export function runInt8(M: number, Np: number, K: number, a: number, b: number, c: number, pairs: number, lda: number, bStride: number, ldc: number,
  xs: number, ws: number, bias: number, epi: Epilogue = 'col'): void {
  const k = kernels(), panels = Np / NR, T = int8Threads(M, Np, K);
  const [gemm, id] = epi === 'row' ? [k.gemmR, k.gemmRId] : [k.gemm, k.gemmId];
  if (T === 1) { gemm(a, b, c, M, panels, pairs, lda, bStride, ldc, xs, ws, bias); return; }
  // per-panel scales and biases advance with the panels ('col'), per-row ones with the rows ('row')
  const colStep = epi === 'col' ? NR * 4 : 0, rowStep = xsBytes(epi), biasRowStep = epi === 'row' ? 16 : 0;
  if (panels >= T) {
    const tasks = Math.min(panels, T * TASKS_PER_THREAD);
    parallelFor(id, tasks, (i, args) => {
      const p0 = Math.floor((i * panels) / tasks), p1 = Math.floor(((i + 1) * panels) / tasks);
      args.set([a, b + p0 * bStride, c + p0 * NR * 4, M, p1 - p0, pairs, lda, bStride, ldc, xs, ws + p0 * colStep, bias + p0 * colStep]);
    });
  } else {
    const tiles = Math.ceil(M / MR), tasks = Math.min(tiles, T * TASKS_PER_THREAD);
    parallelFor(id, tasks, (i, args) => {
      const m0 = Math.floor((i * tiles) / tasks) * MR, m1 = Math.min(M, Math.floor(((i + 1) * tiles) / tasks) * MR);
      args.set([a + m0 * lda, b, c + m0 * ldc, m1 - m0, panels, pairs, lda, bStride, ldc, xs + m0 * rowStep, ws, bias + m0 * biasRowStep]);
    });
  }
}

/** The int8 module's bytes (for validation tests). */
export { int8ModuleBytes };

interface Packed { tag: string; scales: object | null; ptr: number; bytes: number }
const cache = new WeakMap<object, Packed[]>();
const collected = typeof FinalizationRegistry !== 'undefined' ? new FinalizationRegistry<Packed[]>((l) => freeAll(l)) : null;
function freeAll(list: Packed[]): void {
  for (const p of list) { wasmFree(p.ptr, p.bytes); trackCached(-p.bytes); }
  list.length = 0;
}

/**
 * A packed copy of an int8 weight in Wasm memory, built once per weight storage `key` and `tag` (what and where:
 * layout, offsets, shape) and, when the copy holds scales too, their storage `scales`: `fill(ptr)` writes `bytes`.
 * Freed with the weight (releaseInt8, or when the storage is collected); counted in memory()'s cacheBytes.
 */
export function cachedPack(key: object, tag: string, scales: object | null, bytes: number, fill: (ptr: number) => void): number {
  let list = cache.get(key);
  const hit = list?.find((p) => p.tag === tag && p.scales === scales);
  if (hit) return hit.ptr;
  const ptr = wasmAlloc(bytes);
  fill(ptr);
  if (!list) { cache.set(key, (list = [])); collected?.register(key, list, key); }
  list.push({ tag, scales, ptr, bytes });
  trackCached(bytes);
  return ptr;
}

/** Packed panels of wq [N, Kp] (first K columns, zero beyond) at `offset`, built once per storage `key`. */
function packedInt8(key: object, wq: Int8Array, offset: number, N: number, K: number, Kp: number): number {
  const K2 = K + (K & 1), Np = Math.ceil(N / NR) * NR, bytes = Np * K2;
  return cachedPack(key, `row:${offset}:${N}:${K}:${Kp}`, null, bytes, (ptr) => {
    const h = new Int8Array(wasmMemory().buffer, ptr, bytes);
    for (let j0 = 0, q = 0; j0 < Np; j0 += NR) {
      for (let k = 0; k < K2; k += 2) {
        for (let c = 0; c < NR; c++, q += 2) {
          const n = j0 + c, row = offset + n * Kp;
          h[q] = n < N ? wq[row + k]! : 0;
          h[q + 1] = n < N && k + 1 < K ? wq[row + k + 1]! : 0;
        }
      }
    }
  });
}

/** Free the int8 panels packed from storage `key`. */
export function releaseInt8(key: object): void {
  const list = cache.get(key);
  if (!list) return;
  freeAll(list);
  cache.delete(key);
  collected?.unregister(key);
}

/** y [M, N] = act(Σ int32(xq·wq) · xs[m] · ws[n] + bias[n]) for one scale per row (block = 0), as the twin. */
export function linearInt8Wasm(y: NumArray, xq: Int8Array, xo: number, xs: NumArray, xso: number, wq: Int8Array, wo: number, wKey: object,
  ws: NumArray, wso: number, bias: NumArray | null, bo: number, M: number, N: number, K: number, Kp: number, activation: ActivationName): void {
  const K2 = K + (K & 1), Np = Math.ceil(N / NR) * NR;
  const wp = packedInt8(wKey, wq, wo, N, K, Kp);
  // scratch: A int16 [M, Kp] (whole 32-byte groups: widen writes them), C f32 [M, Np], xs, ws, bias, xq staged as int8
  const n16 = Math.ceil((M * Kp) / 16), aBytes = n16 * 32 + 32, cBytes = M * Np * 4;
  const s = wasmScratch(aBytes + cBytes + M * 4 + 2 * Np * 4 + n16 * 16);
  const c = s + aBytes, pxs = c + cBytes, pws = pxs + M * 4, pb = pws + Np * 4, px = pb + Np * 4, heap = heapF32();
  // widened once (one load32_splat per row and k pair in the loop): a same-type copy, then i16x8.extend in Wasm,
  // where Int16Array.set from an Int8Array converts value by value (about 10x slower at 64 x 512)
  heapI8().set(xq.subarray(xo, xo + M * Kp), px);
  kernels().widen(px, s, n16);
  heap.set(xs.subarray(xso, xso + M), pxs >> 2);
  heap.set(ws.subarray(wso, wso + N), pws >> 2);
  heap.fill(0, (pws >> 2) + N, (pb >> 2) + Np);
  if (bias) heap.set(bias.subarray(bo, bo + N), pb >> 2);
  runInt8(M, Np, K, s, wp, c, K2 >> 1, Kp * 2, K2 * NR, Np * 4, pxs, pws, pb);
  const out = heap.subarray(c >> 2, (c >> 2) + M * Np);
  if (N === Np) y.set(out);
  else for (let m = 0; m < M; m++) y.set(out.subarray(m * Np, m * Np + N), m * N);
  linearEpilogue(y, M, N, null, 0, activation);
}
