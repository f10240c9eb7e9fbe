// Feature detection for the CPU fast path (WebAssembly SIMD128, relaxed SIMD) by validating tiny modules, the
// switch that turns the fast path on (default where SIMD validates) or off (FORWARDPASS_WASM=0, setCpuFastPath), and
// the one for relaxed SIMD on it (default where it validates; off with FORWARDPASS_WASM_RELAXED=0, setWasmRelaxedSimd).
import { ModuleBuilder, V128 } from './assembler.js';

/** What this runtime's WebAssembly validates. */
export interface WasmFeatures {
  simd128: boolean;
  relaxedSimd: boolean;
}

function validates(build: (m: ModuleBuilder) => void): boolean {
  if (typeof WebAssembly === 'undefined' || typeof WebAssembly.validate !== 'function') return false;
  const m = new ModuleBuilder();
  build(m);
  try {
    return WebAssembly.validate(m.emit());
  } catch {
    return false;
  }
}

let detected: WasmFeatures | null = null;

/** Detect once: a function returning f32x4.add of two constants (SIMD128), one using f32x4.relaxed_madd. */
export function detectWasmFeatures(): WasmFeatures {
  if (detected) return detected;
  const simd128 = validates((m) => m.func('f', [], [V128], (f) => { f.v128f32(1).v128f32(2).simd('f32x4.add'); }));
  const relaxedSimd = simd128 && validates((m) => m.func('f', [], [V128], (f) => { f.v128f32(1).v128f32(2).v128f32(3).simd('f32x4.relaxed_madd'); }));
  detected = { simd128, relaxedSimd };
  return detected;
}

const envOff = (name: string): boolean => {
  const env = typeof process !== 'undefined' ? process.env?.[name] : undefined;
  return env === '0' || env === 'false' || env === 'off';
};

let enabled: boolean | null = null;
let simulateNoSimd = false;

/**
 * Turn the CPU's WebAssembly SIMD fast path on or off for this process (it starts on where the runtime validates
 * SIMD128, unless FORWARDPASS_WASM=0). Off, every CPU op runs its typed-array reference kernel.
 * @example setCpuFastPath(false); // reference kernels only
 */
export function setCpuFastPath(on: boolean): void {
  if (typeof on !== 'boolean') throw new TypeError(`forwardpass: setCpuFastPath: expected true or false, got ${String(on)}`);
  enabled = on;
}

/** Whether CPU kernels take the Wasm SIMD fast path now (switched on and SIMD128 available). */
export function cpuFastPathEnabled(): boolean {
  if (enabled === null) enabled = !envOff('FORWARDPASS_WASM');
  return enabled && !simulateNoSimd && detectWasmFeatures().simd128;
}

/** Tests: pretend the runtime has no SIMD128 (the fast path then stays off even when switched on). */
export function simulateNoWasmSimd(on: boolean): void {
  simulateNoSimd = on;
}

let relaxedOn: boolean | null = null;

/**
 * Let the fast path use relaxed SIMD where the runtime validates it (the default, unless FORWARDPASS_WASM_RELAXED=0),
 * or keep it on plain SIMD128. Relaxed SIMD's f32x4.relaxed_madd may round once (fused) or twice depending on the
 * machine, so a GEMM's last bits may differ between machines; `false` makes them the same as plain SIMD128's.
 * @example setWasmRelaxedSimd(false); // plain SIMD128 kernels only
 */
export function setWasmRelaxedSimd(on: boolean): void {
  if (typeof on !== 'boolean') throw new TypeError(`forwardpass: setWasmRelaxedSimd: expected true or false, got ${String(on)}`);
  relaxedOn = on;
}

/** Whether the fast path's kernels that have a relaxed-SIMD form use it now (fast path on, switched on, and relaxed SIMD validates). */
export function wasmRelaxedSimdEnabled(): boolean {
  if (relaxedOn === null) relaxedOn = !envOff('FORWARDPASS_WASM_RELAXED');
  return relaxedOn && cpuFastPathEnabled() && detectWasmFeatures().relaxedSimd;
}
