// layerNorm and rmsNorm over the last D elements of each row on Wasm SIMD, in float64 lanes as the typed-array twin
// (kernels/norm.ts): mean, then the sum of squared deviations, inv = 1 / sqrt(ss / D + eps), and
// out = (x - mean) · inv · w + b rounded once to float32. Every step is the twin's float64 operation; only the order
// of the two sums differs (four running lanes, then the lanes added, then up to 3 tail elements, where the twin adds
// left to right), so results agree with the twin within the tolerance test/wasm/norm.test.ts states (a few float32
// ulps at most, usually bit for bit). NaN or ±Inf in a row makes the row NaN, as in the twin.
import type { Tensor } from '../../../tensor/tensor.js';
import type { CpuTensor, NumArray } from '../types.js';
import { F64, type FunctionBuilder, I32, type Local, ModuleBuilder, V128 } from './assembler.js';
import { heapF32, wasmMemory, wasmScratch } from './memory.js';
import { chunkStart, opTasks, parallelFor, sharedKernel } from './threads.js';

const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
const JOIN_LOW = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/** The f32x4 `v` as two f64x2 (lanes 0-1 into lo, 2-3 into hi). */
export function emitWiden(f: FunctionBuilder, v: Local, lo: Local, hi: Local): void {
  f.get(v).simd('f64x2.promote_low_f32x4').set(lo);
  f.get(v).get(v).shuffle(HIGH_HALF).simd('f64x2.promote_low_f32x4').set(hi);
}

/** Pushes the f32x4 made of two f64x2 (each rounded to float32). */
export function emitNarrow(f: FunctionBuilder, lo: Local, hi: Local): void {
  f.get(lo).simd('f32x4.demote_f64x2_zero').get(hi).simd('f32x4.demote_f64x2_zero').shuffle(JOIN_LOW);
}

/**
 * `rows(x, w, b, o, R, D, eps, rms)`: R rows of D floats at x (packed) into o; w and b hold D floats each
 * (1 and 0 when the op has none: the twin multiplies by 1 and adds 0 too). rms = 1 skips the mean (0).
 */
export function normModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  m.func('rows', [I32, I32, I32, I32, I32, I32, F64, I32], [], (f, x, w, b, o, R, D, eps, rms) => {
    const r = f.local(I32), j = f.local(I32), p = f.local(I32), q = f.local(I32), D4 = f.local(I32);
    const v = f.local(V128), lo = f.local(V128), hi = f.local(V128), s0 = f.local(V128), s1 = f.local(V128), mu2 = f.local(V128), inv2 = f.local(V128);
    const wl = f.local(V128), wh = f.local(V128), bl = f.local(V128), bh = f.local(V128);
    const mu = f.local(F64), inv = f.local(F64), d = f.local(F64), Df = f.local(F64);
    const at = (base: Local) => f.get(base).get(j).i32(2).op('i32.shl').op('i32.add'); // base + 4j
    const lanesSum = () => { // s0 + s1, then its two lanes
      f.get(s0).get(s1).simd('f64x2.add').set(s0);
      f.get(s0).lane('f64x2.extract_lane', 0).get(s0).lane('f64x2.extract_lane', 1).op('f64.add');
    };
    f.get(D!).i32(-4).op('i32.and').set(D4);
    f.get(D!).op('f64.convert_i32_s').set(Df);
    f.forRange(r, () => f.i32(0), () => f.get(R!), 1, () => {
      f.get(x!).get(r).get(D!).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(p);
      f.get(o!).get(r).get(D!).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(q);
      // mean (0 for rms)
      f.f64(0).set(mu);
      f.get(rms!).op('i32.eqz').if(() => {
        f.v128f32(0).set(s0); f.v128f32(0).set(s1);
        f.forRange(j, () => f.i32(0), () => f.get(D4), 4, () => {
          at(p).vmem('v128.load').set(v);
          emitWiden(f, v, lo, hi);
          f.get(s0).get(lo).simd('f64x2.add').set(s0);
          f.get(s1).get(hi).simd('f64x2.add').set(s1);
        });
        lanesSum(); f.set(mu);
        f.forRange(j, () => f.get(D4), () => f.get(D!), 1, () => { f.get(mu); at(p).mem('f32.load').op('f64.promote_f32').op('f64.add').set(mu); });
        f.get(mu).get(Df).op('f64.div').set(mu);
      });
      f.get(mu).simd('f64x2.splat').set(mu2);
      // sum of squared deviations
      f.v128f32(0).set(s0); f.v128f32(0).set(s1);
      f.forRange(j, () => f.i32(0), () => f.get(D4), 4, () => {
        at(p).vmem('v128.load').set(v);
        emitWiden(f, v, lo, hi);
        f.get(lo).get(mu2).simd('f64x2.sub').tee(lo).get(lo).simd('f64x2.mul').get(s0).simd('f64x2.add').set(s0);
        f.get(hi).get(mu2).simd('f64x2.sub').tee(hi).get(hi).simd('f64x2.mul').get(s1).simd('f64x2.add').set(s1);
      });
      lanesSum(); f.set(inv);
      f.forRange(j, () => f.get(D4), () => f.get(D!), 1, () => {
        at(p).mem('f32.load').op('f64.promote_f32').get(mu).op('f64.sub').set(d);
        f.get(inv).get(d).get(d).op('f64.mul').op('f64.add').set(inv);
      });
      f.f64(1).get(inv).get(Df).op('f64.div').get(eps!).op('f64.add').op('f64.sqrt').op('f64.div').set(inv);
      f.get(inv).simd('f64x2.splat').set(inv2);
      // out = (x - mu) · inv · w + b
      f.forRange(j, () => f.i32(0), () => f.get(D4), 4, () => {
        at(w!).vmem('v128.load').set(v); emitWiden(f, v, wl, wh);
        at(b!).vmem('v128.load').set(v); emitWiden(f, v, bl, bh);
        at(p).vmem('v128.load').set(v); emitWiden(f, v, lo, hi);
        f.get(lo).get(mu2).simd('f64x2.sub').get(inv2).simd('f64x2.mul').get(wl).simd('f64x2.mul').get(bl).simd('f64x2.add').set(lo);
        f.get(hi).get(mu2).simd('f64x2.sub').get(inv2).simd('f64x2.mul').get(wh).simd('f64x2.mul').get(bh).simd('f64x2.add').set(hi);
        at(q); emitNarrow(f, lo, hi); f.vmem('v128.store');
      });
      f.forRange(j, () => f.get(D4), () => f.get(D!), 1, () => {
        at(q);
        at(p).mem('f32.load').op('f64.promote_f32').get(mu).op('f64.sub').get(inv).op('f64.mul');
        at(w!).mem('f32.load').op('f64.promote_f32').op('f64.mul');
        at(b!).mem('f32.load').op('f64.promote_f32').op('f64.add');
        f.op('f32.demote_f64').mem('f32.store');
      });
    });
  });
  // rowsAt(x, w, b, o, R, D, epsAt, rms): rows with eps read as the float64 at byte epsAt (16 bytes readable), for
  // the thread pool, whose tasks pass i32 arguments only
  m.func('rowsAt', [I32, I32, I32, I32, I32, I32, I32, I32], [], (f, x, w, b, o, R, D, epsAt, rms) => {
    f.get(x!).get(w!).get(b!).get(o!).get(R!).get(D!).get(epsAt!).vmem('v128.load').lane('f64x2.extract_lane', 0).get(rms!).call(0);
  });
  return m.emit();
}

type Rows = (x: number, w: number, b: number, o: number, R: number, D: number, eps: number, rms: number) => void;
const kernel = sharedKernel<Rows>(normModuleBytes, 'rows', 'rowsAt');

/**
 * Norms below this many elements stay on one thread: about the one-thread time of the GEMM's measured break-even
 * (4 MFLOP, ~150 µs), at ~1.6 ns an element, the op with its copies (the encoder's 12 norms of 128 x 384 took 0.96 ms
 * a run at load 1.3). Not measured for the norm itself: the 2-core VM stayed at load 9-11.
 */
export const NORM_THREADS_MIN = 1 << 16;

/** Whether the fast path takes this layerNorm / rmsNorm: a float x with at least one element per row. */
export function normFits(inputs: readonly Tensor[], dims: number): boolean {
  const x = inputs[0]!;
  if (x.size === 0 || !inputs.every((t) => t.dtype === 'float32' || t.dtype === 'float16')) return false;
  let D = 1;
  for (let i = x.rank - dims; i < x.rank; i++) D *= x.shape[i]!;
  return D > 0;
}

/** out = layerNorm / rmsNorm of x over its last `dims` dims (x contiguous; weight, bias optional). */
export function normWasm(out: CpuTensor, [x, weight, bias]: readonly (CpuTensor | undefined)[], eps: number, dims: number, rms: boolean): void {
  const n = out.data.length;
  let D = 1;
  for (let i = x!.shape.length - dims; i < x!.shape.length; i++) D *= x!.shape[i]!;
  const R = n / D, D4 = Math.ceil(D / 4) * 4;
  // x, output, then w and b (each padded to whole groups of 4 and 4 more: the vector loop never reads past them)
  const base = wasmScratch((2 * n + 2 * D4 + 20) * 4); // + 16 bytes: eps as a float64 for threaded tasks
  const h = heapF32(), xq = base >> 2, oq = xq + n + 4, wq = oq + n + 4, bq = wq + D4 + 4;
  h.set((x!.data as NumArray).subarray(x!.offset, x!.offset + n) as never, xq);
  if (weight) h.set((weight.data as NumArray).subarray(weight.offset, weight.offset + D) as never, wq); else h.fill(1, wq, wq + D);
  if (bias) h.set((bias.data as NumArray).subarray(bias.offset, bias.offset + D) as never, bq); else h.fill(0, bq, bq + D);
  const { fn: run, id: rowsAtId } = kernel(), tasks = opTasks(R, n, NORM_THREADS_MIN);
  if (tasks === 1) run(xq << 2, wq << 2, bq << 2, oq << 2, R, D, eps, rms ? 1 : 0);
  else { // rows are independent: a task's rows get the bits one thread gives them; eps goes through memory as a float64
    const epsAt = (bq + D4 + 4) << 2;
    new DataView(wasmMemory().buffer).setFloat64(epsAt, eps, true);
    parallelFor(rowsAtId, tasks, (i, args) => {
      const r0 = chunkStart(i, R, tasks);
      args.set([(xq + r0 * D) << 2, wq << 2, bq << 2, (oq + r0 * D) << 2, chunkStart(i + 1, R, tasks) - r0, D, epsAt, rms ? 1 : 0]);
    });
  }
  (out.data as NumArray).set(h.subarray(oq, oq + n) as never);
}
