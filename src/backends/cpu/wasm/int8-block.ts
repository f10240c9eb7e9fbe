// Block-scaled int8 linear layers on Wasm SIMD (Q8_0 and the like: one scale per (row, block of `block` along K)).
// Reference twins in kernels/int8.ts: linearInt8 with block > 0 (dotsQ8 in int8-gemm.ts) and linearW8.
// - W8A8 (`q8rows{mr}`): exact int32 sums per block with i32x4.dot_i16x8_s, then each block's sum scaled in float64
//   in the twin's own order (f += (sum · xs) · ws, blocks in order), so outputs equal the twin's bit for bit.
// - Weight-only W8 (`w8rows{mr}`): float32 activations times int8 weights widened to f32 in registers, summed in
//   f32 per block, then f32 += block sum · scale. The twin sums in float64, so results differ by f32 rounding only.
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
import { cachedPack, INT8_MAX_K } from './int8.js';
import { heapF32, wasmMemory, wasmScratch } from './memory.js';

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

/** Push `base + off` (off omitted for row 0). */
const addr = (f: FunctionBuilder, base: Local, off: Local | undefined, r: number): void => { f.get(base); if (r > 0) f.get(off!).op('i32.add'); };

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

/**
 * `w8rows{mr}(a, b, c, blocks, panels, nbk, bl4, lda, bStride, ldc)`: C f32 tile [mr, 8] += Σ over nbk K blocks of
 * (f32 Σ over 4·bl4 values of x · f32(w)) · ws. a = f32 activations (rows lda bytes apart), b = packed panels
 * (bStride apart), c = f32 C (rows ldc apart). One row keeps four sets of accumulators (k mod 4) so that the
 * additions do not wait on each other; two rows two sets.
 */
function emitW8Rows(f: FunctionBuilder, mr: number, p: Local[]): void {
  const [a, b, c, blocks, panels, nbk, bl4, lda, bStride, ldc] = p as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const j = f.local(I32), ib = f.local(I32), kb = f.local(I32), k = f.local(I32), ap = f.local(I32), bp = f.local(I32), cr = f.local(I32), cp = f.local(I32);
  const aOff = rowOffsets(f, mr, lda), cOff = rowOffsets(f, mr, ldc);
  const sets = mr === 1 ? 4 : mr === 2 ? 2 : 1;
  const acc: Local[][][] = [];
  for (let s = 0; s < sets; s++) { const rows: Local[][] = []; for (let r = 0; r < mr; r++) rows.push([f.local(V128), f.local(V128)]); acc.push(rows); }
  const wv = f.local(V128), w0 = f.local(V128), w1 = f.local(V128), xv = f.local(V128), s0 = f.local(V128), s1 = f.local(V128);
  f.forRange(j, () => f.i32(0), () => f.get(panels), 1, () => {
    f.forRange(ib, () => f.i32(0), () => f.get(blocks), 1, () => {
      f.get(b).get(j).get(bStride).op('i32.mul').op('i32.add').set(bp);
      f.get(a).get(ib).get(lda).i32(mr).op('i32.mul').op('i32.mul').op('i32.add').set(ap);
      f.get(c).get(ib).get(ldc).i32(mr).op('i32.mul').op('i32.mul').op('i32.add').get(j).i32(5).op('i32.shl').op('i32.add').set(cr);
      f.forRange(kb, () => f.i32(0), () => f.get(nbk), 1, () => {
        for (const set of acc) for (const row of set) for (const v of row) f.v128f32(0).set(v);
        f.get(bl4).set(k);
        f.loop(() => {
          for (let u = 0; u < 4; u++) {
            f.get(bp).vmem('v128.load8x8_s', 8 * u).tee(wv).simd('i32x4.extend_low_i16x8_s').simd('f32x4.convert_i32x4_s').set(w0);
            f.get(wv).simd('i32x4.extend_high_i16x8_s').simd('f32x4.convert_i32x4_s').set(w1);
            const set = acc[u % sets]!;
            for (let r = 0; r < mr; r++) {
              addr(f, ap, aOff[r], r);
              f.vmem('v128.load32_splat', 4 * u).set(xv);
              for (let h = 0; h < 2; h++) f.get(set[r]![h]!).get(h === 0 ? w0 : w1).get(xv).simd('f32x4.mul').simd('f32x4.add').set(set[r]![h]!);
            }
          }
          f.get(ap).i32(16).op('i32.add').set(ap);
          f.get(bp).i32(32).op('i32.add').set(bp);
          f.get(k).i32(1).op('i32.sub').tee(k).brIf(0);
        });
        f.get(bp).vmem('v128.load', 0).set(s0);
        f.get(bp).vmem('v128.load', 16).set(s1);
        for (let r = 0; r < mr; r++) {
          addr(f, cr, cOff[r], r);
          f.set(cp);
          for (let h = 0; h < 2; h++) {
            f.get(cp).get(cp).vmem('v128.load', 16 * h);
            f.get(acc[0]![r]![h]!);
            for (let s = 1; s < sets; s++) f.get(acc[s]![r]![h]!).simd('f32x4.add');
            f.get(h === 0 ? s0 : s1).simd('f32x4.mul').simd('f32x4.add').vmem('v128.store', 16 * h);
          }
        }
        f.get(bp).i32(SCALE_BYTES).op('i32.add').set(bp);
      });
    });
  });
}

/** The block-scaled int8 module: q8rows1..4 (W8A8) and w8rows1..4 (weight-only). */
export function int8BlockModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  for (let mr = 1; mr <= MR; mr++) m.func(`q8rows${mr}`, Array<typeof I32>(12).fill(I32), [], (f, ...p) => emitQ8Rows(f, mr, p));
  for (let mr = 1; mr <= MR; mr++) m.func(`w8rows${mr}`, Array<typeof I32>(10).fill(I32), [], (f, ...p) => emitW8Rows(f, mr, p));
  return m.emit();
}

type Q8Rows = (a: number, b: number, c: number, xs: number, blocks: number, panels: number, nbk: number, pairs: number, lda: number, bStride: number, ldc: number, xsStride: number) => void;
type W8Rows = (a: number, b: number, c: number, blocks: number, panels: number, nbk: number, bl4: number, lda: number, bStride: number, ldc: number) => void;
let fns: { q8: Q8Rows[]; w8: W8Rows[] } | null = null;
const kernels = (): { q8: Q8Rows[]; w8: W8Rows[] } => {
  if (!fns) {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(int8BlockModuleBytes()), { env: { memory: wasmMemory() } });
    const get = <T>(name: string) => Array.from({ length: MR }, (_, i) => inst.exports[`${name}${i + 1}`] as T);
    fns = { q8: get<Q8Rows>('q8rows'), w8: get<W8Rows>('w8rows') };
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
  const sxs = base + aBytes, c = sxs + sBytes, buf = wasmMemory().buffer;
  new Int16Array(buf, base, M * Kp).set(xq.subarray(xo, xo + M * Kp));
  new Float32Array(buf, sxs, M * nb).set(xs.subarray(xso, xso + M * nb));
  const f = new Float64Array(buf, c, M * Np);
  f.fill(0);
  const { q8 } = kernels(), lda = Kp * 2, ldc = Np * 8, bStride = nb * (block * NR + SCALE_BYTES);
  rowBlocks(M, (mr, i0, blocks) => q8[mr - 1]!(base + i0 * lda, wp, c + i0 * ldc, sxs + i0 * nb * 4, blocks, Np / NR, nb, block >> 1, lda, bStride, ldc, nb * 4));
  for (let m = 0, p = 0; m < M; m++) for (let n = 0; n < N; n++, p++) y[p] = f[m * Np + n]! + (bias ? bias[bo + n]! : 0);
  linearEpilogue(y, M, N, null, 0, activation);
}

/**
 * Weight-only: y [M, N] = act(x · (wq · ws)ᵀ + bias) for x [M, K] float (K ≤ Kp; the rest of each row reads 0),
 * one scale per row (block 0) or per block. f32 sums (the twin's are float64).
 */
export function linearW8Wasm(y: NumArray, x: NumArray, xo: number, K: number, w: BlockWeight, bias: NumArray | null, bo: number, M: number, activation: ActivationName): void {
  const { N, Kp, block } = w, bl = block > 0 ? block : Kp, nb = Kp / bl, Np = Math.ceil(N / NR) * NR;
  const wp = packBlocks(w, false);
  const aBytes = align16(M * Kp * 4), base = wasmScratch(aBytes + M * Np * 4), c = base + aBytes;
  const heap = heapF32(), a0 = base >> 2;
  if (K === Kp) heap.set(x.subarray(xo, xo + M * K), a0);
  else for (let m = 0; m < M; m++) { heap.set(x.subarray(xo + m * K, xo + (m + 1) * K), a0 + m * Kp); heap.fill(0, a0 + m * Kp + K, a0 + (m + 1) * Kp); }
  heap.fill(0, c >> 2, (c >> 2) + M * Np);
  const { w8 } = kernels(), lda = Kp * 4, ldc = Np * 4, bStride = nb * (bl * NR + SCALE_BYTES);
  rowBlocks(M, (mr, i0, blocks) => w8[mr - 1]!(base + i0 * lda, wp, c + i0 * ldc, blocks, Np / NR, nb, bl >> 2, lda, bStride, ldc));
  for (let m = 0, p = 0, q = c >> 2; m < M; m++, q += Np) for (let n = 0; n < N; n++, p++) y[p] = heap[q + n]! + (bias ? bias[bo + n]! : 0);
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
