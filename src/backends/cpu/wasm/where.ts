// where(cond, a, b) on Wasm SIMD for a bool cond and float a, b that are each full, one value, or a trailing block of
// the output repeated over rows (the causal mask: cond [T, T], a scalar, b [B, H, T, T]). A pure selection, so the
// output equals the twin's (kernels/elementwise.ts where) bit for bit.
import type { Tensor } from '../../../tensor/tensor.js';
import { isContiguous } from '../../../tensor/shape.js';
import type { CpuTensor } from '../types.js';
import { I32, ModuleBuilder } from './assembler.js';
import { fromHeap, heapF32, toHeap, wasmMemory, wasmScratch } from './memory.js';

/** Elements of the output block an operand repeats (n when full, 1 for one value), or 0 when it broadcasts otherwise. */
function period(t: Tensor, out: readonly number[]): number {
  if (!isContiguous(t.shape, t.strides)) return 0; // where reads strided (expanded) views: only plain blocks here
  let lead = 0;
  while (lead < t.shape.length && t.shape[lead] === 1) lead++;
  const tail = t.shape.slice(lead);
  if (tail.length > out.length || !tail.every((d, i) => d === out[out.length - tail.length + i])) return 0;
  return tail.reduce((a, b) => a * b, 1);
}

/** The row length R every operand's period is a multiple of (or 1), or 0 when this kernel cannot take the inputs. */
export function wherePlan(inputs: readonly Tensor[], out: readonly number[]): number {
  const [c, a, b] = inputs as [Tensor, Tensor, Tensor];
  if (c.dtype !== 'bool' || ![a, b].every((t) => t.dtype === 'float32' || t.dtype === 'float16')) return 0;
  const ps = [c, a, b].map((t) => period(t, out));
  if (ps.some((p) => p === 0)) return 0;
  const R = Math.min(...ps.filter((p) => p > 1));
  if (!Number.isFinite(R)) return 0; // all single values: nothing to speed up
  return ps.every((p) => p === 1 || p % R === 0) ? R : 0;
}

/** `sel(c, a, b, o, n4)`: o = c != 0 ? a : b over n4 groups of 4 (c holds 0 / 1 as floats). */
export function whereModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  m.func('sel', [I32, I32, I32, I32, I32], [], (f, c, a, b, o, n4) => {
    const j = f.local(I32);
    f.forRange(j, () => f.i32(0), () => f.get(n4!), 1, () => {
      f.get(o!).get(a!).vmem('v128.load').get(b!).vmem('v128.load').get(c!).vmem('v128.load').v128f32(0).simd('f32x4.ne').simd('v128.bitselect').vmem('v128.store');
      for (const p of [c!, a!, b!, o!]) f.get(p).i32(16).op('i32.add').set(p);
    });
  });
  return m.emit();
}

type Sel = (c: number, a: number, b: number, o: number, n4: number) => void;
let selFn: Sel | null = null;
const kernel = (): Sel => {
  if (!selFn) selFn = new WebAssembly.Instance(new WebAssembly.Module(whereModuleBytes()), { env: { memory: wasmMemory() } }).exports.sel as Sel;
  return selFn;
};

/** out = cond ? a : b for a plan R from wherePlan (inputs contiguous). */
export function whereWasm(out: CpuTensor, ins: readonly CpuTensor[], R: number): void {
  const n = out.data.length;
  if (n === 0) return;
  // each operand's block: its own elements (a single value spread over one row of R); plain loops, no closures (per op)
  let bytes = padded(n) * 4;
  for (let i = 0; i < 3; i++) bytes += padded(blockOf(ins[i]!, R)) * 4;
  const base = wasmScratch(bytes), heap = heapF32();
  const ptrs = [0, 0, 0], lens = [0, 0, 0];
  let at = base;
  for (let i = 0; i < 3; i++) {
    const t = ins[i]!, len = elements(t);
    ptrs[i] = at;
    lens[i] = len === 1 ? R : blockOf(t, R);
    if (len === 1) heap.fill(t.data[t.offset]!, at >> 2, (at >> 2) + R);
    else toHeap(heap, at >> 2, t.data, t.offset, len);
    at += padded(blockOf(t, R)) * 4;
  }
  const o0 = at, sel = kernel(), n4 = Math.ceil(R / 4);
  for (let r = 0; r * R < n; r++) {
    const row = r * R; // a row's last group may spill into the next row's output, rewritten next
    sel(ptrs[0]! + (row % lens[0]!) * 4, ptrs[1]! + (row % lens[1]!) * 4, ptrs[2]! + (row % lens[2]!) * 4, o0 + row * 4, n4);
  }
  fromHeap(out.data, heap, o0 >> 2, n);
}

/** Floats rounded up to whole groups of 4, plus one group of spill room. */
function padded(k: number): number {
  return (Math.ceil(k / 4) + 1) * 4;
}

function elements(t: CpuTensor): number {
  let n = 1;
  for (let i = 0; i < t.shape.length; i++) n *= t.shape[i]!;
  return n;
}

/** The floats an operand's block holds: its elements, at least one row of R (a single value is spread over a row). */
function blockOf(t: CpuTensor, R: number): number {
  return Math.max(R, t.data.length === 0 ? 0 : elements(t));
}
