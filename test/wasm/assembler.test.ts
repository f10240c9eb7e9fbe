// The Wasm assembler: emitted modules validate, LEB128 encodes right, and small functions compute right.
import { describe, expect, test } from 'vitest';
import { F32, I32, ModuleBuilder, sleb, uleb, V128 } from '../../src/backends/cpu/wasm/assembler.js';
import { gemmModuleBytes } from '../../src/backends/cpu/wasm/gemm-module.js';

const run = (m: ModuleBuilder, memory?: WebAssembly.Memory) =>
  new WebAssembly.Instance(new WebAssembly.Module(m.emit()), memory ? { env: { memory } } : {}).exports as Record<string, (...a: number[]) => number>;

describe('LEB128', () => {
  test('unsigned and signed encodings match the spec examples', () => {
    const u = (v: number) => { const o: number[] = []; uleb(o, v); return o; };
    const s = (v: number) => { const o: number[] = []; sleb(o, v); return o; };
    expect(u(0)).toEqual([0]);
    expect(u(127)).toEqual([0x7f]);
    expect(u(128)).toEqual([0x80, 0x01]);
    expect(u(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(s(-1)).toEqual([0x7f]);
    expect(s(63)).toEqual([0x3f]);
    expect(s(64)).toEqual([0xc0, 0x00]);
    expect(s(-64)).toEqual([0x40]);
    expect(s(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(s(2 ** 31 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x07]);
    expect(() => u(-1)).toThrow(/non-negative integer/);
    expect(() => s(1.5)).toThrow(/32-bit integer/);
  });
});

describe('ModuleBuilder', () => {
  test('an empty module and a scalar function validate and run', () => {
    expect(WebAssembly.validate(new ModuleBuilder().emit())).toBe(true);
    const m = new ModuleBuilder();
    m.func('addmul', [I32, I32], [I32], (f, a, b) => { f.get(a!).get(b!).op('i32.add').i32(-3).op('i32.mul'); });
    expect(run(m).addmul!(2, 5)).toBe(-21);
  });

  test('loops, locals, if/else and calls compute a sum of squares', () => {
    const m = new ModuleBuilder();
    const sq = m.func(null, [I32], [I32], (f, x) => { f.get(x!).get(x!).op('i32.mul'); });
    m.func('sumsq', [I32], [I32], (f, n) => {
      const i = f.local(I32), s = f.local(I32);
      f.forRange(i, () => f.i32(1), () => f.get(n!).i32(1).op('i32.add'), 1, () => { f.get(s).get(i).call(sq).op('i32.add').set(s); });
      f.get(s).op('i32.eqz').if(() => { f.i32(-1).set(s); }, () => { f.get(s).i32(0).op('i32.add').set(s); });
      f.get(s);
    });
    const e = run(m);
    expect(e.sumsq!(10)).toBe(385);
    expect(e.sumsq!(0)).toBe(-1);
  });

  test('SIMD through an imported memory: f32x4 mul/add/max, load32_splat, extract_lane, i32x4.dot_i16x8_s', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1, shared: false }); // a plain memory of its own (left out, shared follows the fast path's memory)
    // out[0..3] = max(x[0..3] * splat(s) + y[0..3], 0)
    m.func('axpyRelu', [I32, I32, I32, I32], [], (f, x, s, y, out) => {
      f.get(out!).get(x!).vmem('v128.load').get(s!).vmem('v128.load32_splat').simd('f32x4.mul').get(y!).vmem('v128.load').simd('f32x4.add')
        .v128f32(0).simd('f32x4.max').vmem('v128.store');
    });
    m.func('lane2', [I32], [F32], (f, p) => { f.get(p!).vmem('v128.load').lane('f32x4.extract_lane', 2); });
    // Σ over 8 int16 pairs of a·b, as i32x4 partial sums then lanes added
    m.func('dot16', [I32, I32], [I32], (f, a, b) => {
      const v = f.local(V128);
      f.get(a!).vmem('v128.load').get(b!).vmem('v128.load').simd('i32x4.dot_i16x8_s').set(v);
      f.get(v).lane('i32x4.extract_lane', 0).get(v).lane('i32x4.extract_lane', 1).op('i32.add')
        .get(v).lane('i32x4.extract_lane', 2).op('i32.add').get(v).lane('i32x4.extract_lane', 3).op('i32.add');
    });
    const bytes = m.emit();
    expect(WebAssembly.validate(bytes)).toBe(true);
    const e = run(m, memory);
    const f32 = new Float32Array(memory.buffer);
    f32.set([1, -2, 3, NaN], 0); f32[4] = 2; f32.set([0.5, 0.5, -10, 1], 8);
    e.axpyRelu!(0, 16, 32, 64);
    const out = Array.from(f32.subarray(16, 20));
    expect(out.slice(0, 3)).toEqual([2.5, 0, 0]);
    expect(Number.isNaN(out[3])).toBe(true); // f32x4.max keeps NaN, as PyTorch's relu does
    expect(e.lane2!(32)).toBe(-10);
    const i16 = new Int16Array(memory.buffer, 256, 16);
    i16.set([1, 2, 3, 4, -5, 6, 7, -32768, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(e.dot16!(256, 272)).toBe(8 + 14 + 18 + 20 - 20 + 18 + 14 - 32768);
  });

  test('a shared memory import needs a maximum', () => {
    expect(() => new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1, shared: true }).emit()).toThrow(/maximumPages/);
    const ok = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1, maximumPages: 4, shared: true }).emit();
    expect(WebAssembly.validate(ok)).toBe(true);
  });

  test('the GEMM module validates (SIMD128)', () => {
    expect(WebAssembly.validate(gemmModuleBytes())).toBe(true);
  });
});
