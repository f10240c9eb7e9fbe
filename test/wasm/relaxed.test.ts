// Relaxed SIMD on the CPU fast path: the assembler's relaxed opcodes, detection and its switches
// (setWasmRelaxedSimd, FORWARDPASS_WASM_RELAXED=0), the fallback to the plain SIMD128 GEMM module when the relaxed one
// does not validate (Node 20 by default: this process), and, in child processes run with
// `--experimental-wasm-relaxed-simd`, the relaxed GEMM (f32x4.relaxed_madd) against the typed-array twins
// (test/wasm/relaxed-script.ts: awkward shapes, the GEMM tests' tolerance, which also covers a fused multiply-add).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test, vi } from 'vitest';
import * as fp from '../../src/index.js';
import { FunctionBuilder, ModuleBuilder, V128, type SimdOp } from '../../src/backends/cpu/wasm/assembler.js';
import { compileGemmModule, gemmModuleBytes } from '../../src/backends/cpu/wasm/gemm-module.js';
import { heapF32, wasmAlloc, wasmFree, wasmMemory } from '../../src/backends/cpu/wasm/memory.js';
import { randomArray } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FLAG = '--experimental-wasm-relaxed-simd';

afterEach(() => { fp.setCpuFastPath(true); fp.setWasmRelaxedSimd(true); vi.unstubAllEnvs(); });

describe('relaxed SIMD opcodes', () => {
  // relaxed-simd proposal, binary format: 0xfd then the opcode as unsigned LEB128 (0x105 -> 0x85 0x02)
  test.each([
    ['f32x4.relaxed_madd', 0x85], ['f32x4.relaxed_nmadd', 0x86], ['f64x2.relaxed_madd', 0x87], ['f64x2.relaxed_nmadd', 0x88],
    ['i16x8.relaxed_dot_i8x16_i7x16_s', 0x92], ['i32x4.relaxed_dot_i8x16_i7x16_add_s', 0x93],
  ] as const)('%s is 0xfd 0x%s 0x02', (op, low) => {
    const f = new FunctionBuilder([], []);
    f.simd(op as SimdOp);
    expect(f.encode()).toEqual([5, 0, 0xfd, low, 0x02, 0x0b]); // body size, no locals, the op, end
  });

  test('a module using relaxed_madd validates exactly where detection says relaxed SIMD is there', () => {
    const m = new ModuleBuilder();
    m.func('f', [V128, V128, V128], [V128], (f, a, b, c) => { f.get(a).get(b).get(c).simd('f32x4.relaxed_madd'); });
    expect(WebAssembly.validate(m.emit())).toBe(fp.detectWasmFeatures().relaxedSimd);
    expect(WebAssembly.validate(gemmModuleBytes(true))).toBe(fp.detectWasmFeatures().relaxedSimd);
    expect(WebAssembly.validate(gemmModuleBytes(false))).toBe(true);
  });
});

describe('switch', () => {
  test('on by default where relaxed SIMD validates; setWasmRelaxedSimd(false) and the fast path off turn it off; a non-boolean is one clear error', () => {
    const has = fp.detectWasmFeatures().relaxedSimd;
    expect(fp.wasmRelaxedSimdEnabled()).toBe(has && fp.cpuFastPathEnabled());
    fp.setCpuFastPath(true);
    expect(fp.wasmRelaxedSimdEnabled()).toBe(has);
    fp.setWasmRelaxedSimd(false);
    expect(fp.wasmRelaxedSimdEnabled()).toBe(false);
    fp.setWasmRelaxedSimd(true);
    fp.setCpuFastPath(false);
    expect(fp.wasmRelaxedSimdEnabled()).toBe(false);
    expect(() => fp.setWasmRelaxedSimd(1 as unknown as boolean)).toThrow(/forwardpass: setWasmRelaxedSimd: expected true or false, got 1/);
  });

  test('FORWARDPASS_WASM_RELAXED=0 starts the process with relaxed SIMD off', async () => {
    vi.stubEnv('FORWARDPASS_WASM', '1');
    vi.stubEnv('FORWARDPASS_WASM_RELAXED', '0');
    vi.resetModules();
    expect((await import('../../src/backends/cpu/wasm/features.js')).wasmRelaxedSimdEnabled()).toBe(false);
    vi.stubEnv('FORWARDPASS_WASM_RELAXED', '1');
    vi.resetModules();
    expect((await import('../../src/backends/cpu/wasm/features.js')).wasmRelaxedSimdEnabled()).toBe(fp.detectWasmFeatures().relaxedSimd);
  });
});

describe('fallback to plain SIMD128', () => {
  test('when the relaxed GEMM module does not validate, the plain one is compiled (and it runs a product)', () => {
    const seen: Uint8Array[] = [];
    const { module, relaxed } = compileGemmModule(true, (bytes) => { seen.push(bytes); return false; });
    expect(relaxed).toBe(false);
    expect(seen).toEqual([gemmModuleBytes(true)]); // it asked about the relaxed bytes
    // the module it gave runs: C [1, 8] = A [1, 2] · B panel [2, 8] (k-major) on the fast path's memory
    const gemm = new WebAssembly.Instance(module, { env: { memory: wasmMemory() } }).exports.gemm as (...a: number[]) => void;
    const p = wasmAlloc(128), h = heapF32(), a = p, b = p + 16, c = p + 80;
    h.set([2, 3], a >> 2);
    h.set([1, 2, 3, 4, 5, 6, 7, 8, 10, 20, 30, 40, 50, 60, 70, 80], b >> 2);
    h.fill(0, c >> 2, (c >> 2) + 8);
    gemm(a, b, c, 1, 1, 2, 2, 8, 64, 32, 32, 0, 0); // M 1, 1 panel, K 2 in one block, lda 8 bytes, ldbk 32, ldc 32
    expect(Array.from(heapF32().subarray(c >> 2, (c >> 2) + 8))).toEqual([32, 64, 96, 128, 160, 192, 224, 256]);
    wasmFree(p, 128);
  });

  test('with the real validator: relaxed exactly where this runtime validates it (Node 20 by default: plain)', () => {
    expect(compileGemmModule(true).relaxed).toBe(fp.detectWasmFeatures().relaxedSimd);
    expect(compileGemmModule(false).relaxed).toBe(false);
  });

  test('the trace names the module that ran: wasm-relaxed only where relaxed SIMD is on, wasm-simd otherwise', () => {
    fp.setCpuFastPath(true);
    const x = fp.tensor(randomArray(3 * 17, 1), { shape: [3, 17] }), w = fp.tensor(randomArray(255 * 17, 2), { shape: [255, 17] });
    const name = (relaxed: boolean) => { fp.setWasmRelaxedSimd(relaxed); return fp.cpuBackend.variant!('linear', [x, w], { activation: 'none' }); };
    expect(name(true)).toBe(fp.detectWasmFeatures().relaxedSimd ? 'linear-wasm-relaxed-4x8' : 'linear-wasm-simd-4x8');
    expect(name(false)).toBe('linear-wasm-simd-4x8');
  });
});

interface ScriptResult { features: fp.WasmFeatures; relaxed: boolean; madd: number | null; opsValidate: Record<string, boolean>; checked: number; failures: string[] }

/** relaxed-script.ts in a child node with relaxed SIMD validating (the flag where this Node needs it), bounded by a timeout. */
function child(env: Record<string, string> = {}): ScriptResult {
  const flags = fp.detectWasmFeatures().relaxedSimd ? [] : [FLAG]; // a Node with relaxed SIMD on by default needs no flag
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', '--import', './test/wgsl-hook.mjs', 'test/wasm/relaxed-script.ts'], {
    cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000,
  });
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim()) as ScriptResult;
}

describe(`the relaxed GEMM in a child process (node ${FLAG})`, () => {
  test('relaxed SIMD detected and used: linear, matmul and conv2d on awkward shapes within the twin\'s tolerance, trace names wasm-relaxed-4x8, bit-for-bit promises kept', () => {
    const r = child();
    expect(r.failures).toEqual([]);
    expect(r).toMatchObject({ features: { simd128: true, relaxedSimd: true }, relaxed: true });
    expect(Object.values(r.opsValidate)).toEqual([true, true, true, true, true, true]);
    expect([0, 2 ** -24]).toContain(r.madd); // two roundings or one (an FMA): both allowed by the spec
    expect(r.checked).toBeGreaterThan(80);
  }, 150_000);

  test('FORWARDPASS_WASM_RELAXED=0 keeps the plain SIMD128 GEMM (trace names wasm-simd-4x8) though relaxed SIMD validates', () => {
    const r = child({ FORWARDPASS_WASM_RELAXED: '0' });
    expect(r.failures).toEqual([]);
    expect(r).toMatchObject({ features: { relaxedSimd: true }, relaxed: false });
    expect(r.checked).toBeGreaterThan(80);
  }, 150_000);
});
