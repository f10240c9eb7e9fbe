// This machine's WebAssembly SIMD128 ceiling on one thread: the arithmetic rate of a loop that does nothing but
// independent vector multiply-adds in registers (no loads, no stores), so kernel figures can be read as a share of
// what the instruction set allows here. Emitted with the fast path's own assembler (src/backends/cpu/wasm/).
// - f32: ACC independent accumulators, each `acc = f32x4.add(f32x4.mul(acc, m), c)` per iteration: 8 FLOPs.
// - f32 relaxed (where the runtime validates relaxed SIMD): `acc = f32x4.relaxed_madd(acc, m, c)`: 8 FLOPs.
// - int8 path: `acc = i32x4.add(i32x4.dot_i16x8_s(acc, w), c)` (the chain wraps around; integers never trap):
//   8 multiplies and 8 adds in the dot, 4 adds after: counted as 16 integer ops (the dot's own).
// ACC = 12 chains hides the add latency (3-4 cycles) at two vector ops per cycle with registers to spare (16 xmm).
// Usage: node --import tsx bench/wasm-ceiling.ts   (add --experimental-wasm-relaxed-simd on Node 20 for the relaxed row)
import { F32, I32, type Local, ModuleBuilder, V128 } from '../src/backends/cpu/wasm/assembler.js';

const ACC = 12;
type Kind = 'f32' | 'f32-relaxed' | 'int16-dot';
/** Operations per accumulator and iteration. */
const OPS: Record<Kind, number> = { 'f32': 8, 'f32-relaxed': 8, 'int16-dot': 16 };

function ceilingModule(kind: Kind): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder();
  m.func('run', [I32], [F32], (f, iters) => {
    const i = f.local(I32), mul = f.local(V128), add = f.local(V128);
    const acc: Local[] = [];
    for (let a = 0; a < ACC; a++) acc.push(f.local(V128));
    // m slightly below 1 and c small: the f32 chains converge to c / (1 - m) and never overflow or go subnormal
    if (kind === 'int16-dot') f.i32(0x00030002).simd('i32x4.splat').set(mul).i32(0x00010001).simd('i32x4.splat').set(add);
    else f.v128f32(0.999).set(mul).v128f32(1e-3).set(add);
    for (let a = 0; a < ACC; a++) f.v128f32(a).set(acc[a]!);
    f.get(iters).set(i);
    f.loop(() => {
      for (let a = 0; a < ACC; a++) {
        if (kind === 'f32') f.get(acc[a]!).get(mul).simd('f32x4.mul').get(add).simd('f32x4.add').set(acc[a]!);
        else if (kind === 'f32-relaxed') f.get(acc[a]!).get(mul).get(add).simd('f32x4.relaxed_madd').set(acc[a]!);
        else f.get(acc[a]!).get(mul).simd('i32x4.dot_i16x8_s').get(add).simd('i32x4.add').set(acc[a]!);
      }
      f.get(i).i32(1).op('i32.sub').tee(i).brIf(0);
    });
    // fold every chain into the result, so no chain is dead code
    f.get(acc[0]!);
    for (let a = 1; a < ACC; a++) f.get(acc[a]!).simd(kind === 'int16-dot' ? 'i32x4.add' : 'f32x4.add');
    if (kind === 'int16-dot') f.simd('f32x4.convert_i32x4_s');
    f.lane('f32x4.extract_lane', 0);
  });
  return m.emit();
}

export interface WasmCeiling {
  /** f32x4 mul + add, GFLOP/s. */
  f32: number;
  /** f32x4.relaxed_madd, GFLOP/s; null where the runtime does not validate relaxed SIMD. */
  f32Relaxed: number | null;
  /** i32x4.dot_i16x8_s + i32x4.add, G integer ops/s (a multiply and an add each). */
  int16Dot: number;
}

/** Best rate of `kind` over a few timed calls of about 20 ms each (G ops/s); null if the module does not validate. */
function measure(kind: Kind): number | null {
  const bytes = ceilingModule(kind);
  if (!WebAssembly.validate(bytes)) return null;
  const run = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.run as (iters: number) => number;
  let iters = 1 << 14;
  for (;;) { // grow the loop until one call takes 20 ms (warms the JIT too)
    const t0 = performance.now(); run(iters);
    if (performance.now() - t0 > 20 || iters > 1 << 28) break;
    iters *= 2;
  }
  let best = Infinity;
  for (let r = 0; r < 7; r++) { const t0 = performance.now(); run(iters); best = Math.min(best, performance.now() - t0); }
  return (iters * ACC * OPS[kind]) / (best * 1e6);
}

/** Measure the ceiling (about half a second). */
export function wasmSimdCeiling(): WasmCeiling {
  return { f32: measure('f32')!, f32Relaxed: measure('f32-relaxed'), int16Dot: measure('int16-dot')! };
}

/** The one-line description a benchmark header prints. */
export function describeCeiling(c: WasmCeiling): string {
  const relaxed = c.f32Relaxed === null ? 'relaxed SIMD not available in this runtime' : `f32x4.relaxed_madd ${c.f32Relaxed.toFixed(1)} GFLOP/s`;
  return `Wasm SIMD128 ceiling on one thread (independent register multiply-adds, no memory traffic): f32x4 mul+add ${c.f32.toFixed(1)} GFLOP/s, ${relaxed}, i32x4.dot_i16x8_s ${c.int16Dot.toFixed(1)} G int ops/s`;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(describeCeiling(wasmSimdCeiling()));
