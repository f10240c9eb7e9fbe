// Fused attention (sdpa) on Wasm SIMD, in blocks of 4 query rows of one (batch, head) plane, register-tiled as the
// GEMM micro-kernel (gemm-module.ts) so that one load of kᵀ or V feeds 4 rows:
//   1. scores: a 4 rows x 8 keys tile of accumulators; per d, two vector loads of kᵀ [D, S] (8 keys, no horizontal
//      sums) and one splat of q per row; scaled, masked (bool: selected to -Inf; additive: added) into a scratch
//      [4, S8]. Causal: key blocks past the block's last row are not computed; each row's keys from its own limit
//      (t + S - T + 1) are set to -Inf.
//   2. per row, the softmax in place (max, float32 exp of unary.ts, float64 sum) and 1 / sum; keys past the row's
//      causal limit and scores more than 80 below the row's max get p = 0 without an exp (no subnormal results).
//   3. p·V: a 4 rows x 8 value dims tile; per key, two vector loads of V and one splat of p per row; times 1 / sum.
// Before this (one row at a time, kᵀ and V streamed once per row) the kernel was bound by loads: 2.4 ms at DeiT-tiny's
// [1, 3, 197, 64] alone (4.5 ms a call inside the model), now 1.2 ms (one thread, load 2.5; causal 3.4x faster):
// scores and p·V run near the f32x4 mul+add ceiling, and the row softmax's exp is the largest part left. Per row
// the arithmetic is the same sequence as then (the same float32 dot order, the same lanes of the float64 sum, p·v
// accumulated in key order), so the numbers are bit for bit those of the row-at-a-time kernel, except where a
// score lies more than 80 below its row's max (p = 0 here, a subnormal there).
// Reference twin: kernels/sdpa.ts (float64 dots and Math.exp); test/wasm/sdpa.test.ts states the tolerance. The
// special rows follow the twin: a NaN or +Inf score makes the row NaN; a row with every key masked is Σ 0·v (zeros,
// or NaN where a value is NaN or ±Inf); keys with p = 0 still add 0·v, so the causal p·V skips the keys past the
// block's last row only when the plane's V is all finite (one scan per plane). Known difference: dots are float32,
// so a score beyond the float32 range (|q·k| > 3.4e38) is ±Inf here where the twin keeps it finite.
// Row blocks are independent: planes x blocks are split over worker threads (threads.ts), each task with its own
// scratch; a row's numbers do not depend on the split.
// Legend: P = B·H planes, T = queries, S = keys, S8 = S rounded up to 8, D = q/k size, Dv = value size,
// TB = row blocks a plane (T / 4 rounded up).
import type { OpAttrs } from '../../../ops/attrs.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { CpuTensor, NumArray } from '../types.js';
import { F32, I32, ModuleBuilder, V128 } from './assembler.js';
import { gatherInto, gatherSpan } from './copy.js';
import { heapF32, wasmScratch } from './memory.js';
import { chunkStart, opTasks, parallelFor, sharedKernel } from './threads.js';
import { emitExp } from './unary.js';

const MASK_NONE = 0, MASK_BOOL = 1, MASK_ADD = 2;
/** Floats of a task's scratch: the scores of 4 rows (4 · S8), 1 / sum of each row (4), a partial output tile (8). */
const scratchFloats = (S: number) => 4 * (Math.ceil(S / 8) * 8) + 12;

/**
 * `blocks(q, kT, v, mask, out, sc, b0, b1, T, S, D, Dv, scaleBits, shift, causal, maskKind)` (all i32, so that
 * parallelFor can pass them; scaleBits is the float32 scale's bits): row blocks b0 <= b < b1 (block b is rows
 * 4·(b % TB) .. + 3 of plane b / TB) of q [P, T, D], kT [P, D, S], v [P, S, Dv], mask [P, T, S] (bool as 0/1 floats)
 * -> out [P, T, Dv]; sc is scratchFloats(S) floats. Vector reads past a row's end (into the next row, or the 8 floats
 * of slack after each block) only feed lanes that are discarded; a block with fewer than 4 rows computes copies of
 * its last row that are not stored. Output columns past Dv are never written (a partial tile goes through sc).
 */
export function sdpaModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  m.func('blocks', [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32], [],
    (f, q, kT, v, mask, out, sc, b0, b1, T, S, D, Dv, scaleBits, shift, causal, maskKind) => {
      const L = () => f.local(I32), V = () => f.local(V128);
      const blk = L(), p = L(), t0 = L(), R = L(), TB = L(), S8 = L(), r = L(), j = L(), d = L(), limitMax = L(), limit = L(), end8 = L();
      const lim4 = L(), jEnd = L(), kc = L(), vp = L(), lastP = L(), vOk = L(), scr = L(), invAt = L(), tile = L(), o = L(), n = L(), i = L();
      const qR = [L(), L(), L(), L()], mR = [L(), L(), L(), L()], sR = [L(), L(), L(), L()];
      const a = [V(), V(), V(), V(), V(), V(), V(), V()], k0 = V(), k1 = V(), s = V(), x = V(), e = V(), mx = V(), s0 = V(), s1 = V(), w = V();
      const scl = V(), ninf = V(), sum = V(), inv = f.local(F32);
      const tx = { n: V(), r: V(), i: V() };
      const addr = (base: typeof q, idx: typeof q) => f.get(base!).get(idx).i32(2).op('i32.shl').op('i32.add');
      // One step of a 4 rows x 8 columns tile (scores: over d; p·V: over keys): a[2r], a[2r+1] += row r's scalar
      // at rows[r] + idx times the 8 floats at `ptr`, then ptr moves one row of `stride` floats on
      const tileStep = (ptr: typeof q, rows: readonly (typeof q)[], idx: typeof q, stride: typeof q) => {
        f.get(ptr).vmem('v128.load').set(k0);
        f.get(ptr).vmem('v128.load', 16).set(k1);
        for (let rr = 0; rr < 4; rr++) {
          addr(rows[rr]!, idx).vmem('v128.load32_splat').set(s);
          f.get(a[2 * rr]!).get(s).get(k0).simd('f32x4.mul').simd('f32x4.add').set(a[2 * rr]!);
          f.get(a[2 * rr + 1]!).get(s).get(k1).simd('f32x4.mul').simd('f32x4.add').set(a[2 * rr + 1]!);
        }
        f.get(ptr).get(stride).i32(2).op('i32.shl').op('i32.add').set(ptr);
      };
      // limit (keys j >= limit are causally masked) of query row `row()`: clamp(row + shift + 1, 0, S)
      const causalLimit = (dst: typeof q, row: () => void) => {
        row(); f.get(shift!).op('i32.add').i32(1).op('i32.add').set(dst);
        f.get(dst).i32(0).get(dst).i32(0).op('i32.gt_s').op('select').set(dst);
        f.get(dst).get(S!).get(dst).get(S!).op('i32.lt_s').op('select').set(dst);
      };
      f.get(S!).i32(7).op('i32.add').i32(-8).op('i32.and').set(S8);
      f.get(T!).i32(3).op('i32.add').i32(2).op('i32.shr_u').set(TB);
      f.get(scaleBits!).op('f32.reinterpret_i32').simd('f32x4.splat').set(scl);
      f.v128f32(-Infinity).set(ninf);
      f.i32(-1).set(lastP);
      // the scratch: 4 score rows of S8, then 4 floats of 1 / sum, then an 8-float tile
      for (let rr = 0; rr < 4; rr++) f.get(sc!).get(S8).i32(rr * 4).op('i32.mul').op('i32.add').set(sR[rr]!);
      f.get(sc!).get(S8).i32(16).op('i32.mul').op('i32.add').set(invAt);
      f.get(invAt).i32(16).op('i32.add').set(tile);
      f.forRange(blk, () => f.get(b0!), () => f.get(b1!), 1, () => {
        f.get(blk).get(TB).op('i32.div_u').set(p);
        f.get(blk).get(p).get(TB).op('i32.mul').op('i32.sub').i32(2).op('i32.shl').set(t0);
        f.get(T!).get(t0).op('i32.sub').set(R);
        f.get(R).i32(4).get(R).i32(4).op('i32.lt_s').op('select').set(R);
        // row pointers; rows past the block's end repeat its last row
        for (let rr = 0; rr < 4; rr++) {
          // row index in [P·T): p·T + t0 + min(rr, R - 1)
          const row = () => {
            f.get(p).get(T!).op('i32.mul').get(t0).op('i32.add');
            f.i32(rr).get(R).i32(1).op('i32.sub').i32(rr).get(R).i32(1).op('i32.sub').op('i32.lt_s').op('select').op('i32.add');
          };
          f.get(q!); row(); f.get(D!).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(qR[rr]!);
          f.get(mask!); row(); f.get(S!).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(mR[rr]!);
        }
        f.get(S!).set(limitMax);
        f.get(causal!).if(() => causalLimit(limitMax, () => f.get(t0).get(R).op('i32.add').i32(1).op('i32.sub')));
        f.get(limitMax).i32(7).op('i32.add').i32(-8).op('i32.and').set(end8);
        // 1. scores, a 4 x 8 tile: Σ_d q[t, d] · kT[d, j..j+7]
        f.forRange(j, () => f.i32(0), () => f.get(end8), 8, () => {
          for (const acc of a) f.v128f32(0).set(acc);
          f.get(kT!).get(p).get(D!).op('i32.mul').get(S!).op('i32.mul').get(j).op('i32.add').i32(2).op('i32.shl').op('i32.add').set(kc);
          f.forRange(d, () => f.i32(0), () => f.get(D!), 1, () => tileStep(kc, qR, d, S!));
          for (let rr = 0; rr < 4; rr++) {
            for (const h of [0, 1]) {
              const acc = a[2 * rr + h]!;
              f.get(acc).get(scl).simd('f32x4.mul').set(acc);
              f.get(maskKind!).i32(MASK_ADD).op('i32.eq').if(() => { f.get(acc); addr(mR[rr]!, j).vmem('v128.load', 16 * h).simd('f32x4.add').set(acc); });
              f.get(maskKind!).i32(MASK_BOOL).op('i32.eq').if(() => { // masked (0) keys: -Inf
                f.get(acc).get(ninf); addr(mR[rr]!, j).vmem('v128.load', 16 * h).v128f32(0).simd('f32x4.ne').simd('v128.bitselect').set(acc);
              });
              addr(sR[rr]!, j).get(acc).vmem('v128.store', 16 * h);
            }
          }
        });
        // 2. per row: -Inf from its limit on (causal keys, padding past S), then the softmax in place and 1 / sum
        f.forRange(r, () => f.i32(0), () => f.get(R), 1, () => {
          f.get(sc!).get(r).get(S8).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(scr);
          f.get(S!).set(limit);
          f.get(causal!).if(() => causalLimit(limit, () => f.get(t0).get(r).op('i32.add')));
          // keys from lim4 (limit rounded up to 4) on get p = 0 without an exp
          f.get(limit).i32(3).op('i32.add').i32(-4).op('i32.and').set(lim4);
          f.forRange(j, () => f.get(limit), () => f.get(lim4), 1, () => { addr(scr, j).f32(-Infinity).mem('f32.store'); });
          f.forRange(j, () => f.get(lim4), () => f.get(S8), 4, () => { addr(scr, j).v128f32(0).vmem('v128.store'); });
          // max (NaN propagates)
          f.get(ninf).set(mx);
          f.forRange(j, () => f.i32(0), () => f.get(lim4), 4, () => { f.get(mx); addr(scr, j).vmem('v128.load').simd('f32x4.max').set(mx); });
          f.get(mx).get(mx).get(mx).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]).simd('f32x4.max').set(mx);
          f.get(mx).get(mx).get(mx).shuffle([4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11]).simd('f32x4.max').set(mx);
          f.f32(1).set(inv);
          f.get(mx).lane('f32x4.extract_lane', 0).f32(-Infinity).op('f32.eq').if(() => {
            // every key masked: p = 0 for all keys (the output is Σ 0·v)
            f.forRange(j, () => f.i32(0), () => f.get(S8), 4, () => { addr(scr, j).v128f32(0).vmem('v128.store'); });
          }, () => {
            f.v128f32(0).set(s0); f.v128f32(0).set(s1);
            // p = 0 where the score is more than 80 below the max: exp's results below 2^-126 are subnormal, and
            // making one costs a microcode assist (~150 cycles) on x86; at causal shapes half the keys are -Inf.
            // A p under exp(-80) = 1.8e-35 changes no output by a float32 ulp. Two vectors an iteration: the exp is
            // a chain of dependent steps, and the second vector's fills the first one's latency.
            const tx2 = { n: a[2]!, r: a[3]!, i: a[4]! };
            const expAt = (off: number, xx: typeof x, ee: typeof x, low: typeof x, t: typeof tx) => {
              addr(scr, j).vmem('v128.load', off).get(mx).simd('f32x4.sub').set(xx);
              f.get(xx).v128f32(-80).simd('f32x4.lt').set(low);
              f.get(xx).v128f32(-80).simd('f32x4.max').set(xx);
              emitExp(f, xx, ee, t);
            };
            const store = (off: number, ee: typeof x, low: typeof x) => { // p into the scores row, and into the sum
              f.v128f32(0).get(ee).get(low).simd('v128.bitselect').set(ee);
              addr(scr, j).get(ee).vmem('v128.store', off);
              f.get(s0).get(ee).simd('f64x2.promote_low_f32x4').simd('f64x2.add').set(s0);
              f.get(s1).get(ee).get(ee).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]).simd('f64x2.promote_low_f32x4').simd('f64x2.add').set(s1);
            };
            f.get(lim4).i32(-8).op('i32.and').set(n);
            f.forRange(j, () => f.i32(0), () => f.get(n), 8, () => {
              expAt(0, x, e, k0, tx); expAt(16, a[0]!, a[1]!, k1, tx2);
              store(0, e, k0); store(16, a[1]!, k1);
            });
            f.forRange(j, () => f.get(n), () => f.get(lim4), 4, () => { expAt(0, x, e, k0, tx); store(0, e, k0); });
            f.get(s0).get(s1).simd('f64x2.add').set(sum);
            f.f64(1).get(sum).lane('f64x2.extract_lane', 0).get(sum).lane('f64x2.extract_lane', 1).op('f64.add').op('f64.div').op('f32.demote_f64').set(inv);
          });
          addr(invAt, r).get(inv).mem('f32.store');
        });
        // 3. p·V over the keys before jEnd: all of them, or (causal, V of this plane all finite) the block's limit,
        // past which every row's p is 0 and 0·v adds nothing
        f.get(S!).set(jEnd);
        f.get(causal!).if(() => {
          f.get(p).get(lastP).op('i32.ne').if(() => { // Σ 0·v over the plane: NaN iff some value is NaN or ±Inf
            f.get(p).set(lastP);
            f.get(v!).get(p).get(S!).op('i32.mul').get(Dv!).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(vp);
            f.get(S!).get(Dv!).op('i32.mul').set(n);
            f.v128f32(0).set(x);
            f.forRange(i, () => f.i32(0), () => f.get(n).i32(-4).op('i32.and'), 4, () => {
              f.get(x); addr(vp, i).vmem('v128.load').v128f32(0).simd('f32x4.mul').simd('f32x4.add').set(x);
            });
            f.forRange(i, () => f.get(n).i32(-4).op('i32.and'), () => f.get(n), 1, () => {
              f.get(x); addr(vp, i).vmem('v128.load32_splat').v128f32(0).simd('f32x4.mul').simd('f32x4.add').set(x);
            });
            f.get(x).lane('f32x4.extract_lane', 0).get(x).lane('f32x4.extract_lane', 1).op('f32.add');
            f.get(x).lane('f32x4.extract_lane', 2).get(x).lane('f32x4.extract_lane', 3).op('f32.add').op('f32.add').set(inv);
            f.get(inv).get(inv).op('f32.eq').set(vOk);
          });
          f.get(vOk).if(() => f.get(limitMax).set(jEnd));
        });
        f.forRange(d, () => f.i32(0), () => f.get(Dv!), 8, () => {
          for (const acc of a) f.v128f32(0).set(acc);
          f.get(v!).get(p).get(S!).op('i32.mul').get(Dv!).op('i32.mul').get(d).op('i32.add').i32(2).op('i32.shl').op('i32.add').set(vp);
          f.forRange(j, () => f.i32(0), () => f.get(jEnd), 1, () => tileStep(vp, sR, j, Dv!));
          // out[t, d..d+7] = acc · (1 / sum) for the block's real rows; a tile past Dv goes through sc, so that no
          // write leaves the row (another task may own the next one)
          for (let rr = 0; rr < 4; rr++) {
            f.i32(rr).get(R).op('i32.lt_s').if(() => {
              f.get(out!).get(p).get(T!).op('i32.mul').get(t0).op('i32.add').i32(rr).op('i32.add').get(Dv!).op('i32.mul').get(d).op('i32.add').i32(2).op('i32.shl').op('i32.add').set(o);
              f.get(invAt).mem('f32.load', rr * 4).simd('f32x4.splat').set(w);
              f.get(d).i32(8).op('i32.add').get(Dv!).op('i32.gt_s').if(() => {
                f.get(tile).get(a[2 * rr]!).get(w).simd('f32x4.mul').vmem('v128.store');
                f.get(tile).get(a[2 * rr + 1]!).get(w).simd('f32x4.mul').vmem('v128.store', 16);
                f.get(o).get(tile).get(Dv!).get(d).op('i32.sub').i32(2).op('i32.shl').memoryCopy();
              }, () => {
                f.get(o).get(a[2 * rr]!).get(w).simd('f32x4.mul').vmem('v128.store');
                f.get(o).get(a[2 * rr + 1]!).get(w).simd('f32x4.mul').vmem('v128.store', 16);
              });
            });
          }
        });
      });
    });
  return m.emit();
}

type Blocks = (q: number, kT: number, v: number, mask: number, out: number, sc: number, b0: number, b1: number, T: number, S: number, D: number, Dv: number, scaleBits: number, shift: number, causal: number, maskKind: number) => void;
const kernel = sharedKernel<Blocks>(sdpaModuleBytes, 'blocks');

/**
 * Attentions below this many flops (2·P·T·S·(D + Dv)) stay on one thread. Measured (1 vs 2 threads forced, medians
 * of 200 alternating, load 2.4 on the 2-core VM): 2.1 MFLOP 86 vs 122 µs, 4.2 MFLOP 169 vs 162 µs, 8.4 MFLOP 349 vs
 * 301 µs: the break-even is near 4 MFLOP, as the GEMM's.
 */
export const SDPA_THREADS_MIN_FLOPS = 4e6;

/** Whether the fast path takes this sdpa: float q, k, v (and a bool or float mask), every size positive. */
export function sdpaFits(inputs: readonly Tensor[]): boolean {
  const [q, k, v, m] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined];
  const float = (t: Tensor) => t.dtype === 'float32' || t.dtype === 'float16';
  return float(q) && float(k) && float(v) && (!m || m.dtype === 'bool' || float(m)) && q.size > 0 && k.size > 0 && v.size > 0;
}

/** out [B, H, T, Dv] = sdpa(q, k, v[, mask]) with the op's attributes (inputs may be strided or broadcast views). */
export function sdpaWasm(out: CpuTensor, ins: readonly CpuTensor[], { scale, causal, mask }: OpAttrs['sdpa']): void {
  const [q, k, v] = ins as [CpuTensor, CpuTensor, CpuTensor];
  const m = mask === 'none' ? null : ins[3]!;
  const [B, H, T, D] = q.shape as [number, number, number, number];
  const S = k.shape[2]!, Dv = v.shape[3]!, P = B * H, TB = Math.ceil(T / 4), blocks = P * TB;
  const kT: CpuTensor = { ...k, shape: [B, H, D, S], strides: [k.strides[0]!, k.strides[1]!, k.strides[3]!, k.strides[2]!] };
  const views = m ? [q, kT, v, m] : [q, kT, v];
  const { fn: run, id: blocksId } = kernel(), tasks = opTasks(blocks, 2 * P * T * S * (D + Dv), SDPA_THREADS_MIN_FLOPS);
  // 8 floats of slack after each block: the 8-wide tiles read up to 7 floats past a row's end
  const sizes = [P * T * D, P * D * S, P * S * Dv, m ? P * T * S : 0], pad = (n: number) => Math.ceil(n / 4) * 4 + 8;
  const tmp = Math.max(...views.map(gatherSpan)), scr = pad(scratchFloats(S));
  const floats = pad(tmp) + sizes.reduce((a, n) => a + pad(n), 0) + pad(P * T * Dv) + tasks * scr + 4;
  const base = wasmScratch(floats * 4) >> 2;
  const at: number[] = [];
  let next = base + pad(tmp);
  for (const n of [...sizes, P * T * Dv]) { at.push(next); next += pad(n); }
  const h = heapF32();
  views.forEach((t, i) => gatherInto(h, t, at[i]!, base));
  const scaleBits = new Int32Array(Float32Array.of(scale).buffer)[0]!, kind = mask === 'bool' ? MASK_BOOL : mask === 'additive' ? MASK_ADD : MASK_NONE;
  const args = (sc: number, b0: number, b1: number) =>
    [at[0]! << 2, at[1]! << 2, at[2]! << 2, at[3]! << 2, at[4]! << 2, sc << 2, b0, b1, T, S, D, Dv, scaleBits, S - T, causal ? 1 : 0, kind] as const;
  if (tasks === 1) run(...args(next, 0, blocks));
  else { // row blocks are independent: each task has its own scratch, and a row's numbers do not depend on the split
    parallelFor(blocksId, tasks, (i, a) => a.set(args(next + i * scr, chunkStart(i, blocks, tasks), chunkStart(i + 1, blocks, tasks))));
  }
  (out.data as NumArray).set(heapF32().subarray(at[4]!, at[4]! + P * T * Dv) as never);
}
