// sum / mean / prod / max / min over one block of consecutive axes (after size-1 dims are dropped) on Wasm: the
// last axes (ReduceMean of a decomposed LayerNorm, a global average pool over H, W) as rows, four rows at a time,
// each with its own accumulator chain; a middle block (a reduction over channels of NCHW) with four output positions
// per f32x4. The twin (kernels/reduce.ts) folds each output's elements in row-major order, in float64 for sum, mean
// and prod; these kernels fold in that same order with the same float64 operations (and the same comparisons for
// max / min, where NaN wins and the first of equal values, e.g. of -0 and 0, stays), so results are bit for bit.
import type { ReduceOp } from '../../../ops/attrs.js';
import { F32, F64, I32, ModuleBuilder, V128 } from './assembler.js';
import type { CpuTensor, NumArray } from '../types.js';
import { heapF32, wasmMemory, wasmScratch } from './memory.js';

export const WASM_REDUCE: ReadonlySet<ReduceOp> = new Set<ReduceOp>(['sum', 'mean', 'prod', 'max', 'min']);

/** The reduction as outer x R x inner (R the reduced count), or null when the reduced axes are not one block. */
export function reducePlan(shape: readonly number[], axes: readonly number[]): { outer: number; R: number; inner: number } | null {
  const red = new Set(axes);
  const kept = shape.map((_, i) => i).filter((i) => shape[i] !== 1);
  const r = kept.filter((i) => red.has(i));
  if (r.length === 0) return null; // nothing to fold (only size-1 dims reduced): the twin's copy
  const first = kept.indexOf(r[0]!);
  if (r.some((a, k) => kept[first + k] !== a)) return null; // reduced axes with a kept axis between them
  const prod = (ids: number[]) => ids.reduce((a, i) => a * shape[i]!, 1);
  return { outer: prod(kept.slice(0, first)), R: prod(r), inner: prod(kept.slice(first + r.length)) };
}

/** Reductions of fewer elements stay on the twin (the copies cost more than the fold). */
const REDUCE_MIN = 64;

/** The variant for reducing x (float, contiguous) over `axes`: rows (last axes) or columns (a middle block), or ''. */
export function reduceVariant(op: ReduceOp, x: { shape: readonly number[]; size: number }, axes: readonly number[]): string {
  if (x.size < REDUCE_MIN) return '';
  const p = reducePlan(x.shape, axes);
  return !p ? '' : p.inner === 1 ? `${op}-wasm-rows` : `${op}-wasm-simd-cols`;
}

type F64Op = 'sum' | 'mean' | 'prod';
const isF64 = (op: ReduceOp): op is F64Op => op === 'sum' || op === 'mean' || op === 'prod';

/**
 * `{op}_rows(x, o, rows, R)`: o[r] = fold of x[r·R .. r·R + R); `{op}_cols(x, o, outer, R, inner)`: o[a·inner + c] =
 * fold over k of x[(a·R + k)·inner + c], 4 columns per f32x4 (the last group of a row may spill 3 floats into the next
 * row's output, which that row rewrites, or into the padding after the block).
 */
export function reduceModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  for (const op of WASM_REDUCE) {
    m.func(`${op}_rows`, [I32, I32, I32, I32], [], (f, x, o, rows, R) => {
      const r = f.local(I32), k = f.local(I32), rb = f.local(I32), n4 = f.local(I32);
      const p = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
      const acc = isF64(op) ? [f.local(F64), f.local(F64), f.local(F64), f.local(F64)] : [f.local(F32), f.local(F32), f.local(F32), f.local(F32)];
      const v = f.local(F32);
      f.get(R!).i32(2).op('i32.shl').set(rb); // a row's bytes
      f.get(rows!).i32(-4).op('i32.and').set(n4);
      /** J rows from row r on: J independent chains in one loop over k (the CPU overlaps their latencies). */
      const rowsAt = (J: number) => {
        for (let j = 0; j < J; j++) {
          f.get(x!).get(r).get(rb).op('i32.mul').op('i32.add').i32(j).get(rb).op('i32.mul').op('i32.add').set(p[j]!);
          if (isF64(op)) f.f64(op === 'prod' ? 1 : 0).set(acc[j]!); else f.f32(op === 'max' ? -Infinity : Infinity).set(acc[j]!);
        }
        f.forRange(k, () => f.i32(0), () => f.get(R!), 1, () => {
          for (let j = 0; j < J; j++) {
            if (isF64(op)) {
              f.get(acc[j]!).get(p[j]!).mem('f32.load').op('f64.promote_f32').op(op === 'prod' ? 'f64.mul' : 'f64.add').set(acc[j]!);
            } else {
              // acc = acc is a number and (v beyond acc or v NaN) ? v : acc
              f.get(p[j]!).mem('f32.load').set(v);
              f.get(v).get(acc[j]!);
              if (op === 'max') f.get(acc[j]!).get(v).op('f32.lt'); else f.get(v).get(acc[j]!).op('f32.lt');
              f.get(v).get(v).op('f32.eq').op('i32.eqz').op('i32.or').get(acc[j]!).get(acc[j]!).op('f32.eq').op('i32.and');
              f.op('select').set(acc[j]!);
            }
            f.get(p[j]!).i32(4).op('i32.add').set(p[j]!);
          }
        });
        for (let j = 0; j < J; j++) {
          f.get(o!).get(r).i32(j).op('i32.add').i32(2).op('i32.shl').op('i32.add').get(acc[j]!);
          if (op === 'mean') f.get(R!).op('f64.convert_i32_s').op('f64.div');
          if (isF64(op)) f.op('f32.demote_f64');
          f.mem('f32.store');
        }
      };
      f.forRange(r, () => f.i32(0), () => f.get(n4), 4, () => rowsAt(4));
      f.forRange(r, () => f.get(n4), () => f.get(rows!), 1, () => rowsAt(1));
    });
    m.func(`${op}_cols`, [I32, I32, I32, I32, I32], [], (f, x, o, outer, R, inner) => {
      const a = f.local(I32), c = f.local(I32), k = f.local(I32), p = f.local(I32), q = f.local(I32), ib = f.local(I32);
      const v = f.local(V128), lo = f.local(V128), hi = f.local(V128), mk = f.local(V128);
      f.get(inner!).i32(2).op('i32.shl').set(ib);
      f.get(o!).set(q);
      f.forRange(a, () => f.i32(0), () => f.get(outer!), 1, () => {
        f.forRange(c, () => f.i32(0), () => f.get(ib), 16, () => {
          f.get(x!).get(a).get(R!).op('i32.mul').get(ib).op('i32.mul').op('i32.add').get(c).op('i32.add').set(p);
          if (isF64(op)) {
            f.f64(op === 'prod' ? 1 : 0).simd('f64x2.splat').tee(lo).set(hi);
          } else {
            f.v128f32(op === 'max' ? -Infinity : Infinity).set(lo);
          }
          f.forRange(k, () => f.i32(0), () => f.get(R!), 1, () => {
            f.get(p).vmem('v128.load').set(v);
            if (isF64(op)) {
              const instr = op === 'prod' ? 'f64x2.mul' : 'f64x2.add';
              f.get(lo).get(v).simd('f64x2.promote_low_f32x4').simd(instr).set(lo);
              f.get(hi).get(v).get(v).shuffle(HIGH_TO_LOW).simd('f64x2.promote_low_f32x4').simd(instr).set(hi);
            } else {
              if (op === 'max') f.get(v).get(lo).simd('f32x4.gt'); else f.get(v).get(lo).simd('f32x4.lt');
              f.get(v).get(v).simd('f32x4.ne').simd('v128.or').get(lo).get(lo).simd('f32x4.eq').simd('v128.and').set(mk);
              f.get(v).get(lo).get(mk).simd('v128.bitselect').set(lo);
            }
            f.get(p).get(ib).op('i32.add').set(p);
          });
          f.get(q).get(c).op('i32.add');
          if (isF64(op)) {
            if (op === 'mean') {
              f.get(R!).op('f64.convert_i32_s').simd('f64x2.splat').set(mk);
              f.get(lo).get(mk).simd('f64x2.div').set(lo);
              f.get(hi).get(mk).simd('f64x2.div').set(hi);
            }
            f.get(lo).simd('f32x4.demote_f64x2_zero').get(hi).simd('f32x4.demote_f64x2_zero').shuffle(LOWS);
          } else {
            f.get(lo);
          }
          f.vmem('v128.store');
        });
        f.get(q).get(ib).op('i32.add').set(q);
      });
    });
  }
  return m.emit();
}

const bytes = (...lanes: number[]) => lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
/** f32 lanes 2, 3 moved to 0, 1 (for the second promote_low). */
const HIGH_TO_LOW = bytes(2, 3, 2, 3);
/** lanes 0, 1 of the first operand then lanes 0, 1 of the second. */
const LOWS = bytes(0, 1, 4, 5);

type Fn = (...args: number[]) => void;
let fns: Record<string, Fn> | null = null;
const kernels = (): Record<string, Fn> => {
  if (!fns) fns = new WebAssembly.Instance(new WebAssembly.Module(reduceModuleBytes()), { env: { memory: wasmMemory() } }).exports as Record<string, Fn>;
  return fns;
};

/** out = op of contiguous x over a plan from reducePlan: x copied into the scratch block, folded there, copied out. */
export function reduceWasm(op: ReduceOp, out: CpuTensor, x: CpuTensor, p: { outer: number; R: number; inner: number }): void {
  const n = p.outer * p.R * p.inner, m = p.outer * p.inner;
  if (m === 0) return;
  const pad = (k: number) => Math.ceil(k / 4) * 4 + 4; // room for the cols kernel's 4-float over-read and spill
  const xq = wasmScratch((pad(n) + pad(m)) * 4) >> 2, oq = xq + pad(n);
  const heap = heapF32();
  heap.set(x.data.subarray(x.offset, x.offset + n) as never, xq);
  if (p.inner === 1) kernels()[`${op}_rows`]!(xq << 2, oq << 2, p.outer, p.R);
  else kernels()[`${op}_cols`]!(xq << 2, oq << 2, p.outer, p.R, p.inner);
  (out.data as NumArray).set(heap.subarray(oq, oq + m) as never);
}
