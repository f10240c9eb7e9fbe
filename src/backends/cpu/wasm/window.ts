// Sliding-window kernels on Wasm SIMD: maxPool2d, avgPool2d and depthwise conv2d (one input channel per output
// channel), four output columns per vector. Planes are first laid out padded in Wasm memory (-Inf around a max pool,
// 0 otherwise), so the window loops have no bounds tests. Each lane does the twin's operations in the twin's order
// (kernels/pool.ts, kernels/conv.ts direct), so the outputs equal the twins bit for bit:
// - max: m = (v > m || v is NaN) ? v : m over the window rows then columns; -Inf padding never wins.
// - avg: a float64 sum over the window (padding adds +0, which changes no sum that starts at +0), divided by the
//   twin's count for that output position (countIncludePad rules, precomputed per position).
// - depthwise: a float64 accumulator starting at the bias, += w·x per tap in (kh, kw) order; padded taps add ±0,
//   a no-op unless the accumulator is -0, which it never is when the bias is not -0 (the fast path then declines,
//   as it does for non-finite weights: w·0 would be NaN where the twin skips the tap).
//   A float32 accumulator (f32x4 mul then add) was tried: 1.1-1.3x faster per conv on MobileNetV2's 3x3 shapes
//   (best of 12), but no faster in the whole MobileNetV2 session (median 0.96-0.98x, best 1.05x, load ~6): copying the
//   planes in, padding and copying out dominate. So the float64, bit-for-bit kernel stays.
// Legend: P = planes (N·C), H, W = input size, Ho, Wo = output size, Wo4 = Wo rounded up to 4, Hp, Wp = padded size.
import type { Conv2dAttrs, Pool2dAttrs } from '../../../ops/attrs.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { CpuTensor, NumArray } from '../types.js';
import { F32, type FunctionBuilder, I32, type Local, ModuleBuilder, V128 } from './assembler.js';
import { fromHeap, heapF32, toHeap, wasmMemory, wasmScratch } from './memory.js';
import { emitNarrow, emitWiden } from './norm.js';
import { chunkStart, opTasks, parallelFor, shareKernels } from './threads.js';

type Mode = 'max' | 'avg' | 'dw';
/** How a vector of 4 output columns reads its inputs: stride 1 (one load), stride 2 (two loads, even lanes), any. */
type Cols = 's1' | 's2' | 'sn';
const EVEN_LANES = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];

/** Pushes the f32x4 of columns a, a + sW, a + 2sW, a + 3sW (byte address `a`, stride `sW4` in bytes). */
function emitLoad4(f: FunctionBuilder, cols: Cols, a: Local, sW4: Local, t: Local): void {
  if (cols === 's1') { f.get(a).vmem('v128.load'); return; }
  if (cols === 's2') { f.get(a).vmem('v128.load').get(a).vmem('v128.load', 16).shuffle(EVEN_LANES); return; }
  f.get(a).vmem('v128.load32_splat').set(t);
  for (let l = 1; l < 4; l++) { f.get(t).get(a).get(sW4).i32(l).op('i32.mul').op('i32.add').mem('f32.load').lane('f32x4.replace_lane', l).set(t); }
  f.get(t);
}

/**
 * `{mode}_{cols}(src, dst, Ho, Wo, Wp, sH, sW, kH, kW, dH, dW, aux, bias)`: one plane. src is the padded plane (rows of
 * Wp floats), dst gets Ho rows of Wo floats (a row's last vector may spill up to 3 floats past it: planes run in
 * order, so the next row or plane rewrites them). aux: avg's per-position divisors (Ho rows of Wo4), dw's kH·kW taps.
 */
export function windowModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  for (const mode of ['max', 'avg', 'dw'] as Mode[]) {
    for (const cols of ['s1', 's2', 'sn'] as Cols[]) {
      m.func(`${mode}_${cols}`, [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32], [], (f, src, dst, Ho, Wo, Wp, sH, sW, kH, kW, dH, dW, aux, bias) => {
        const oh = f.local(I32), ow = f.local(I32), kh = f.local(I32), kw = f.local(I32), row = f.local(I32), a = f.local(I32), o = f.local(I32), sW4 = f.local(I32), tap = f.local(I32);
        const acc = f.local(V128), v = f.local(V128), lo = f.local(V128), hi = f.local(V128), alo = f.local(V128), ahi = f.local(V128), wv = f.local(V128), t = f.local(V128);
        f.get(sW!).i32(2).op('i32.shl').set(sW4);
        f.get(dst!).set(o);
        f.forRange(oh, () => f.i32(0), () => f.get(Ho!), 1, () => {
          f.forRange(ow, () => f.i32(0), () => f.get(Wo!), 4, () => {
            if (mode === 'max') f.v128f32(-Infinity).set(acc);
            else if (mode === 'avg') { f.v128f32(0).set(alo); f.v128f32(0).set(ahi); }
            else { f.get(bias!).op('f64.promote_f32').simd('f64x2.splat').tee(alo).set(ahi); }
            f.get(aux!).set(tap);
            f.forRange(kh, () => f.i32(0), () => f.get(kH!), 1, () => {
              // byte address of (oh·sH + kh·dH, ow·sW) in the padded plane
              f.get(src!).get(oh).get(sH!).op('i32.mul').get(kh).get(dH!).op('i32.mul').op('i32.add').get(Wp!).op('i32.mul').get(ow).get(sW!).op('i32.mul').op('i32.add').i32(2).op('i32.shl').op('i32.add').set(row);
              f.forRange(kw, () => f.i32(0), () => f.get(kW!), 1, () => {
                f.get(row).get(kw).get(dW!).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(a);
                emitLoad4(f, cols, a, sW4, t); f.set(v);
                if (mode === 'max') {
                  f.get(v).get(acc).get(v).get(acc).simd('f32x4.gt').get(v).get(v).simd('f32x4.ne').simd('v128.or').simd('v128.bitselect').set(acc);
                } else {
                  emitWiden(f, v, lo, hi);
                  if (mode === 'dw') {
                    f.get(tap).mem('f32.load').op('f64.promote_f32').simd('f64x2.splat').set(wv);
                    f.get(tap).i32(4).op('i32.add').set(tap);
                    f.get(lo).get(wv).simd('f64x2.mul').set(lo);
                    f.get(hi).get(wv).simd('f64x2.mul').set(hi);
                  }
                  f.get(alo).get(lo).simd('f64x2.add').set(alo);
                  f.get(ahi).get(hi).simd('f64x2.add').set(ahi);
                }
              });
            });
            f.get(o).get(ow).i32(2).op('i32.shl').op('i32.add');
            if (mode === 'max') f.get(acc);
            else {
              if (mode === 'avg') { // divisors of this row's positions: aux + (oh·Wo4 + ow)·4
                f.get(aux!).get(oh).get(Wo!).i32(3).op('i32.add').i32(-4).op('i32.and').op('i32.mul').get(ow).op('i32.add').i32(2).op('i32.shl').op('i32.add').vmem('v128.load').set(v);
                emitWiden(f, v, lo, hi);
                f.get(alo).get(lo).simd('f64x2.div').set(alo);
                f.get(ahi).get(hi).simd('f64x2.div').set(ahi);
              }
              emitNarrow(f, alo, ahi);
            }
            f.vmem('v128.store');
          });
          f.get(o).get(Wo!).i32(2).op('i32.shl').op('i32.add').set(o);
        });
      });
    }
  }
  // clamp(dst, n4, lo, hi): n4 vectors in place, x < lo ? lo : x > hi ? hi : x (NaN and -0 kept, as clamp's reference):
  // conv2d's fused activation, applied while its output is still in Wasm memory
  m.func('clamp', [I32, I32, F32, F32], [], (f, dst, n4, lo, hi) => {
    const j = f.local(I32), x = f.local(V128), l = f.local(V128), h = f.local(V128);
    f.get(lo!).simd('f32x4.splat').set(l);
    f.get(hi!).simd('f32x4.splat').set(h);
    f.forRange(j, () => f.i32(0), () => f.get(n4!), 1, () => {
      f.get(dst!).vmem('v128.load').set(x);
      f.get(h).get(x).get(x).get(h).simd('f32x4.gt').simd('v128.bitselect').set(x);
      f.get(dst!).get(l).get(x).get(x).get(l).simd('f32x4.lt').simd('v128.bitselect').vmem('v128.store');
      f.get(dst!).i32(16).op('i32.add').set(dst!);
    });
  });
  // fill(dst, n4, v): n4 vectors of the value v; rows(src, dst, rows, W, Wp): copy rows of W floats into rows of Wp
  m.func('fill', [I32, I32, F32], [], (f, dst, n4, val) => {
    const j = f.local(I32), s = f.local(V128);
    f.get(val!).simd('f32x4.splat').set(s);
    f.forRange(j, () => f.i32(0), () => f.get(n4!), 1, () => { f.get(dst!).get(s).vmem('v128.store'); f.get(dst!).i32(16).op('i32.add').set(dst!); });
  });
  m.func('rows', [I32, I32, I32, I32, I32], [], (f, src, dst, rows, W, Wp) => {
    const r = f.local(I32);
    f.forRange(r, () => f.i32(0), () => f.get(rows!), 1, () => {
      f.get(dst!).get(src!).get(W!).i32(2).op('i32.shl').memoryCopy();
      f.get(src!).get(W!).i32(2).op('i32.shl').op('i32.add').set(src!);
      f.get(dst!).get(Wp!).i32(2).op('i32.shl').op('i32.add').set(dst!);
    });
  });
  // planes(geo, p0, p1, dst): planes p0..p1 whole, for one task of the thread pool (i32 arguments only): each plane's
  // padded copy (fill, then its rows) and its window pass, output planes from dst on, Ho·Wo floats apart. geo: the
  // i32 record GEO (its FILL field holds the padding value's float32 bits) and per plane (aux byte address, bias).
  for (const mode of ['max', 'avg', 'dw'] as Mode[]) {
    for (const cols of ['s1', 's2', 'sn'] as Cols[]) {
      m.func(`planes_${mode}_${cols}`, [I32, I32, I32, I32], [], (f, geo, p0, p1, dst) => {
        const p = f.local(I32), pad = f.local(I32), k = f.local(I32), n = f.local(I32), fv = f.local(F32), r = f.local(I32);
        const g = (field: number) => f.get(geo!).mem('i32.load', field * 4);
        f.get(geo!).mem('f32.load', GEO.FILL * 4).set(fv);
        g(GEO.HP); g(GEO.WP); f.op('i32.mul').set(n);
        f.forRange(p, () => f.get(p0!), () => f.get(p1!), 1, () => {
          g(GEO.PQ); f.get(p).get(n).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(pad);
          f.forRange(k, () => f.i32(0), () => f.get(n), 1, () => { f.get(pad).get(k).i32(2).op('i32.shl').op('i32.add').get(fv).mem('f32.store'); });
          f.forRange(r, () => f.i32(0), () => g(GEO.H), 1, () => {
            // dst: pad + ((pT + r)·Wp + pL)·4, src: x + ((p·H + r)·W)·4, W·4 bytes
            f.get(pad); g(GEO.PT); f.get(r).op('i32.add'); g(GEO.WP); f.op('i32.mul'); g(GEO.PL); f.op('i32.add').i32(2).op('i32.shl').op('i32.add');
            g(GEO.XQ); f.get(p); g(GEO.H); f.op('i32.mul').get(r).op('i32.add'); g(GEO.W); f.op('i32.mul').i32(2).op('i32.shl').op('i32.add');
            g(GEO.W); f.i32(2).op('i32.shl').memoryCopy();
          });
          f.get(pad);
          f.get(dst!).get(p).get(p0!).op('i32.sub'); g(GEO.HO); f.op('i32.mul'); g(GEO.WO); f.op('i32.mul').i32(2).op('i32.shl').op('i32.add');
          for (const field of [GEO.HO, GEO.WO, GEO.WP, GEO.SH, GEO.SW, GEO.KH, GEO.KW, GEO.DH, GEO.DW]) g(field);
          f.get(geo!).get(p).i32(3).op('i32.shl').op('i32.add').mem('i32.load', GEO.SIZE * 4);
          f.get(geo!).get(p).i32(3).op('i32.shl').op('i32.add').mem('f32.load', GEO.SIZE * 4 + 4);
          f.call(MODES.indexOf(mode) * 3 + COLS.indexOf(cols));
        });
      });
    }
  }
  return m.emit();
}

const MODES: Mode[] = ['max', 'avg', 'dw'], COLS: Cols[] = ['s1', 's2', 'sn'];
/** Fields (i32 slots) of the record a threaded window task reads; SIZE of them, then 2 slots per plane. */
const GEO = { XQ: 0, PQ: 1, H: 2, W: 3, HP: 4, WP: 5, PT: 6, PL: 7, HO: 8, WO: 9, SH: 10, SW: 11, KH: 12, KW: 13, DH: 14, DW: 15, FILL: 16, SIZE: 17 } as const;

/**
 * Window ops below this many floats moved (padded input planes and outputs) stay on one thread: about the GEMM's
 * measured break-even in one-thread time (the padding copy and the window pass take ~1.5 ns a float; not measured
 * for this op: the 2-core VM stayed at load 8-11).
 */
export const WINDOW_THREADS_MIN = 1 << 16;

type PlaneFn = (src: number, dst: number, Ho: number, Wo: number, Wp: number, sH: number, sW: number, kH: number, kW: number, dH: number, dW: number, aux: number, bias: number) => void;
interface Fns { [k: string]: PlaneFn | ((...a: number[]) => void) }
let fns: Fns | null = null;
const planeIds = new Map<string, number>(); // `${mode}_${cols}` -> the thread pool's id of planes_{mode}_{cols}
const kernels = (): Fns => {
  if (!fns) {
    const module = new WebAssembly.Module(windowModuleBytes());
    const exports = new WebAssembly.Instance(module, { env: { memory: wasmMemory() } }).exports;
    const names = MODES.flatMap((m) => COLS.map((c) => `${m}_${c}`));
    shareKernels(module, exports, names.map((n) => `planes_${n}`)).forEach((id, i) => planeIds.set(names[i]!, id));
    fns = exports as unknown as Fns;
  }
  return fns;
};

/**
 * Clamp n floats at byte `at` in Wasm memory to [lo, hi] in place, as clamp's reference; rounds n up
 * to 4 (up to 3 floats past the end are clamped too: the caller's padding). The bounds are float32 (conv2d's: 0, 6, inf).
 */
export function clampWasm(at: number, n: number, lo: number, hi: number): void {
  (kernels().clamp as (d: number, n4: number, lo: number, hi: number) => void)(at, Math.ceil(n / 4), lo, hi);
}

interface Win { kH: number; kW: number; sH: number; sW: number; dH: number; dW: number; pT: number; pL: number }

/**
 * Run `mode` over P planes of x ([P, H, W] contiguous) into out ([P, Ho, Wo]). `aux` (auxFloats floats: the avg
 * divisors, or the dw taps [O, taps]) is staged after the output; plane p reads its taps at aux + (p % O)·taps and
 * adds bias[p % O] (pools: O = 1, taps = 0, no bias). Plain arguments, no per-plane closure or object: small pools
 * are mostly this overhead. Layout in the scratch block: x, its padded planes, the output (+4 floats), aux.
 */
function runPlanes(mode: Mode, out: CpuTensor, x: CpuTensor, g: Win, fillValue: number, auxFloats: number, aux: NumArray | null, auxFrom: number, O: number, taps: number, bias: CpuTensor | undefined, clamp?: [number, number]): void {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const Ho = out.shape[2]!, Wo = out.shape[3]!, P = N * C, Wo4 = Math.ceil(Wo / 4) * 4;
  const { kH, kW, sH, sW, dH, dW, pT, pL } = g;
  const Hp = Math.max(H + pT, (Ho - 1) * sH + (kH - 1) * dH + 1);
  const Wp = Math.max(W + pL, (Wo4 - 1) * sW + (kW - 1) * dW + 1 + (sW === 2 ? 4 : 0));
  const nx = P * H * W, np = P * Hp * Wp, no = P * Ho * Wo, n4 = (k: number) => Math.ceil(k / 4) * 4 + 4;
  // threaded: tasks of whole planes, each output range 4 floats past the previous one (a task's last row spills up to
  // 3 floats past it), and the record the tasks read (GEO, then aux address and bias per plane)
  const tasks = opTasks(P, np + no, WINDOW_THREADS_MIN), gap = tasks > 1 ? 4 * tasks : 0, rec = tasks > 1 ? GEO.SIZE + 2 * P : 0;
  const base = wasmScratch((n4(nx) + n4(np) + n4(no + gap) + n4(auxFloats) + rec) * 4), h = heapF32();
  const xq = base >> 2, pq = xq + n4(nx), oq = pq + n4(np), aq = oq + n4(no + gap), gq = aq + n4(auxFloats);
  toHeap(h, xq, x.data as NumArray, x.offset, nx);
  if (aux) toHeap(h, aq, aux, auxFrom, auxFloats);
  const k = kernels(), cols: Cols = sW === 1 ? 's1' : sW === 2 ? 's2' : 'sn';
  const biasOf = (o: number) => (bias ? bias.data[bias.offset + o]! : 0);
  if (tasks > 1) {
    const r = new Int32Array(h.buffer, gq << 2, rec);
    r.set([xq << 2, pq << 2, H, W, Hp, Wp, pT, pL, Ho, Wo, sH, sW, kH, kW, dH, dW, 0]);
    h[gq + GEO.FILL] = fillValue;
    for (let p = 0; p < P; p++) { const o = p % O; r[GEO.SIZE + 2 * p] = (aq + o * taps) << 2; h[gq + GEO.SIZE + 2 * p + 1] = biasOf(o); }
    const od = out.data as NumArray, S = Ho * Wo, at = (i: number) => oq + chunkStart(i, P, tasks) * S + 4 * i;
    // each task's planes go out of Wasm memory as soon as it is done (parallelFor's after)
    parallelFor(planeIds.get(`${mode}_${cols}`)!, tasks, (i, args) => args.set([gq << 2, chunkStart(i, P, tasks), chunkStart(i + 1, P, tasks), at(i) << 2]), (i) => {
      const n = (chunkStart(i + 1, P, tasks) - chunkStart(i, P, tasks)) * S;
      if (clamp) clampWasm(at(i) << 2, n, clamp[0], clamp[1]); // spills into the 4-float gap after the task's range
      od.set(h.subarray(at(i), at(i) + n) as never, chunkStart(i, P, tasks) * S);
    });
    return;
  }
  (k.fill as (d: number, n4: number, v: number) => void)(pq << 2, n4(np) / 4, fillValue);
  const rows = k.rows as (s: number, d: number, r: number, W: number, Wp: number) => void;
  for (let p = 0; p < P; p++) rows((xq + p * H * W) << 2, (pq + p * Hp * Wp + pT * Wp + pL) << 2, H, W, Wp);
  const run = k[`${mode}_${cols}`] as PlaneFn;
  for (let p = 0; p < P; p++) {
    const o = p % O;
    run((pq + p * Hp * Wp) << 2, (oq + p * Ho * Wo) << 2, Ho, Wo, Wp, sH, sW, kH, kW, dH, dW, (aq + o * taps) << 2, bias ? bias.data[bias.offset + o]! : 0);
  }
  if (clamp) clampWasm(oq << 2, no, clamp[0], clamp[1]);
  fromHeap(out.data as NumArray, h, oq, no);
}

/** avgPool2d's divisor table of the last call (a replayed graph pools the same shape with the same attrs each run). */
let lastDiv: { a: Pool2dAttrs; H: number; W: number; Ho: number; Wo: number; div: Float32Array } | null = null;

/** Whether two pool attrs give the same divisors (compared by value: an attrs object could be reused and changed). */
function sameWindow(p: Pool2dAttrs, q: Pool2dAttrs): boolean {
  for (let i = 0; i < 4; i++) if (p.padding[i] !== q.padding[i]) return false;
  for (let i = 0; i < 2; i++) if (p.kernel[i] !== q.kernel[i] || p.stride[i] !== q.stride[i] || p.dilation[i] !== q.dilation[i]) return false;
  return p.countIncludePad === q.countIncludePad;
}

const winOf = (a: Pool2dAttrs | Conv2dAttrs, kH: number, kW: number): Win => ({
  kH, kW, sH: a.stride[0], sW: a.stride[1], dH: a.dilation[0], dW: a.dilation[1], pT: a.padding[0], pL: a.padding[1],
});

/** maxPool2d / avgPool2d of x [N, C, H, W] (contiguous float) into out [N, C, Ho, Wo]. */
export function poolWasm(op: 'maxPool2d' | 'avgPool2d', out: CpuTensor, x: CpuTensor, a: Pool2dAttrs): void {
  if (out.data.length === 0) return;
  const g = winOf(a, a.kernel[0], a.kernel[1]);
  const Ho = out.shape[2]!, Wo = out.shape[3]!, Wo4 = Math.ceil(Wo / 4) * 4, H = x.shape[2]!, W = x.shape[3]!;
  if (op === 'maxPool2d') { runPlanes('max', out, x, g, -Infinity, 0, null, 0, 1, 0, undefined); return; }
  const c = lastDiv;
  if (c && c.H === H && c.W === W && c.Ho === Ho && c.Wo === Wo && sameWindow(c.a, a)) { runPlanes('avg', out, x, g, 0, Ho * Wo4, c.div, 0, 1, 0, undefined); return; }
  const [, , pB, pR] = a.padding;
  // the twin's divisor per output position: window positions inside the input, or (countIncludePad) inside the padding
  const count = (o: number, s: number, k: number, d: number, p0: number, n: number, lo: number, hi: number): number => {
    let c = 0;
    for (let i = 0; i < k; i++) { const at = o * s - p0 + i * d; if (at >= lo && at < hi) c++; }
    return c;
  };
  const div = new Float32Array(Ho * Wo4);
  for (let oh = 0; oh < Ho; oh++) {
    for (let ow = 0; ow < Wo4; ow++) {
      div[oh * Wo4 + ow] = ow >= Wo ? 1 : a.countIncludePad
        ? count(oh, g.sH, g.kH, g.dH, g.pT, H, -g.pT, H + pB) * count(ow, g.sW, g.kW, g.dW, g.pL, W, -g.pL, W + pR)
        : count(oh, g.sH, g.kH, g.dH, g.pT, H, 0, H) * count(ow, g.sW, g.kW, g.dW, g.pL, W, 0, W);
    }
  }
  lastDiv = { a: { ...a, kernel: [...a.kernel], stride: [...a.stride], padding: [...a.padding], dilation: [...a.dilation] }, H, W, Ho, Wo, div };
  runPlanes('avg', out, x, g, 0, Ho * Wo4, div, 0, 1, 0, undefined);
}

/**
 * Whether conv2d's direct lowering (one input channel per group) takes this path: float32 x, weight and bias,
 * finite weights and no -0 bias (see the header).
 */
export function depthwiseFits(inputs: readonly Tensor[]): boolean {
  if (!inputs.every((t) => t.dtype === 'float32') || inputs[0]!.size === 0) return false;
  const [, w, b] = inputs as [Tensor, Tensor, Tensor | undefined];
  const wd = w.storage.handle as Float32Array;
  for (let i = 0; i < w.size; i++) if (!Number.isFinite(wd[w.offset + i]!)) return false;
  const bd = b?.storage.handle as Float32Array | undefined;
  if (b) for (let i = 0; i < b.size; i++) if (Object.is(bd![b.offset + i], -0)) return false;
  return true;
}

/** Depthwise-like conv2d (Cg = 1) of x [N, C, H, W] with w [O, 1, kH, kW], bias? [O] into out [N, O, Ho, Wo]. */
export function depthwiseWasm(out: CpuTensor, x: CpuTensor, w: CpuTensor, b: CpuTensor | undefined, a: Conv2dAttrs): void {
  if (out.data.length === 0) return;
  const [O, , kH, kW] = w.shape as [number, number, number, number];
  const Og = O / a.groups, taps = kH * kW;
  // one padded input plane per output channel: an input channel read by Og outputs is repeated Og times
  const xs: CpuTensor = Og === 1 ? x : repeatPlanes(x, Og);
  runPlanes('dw', out, xs, winOf(a, kH, kW), 0, O * taps, w.data as NumArray, w.offset, O, taps, b, a.clamp);
}

/** x [N, C, H, W] -> [N, C·r, H, W] with each channel plane repeated r times (channel c becomes c·r .. c·r + r - 1). */
function repeatPlanes(x: CpuTensor, r: number): CpuTensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const S = H * W, d = new Float32Array(N * C * r * S);
  for (let q = 0; q < N * C; q++) {
    const src = (x.data as NumArray).subarray(x.offset + q * S, x.offset + (q + 1) * S);
    for (let k = 0; k < r; k++) d.set(src as never, (q * r + k) * S);
  }
  return { data: d, dtype: 'float32', shape: [N, C * r, H, W], strides: [C * r * S, S, W, 1], offset: 0 };
}
