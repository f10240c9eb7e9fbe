// The strided copy (a view made contiguous: head split/merge, transposes, expands) on Wasm: the source's span is
// copied into Wasm memory in one block, gathered there by up to 4 nested loops (dims of size 1 dropped, dims that
// are contiguous with each other merged first), with 16-byte moves when the innermost stride is 1, and copied out.
// A pure data movement of 4-byte elements, so the output equals the twin's (kernels/elementwise.ts copy) bit for bit.
import { forEachStrided, isContiguous } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { CpuTensor, NumArray } from '../types.js';
import { type FunctionBuilder, I32, type Local, ModuleBuilder, V128 } from './assembler.js';
import { fromHeap, heapF32, heapI32, toHeap, wasmMemory, wasmScratch } from './memory.js';

/** The view as at most 4 dims (shape, element strides), size-1 dims dropped and mergeable dims merged; null if not. */
export function copyPlan(shape: readonly number[], strides: readonly number[]): CopyPlan | null {
  // Asked by the variant check, the dispatch and the span computation, and again on every replayed run with the same
  // tensors: remembered per layout, keyed by the identity of frozen arrays (a Tensor's shape and strides are frozen).
  const frozen = Object.isFrozen(strides) && Object.isFrozen(shape);
  if (frozen) {
    const m = planMemo.get(strides);
    if (m && m.shape === shape) return m.plan;
  }
  const plan = makePlan(shape, strides);
  if (frozen) planMemo.set(strides, { shape, plan });
  return plan;
}

type CopyPlan = { readonly shape: readonly number[]; readonly strides: readonly number[]; readonly span: number };
const planMemo = new WeakMap<readonly number[], { shape: readonly number[]; plan: CopyPlan | null }>();

function makePlan(shape: readonly number[], strides: readonly number[]): CopyPlan | null {
  const d: number[] = [], s: number[] = [];
  shape.forEach((n, i) => {
    if (n === 1) return;
    const last = d.length - 1;
    if (last >= 0 && s[last] === strides[i]! * n) { d[last] *= n; s[last] = strides[i]!; } else { d.push(n); s.push(strides[i]!); }
  });
  if (d.length > 4 || s.some((x) => x < 0)) return null;
  while (d.length < 4) { d.unshift(1); s.unshift(0); }
  // span: elements from the view's first element to its last one (inclusive)
  return Object.freeze({ shape: Object.freeze(d), strides: Object.freeze(s), span: d.reduce((a, n, i) => a + (n - 1) * s[i]!, 1) });
}

/** Elements from a view's first element to its last one (inclusive), for a plan from copyPlan. */
const spanOf = (plan: CopyPlan): number => plan.span;

/** Whether the fast path takes this copy: a 4-byte dtype, a strided view of at most 4 merged dims, a compact span. */
export function copyFits(x: Tensor): boolean {
  if (!(x.dtype === 'float32' || x.dtype === 'float16' || x.dtype === 'int32') || x.size < 64 || x.isContiguous()) return false;
  const plan = copyPlan(x.shape, x.strides);
  if (!plan) return false;
  return spanOf(plan) <= 4 * x.size + 1024; // a small window of a large tensor stays on the twin (the span copy would dominate)
}

/** The variant the tracer names for a copy copyFits took: the tiled transpose or the nested-loop gather. */
export function copyVariant(x: Tensor): string {
  const plan = copyPlan(x.shape, x.strides);
  return plan && isTranspose(plan) ? 'copy-wasm-transpose-4x4' : 'copy-wasm-strided';
}

/** `gather(src, dst, d0, d1, d2, d3, s0, s1, s2, s3)`: dst[i0, i1, i2, i3] = src[i0·s0 + i1·s1 + i2·s2 + i3·s3]. */
export function copyModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  m.func('gather', [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32], [], (f, src, dst, d0, d1, d2, d3, s0, s1, s2, s3) => {
    const i0 = f.local(I32), i1 = f.local(I32), i2 = f.local(I32), i3 = f.local(I32), p0 = f.local(I32), p1 = f.local(I32), p = f.local(I32), o = f.local(I32), row = f.local(I32);
    for (const s of [s0!, s1!, s2!, s3!]) f.get(s).i32(2).op('i32.shl').set(s); // byte strides
    f.get(d3!).i32(2).op('i32.shl').set(row);
    f.get(dst!).set(o);
    f.forRange(i0, () => f.i32(0), () => f.get(d0!), 1, () => {
      f.get(src!).get(i0).get(s0!).op('i32.mul').op('i32.add').set(p0);
      f.forRange(i1, () => f.i32(0), () => f.get(d1!), 1, () => {
        f.get(p0).get(i1).get(s1!).op('i32.mul').op('i32.add').set(p1);
        f.forRange(i2, () => f.i32(0), () => f.get(d2!), 1, () => {
          f.get(p1).get(i2).get(s2!).op('i32.mul').op('i32.add').set(p);
          f.get(s3!).i32(4).op('i32.eq').if(() => {
            // a contiguous run: 16 bytes at a time (the last move may spill into the next row, which rewrites it)
            f.forRange(i3, () => f.i32(0), () => f.get(row), 16, () => {
              f.get(o).get(i3).op('i32.add').get(p).get(i3).op('i32.add').vmem('v128.load').vmem('v128.store');
            });
          }, () => {
            f.forRange(i3, () => f.i32(0), () => f.get(row), 4, () => {
              f.get(o).get(i3).op('i32.add').get(p).mem('i32.load').mem('i32.store');
              f.get(p).get(s3!).op('i32.add').set(p);
            });
          });
          f.get(o).get(row).op('i32.add').set(o);
        });
      });
    });
  });
  m.func('transpose', [I32, I32, I32, I32, I32, I32, I32, I32, I32], [], (f, src, dst, d0, d1, d2, d3, s0, s1, s3) => emitTranspose(f, src!, dst!, d0!, d1!, d2!, d3!, s0!, s1!, s3!));
  return m.emit();
}

/** Columns (of the output) per cache block: the tiles of a block read 64 source rows, 4 KiB of cache lines, reused by the next tiles. */
const BLOCK = 64;

/**
 * `transpose(src, dst, d0, d1, d2, d3, s0, s1, s3)`: dst[i0, i1, i2, i3] = src[i0·s0 + i1·s1 + i2 + i3·s3], i.e. for
 * each (i0, i1) a d3 x d2 row-major matrix (rows s3 apart) written transposed. 4x4 tiles: four 16-byte loads from
 * four source rows, eight i8x16.shuffle, four 16-byte stores to four output rows; the tiles go column block by
 * column block (BLOCK output columns) so that a block's source lines stay in cache while its rows are swept. Rows and
 * columns past the last multiple of 4 are copied one element at a time.
 */
function emitTranspose(f: FunctionBuilder, src: Local, dst: Local, d0: Local, d1: Local, d2: Local, d3: Local, s0: Local, s1: Local, s3: Local): void {
  const i0 = f.local(I32), i1 = f.local(I32), i = f.local(I32), j = f.local(I32), jb = f.local(I32), je = f.local(I32), p = f.local(I32), o = f.local(I32);
  const d2t = f.local(I32), d3t = f.local(I32), rowOut = f.local(I32), a = f.local(I32), b = f.local(I32);
  const r = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)], t = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  for (const x of [s0, s1, s3]) f.get(x).i32(2).op('i32.shl').set(x); // byte strides
  f.get(d2).i32(-4).op('i32.and').set(d2t);
  f.get(d3).i32(-4).op('i32.and').set(d3t);
  f.get(d3).i32(2).op('i32.shl').set(rowOut);
  // 32-bit lanes k of the two inputs (a: 0-3, b: 4-7) as i8x16.shuffle byte indices
  const lanes = (...k: number[]) => k.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
  /** out[i][j] = src[i, j] for i in [iFrom, iTo), j in [jFrom, jTo) (the edges the tiles leave). */
  const scalar = (iFrom: () => void, iTo: () => void, jFrom: () => void, jTo: () => void) => {
    f.forRange(i, iFrom, iTo, 1, () => {
      f.forRange(j, jFrom, jTo, 1, () => {
        f.get(o).get(i).get(rowOut).op('i32.mul').op('i32.add').get(j).i32(2).op('i32.shl').op('i32.add');
        f.get(p).get(i).i32(2).op('i32.shl').op('i32.add').get(j).get(s3).op('i32.mul').op('i32.add').mem('i32.load');
        f.mem('i32.store');
      });
    });
  };
  f.get(dst).set(o);
  f.forRange(i0, () => f.i32(0), () => f.get(d0), 1, () => {
    f.forRange(i1, () => f.i32(0), () => f.get(d1), 1, () => {
      f.get(src).get(i0).get(s0).op('i32.mul').op('i32.add').get(i1).get(s1).op('i32.mul').op('i32.add').set(p);
      f.forRange(jb, () => f.i32(0), () => f.get(d3t), BLOCK, () => {
        f.get(jb).i32(BLOCK).op('i32.add').tee(je).get(d3t).get(je).get(d3t).op('i32.lt_s').op('select').set(je);
        f.forRange(i, () => f.i32(0), () => f.get(d2t), 4, () => {
          f.forRange(j, () => f.get(jb), () => f.get(je), 4, () => {
            f.get(p).get(i).i32(2).op('i32.shl').op('i32.add').get(j).get(s3).op('i32.mul').op('i32.add').set(a);
            for (let k = 0; k < 4; k++) { f.get(a).vmem('v128.load').set(r[k]!); if (k < 3) f.get(a).get(s3).op('i32.add').set(a); }
            // r[k] = source row j+k, elements i..i+3; wanted: output row i+k, elements j..j+3 = lane k of r[0..3]
            f.get(r[0]!).get(r[1]!).shuffle(lanes(0, 4, 1, 5)).set(t[0]!);
            f.get(r[0]!).get(r[1]!).shuffle(lanes(2, 6, 3, 7)).set(t[1]!);
            f.get(r[2]!).get(r[3]!).shuffle(lanes(0, 4, 1, 5)).set(t[2]!);
            f.get(r[2]!).get(r[3]!).shuffle(lanes(2, 6, 3, 7)).set(t[3]!);
            f.get(o).get(i).get(rowOut).op('i32.mul').op('i32.add').get(j).i32(2).op('i32.shl').op('i32.add').set(b);
            for (const [k, x, y, l] of [[0, 0, 2, [0, 1, 4, 5]], [1, 0, 2, [2, 3, 6, 7]], [2, 1, 3, [0, 1, 4, 5]], [3, 1, 3, [2, 3, 6, 7]]] as const) {
              f.get(b).get(t[x]!).get(t[y]!).shuffle(lanes(...l)).vmem('v128.store');
              if (k < 3) f.get(b).get(rowOut).op('i32.add').set(b);
            }
          });
        });
      });
      scalar(() => f.i32(0), () => f.get(d2), () => f.get(d3t), () => f.get(d3)); // the last d3 % 4 columns
      scalar(() => f.get(d2t), () => f.get(d2), () => f.i32(0), () => f.get(d3t)); // the last d2 % 4 rows
      f.get(o).get(d2).get(rowOut).op('i32.mul').op('i32.add').set(o);
    });
  });
}

type Fn = (...args: number[]) => void;
let fns: { gather: Fn; transpose: Fn } | null = null;
const kernels = (): { gather: Fn; transpose: Fn } => {
  if (!fns) fns = new WebAssembly.Instance(new WebAssembly.Module(copyModuleBytes()), { env: { memory: wasmMemory() } }).exports as unknown as { gather: Fn; transpose: Fn };
  return fns;
};

/** Whether a plan is a batch of transposes: unit stride on dim 2, not on dim 3, both at least a 4x4 tile. */
export const isTranspose = (plan: { readonly shape: readonly number[]; readonly strides: readonly number[] }): boolean =>
  plan.strides[2] === 1 && plan.strides[3] !== 1 && plan.shape[2]! >= 4 && plan.shape[3]! >= 4;

/**
 * Lay the view `x` out contiguously at float index `dst` of `heap` (a Float32Array or Int32Array over the Wasm
 * memory; values convert as typed-array assignment does, e.g. bool 0/1 to float), using float index `tmp` for the
 * source span when the view is strided. Needs room for 4 floats of spill after dst's block and after the span.
 */
export function gatherInto(heap: Float32Array | Int32Array, x: CpuTensor, dst: number, tmp: number): void {
  const n = x.shape.reduce((a, b) => a * b, 1), data = x.data as NumArray;
  if (isContiguous(x.shape, x.strides)) { toHeap(heap, dst, data, x.offset, n); return; }
  const plan = copyPlan(x.shape, x.strides);
  if (!plan) { forEachStrided(x.shape, x.strides, x.offset, (i, src) => { heap[dst + i] = data[src]!; }); return; }
  toHeap(heap, tmp, data, x.offset, spanOf(plan));
  const d = plan.shape, s = plan.strides;
  if (isTranspose(plan)) kernels().transpose(tmp << 2, dst << 2, d[0]!, d[1]!, d[2]!, d[3]!, s[0]!, s[1]!, s[3]!);
  else kernels().gather(tmp << 2, dst << 2, d[0]!, d[1]!, d[2]!, d[3]!, s[0]!, s[1]!, s[2]!, s[3]!);
}

/** The float count gatherInto may need at `tmp` for the view `x` (its span, 0 when contiguous). */
export function gatherSpan(x: { shape: readonly number[]; strides: readonly number[] }): number {
  if (isContiguous(x.shape, x.strides)) return 0;
  const plan = copyPlan(x.shape, x.strides);
  return plan ? spanOf(plan) : 0;
}

/** out = x made contiguous (x a view that copyFits took; float16 arrives widened). */
export function copyWasm(out: CpuTensor, x: CpuTensor): void {
  const n = out.data.length;
  const span = gatherSpan(x), base = wasmScratch((padSpan(span) + padSpan(n)) * 4) >> 2, oq = base + padSpan(span);
  const heap = x.data instanceof Int32Array ? heapI32() : heapF32(); // cached views, taken after wasmScratch (it may grow the memory)
  gatherInto(heap, x, oq, base);
  fromHeap(out.data, heap, oq, n);
}

/** Floats rounded up to whole groups of 4, plus 4 of spill room. */
function padSpan(k: number): number {
  return Math.ceil(k / 4) * 4 + 4;
}
