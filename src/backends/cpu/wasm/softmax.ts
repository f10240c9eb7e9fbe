// softmax over the last axis on Wasm SIMD: row max (f32x4.max keeps NaN), e = exp(x - max) with the float32 exp of
// unary.ts, the sum in float64 lanes, then e · (1 / sum). Reference twin: softmax in kernels/reduce.ts (float64
// Math.exp); test/wasm/softmax.test.ts states the tolerance. Rows are padded to 4 with -Inf, which adds exp = 0.
import type { Tensor } from '../../../tensor/tensor.js';
import type { CpuTensor, NumArray } from '../types.js';
import { F64, I32, ModuleBuilder, V128 } from './assembler.js';
import { fromHeap, heapF32, toHeap, wasmScratch } from './memory.js';
import { chunkStart, opTasks, parallelFor, sharedKernel } from './threads.js';
import { emitExp } from './unary.js';

/** `rows(src, dst, R, L4)`: R rows of L4 floats (a multiple of 4), src and dst may be the same block. */
export function softmaxModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  m.func('rows', [I32, I32, I32, I32], [], (f, src, dst, R, L4) => {
    const r = f.local(I32), j = f.local(I32), p = f.local(I32), q = f.local(I32), n4 = f.local(I32);
    const mx = f.local(V128), x = f.local(V128), e = f.local(V128), s0 = f.local(V128), s1 = f.local(V128), inv = f.local(V128), sum = f.local(F64);
    const t = { n: f.local(V128), r: f.local(V128), i: f.local(V128) };
    f.get(L4!).i32(2).op('i32.shr_u').set(n4);
    f.forRange(r, () => f.i32(0), () => f.get(R!), 1, () => {
      f.get(src!).get(r).get(L4!).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(p);
      f.get(dst!).get(r).get(L4!).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(q);
      f.v128f32(-Infinity).set(mx);
      f.forRange(j, () => f.i32(0), () => f.get(n4), 1, () => {
        f.get(mx).get(p).get(j).i32(4).op('i32.shl').op('i32.add').vmem('v128.load').simd('f32x4.max').set(mx);
      });
      f.get(mx).get(mx).get(mx).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]).simd('f32x4.max').set(mx);
      f.get(mx).get(mx).get(mx).shuffle([4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11]).simd('f32x4.max').set(mx); // max in every lane
      f.v128f32(0).set(s0); f.v128f32(0).set(s1);
      f.forRange(j, () => f.i32(0), () => f.get(n4), 1, () => {
        f.get(p).get(j).i32(4).op('i32.shl').op('i32.add').vmem('v128.load').get(mx).simd('f32x4.sub').set(x);
        emitExp(f, x, e, t);
        f.get(q).get(j).i32(4).op('i32.shl').op('i32.add').get(e).vmem('v128.store');
        f.get(s0).get(e).simd('f64x2.promote_low_f32x4').simd('f64x2.add').set(s0);
        f.get(s1).get(e).get(e).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]).simd('f64x2.promote_low_f32x4').simd('f64x2.add').set(s1);
      });
      f.get(s0).get(s1).simd('f64x2.add').set(s0);
      f.get(s0).lane('f64x2.extract_lane', 0).get(s0).lane('f64x2.extract_lane', 1).op('f64.add').set(sum);
      f.f64(1).get(sum).op('f64.div').op('f32.demote_f64').simd('f32x4.splat').set(inv);
      f.forRange(j, () => f.i32(0), () => f.get(n4), 1, () => {
        f.get(q).get(j).i32(4).op('i32.shl').op('i32.add').tee(p);
        f.get(p).vmem('v128.load').get(inv).simd('f32x4.mul').vmem('v128.store');
      });
    });
  });
  return m.emit();
}

type Rows = (src: number, dst: number, R: number, L4: number) => void;
const kernel = sharedKernel<Rows>(softmaxModuleBytes, 'rows');

/**
 * Softmaxes below this many elements (rows x padded length) stay on one thread. One thread takes about 5 ns an
 * element (the op, copies included: 160 µs at 2^15), the time the GEMM's measured break-even (4 MFLOP) takes;
 * the softmax's own break-even could not be measured here (the 2-core VM at load 9.5: 2 threads won only from
 * 2^18 elements, 1.3 vs 0.8 ms).
 */
export const SOFTMAX_THREADS_MIN = 1 << 15;

/** Whether the fast path takes this softmax: the last axis of a contiguous float tensor. */
export function softmaxFits(x: Tensor, axis: number): boolean {
  return axis === x.rank - 1 && x.isContiguous() && x.shape[axis]! > 0;
}

/** out = softmax(x) over the last axis (x contiguous). */
export function softmaxWasm(out: CpuTensor, x: CpuTensor): void {
  const L = x.shape[x.shape.length - 1]!, n = out.data.length, R = n / L, L4 = Math.ceil(L / 4) * 4;
  if (n === 0) return;
  // The cached heap view (memory.ts), not a new Float32Array per call; addresses below are in floats.
  const p = wasmScratch(R * L4 * 4), h = heapF32(), at = p >> 2;
  const xd = x.data as NumArray, o = out.data as NumArray;
  if (L4 === L) toHeap(h, at, xd, x.offset, n);
  else for (let r = 0; r < R; r++) {
    const row = at + r * L4, from = x.offset + r * L;
    for (let j = 0; j < L; j++) h[row + j] = xd[from + j]!;
    for (let j = L; j < L4; j++) h[row + j] = -Infinity; // exp(-Inf - max) = 0: the pad adds nothing to the sum
  }
  const { fn: run, id: rowsId } = kernel(), tasks = opTasks(R, R * L4, SOFTMAX_THREADS_MIN);
  if (tasks === 1) run(p, p, R, L4);
  else { // rows are independent: a task's rows get the bits one thread gives them
    parallelFor(rowsId, tasks, (i, args) => {
      const r0 = chunkStart(i, R, tasks), a = p + r0 * L4 * 4;
      args.set([a, a, chunkStart(i + 1, R, tasks) - r0, L4]);
    });
  }
  if (L4 === L) fromHeap(o, h, at, n);
  else for (let r = 0; r < R; r++) for (let j = 0, row = at + r * L4; j < L; j++) o[r * L + j] = h[row + j]!;
}
