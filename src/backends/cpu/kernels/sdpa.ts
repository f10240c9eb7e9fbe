// CPU scaled-dot-product attention: per (batch, head, query) scores over the keys, a max-subtracted softmax,
// then the probability-weighted sum of values. Every input is read through its strides (views, broadcasts).
// Legend: B = batch, H = heads, T = queries, S = keys/values, D = query/key size, Dv = value size.
import type { OpAttrs } from '../../../ops/attrs.js';
import type { CpuKernel, CpuTensor } from '../types.js';

/**
 * sdpa kernel: q [B, H, T, D], k [B, H, S, D], v [B, H, S, Dv], optional mask [B, H, T, S] (bool: nonzero = may
 * attend; additive: added to the scaled scores) -> out [B, H, T, Dv]. Causal: key j is masked for query t when
 * j > t + (S - T). A query whose every key is masked (all scores -Infinity) gets probabilities 0 (PyTorch's safe
 * softmax); a NaN or +Infinity score makes the row NaN (softmax's inf - inf). The output is p·v in IEEE arithmetic,
 * as in PyTorch: a NaN or ±inf in v reaches every row, masked keys' 0·NaN included. When this (b, h)'s v is all
 * finite (the usual case; one scan, done only if some key has p = 0) such keys are skipped: the same numbers.
 */
export const sdpa: CpuKernel<OpAttrs['sdpa']> = ([out], ins, { scale, causal, mask }) => {
  const q = ins[0]!, k = ins[1]!, v = ins[2]!;
  const m: CpuTensor | null = mask === 'none' ? null : ins[3]!;
  const [B, H, T, D] = q.shape as [number, number, number, number];
  const S = k.shape[2]!;
  const Dv = v.shape[3]!;
  const o = out!.data;
  const qd = q.data, kd = k.data, vd = v.data;
  const [qs0, qs1, qs2, qs3] = q.strides as [number, number, number, number];
  const [ks0, ks1, ks2, ks3] = k.strides as [number, number, number, number];
  const [vs0, vs1, vs2, vs3] = v.strides as [number, number, number, number];
  const md = m ? m.data : null;
  const [ms0, ms1, ms2, ms3] = (m ? m.strides : [0, 0, 0, 0]) as [number, number, number, number];
  const isBool = mask === 'bool';
  const scores = new Float64Array(S);
  const acc = new Float64Array(Dv);
  const shift = S - T;
  let op = 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kBase = k.offset + b * ks0 + h * ks1;
      const vBase = v.offset + b * vs0 + h * vs1;
      // whether this (b, h)'s v is all finite: scanned on the first key with p = 0 only (a decode step with every
      // key attended never scans)
      let vFiniteKnown: boolean | null = null;
      const vFinite = () => {
        if (vFiniteKnown !== null) return vFiniteKnown;
        vFiniteKnown = true;
        for (let j = 0; j < S && vFiniteKnown; j++) {
          for (let d = 0, pv = vBase + j * vs2; d < Dv; d++, pv += vs3) if (vd[pv]! - vd[pv]! !== 0) { vFiniteKnown = false; break; }
        }
        return vFiniteKnown;
      };
      for (let t = 0; t < T; t++, op += Dv) {
        const qRow = q.offset + b * qs0 + h * qs1 + t * qs2;
        const mRow = m ? m.offset + b * ms0 + h * ms1 + t * ms2 : 0;
        const limit = causal ? Math.max(0, Math.min(S, t + shift + 1)) : S;
        let max = -Infinity;
        let nan = false;
        for (let j = 0; j < S; j++) {
          let sc = -Infinity;
          if (j < limit && !(isBool && !md![mRow + j * ms3])) {
            let dot = 0;
            for (let d = 0, pq = qRow, pk = kBase + j * ks2; d < D; d++, pq += qs3, pk += ks3) dot += qd[pq]! * kd[pk]!;
            sc = dot * scale;
            if (md && !isBool) sc += md[mRow + j * ms3]!;
          }
          scores[j] = sc;
          if (sc > max) max = sc;
          else if (sc !== sc) nan = true;
        }
        if (nan || (max === -Infinity && vFinite())) {
          o.fill(nan ? NaN : 0, op, op + Dv);
          continue;
        }
        if (max === -Infinity) { // fully masked: Σ 0·v, NaN where a value is NaN or ±inf
          for (let d = 0; d < Dv; d++) {
            let z = 0;
            for (let j = 0, pv = vBase + d * vs3; j < S; j++, pv += vs2) z += 0 * vd[pv]!;
            o[op + d] = z;
          }
          continue;
        }
        let sum = 0;
        for (let j = 0; j < S; j++) {
          const e = Math.exp(scores[j]! - max);
          scores[j] = e;
          sum += e;
        }
        acc.fill(0);
        for (let j = 0; j < S; j++) {
          const p = scores[j]!;
          if (p === 0 && (vFiniteKnown ?? vFinite())) continue; // masked or underflowed: contributes nothing unless v holds NaN/inf
          for (let d = 0, pv = vBase + j * vs2; d < Dv; d++, pv += vs3) acc[d] += p * vd[pv]!;
        }
        const inv = 1 / sum;
        for (let d = 0; d < Dv; d++) o[op + d] = acc[d]! * inv;
      }
    }
  }
};
