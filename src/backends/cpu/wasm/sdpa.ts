// Fused attention (sdpa) on Wasm SIMD: per (batch, head) plane and query row, the scores of 4 keys per vector from
// kᵀ laid out [D, S] (no horizontal sums), scaled, masked (bool: selected to -Inf; additive: added; causal: keys past
// t + S - T selected to -Inf), then the row's softmax in place (max, float32 exp of unary.ts, float64 sum) and the
// probability-weighted sum of value rows. The scores row (S floats) stays in cache, so the two passes over it cost
// less than an online softmax's rescaling of the output row at every key block.
// Reference twin: kernels/sdpa.ts (float64 dots and Math.exp); test/wasm/sdpa.test.ts states the tolerance. The
// special rows follow the twin: a NaN or +Inf score makes the row NaN; a row with every key masked is Σ 0·v (zeros,
// or NaN where a value is NaN or ±Inf); keys with p = 0 still add 0·v. Known difference: dots are float32, so a
// score beyond the float32 range (|q·k| > 3.4e38) is ±Inf here where the twin keeps it finite.
// Legend: P = B·H planes, T = queries, S = keys, S4 = S rounded up to 4, D = q/k size, Dv = value size.
import type { OpAttrs } from '../../../ops/attrs.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { CpuTensor, NumArray } from '../types.js';
import { F32, I32, ModuleBuilder, V128 } from './assembler.js';
import { gatherInto, gatherSpan } from './copy.js';
import { heapF32, wasmMemory, wasmScratch } from './memory.js';
import { emitExp } from './unary.js';

const MASK_NONE = 0, MASK_BOOL = 1, MASK_ADD = 2;

/**
 * `planes(q, kT, v, mask, out, sc, acc, P, T, S, D, Dv, scale, shift, causal, maskKind)`: q [P, T, D], kT [P, D, S],
 * v [P, S, Dv], mask [P, T, S] (bool as 0/1 floats) -> out [P, T, Dv]; sc (S4 floats) and acc (Dv rounded up to 4)
 * are scratch rows. Vector reads past a row's end (into the next row, or the 4 floats of slack after each block)
 * only feed lanes that are discarded.
 */
export function sdpaModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initialPages: 1 });
  m.func('planes', [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, I32, I32, I32], [],
    (f, q, kT, v, mask, out, sc, acc, P, T, S, D, Dv, scale, shift, causal, maskKind) => {
      const p = f.local(I32), t = f.local(I32), j = f.local(I32), d = f.local(I32), S4 = f.local(I32), Dv4 = f.local(I32);
      const end = f.local(I32), qRow = f.local(I32), mRow = f.local(I32), kCol = f.local(I32), vRow = f.local(I32), limit = f.local(I32), o = f.local(I32);
      const s = f.local(V128), x = f.local(V128), e = f.local(V128), mx = f.local(V128), s0 = f.local(V128), s1 = f.local(V128), w = f.local(V128);
      const scl = f.local(V128), ninf = f.local(V128), inv = f.local(F32), sum = f.local(V128);
      const tx = { n: f.local(V128), r: f.local(V128), i: f.local(V128) };
      f.get(S!).i32(3).op('i32.add').i32(-4).op('i32.and').set(S4);
      f.get(Dv!).i32(3).op('i32.add').i32(-4).op('i32.and').set(Dv4);
      f.get(scale!).simd('f32x4.splat').set(scl);
      f.v128f32(-Infinity).set(ninf);
      f.get(out!).set(o);
      f.forRange(p, () => f.i32(0), () => f.get(P!), 1, () => {
        f.forRange(t, () => f.i32(0), () => f.get(T!), 1, () => {
          f.get(q!).get(p).get(T!).op('i32.mul').get(t).op('i32.add').get(D!).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(qRow);
          f.get(mask!).get(p).get(T!).op('i32.mul').get(t).op('i32.add').get(S!).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(mRow);
          // keys j >= limit are masked by causality (limit = S when not causal)
          f.get(S!).set(limit);
          f.get(causal!).if(() => {
            f.get(t).get(shift!).op('i32.add').i32(1).op('i32.add').set(limit);
            f.get(limit).i32(0).get(limit).i32(0).op('i32.gt_s').op('select').set(limit);
            f.get(limit).get(S!).get(limit).get(S!).op('i32.lt_s').op('select').set(limit);
          });
          // scores, 4 keys per vector: Σ_d q[t, d] · kT[d, j..j+3], for the keys before limit
          f.get(limit).i32(3).op('i32.add').i32(-4).op('i32.and').set(end);
          f.forRange(j, () => f.i32(0), () => f.get(end), 4, () => {
            f.v128f32(0).set(s);
            f.get(kT!).get(p).get(D!).op('i32.mul').get(S!).op('i32.mul').get(j).op('i32.add').i32(2).op('i32.shl').op('i32.add').set(kCol);
            f.forRange(d, () => f.i32(0), () => f.get(D!), 1, () => {
              f.get(s).get(qRow).get(d).i32(2).op('i32.shl').op('i32.add').vmem('v128.load32_splat');
              f.get(kCol).get(d).get(S!).op('i32.mul').i32(2).op('i32.shl').op('i32.add').vmem('v128.load').simd('f32x4.mul').simd('f32x4.add').set(s);
            });
            f.get(s).get(scl).simd('f32x4.mul').set(s);
            f.get(maskKind!).i32(MASK_ADD).op('i32.eq').if(() => { f.get(s).get(mRow).get(j).i32(2).op('i32.shl').op('i32.add').vmem('v128.load').simd('f32x4.add').set(s); });
            f.get(maskKind!).i32(MASK_BOOL).op('i32.eq').if(() => { // masked (0) keys: -Inf
              f.get(s).get(ninf).get(mRow).get(j).i32(2).op('i32.shl').op('i32.add').vmem('v128.load').v128f32(0).simd('f32x4.ne').simd('v128.bitselect').set(s);
            });
            f.get(sc!).get(j).i32(2).op('i32.shl').op('i32.add').get(s).vmem('v128.store');
          });
          // keys from limit on (causally masked, and the padding past S): -Inf
          f.forRange(j, () => f.get(limit), () => f.get(S4), 1, () => { f.get(sc!).get(j).i32(2).op('i32.shl').op('i32.add').f32(-Infinity).mem('f32.store'); });
          // max (NaN propagates)
          f.get(ninf).set(mx);
          f.forRange(j, () => f.i32(0), () => f.get(S4), 4, () => { f.get(mx).get(sc!).get(j).i32(2).op('i32.shl').op('i32.add').vmem('v128.load').simd('f32x4.max').set(mx); });
          f.get(mx).get(mx).get(mx).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]).simd('f32x4.max').set(mx);
          f.get(mx).get(mx).get(mx).shuffle([4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11]).simd('f32x4.max').set(mx);
          f.f32(1).set(inv);
          f.get(mx).lane('f32x4.extract_lane', 0).f32(-Infinity).op('f32.eq').if(() => {
            // every key masked: p = 0 for all keys (the output is Σ 0·v)
            f.forRange(j, () => f.i32(0), () => f.get(S4), 4, () => { f.get(sc!).get(j).i32(2).op('i32.shl').op('i32.add').v128f32(0).vmem('v128.store'); });
          }, () => {
            f.v128f32(0).set(s0); f.v128f32(0).set(s1);
            f.forRange(j, () => f.i32(0), () => f.get(S4), 4, () => {
              f.get(sc!).get(j).i32(2).op('i32.shl').op('i32.add').vmem('v128.load').get(mx).simd('f32x4.sub').set(x);
              emitExp(f, x, e, tx);
              f.get(sc!).get(j).i32(2).op('i32.shl').op('i32.add').get(e).vmem('v128.store');
              f.get(s0).get(e).simd('f64x2.promote_low_f32x4').simd('f64x2.add').set(s0);
              f.get(s1).get(e).get(e).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]).simd('f64x2.promote_low_f32x4').simd('f64x2.add').set(s1);
            });
            f.get(s0).get(s1).simd('f64x2.add').set(sum);
            f.f64(1).get(sum).lane('f64x2.extract_lane', 0).get(sum).lane('f64x2.extract_lane', 1).op('f64.add').op('f64.div').op('f32.demote_f64').set(inv);
          });
          // acc = Σ_j p_j · v[j, :], then out[t, :] = acc · inv
          f.forRange(d, () => f.i32(0), () => f.get(Dv4), 4, () => { f.get(acc!).get(d).i32(2).op('i32.shl').op('i32.add').v128f32(0).vmem('v128.store'); });
          f.forRange(j, () => f.i32(0), () => f.get(S!), 1, () => {
            f.get(sc!).get(j).i32(2).op('i32.shl').op('i32.add').vmem('v128.load32_splat').set(w);
            f.get(v!).get(p).get(S!).op('i32.mul').get(j).op('i32.add').get(Dv!).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(vRow);
            f.forRange(d, () => f.i32(0), () => f.get(Dv4), 4, () => {
              f.get(acc!).get(d).i32(2).op('i32.shl').op('i32.add');
              f.get(acc!).get(d).i32(2).op('i32.shl').op('i32.add').vmem('v128.load');
              f.get(w).get(vRow).get(d).i32(2).op('i32.shl').op('i32.add').vmem('v128.load').simd('f32x4.mul').simd('f32x4.add').vmem('v128.store');
            });
          });
          f.get(inv).simd('f32x4.splat').set(w);
          f.forRange(d, () => f.i32(0), () => f.get(Dv4), 4, () => {
            f.get(o).get(d).i32(2).op('i32.shl').op('i32.add').get(acc!).get(d).i32(2).op('i32.shl').op('i32.add').vmem('v128.load').get(w).simd('f32x4.mul').vmem('v128.store');
          });
          f.get(o).get(Dv!).i32(2).op('i32.shl').op('i32.add').set(o);
        });
      });
    });
  return m.emit();
}

type Planes = (q: number, kT: number, v: number, mask: number, out: number, sc: number, acc: number, P: number, T: number, S: number, D: number, Dv: number, scale: number, shift: number, causal: number, maskKind: number) => void;
let planesFn: Planes | null = null;
const kernel = (): Planes => {
  if (!planesFn) planesFn = new WebAssembly.Instance(new WebAssembly.Module(sdpaModuleBytes()), { env: { memory: wasmMemory() } }).exports.planes as Planes;
  return planesFn;
};

/** Whether the fast path takes this sdpa: float q, k, v (and a bool or float mask), every size positive. */
export function sdpaFits(inputs: readonly Tensor[]): boolean {
  const [q, k, v, m] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined];
  const float = (t: Tensor) => t.dtype === 'float32' || t.dtype === 'float16';
  return float(q) && float(k) && float(v) && (!m || m.dtype === 'bool' || float(m)) && q.size > 0 && k.size > 0 && v.size > 0;
}

/** out [B, H, T, Dv] = sdpa(q, k, v[, mask]) with the op's attributes (inputs may be strided or broadcast views). */
export function sdpaWasm(out: CpuTensor, ins: readonly CpuTensor[], { scale, causal, mask }: OpAttrs['sdpa']): void {
  const [q, k, v] = ins as [CpuTensor, CpuTensor, CpuTensor];
  const m = mask === 'none' ? null : ins[3]!;
  const [B, H, T, D] = q.shape as [number, number, number, number];
  const S = k.shape[2]!, Dv = v.shape[3]!, P = B * H, S4 = Math.ceil(S / 4) * 4, Dv4 = Math.ceil(Dv / 4) * 4;
  const kT: CpuTensor = { ...k, shape: [B, H, D, S], strides: [k.strides[0]!, k.strides[1]!, k.strides[3]!, k.strides[2]!] };
  const views = m ? [q, kT, v, m] : [q, kT, v];
  const sizes = [P * T * D, P * D * S, P * S * Dv, m ? P * T * S : 0], pad = (n: number) => Math.ceil(n / 4) * 4 + 4;
  const tmp = Math.max(...views.map(gatherSpan));
  const floats = pad(tmp) + sizes.reduce((a, n) => a + pad(n), 0) + pad(P * T * Dv) + pad(S4) + pad(Dv4) + 4;
  const base = wasmScratch(floats * 4) >> 2;
  const at: number[] = [];
  let next = base + pad(tmp);
  for (const n of [...sizes, P * T * Dv, S4, Dv4]) { at.push(next); next += pad(n); }
  const h = heapF32();
  views.forEach((t, i) => gatherInto(h, t, at[i]!, base));
  kernel()(at[0]! << 2, at[1]! << 2, at[2]! << 2, at[3]! << 2, at[4]! << 2, at[5]! << 2, at[6]! << 2, P, T, S, D, Dv, scale, S - T, causal ? 1 : 0,
    mask === 'bool' ? MASK_BOOL : mask === 'additive' ? MASK_ADD : MASK_NONE);
  (out.data as NumArray).set(heapF32().subarray(at[4]!, at[4]! + P * T * Dv) as never);
}
