// W8A8 linear on Wasm SIMD: exact int32 sums with i32x4.dot_i16x8_s (two int8 products per lane and instruction),
// then the twin's own float epilogue, so outputs equal the typed-array kernel's bit for bit. Reference twin:
// linearInt8 (block = 0: one scale per row) in kernels/int8.ts. Legend: M = rows, K = true inner size (attrs.k),
// Kp = padded row length of xq and wq, K2 = K rounded up to even, N = out features, Np = N rounded up to 8.
// Weights are packed per 8-column panel and k pair: [w(n0,k) w(n0,k+1) w(n1,k) w(n1,k+1) .. w(n3,k+1)] then n4..n7
// (16 int8 per k pair), read with v128.load8x8_s; x is widened to int16 once per call (a JS typed-array copy), so each row's k pair is one v128.load32_splat.
import { linearEpilogue } from '../kernels/linear.js';
import type { ActivationName } from '../../../ops/attrs.js';
import type { NumArray } from '../types.js';
import { type FunctionBuilder, I32, type Local, ModuleBuilder, V128 } from './assembler.js';
import { heapF32, trackCached, wasmAlloc, wasmFree, wasmMemory, wasmScratch } from './memory.js';

const MR = 4, NR = 8, MC = 64;
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

/** `i8rows{mr}(a, b, c, blocks, panels, pairs, lda, bStride, ldc)`: C int32 tiles = Σ over `pairs` k pairs. */
function int8ModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  for (let mr = 1; mr <= MR; mr++) {
    m.func(`i8rows${mr}`, [I32, I32, I32, I32, I32, I32, I32, I32, I32], [], (f, ...p) => {
      const [a, b, c, blocks, panels, pairs, lda, bStride, ldc] = p as Local[] as [Local, Local, Local, Local, Local, Local, Local, Local, Local];
      const j = f.local(I32), ib = f.local(I32), k = f.local(I32), ap = f.local(I32), bp = f.local(I32), cr = f.local(I32), bj = f.local(I32);
      const rowOff: Local[] = [];
      for (let r = 1; r < mr; r++) { const l = f.local(I32); f.get(lda).i32(r).op('i32.mul').set(l); rowOff.push(l); }
      const acc: Local[][] = [];
      for (let r = 0; r < mr; r++) acc.push([f.local(V128), f.local(V128)]);
      const w0 = f.local(V128), w1 = f.local(V128), xv = f.local(V128);
      f.forRange(j, () => f.i32(0), () => f.get(panels), 1, () => {
        f.get(b).get(j).get(bStride).op('i32.mul').op('i32.add').set(bj);
        f.forRange(ib, () => f.i32(0), () => f.get(blocks), 1, () => {
          f.get(bj).set(bp);
          f.get(a).get(ib).get(lda).i32(mr).op('i32.mul').op('i32.mul').op('i32.add').set(ap);
          emitInt8DotLoop(f, mr, ap, [undefined, ...rowOff], bp, k, pairs, acc, w0, w1, xv);
          // C tile row r at c + (ib·mr + r)·ldc + j·32
          f.get(c).get(ib).i32(mr).op('i32.mul').get(ldc).op('i32.mul').op('i32.add').get(j).i32(5).op('i32.shl').op('i32.add').set(cr);
          for (let r = 0; r < mr; r++) {
            f.get(cr).get(acc[r]![0]!).vmem('v128.store', 0);
            f.get(cr).get(acc[r]![1]!).vmem('v128.store', 16);
            if (r + 1 < mr) f.get(cr).get(ldc).op('i32.add').set(cr);
          }
        });
      });
    });
  }
  // rescale(c, rows, n4, ldc, xs, ws, bias): C row m in place, int32 -> f32 = ((f64(c) · xs[m]) · ws[n]) + bias[n]
  // in float64, rounded once to f32: the twin's expression, so the same value bit for bit
  m.func('rescale', [I32, I32, I32, I32, I32, I32, I32], [], (f, c, rows, n4, ldc, xs, ws, bias) => {
    const i = f.local(I32), j = f.local(I32), p = f.local(I32), wp = f.local(I32), bp = f.local(I32), sx = f.local(V128), a = f.local(V128), w = f.local(V128), b = f.local(V128), lo = f.local(V128);
    const high = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
    const half = (v: Local, hi: boolean) => { f.get(v); if (hi) f.get(v).shuffle(high); };
    f.forRange(i, () => f.i32(0), () => f.get(rows!), 1, () => {
      f.get(xs!).mem('f32.load').op('f64.promote_f32').simd('f64x2.splat').set(sx);
      f.get(c!).get(i).get(ldc!).op('i32.mul').op('i32.add').set(p);
      f.get(ws!).set(wp); f.get(bias!).set(bp);
      f.forRange(j, () => f.i32(0), () => f.get(n4!), 1, () => {
        f.get(p).vmem('v128.load').set(a); f.get(wp).vmem('v128.load').set(w); f.get(bp).vmem('v128.load').set(b);
        for (const hi of [false, true]) {
          half(a, hi); f.simd('f64x2.convert_low_i32x4_s').get(sx).simd('f64x2.mul');
          half(w, hi); f.simd('f64x2.promote_low_f32x4').simd('f64x2.mul');
          half(b, hi); f.simd('f64x2.promote_low_f32x4').simd('f64x2.add').simd('f32x4.demote_f64x2_zero');
          if (!hi) f.set(lo);
        }
        f.set(a);
        f.get(p).get(lo).get(a).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]).vmem('v128.store');
        for (const l of [p, wp, bp]) f.get(l).i32(16).op('i32.add').set(l);
      });
      f.get(xs!).i32(4).op('i32.add').set(xs!);
    });
  });
  return m.emit();
}

type I8Rows = (a: number, b: number, c: number, blocks: number, panels: number, pairs: number, lda: number, bStride: number, ldc: number) => void;
type Rescale = (c: number, rows: number, n4: number, ldc: number, xs: number, ws: number, bias: number) => void;
let fns: { rows: I8Rows[]; rescale: Rescale } | null = null;
const kernels = (): { rows: I8Rows[]; rescale: Rescale } => {
  if (!fns) {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(int8ModuleBytes()), { env: { memory: wasmMemory() } });
    fns = { rows: Array.from({ length: MR }, (_, i) => inst.exports[`i8rows${i + 1}`] as I8Rows), rescale: inst.exports.rescale as Rescale };
  }
  return fns;
};

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
  const aBytes = Math.ceil((M * Kp * 2 + 4) / 16) * 16, cBytes = M * Np * 4, s = wasmScratch(aBytes + cBytes + M * 4 + 2 * Np * 4);
  const c = s + aBytes, pxs = c + cBytes, pws = pxs + M * 4, pb = pws + Np * 4, heap = heapF32();
  new Int16Array(wasmMemory().buffer, s, M * Kp).set(xq.subarray(xo, xo + M * Kp)); // widened once: one load32_splat per row and k pair
  heap.set(xs.subarray(xso, xso + M), pxs >> 2);
  heap.set(ws.subarray(wso, wso + N), pws >> 2);
  heap.fill(0, (pws >> 2) + N, (pb >> 2) + Np);
  if (bias) heap.set(bias.subarray(bo, bo + N), pb >> 2);
  const { rows: run, rescale } = kernels(), pairs = K2 >> 1, lda = Kp * 2, bStride = K2 * NR, ldc = Np * 4, panels = Np / NR;
  for (let i0 = 0; i0 < M; i0 += MC) {
    const mc = Math.min(MC, M - i0), blocks = Math.floor(mc / MR), rest = mc - blocks * MR;
    if (blocks) run[MR - 1]!(s + i0 * lda, wp, c + i0 * ldc, blocks, panels, pairs, lda, bStride, ldc);
    if (rest) run[rest - 1]!(s + (i0 + blocks * MR) * lda, wp, c + (i0 + blocks * MR) * ldc, 1, panels, pairs, lda, bStride, ldc);
  }
  rescale(c, M, Np >> 2, ldc, pxs, pws, pb);
  const out = heap.subarray(c >> 2, (c >> 2) + M * Np);
  if (N === Np) y.set(out);
  else for (let m = 0; m < M; m++) y.set(out.subarray(m * Np, m * Np + N), m * N);
  linearEpilogue(y, M, N, null, 0, activation);
}
