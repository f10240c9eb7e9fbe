// quantizeRows on Wasm SIMD: per row (or block) max |x| in f32x4, then q = round(x / s) with the division in f64
// (as JavaScript divides) and Math.round's rounding (half up on |r|, not nearest-even), so q and the scales equal
// the typed-array twin's (quantizeRows in kernels/int8.ts over quant/formats.ts quantizeBlock) bit for bit.
import type { Int8OpAttrs } from '../../../ops/attrs.js';
import { MIN_SCALE } from '../../../quant/formats.js';
import type { CpuTensor } from '../types.js';
import { F32, F64, I32, type Local, ModuleBuilder, V128 } from './assembler.js';
import { wasmMemory, wasmScratch } from './memory.js';

/**
 * `absmax(src, n4) -> f32`: max |x| over n4 groups of 4 floats, NaN when any is NaN and Inf when any is ±Inf (and
 * none NaN), so "not finite" is exactly the twin's "a value is NaN or ±Inf". Computed on the bits: with the sign bit
 * cleared, floats order as their int32 bits (+0 < denormals < normals < Inf < NaN patterns), so one i32x4.max_s (one
 * instruction) replaces f32x4.max, whose NaN and -0 rules V8 lowers to about eight instructions on x64; its
 * latency made the loop-carried max the bottleneck (1.1 ns a value measured, now well under 0.3).
 * `quant(src, dst, n4, s: f64)`: dst int8 [4·n4] = sign(r) · min(127, floor(|r|) + (frac(|r|) >= 0.5)), r = x / s.
 */
export function quantModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  m.func('absmax', [I32, I32], [F32], (f, src, n4) => {
    const i = f.local(I32), mx = f.local(V128), abs = f.local(V128);
    f.i32(0).simd('i32x4.splat').set(mx);
    f.i32(0x7fffffff).simd('i32x4.splat').set(abs);
    f.forRange(i, () => f.i32(0), () => f.get(n4!), 1, () => {
      f.get(mx).get(src!).vmem('v128.load').get(abs).simd('v128.and').simd('i32x4.max_s').set(mx);
      f.get(src!).i32(16).op('i32.add').set(src!);
    });
    // lanes 2, 3 onto 0, 1, then 1 onto 0
    f.get(mx).get(mx).get(mx).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]).simd('i32x4.max_s').set(mx);
    f.get(mx).get(mx).get(mx).shuffle([4, 5, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15]).simd('i32x4.max_s');
    f.lane('i32x4.extract_lane', 0).op('f32.reinterpret_i32');
  });
  // Each step is chosen for a short x64 lowering, all exact. The values are finite here (the row checked them).
  // Math.round(a) = floor(a) + (frac(a) >= 0.5) equals floor(a + 0.5) for every a = fl64(x / s) that can occur: the
  // sum could only round up onto an integer if a lay within 2^-46 of a half-integer without being one, and a
  // quotient of two float32 values is either exactly a half-integer or at least 2^-27 away from it below 128 (its
  // distance is a multiple of 2^min(exponents) over 2s); beyond 128 both clamp to 127. f64x2.pmin (one minpd)
  // equals f64x2.min on finite values; k >= +0, so OR-ing r's sign bit gives sign(r)·k; adding 1.5·2^52 leaves the
  // integer k in the low 32 bits of the double (two's complement: 2^51 + k in the mantissa), which one shuffle
  // gathers, instead of i32x4.trunc_sat_f64x2_s_zero's saturating sequence.
  m.func('quant', [I32, I32, I32, F64], [], (f, src, dst, n4, s) => {
    const i = f.local(I32), v = f.local(V128), sv = f.local(V128), half = f.local(V128), lim = f.local(V128), sign = f.local(V128);
    const magic = f.local(V128), r = f.local(V128), t = f.local(V128), k: Local[] = [f.local(V128), f.local(V128)];
    f.get(s!).simd('f64x2.splat').set(sv);
    const splat = (x: number, l: Local) => { f.f64(x).simd('f64x2.splat').set(l); };
    splat(0.5, half); splat(127, lim); splat(-0, sign); splat(1.5 * 2 ** 52, magic);
    f.forRange(i, () => f.i32(0), () => f.get(n4!), 1, () => {
      f.get(src!).vmem('v128.load').set(v);
      for (let h = 0; h < 2; h++) {
        f.get(v);
        if (h === 1) f.get(v).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
        f.simd('f64x2.promote_low_f32x4').get(sv).simd('f64x2.div').tee(r).simd('f64x2.abs').get(half).simd('f64x2.add').simd('f64x2.floor');
        f.get(lim).simd('f64x2.pmin'); // lim < k ? lim : k
        f.get(r).get(sign).simd('v128.and').simd('v128.or').get(magic).simd('f64x2.add').set(k[h]!);
      }
      f.get(dst!);
      f.get(k[0]!).get(k[1]!).shuffle([0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]).tee(t).get(t).simd('i16x8.narrow_i32x4_s');
      f.get(t).simd('i8x16.narrow_i16x8_s').lane('i32x4.extract_lane', 0).mem('i32.store');
      f.get(src!).i32(16).op('i32.add').set(src!);
      f.get(dst!).i32(4).op('i32.add').set(dst!);
    });
  });
  // row(src, dst, sdst, nb, bl, K, fixed): the nb blocks of one row (bl values each, the last cut at K), each as
  // JavaScript would call absmax then quant: scale = fixed, or f32(amax / 127) (f32 division rounds as fround of the
  // f64 quotient), 1 below MIN_SCALE, NaN (and q left 0) when a value is NaN or ±Inf
  m.func('row', [I32, I32, I32, I32, I32, I32, F32], [], (f, src, dst, sdst, nb, bl, K, fixed) => {
    const b = f.local(I32), k0 = f.local(I32), n4 = f.local(I32), amax = f.local(F32), sc = f.local(F32);
    f.forRange(b, () => f.i32(0), () => f.get(nb!), 1, () => {
      f.get(b).get(bl!).op('i32.mul').set(k0);
      // n4 = ceil((min(K, k0 + bl) - k0) / 4)
      f.get(K!).get(k0).get(bl!).op('i32.add').get(K!).get(k0).get(bl!).op('i32.add').op('i32.lt_s').op('select').get(k0).op('i32.sub').i32(3).op('i32.add').i32(2).op('i32.shr_s').set(n4);
      f.get(src!).get(k0).i32(2).op('i32.shl').op('i32.add').get(n4).call(0).set(amax);
      f.get(amax).get(amax).op('f32.sub').f32(0).op('f32.eq').if(() => {
        f.get(fixed!).get(amax).f32(127).op('f32.div').f32(0).get(fixed!).op('f32.lt').op('select').set(sc);
        f.f32(1).get(sc).get(sc).f32(MIN_SCALE).op('f32.lt').op('select').set(sc);
        f.get(src!).get(k0).i32(2).op('i32.shl').op('i32.add').get(dst!).get(k0).op('i32.add').get(n4).get(sc).op('f64.promote_f32').call(1);
      }, () => { f.f32(NaN).set(sc); });
      f.get(sdst!).get(b).i32(2).op('i32.shl').op('i32.add').get(sc).mem('f32.store');
    });
  });
  // rows(src, dst, sdst, M, nb, bl, K, fixed, K4, Kp): row() for M rows (src rows K4 floats apart, dst rows Kp bytes,
  // scales nb floats): one call from JavaScript per call, not per row (a JS -> Wasm call costs about as much as
  // quantizing a 64-value row)
  m.func('rows', [I32, I32, I32, I32, I32, I32, I32, F32, I32, I32], [], (f, src, dst, sdst, M, nb, bl, K, fixed, K4, Kp) => {
    const i = f.local(I32);
    f.forRange(i, () => f.i32(0), () => f.get(M!), 1, () => {
      f.get(src!).get(dst!).get(sdst!).get(nb!).get(bl!).get(K!).get(fixed!).call(2);
      f.get(src!).get(K4!).i32(2).op('i32.shl').op('i32.add').set(src!);
      f.get(dst!).get(Kp!).op('i32.add').set(dst!);
      f.get(sdst!).get(nb!).i32(2).op('i32.shl').op('i32.add').set(sdst!);
    });
  });
  return m.emit();
}

interface QuantFns {
  absmax: (src: number, n4: number) => number; quant: (src: number, dst: number, n4: number, s: number) => void;
  row: (src: number, dst: number, sdst: number, nb: number, bl: number, K: number, fixed: number) => void;
  rows: (src: number, dst: number, sdst: number, M: number, nb: number, bl: number, K: number, fixed: number, K4: number, Kp: number) => void;
}
let fns: QuantFns | null = null;
const kernels = (): QuantFns => {
  if (!fns) {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(quantModuleBytes()), { env: { memory: wasmMemory() } });
    fns = inst.exports as unknown as QuantFns;
  }
  return fns;
};

/** quantizeRows: x [M, K] float -> q int8 [M, Kp], scales [M, nb], as the twin (dynamic or static scale, any block). */
export function quantizeRowsWasm(q: CpuTensor, s: CpuTensor, x: CpuTensor, { block, staticScale }: Int8OpAttrs['quantizeRows']): void {
  const [M, K] = x.shape as [number, number];
  const Kp = q.shape[1]!, nb = s.shape[1]!, bl = block > 0 ? block : Kp;
  if (M === 0) return;
  const K4 = Math.ceil(K / 4) * 4, xBytes = M * K4 * 4;
  const base = wasmScratch(xBytes + M * Kp + M * nb * 4 + 4);
  const qBase = base + xBytes, sBase = Math.ceil((qBase + M * Kp) / 4) * 4;
  const mem = wasmMemory().buffer;
  const hx = new Float32Array(mem, base, M * K4);
  if (K4 === K) hx.set(x.data.subarray(x.offset, x.offset + M * K));
  else for (let m = 0; m < M; m++) { hx.set(x.data.subarray(x.offset + m * K, x.offset + (m + 1) * K), m * K4); hx.fill(0, m * K4 + K, (m + 1) * K4); }
  const hq = new Int8Array(mem, qBase, M * Kp);
  hq.fill(0); // past each segment's last group of 4, and NaN segments
  const fixed = staticScale > 0 ? Math.fround(staticScale) : 0;
  kernels().rows(base, qBase, sBase, M, nb, bl, K, fixed, K4, Kp); // k0 and bl are multiples of 4
  s.data.set(new Float32Array(mem, sBase, M * nb), s.offset);
  (q.data as Int8Array).set(hq, q.offset);
}
