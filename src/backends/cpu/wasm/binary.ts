// add / sub / mul / div on Wasm SIMD for the broadcasts models use: a scalar (attention scale) or a trailing block
// repeated over leading rows (bias, positional table, mask) against a full operand. One float32 operation per element,
// as the twin's float64 operation rounded to float32 gives (exact for + - * /), so results equal the twin bit for bit.
import type { BinaryOp } from '../../../ops/attrs.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { isContiguous } from '../../../tensor/shape.js';
import type { CpuTensor, NumArray } from '../types.js';
import { I32, ModuleBuilder, V128, type SimdOp } from './assembler.js';
import { wasmMemory, wasmScratch } from './memory.js';

const OPS = { add: 'f32x4.add', sub: 'f32x4.sub', mul: 'f32x4.mul', div: 'f32x4.div' } as const satisfies Partial<Record<BinaryOp, SimdOp>>;
export const WASM_BINARY: ReadonlySet<BinaryOp> = new Set(Object.keys(OPS) as BinaryOp[]);

/** How an operand meets the output: the same shape, one value, or a block of the output's trailing dims repeated. */
type Kind = 'full' | 'scalar' | 'tail';
function kind(t: { shape: readonly number[]; strides: readonly number[]; size?: number }, out: readonly number[]): Kind | null {
  if (!isContiguous(t.shape, t.strides)) return null;
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.shape.length === out.length && t.shape.every((d, i) => d === out[i])) return 'full';
  if (n === 1) return 'scalar';
  let lead = 0;
  while (lead < t.shape.length && t.shape[lead] === 1) lead++;
  const tail = t.shape.slice(lead);
  if (tail.length > out.length) return null;
  return tail.every((d, i) => d === out[out.length - tail.length + i]) ? 'tail' : null;
}

/** The pair of kinds when one operand is full and the other broadcast (the case this module speeds up), else null. */
export function binaryPlan(inputs: readonly Tensor[], out: readonly number[]): [Kind, Kind] | null {
  const [x, y] = inputs as [Tensor, Tensor];
  const kx = kind(x, out), ky = kind(y, out);
  if (!kx || !ky) return null;
  if (kx === 'full' && ky !== 'full') return [kx, ky];
  if (ky === 'full' && kx !== 'full') return [kx, ky];
  return null;
}

/** `{op}_vv(x, y, o, n4)`, `{op}_vs` (y one value, splat), `{op}_sv` (x one value). */
export function binaryModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  for (const [op, instr] of Object.entries(OPS)) {
    for (const mode of ['vv', 'vs', 'sv'] as const) {
      m.func(`${op}_${mode}`, [I32, I32, I32, I32], [], (f, x, y, o, n4) => {
        const j = f.local(I32), s = f.local(V128);
        if (mode !== 'vv') f.get(mode === 'vs' ? y! : x!).vmem('v128.load32_splat').set(s);
        f.forRange(j, () => f.i32(0), () => f.get(n4!), 1, () => {
          f.get(o!);
          if (mode === 'sv') f.get(s); else f.get(x!).vmem('v128.load');
          if (mode === 'vs') f.get(s); else f.get(y!).vmem('v128.load');
          f.simd(instr).vmem('v128.store');
          if (mode !== 'sv') f.get(x!).i32(16).op('i32.add').set(x!);
          if (mode !== 'vs') f.get(y!).i32(16).op('i32.add').set(y!);
          f.get(o!).i32(16).op('i32.add').set(o!);
        });
      });
    }
  }
  return m.emit();
}

type Fn = (x: number, y: number, o: number, n4: number) => void;
let fns: Record<string, Fn> | null = null;
const kernels = (): Record<string, Fn> => {
  if (!fns) fns = new WebAssembly.Instance(new WebAssembly.Module(binaryModuleBytes()), { env: { memory: wasmMemory() } }).exports as Record<string, Fn>;
  return fns;
};

/** out = x op y for a plan from binaryPlan (one operand full, the other a scalar or trailing block). */
export function binaryWasm(op: BinaryOp, out: CpuTensor, x: CpuTensor, y: CpuTensor, [kx, ky]: [Kind, Kind]): void {
  const n = out.data.length;
  if (n === 0) return;
  const [full, part] = kx === 'full' ? [x, y] : [y, x];
  const L = part.shape.reduce((a, b) => a * b, 1), pad = (k: number) => Math.ceil(k / 4) * 4 + 4;
  const base = wasmScratch((pad(n) * 2 + pad(L)) * 4), fp = base, pp = fp + pad(n) * 4, op0 = pp + pad(L) * 4;
  const heap = new Float32Array(wasmMemory().buffer);
  heap.set(full.data.subarray(full.offset, full.offset + n) as never, fp >> 2);
  heap.set(part.data.subarray(part.offset, part.offset + L) as never, pp >> 2);
  const run = kernels();
  const scalar = (kx === 'full' ? ky : kx) === 'scalar';
  if (scalar && kx === 'full') run[`${op}_vs`]!(fp, pp, op0, Math.ceil(n / 4));
  else if (scalar) run[`${op}_sv`]!(pp, fp, op0, Math.ceil(n / 4));
  else {
    // rows in order: a row's last group of 4 may spill into the next row's output, which that row then rewrites
    const vv = run[`${op}_vv`]!, n4 = Math.ceil(L / 4);
    for (let r = 0; r * L < n; r++) {
      const f = fp + r * L * 4, o = op0 + r * L * 4;
      if (kx === 'full') vv(f, pp, o, n4); else vv(pp, f, o, n4);
    }
  }
  (out.data as NumArray).set(heap.subarray(op0 >> 2, (op0 >> 2) + n) as never);
}
