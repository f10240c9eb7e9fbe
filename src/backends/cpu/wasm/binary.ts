// add / sub / mul / div on Wasm SIMD, for two operands of one shape (residual adds) and for any numpy broadcast whose
// output merges to at most 4 dims with unit-stride or repeated (stride 0) innermost rows: a scalar (attention scale), a
// trailing block repeated over rows (bias, positional table), a block repeated in the middle (an attention mask
// [B, 1, 1, S] over [B, H, S, S], a channel bias [1, C, 1, 1] over NCHW), an outer product [M, 1] with [1, N].
// One float32 operation per element, as the twin's float64 operation rounded to float32 gives (exact for + - * /:
// float64 holds the exact result of a float32 op to well past the double-rounding bound), so the results equal the
// twin's bit for bit, -0, ±Inf and NaN included.
import type { BinaryOp } from '../../../ops/attrs.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { broadcastStrides } from '../../../tensor/shape.js';
import type { CpuTensor } from '../types.js';
import { I32, ModuleBuilder, V128, type SimdOp } from './assembler.js';
import { fromHeap, heapF32, toHeap, wasmMemory, wasmScratch } from './memory.js';

const OPS = { add: 'f32x4.add', sub: 'f32x4.sub', mul: 'f32x4.mul', div: 'f32x4.div' } as const satisfies Partial<Record<BinaryOp, SimdOp>>;
export const WASM_BINARY: ReadonlySet<BinaryOp> = new Set(Object.keys(OPS) as BinaryOp[]);

/**
 * Same-shape ops below this many elements stay on the twin's plain loop (measured: at 256 elements the Wasm call with
 * its copies costs as much as the twin, at 2048 it is 1.3x faster; broadcasts gain from 64 on, see index.ts).
 */
const SAME_MIN = 1024;

/**
 * How the kernel walks one op: the output as 4 dims (leading 1s), each operand's element strides over them (0 where
 * it repeats), the rows' mode (0: both operands advance along the row, 1: y is one value per row, 2: x is) and each
 * operand's span (elements from its first element read to its last). `same`: both operands are the output's shape.
 */
export interface BinaryPlan { dims: number[]; xs: number[]; ys: number[]; mode: 0 | 1 | 2; spanX: number; spanY: number; same: boolean }

/**
 * The plan for out = x op y (out the broadcast shape), or null where the kernel cannot take it: more than 4 dims after
 * dropping size-1 dims and merging dims that are contiguous for both operands, an innermost stride other than 0 or 1
 * (a transposed operand), negative strides, or a strided view whose span is much larger than the view.
 */
export function binaryPlan(inputs: readonly { shape: readonly number[]; strides: readonly number[] }[], out: readonly number[]): BinaryPlan | null {
  const x = inputs[0]!, y = inputs[1]!;
  // Each op asks twice (variant, then dispatch), and a replayed graph asks again on every run with the same tensors:
  // the last plan per x layout is remembered, keyed by the identity of frozen shape/stride arrays (a Tensor's are
  // frozen, so the same arrays mean the same layout) and compared by value on the output shape.
  const frozen = Object.isFrozen(x.strides) && Object.isFrozen(x.shape) && Object.isFrozen(y.strides) && Object.isFrozen(y.shape);
  if (frozen) {
    const m = planMemo.get(x.strides);
    if (m && m.xShape === x.shape && m.yShape === y.shape && m.yStrides === y.strides && sameValues(m.out, out)) return m.plan;
  }
  const plan = makePlan(x, y, out);
  if (frozen) planMemo.set(x.strides, { xShape: x.shape, yShape: y.shape, yStrides: y.strides, out: out.slice(), plan });
  return plan;
}

interface PlanMemo { xShape: readonly number[]; yShape: readonly number[]; yStrides: readonly number[]; out: readonly number[]; plan: BinaryPlan | null }
const planMemo = new WeakMap<readonly number[], PlanMemo>();

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

type Layout = { shape: readonly number[]; strides: readonly number[] };

function makePlan(x: Layout, y: Layout, out: readonly number[]): BinaryPlan | null {
  const n = out.reduce((a, b) => a * b, 1);
  if (sameContiguous(x, out) && sameContiguous(y, out)) {
    if (n < SAME_MIN) return null; // the twin's own loop wins while the copies in and out cost more than the op
    return { dims: [1, 1, 1, n], xs: [0, 0, 0, 1], ys: [0, 0, 0, 1], mode: 0, spanX: n, spanY: n, same: true };
  }
  const bx = broadcastStrides(x.shape, x.strides, out), by = broadcastStrides(y.shape, y.strides, out);
  const dims: number[] = [], xs: number[] = [], ys: number[] = [];
  out.forEach((d, i) => {
    if (d === 1) return;
    const k = dims.length - 1;
    if (k >= 0 && xs[k] === bx[i]! * d && ys[k] === by[i]! * d) { dims[k] *= d; xs[k] = bx[i]!; ys[k] = by[i]!; }
    else { dims.push(d); xs.push(bx[i]!); ys.push(by[i]!); }
  });
  if (dims.length === 0) { dims.push(1); xs.push(1); ys.push(1); } // one element
  if (dims.length > 4 || xs.some((s) => s < 0) || ys.some((s) => s < 0)) return null;
  while (dims.length < 4) { dims.unshift(1); xs.unshift(0); ys.unshift(0); }
  const ix = xs[3]!, iy = ys[3]!;
  const mode = ix === 1 && iy === 1 ? 0 : ix === 1 && iy === 0 ? 1 : ix === 0 && iy === 1 ? 2 : -1;
  if (mode === -1) return null;
  const span = (s: number[]) => dims.reduce((a, d, i) => a + (d - 1) * s[i]!, 1);
  const spanX = span(xs), spanY = span(ys);
  if (spanX > 4 * n + 1024 || spanY > 4 * n + 1024) return null; // a sparse window of a big tensor: the twin reads it in place
  return { dims, xs, ys, mode, spanX, spanY, same: false };
}

/** Whether `t` is the output's shape, laid out contiguously (row-major strides; size-1 dims' strides do not matter). */
function sameContiguous(t: { shape: readonly number[]; strides: readonly number[] }, out: readonly number[]): boolean {
  if (t.shape.length !== out.length) return false;
  let s = 1;
  for (let i = out.length - 1; i >= 0; i--) {
    if (t.shape[i] !== out[i]) return false;
    if (out[i] !== 1 && t.strides[i] !== s) return false;
    s *= out[i]!;
  }
  return true;
}

/**
 * `{op}(x, y, o, d0, d1, d2, d3, xs0, xs1, xs2, ys0, ys1, ys2, mode)`: o[i0, i1, i2, :] = x[...] op y[...] row by
 * row (addresses in bytes, strides in elements). A row moves 4 floats at a time, so its last group may spill up to 3
 * floats past the row: into the next row's output (rewritten by that row) or into the padding after the block.
 */
export function binaryModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  for (const [op, instr] of Object.entries(OPS)) {
    m.func(op, Array(14).fill(I32), [], (f, x, y, o, d0, d1, d2, d3, xs0, xs1, xs2, ys0, ys1, ys2, mode) => {
      const i0 = f.local(I32), i1 = f.local(I32), i2 = f.local(I32), j = f.local(I32), row = f.local(I32);
      const px0 = f.local(I32), py0 = f.local(I32), px1 = f.local(I32), py1 = f.local(I32), px = f.local(I32), py = f.local(I32), q = f.local(I32);
      const s = f.local(V128);
      for (const st of [xs0!, xs1!, xs2!, ys0!, ys1!, ys2!]) f.get(st).i32(2).op('i32.shl').set(st); // byte strides
      f.get(d3!).i32(2).op('i32.shl').set(row);
      // one row: the pointers px, py, q walk it; the splat operand (mode 1, 2) is loaded once
      const rowLoop = (md: 0 | 1 | 2) => {
        if (md !== 0) f.get(md === 1 ? py : px).vmem('v128.load32_splat').set(s);
        f.forRange(j, () => f.i32(0), () => f.get(row), 16, () => {
          f.get(q);
          if (md === 2) f.get(s); else f.get(px).vmem('v128.load');
          if (md === 1) f.get(s); else f.get(py).vmem('v128.load');
          f.simd(instr).vmem('v128.store');
          if (md !== 2) f.get(px).i32(16).op('i32.add').set(px);
          if (md !== 1) f.get(py).i32(16).op('i32.add').set(py);
          f.get(q).i32(16).op('i32.add').set(q);
        });
      };
      f.get(o!).set(q);
      f.forRange(i0, () => f.i32(0), () => f.get(d0!), 1, () => {
        f.get(x!).get(i0).get(xs0!).op('i32.mul').op('i32.add').set(px0);
        f.get(y!).get(i0).get(ys0!).op('i32.mul').op('i32.add').set(py0);
        f.forRange(i1, () => f.i32(0), () => f.get(d1!), 1, () => {
          f.get(px0).get(i1).get(xs1!).op('i32.mul').op('i32.add').set(px1);
          f.get(py0).get(i1).get(ys1!).op('i32.mul').op('i32.add').set(py1);
          f.forRange(i2, () => f.i32(0), () => f.get(d2!), 1, () => {
            f.get(px1).get(i2).get(xs2!).op('i32.mul').op('i32.add').set(px);
            f.get(py1).get(i2).get(ys2!).op('i32.mul').op('i32.add').set(py);
            f.get(mode!).i32(0).op('i32.eq').if(() => rowLoop(0), () => f.get(mode!).i32(1).op('i32.eq').if(() => rowLoop(1), () => rowLoop(2)));
            // q ran past the row by its spill; the next row starts right after this one
            f.get(o!).get(row).op('i32.add').tee(o!).set(q);
          });
        });
      });
    });
  }
  // pow with a constant exponent: x·x (2) and sqrt (0.5; sqrt(-0) = -0 and sqrt(-Inf) = NaN, where pow gives +0 and +Inf)
  for (const e of ['square', 'sqrt'] as const) {
    m.func(`pow_${e}`, [I32, I32, I32], [], (f, src, dst, n4) => {
      const j = f.local(I32), x = f.local(V128);
      f.forRange(j, () => f.i32(0), () => f.get(n4!), 1, () => {
        f.get(dst!).get(src!).vmem('v128.load').set(x);
        if (e === 'square') f.get(x).get(x).simd('f32x4.mul');
        else f.v128f32(Infinity).get(x).simd('f32x4.sqrt').v128f32(0).simd('f32x4.add').get(x).v128f32(-Infinity).simd('f32x4.eq').simd('v128.bitselect');
        f.vmem('v128.store');
        f.get(src!).i32(16).op('i32.add').set(src!);
        f.get(dst!).i32(16).op('i32.add').set(dst!);
      });
    });
  }
  return m.emit();
}

/**
 * pow(x, c) for a one-element exponent c of 2 or 0.5 (Pow(x, 2) and Sqrt-as-Pow of exported graphs, e.g. a decomposed
 * LayerNorm's variance): 'square' or 'sqrt', else null. The twin's Math.pow(x, 2) is x·x exactly in float64 and
 * Math.pow(x, 0.5) is sqrt(x) but for -0 and -Inf (fdlibm's special cases), so float32 x·x and sqrt give its bits.
 */
export function powKind(inputs: readonly Tensor[]): 'square' | 'sqrt' | null {
  const [x, y] = inputs as [Tensor, Tensor];
  if (!(x.dtype === 'float32' || x.dtype === 'float16') || x.size < 64 || y.size !== 1 || y.rank > x.rank || !x.isContiguous()) return null;
  if (!(y.dtype === 'float32' || y.dtype === 'int32')) return null;
  const c = (y.storage.handle as Float32Array | Int32Array)[y.offset];
  return c === 2 ? 'square' : c === 0.5 ? 'sqrt' : null;
}

/** out = pow(x, c) for powKind's kinds (x contiguous, out its shape). */
export function powWasm(out: CpuTensor, x: CpuTensor, kind: 'square' | 'sqrt'): void {
  const n = out.data.length, n4 = Math.ceil(n / 4), p = wasmScratch(n4 * 16);
  const h = heapF32();
  toHeap(h, p >> 2, x.data, x.offset, n);
  kernels()[`pow_${kind}`]!(p, p, n4);
  fromHeap(out.data, h, p >> 2, n);
}

type Fn = (...args: number[]) => void;
let fns: Record<string, Fn> | null = null;
const kernels = (): Record<string, Fn> => {
  if (!fns) fns = new WebAssembly.Instance(new WebAssembly.Module(binaryModuleBytes()), { env: { memory: wasmMemory() } }).exports as Record<string, Fn>;
  return fns;
};

/** out = x op y for a plan from binaryPlan: both operands' spans copied into the scratch block, run, copied out. */
export function binaryWasm(op: BinaryOp, out: CpuTensor, x: CpuTensor, y: CpuTensor, p: BinaryPlan): void {
  const n = out.data.length;
  if (n === 0) return;
  const base = wasmScratch((padSpan(p.spanX) + padSpan(p.spanY) + padSpan(n)) * 4) >> 2, xq = base, yq = xq + padSpan(p.spanX), oq = yq + padSpan(p.spanY);
  const heap = heapF32();
  toHeap(heap, xq, x.data, x.offset, p.spanX);
  toHeap(heap, yq, y.data, y.offset, p.spanY);
  const d = p.dims;
  kernels()[op]!(xq << 2, yq << 2, oq << 2, d[0]!, d[1]!, d[2]!, d[3]!, p.xs[0]!, p.xs[1]!, p.xs[2]!, p.ys[0]!, p.ys[1]!, p.ys[2]!, p.mode);
  fromHeap(out.data, heap, oq, n);
}

/** A span's floats rounded up to whole groups of 4, plus room for a row's 4-float spill (and over-read) at the end. */
function padSpan(k: number): number {
  return Math.ceil(k / 4) * 4 + 4;
}
