// Elementwise activations on Wasm SIMD (relu, sigmoid, silu, gelu, geluTanh) with a float32 exp and erfc written as
// polynomials. Reference twins: the UNARY table (ops/elementwise.ts, ops/math.ts, computed in float64); relu is
// exact, the rest agree within the tolerance test/wasm/unary.test.ts states and measures (NaN and ±Inf as the twin).
// The exact ops of exported graphs (neg, abs, sqrt, reciprocal, square, clamp / ReLU6, leakyRelu, hardSigmoid, hardSwish) equal
// the twin bit for bit: one correctly rounded float32 operation where the twin's float64 one rounded to float32 gives
// the same (sqrt, 1/x, x·x), float64 lanes where it would not (a·x with a float64 slope), and comparisons written as
// the twin's (x < lo ? lo : ..., Math.min / Math.max with their NaN and ±0 rules).
import type { UnaryOp } from '../../../ops/attrs.js';
import { F64, type FunctionBuilder, I32, type Local, ModuleBuilder, V128 } from './assembler.js';
import type { NumArray } from '../types.js';
import { fromHeap, heapF32, toHeap, wasmMemory, wasmScratch } from './memory.js';

/** The activations (approximate, within the stated tolerance; every size, so that a value's result never depends on its tensor's size). */
const ACTIVATIONS: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['relu', 'sigmoid', 'silu', 'gelu', 'geluTanh']);
/** The exact ops (bit for bit with the twin), and the parametric ones among them (alpha, beta passed as float64). */
const EXACT: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['neg', 'abs', 'sqrt', 'reciprocal', 'square', 'clamp', 'leakyRelu', 'hardSigmoid', 'hardSwish']);
const PARAMETRIC: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['clamp', 'leakyRelu', 'hardSigmoid']);
/** The ops this module runs. */
export const WASM_UNARY: ReadonlySet<UnaryOp> = new Set<UnaryOp>([...ACTIVATIONS, ...EXACT]);
/** Exact ops below this many elements stay on the twin (exact either way; the copies in and out cost more). */
const EXACT_MIN = 64;

/** Whether the fast path takes `op` on a float tensor of `size` elements. */
export const unaryFits = (op: UnaryOp, size: number): boolean => size > 0 && (ACTIVATIONS.has(op) || (EXACT.has(op) && size >= EXACT_MIN));

const bytes = (...lanes: number[]) => lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
/** f32 lanes 2, 3 moved to 0, 1 (for the second f64x2.promote_low). */
const HIGH_TO_LOW = bytes(2, 3, 2, 3);
/** Lanes 0, 1 of the first operand then lanes 0, 1 of the second (joins two demoted halves). */
const LOWS = bytes(0, 1, 4, 5);

/** y = float32(a·x + b) with a, b float64 splats (b null: a·x): each half in float64 lanes, as the twin computes. */
function emitAffine64(f: FunctionBuilder, x: Local, y: Local, a: Local, b: Local | null, lo: Local): void {
  f.get(x).simd('f64x2.promote_low_f32x4').get(a).simd('f64x2.mul');
  if (b) f.get(b).simd('f64x2.add');
  f.simd('f32x4.demote_f64x2_zero').set(lo);
  f.get(x).get(x).shuffle(HIGH_TO_LOW).simd('f64x2.promote_low_f32x4').get(a).simd('f64x2.mul');
  if (b) f.get(b).simd('f64x2.add');
  f.simd('f32x4.demote_f64x2_zero').set(y);
  f.get(lo).get(y).shuffle(LOWS).set(y);
}

const LOG2E = 1.4426950408889634, LN2_HI = 0.693359375, LN2_LO = -2.12194440e-4;
// e^r on |r| <= ln2/2 (Cephes expf minimax coefficients): 1 + r + r^2 (c0 + c1 r + ... + c5 r^5)
const EXP_C = [5.0000001201e-1, 1.6666665459e-1, 4.1665795894e-2, 8.3334519073e-3, 1.3981999507e-3, 1.9875691500e-4];
// erfc(z) = t·exp(-z^2 + P(t)), t = 1 / (1 + z/2): Chebyshev fit with fractional error < 1.2e-7 for z >= 0
const ERFC_C = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];

/** Horner: leaves Σ c[i]·x^i on the stack. */
function horner(f: FunctionBuilder, x: Local, c: readonly number[]): void {
  f.v128f32(c[c.length - 1]!);
  for (let i = c.length - 2; i >= 0; i--) f.get(x).simd('f32x4.mul').v128f32(c[i]!).simd('f32x4.add');
}

/**
 * exp of the f32x4 in `x` into `out` (x is clobbered): inputs clamped to [-104, 89] (NaN kept), so +Inf -> Inf,
 * -Inf -> 0, and the 2^n scale is applied as two normal factors so that results underflow gradually.
 */
export function emitExp(f: FunctionBuilder, x: Local, out: Local, t: { n: Local; r: Local; i: Local }): void {
  f.get(x).v128f32(-104).simd('f32x4.max').v128f32(89).simd('f32x4.min').set(x);
  f.get(x).v128f32(LOG2E).simd('f32x4.mul').simd('f32x4.nearest').set(t.n);
  f.get(x).get(t.n).v128f32(LN2_HI).simd('f32x4.mul').simd('f32x4.sub').get(t.n).v128f32(LN2_LO).simd('f32x4.mul').simd('f32x4.sub').set(t.r);
  horner(f, t.r, EXP_C);
  f.get(t.r).get(t.r).simd('f32x4.mul').simd('f32x4.mul').get(t.r).simd('f32x4.add').v128f32(1).simd('f32x4.add').set(out);
  // n1 = n >> 1, n2 = n - n1; out · 2^n1 · 2^n2
  f.get(t.n).simd('i32x4.trunc_sat_f32x4_s').set(t.i);
  f.get(t.i).i32(1).simd('i32x4.shr_s').set(t.n);
  f.get(out).get(t.n).i32(127).simd('i32x4.splat').simd('i32x4.add').i32(23).simd('i32x4.shl').simd('f32x4.mul');
  f.get(t.i).get(t.n).simd('i32x4.sub').i32(127).simd('i32x4.splat').simd('i32x4.add').i32(23).simd('i32x4.shl').simd('f32x4.mul').set(out);
}

/** sigmoid of the f32x4 in `x` into `out` without overflow: e = exp(-|x|), (x >= 0 ? 1 : e) / (1 + e). */
function emitSigmoid(f: FunctionBuilder, x: Local, out: Local, e: Local, tmp: Local, t: { n: Local; r: Local; i: Local }): void {
  f.get(x).simd('f32x4.abs').simd('f32x4.neg').set(tmp);
  emitExp(f, tmp, e, t);
  f.v128f32(1).get(e).get(x).v128f32(0).simd('f32x4.ge').simd('v128.bitselect');
  f.get(e).v128f32(1).simd('f32x4.add').simd('f32x4.div').set(out);
}

export function unaryModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  const kernel = (name: UnaryOp, body: (f: FunctionBuilder, x: Local, y: Local, s: { a: Local; b: Local; c: Local; t: { n: Local; r: Local; i: Local } }) => void) =>
    m.func(name, [I32, I32, I32], [], (f, src, dst, n4) => {
      const j = f.local(I32), x = f.local(V128), y = f.local(V128);
      const s = { a: f.local(V128), b: f.local(V128), c: f.local(V128), t: { n: f.local(V128), r: f.local(V128), i: f.local(V128) } };
      f.forRange(j, () => f.i32(0), () => f.get(n4!), 1, () => {
        f.get(src!).vmem('v128.load').set(x);
        body(f, x, y, s);
        f.get(dst!).get(y).vmem('v128.store');
        f.get(src!).i32(16).op('i32.add').set(src!);
        f.get(dst!).i32(16).op('i32.add').set(dst!);
      });
    });
  kernel('neg', (f, x, y) => { f.get(x).simd('f32x4.neg').set(y); });
  kernel('abs', (f, x, y) => { f.get(x).simd('f32x4.abs').set(y); });
  kernel('sqrt', (f, x, y) => { f.get(x).simd('f32x4.sqrt').set(y); }); // correctly rounded, as float64 sqrt rounded to float32
  kernel('reciprocal', (f, x, y) => { f.v128f32(1).get(x).simd('f32x4.div').set(y); });
  kernel('square', (f, x, y) => { f.get(x).get(x).simd('f32x4.mul').set(y); });
  // (x · Math.max(0, Math.min(6, x + 3))) / 6 in float64 lanes, as the twin: Math.min(6, u) is f64x2.min (NaN wins);
  // Math.max(0, c) is -min(-0, -c) (NaN wins, +0 for c <= 0; f64x2.max is not in the assembler's table)
  kernel('hardSwish', (f, x, y, s) => {
    const half = (from: () => void, out: Local) => {
      from(); f.simd('f64x2.promote_low_f32x4').set(s.a); // x
      f.f64(6).simd('f64x2.splat').get(s.a).f64(3).simd('f64x2.splat').simd('f64x2.add').simd('f64x2.min'); // c
      f.f64(-1).simd('f64x2.splat').simd('f64x2.mul').set(s.b); // -c
      f.f64(-0).simd('f64x2.splat').get(s.b).simd('f64x2.min').f64(-1).simd('f64x2.splat').simd('f64x2.mul'); // max(0, c)
      f.get(s.a).simd('f64x2.mul').f64(6).simd('f64x2.splat').simd('f64x2.div').simd('f32x4.demote_f64x2_zero').set(out);
    };
    half(() => f.get(x), s.c);
    half(() => f.get(x).get(x).shuffle(HIGH_TO_LOW), y);
    f.get(s.c).get(y).shuffle(LOWS).set(y);
  });
  // (src, dst, n4, alpha, beta): the parametric ops
  const kernelAB = (name: UnaryOp, body: (f: FunctionBuilder, x: Local, y: Local, a: Local, b: Local, t: Local, u: Local) => void) =>
    m.func(name, [I32, I32, I32, F64, F64], [], (f, src, dst, n4, alpha, beta) => {
      const j = f.local(I32), x = f.local(V128), y = f.local(V128), a = f.local(V128), b = f.local(V128), t = f.local(V128), u = f.local(V128);
      if (name === 'clamp') { // float32 bounds: x < lo and x < float32(lo) differ only for x = float32(lo), whose result is that value either way
        f.get(alpha!).op('f32.demote_f64').simd('f32x4.splat').set(a);
        f.get(beta!).op('f32.demote_f64').simd('f32x4.splat').set(b);
      } else {
        f.get(alpha!).simd('f64x2.splat').set(a);
        f.get(beta!).simd('f64x2.splat').set(b);
      }
      f.forRange(j, () => f.i32(0), () => f.get(n4!), 1, () => {
        f.get(src!).vmem('v128.load').set(x);
        body(f, x, y, a, b, t, u);
        f.get(dst!).get(y).vmem('v128.store');
        f.get(src!).i32(16).op('i32.add').set(src!);
        f.get(dst!).i32(16).op('i32.add').set(dst!);
      });
    });
  // x < lo ? lo : x > hi ? hi : x
  kernelAB('clamp', (f, x, y, lo, hi) => {
    f.get(hi).get(x).get(x).get(hi).simd('f32x4.gt').simd('v128.bitselect').set(y);
    f.get(lo).get(y).get(x).get(lo).simd('f32x4.lt').simd('v128.bitselect').set(y);
  });
  // x >= 0 ? x : a·x (the product in float64, as the twin)
  kernelAB('leakyRelu', (f, x, y, a, _b, t) => {
    emitAffine64(f, x, y, a, null, t);
    f.get(x).get(y).get(x).v128f32(0).simd('f32x4.ge').simd('v128.bitselect').set(y);
  });
  // Math.max(0, Math.min(1, a·x + b)): the affine part in float64 then rounded (rounding is monotone and keeps 0 and 1,
  // so clamping after it gives the same float32); Math.min / Math.max: NaN wins, max(0, -0) = +0
  kernelAB('hardSigmoid', (f, x, y, a, b, t) => {
    emitAffine64(f, x, y, a, b, t);
    f.get(y).v128f32(1).get(y).v128f32(1).simd('f32x4.lt').get(y).get(y).simd('f32x4.ne').simd('v128.or').simd('v128.bitselect').set(y);
    f.get(y).v128f32(0).get(y).v128f32(0).simd('f32x4.gt').get(y).get(y).simd('f32x4.ne').simd('v128.or').simd('v128.bitselect').set(y);
  });
  // x < 0 ? 0 : x (NaN and -0 kept, as the twin)
  kernel('relu', (f, x, y) => { f.get(x).get(x).v128f32(0).simd('f32x4.lt').simd('v128.andnot').set(y); });
  kernel('sigmoid', (f, x, y, s) => emitSigmoid(f, x, y, s.a, s.b, s.t));
  kernel('silu', (f, x, y, s) => { emitSigmoid(f, x, y, s.a, s.b, s.t); f.get(y).get(x).simd('f32x4.mul').set(y); });
  // 0.5·x·(1 + tanh(u)) = x · sigmoid(2u), u = √(2/π)(x + 0.044715 x³)
  kernel('geluTanh', (f, x, y, s) => {
    f.get(x).get(x).simd('f32x4.mul').get(x).simd('f32x4.mul').v128f32(0.044715).simd('f32x4.mul').get(x).simd('f32x4.add');
    f.v128f32(2 * Math.sqrt(2 / Math.PI)).simd('f32x4.mul').set(s.c);
    emitSigmoid(f, s.c, y, s.a, s.b, s.t);
    f.get(y).get(x).simd('f32x4.mul').set(y);
  });
  // 0.5·x·(1 + erf(x/√2)) = 0.5·x·(x >= 0 ? 2 - erfc(z) : erfc(z)), z = |x|/√2
  kernel('gelu', (f, x, y, s) => {
    f.get(x).simd('f32x4.abs').v128f32(Math.SQRT1_2).simd('f32x4.mul').set(s.c); // z
    f.v128f32(1).get(s.c).v128f32(0.5).simd('f32x4.mul').v128f32(1).simd('f32x4.add').simd('f32x4.div').set(s.b); // t
    horner(f, s.b, ERFC_C);
    f.get(s.c).get(s.c).simd('f32x4.mul').simd('f32x4.sub').set(s.a);
    emitExp(f, s.a, y, s.t);
    f.get(y).get(s.b).simd('f32x4.mul').set(y); // erfc(z)
    f.v128f32(2).get(y).simd('f32x4.sub').get(y).get(x).v128f32(0).simd('f32x4.ge').simd('v128.bitselect');
    f.v128f32(0.5).simd('f32x4.mul').get(x).simd('f32x4.mul').set(y); // halve first: 2·x may overflow
  });
  return m.emit();
}

type Fn = (src: number, dst: number, n4: number, alpha?: number, beta?: number) => void;
let fns: Record<string, Fn> | null = null;
const kernels = (): Record<string, Fn> => {
  if (!fns) fns = new WebAssembly.Instance(new WebAssembly.Module(unaryModuleBytes()), { env: { memory: wasmMemory() } }).exports as Record<string, Fn>;
  return fns;
};

/** out[i] = op(x[xo + i]) for n contiguous floats (in place in the scratch block: copy in, run, copy out). */
export function unaryWasm(op: UnaryOp, out: NumArray, x: NumArray, xo: number, n: number, attrs?: { alpha?: number; beta?: number }): void {
  const n4 = Math.ceil(n / 4), p = wasmScratch(n4 * 16);
  const h = heapF32(); // (after wasmScratch, which may grow the memory) one cached view, nothing allocated per call
  toHeap(h, p >> 2, x, xo, n);
  if (PARAMETRIC.has(op)) kernels()[op]!(p, p, n4, attrs?.alpha ?? 0, attrs?.beta ?? 0); // the twin's defaults for absent attrs
  else kernels()[op]!(p, p, n4);
  fromHeap(out, h, p >> 2, n);
}
