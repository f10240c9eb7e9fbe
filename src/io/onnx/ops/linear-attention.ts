// ONNX LinearAttention (opset 27) as a typed-array kernel (cpuOnly) in float64: the token-by-token recurrence of the
// spec for each batch row and key/value head, S (d_k × d_v) from past_state or zeros:
//   linear: S += k ⊗ v          gated: S = exp(g) · S + k ⊗ v
//   delta:  S += β k ⊗ (v - Sᵀk)   gated_delta: S' = exp(g) · S; S = S' + β k ⊗ (v - S'ᵀk)
// with o = scale · qᵀ S for every query head sharing that key/value head (grouped-query). g is per key dim
// (B, T, H_kv·d_k) or per head (B, T, H_kv); β per head (B, T, H_kv) or shared (B, T, 1).
import { shapeStr } from '../../../tensor/shape.js';
import { registerOnnxOp } from './registry.js';
import { FLOAT_DTYPES, hostOut, requireDType, valuesOf } from './host.js';

const RULES = ['linear', 'gated', 'delta', 'gated_delta'] as const;

registerOnnxOp('LinearAttention', {
  cpuOnly: true,
  validate: (c) => { c.attrs.stringOf('update_rule', RULES, 'gated_delta'); c.attrs.int('q_num_heads'); c.attrs.int('kv_num_heads'); },
  infer: (c) => {
    requireDType(c, 0, FLOAT_DTYPES, 'query');
    const dtype = c.inputs[0]?.dtype ?? 'float32';
    return [{ dtype }, { dtype }];
  },
  run: (c) => {
    const q = c.input(0), k = c.input(1), v = c.input(2), past = c.inputs[3], decay = c.inputs[4], beta = c.inputs[5];
    const rule = c.attrs.stringOf('update_rule', RULES, 'gated_delta');
    const hq = c.attrs.int('q_num_heads'), hk = c.attrs.int('kv_num_heads');
    if (!(hq >= 1 && hk >= 1 && hq % hk === 0)) c.fail(`q_num_heads ${hq} must be a positive multiple of kv_num_heads ${hk}`);
    if (q.rank !== 3 || k.rank !== 3 || v.rank !== 3) c.fail(`query, key and value must be [B, T, heads·dim], found ${shapeStr(q.shape)}, ${shapeStr(k.shape)}, ${shapeStr(v.shape)}`);
    const [nb, nt] = [q.shape[0]!, q.shape[1]!];
    const dk = q.shape[2]! / hq, dv = v.shape[2]! / hk;
    if (!Number.isInteger(dk) || !Number.isInteger(dv) || k.shape[2] !== hk * dk || [k, v].some((x) => x.shape[0] !== nb || x.shape[1] !== nt)) {
      c.fail(`query ${shapeStr(q.shape)}, key ${shapeStr(k.shape)} and value ${shapeStr(v.shape)} do not fit ${hq} query and ${hk} key/value heads`);
    }
    const gated = rule === 'gated' || rule === 'gated_delta', delta = rule === 'delta' || rule === 'gated_delta';
    if (gated && !decay) c.fail(`update_rule '${rule}' needs the decay input`);
    if (delta && !beta) c.fail(`update_rule '${rule}' needs the beta input`);
    const perKeyDim = decay ? decay.shape[2] === hk * dk : false;
    if (decay && !(decay.shape[2] === hk * dk || decay.shape[2] === hk)) c.fail(`decay ${shapeStr(decay.shape)} must end in ${hk * dk} or ${hk}`);
    if (beta && !(beta.shape[2] === hk || beta.shape[2] === 1)) c.fail(`beta ${shapeStr(beta.shape)} must end in ${hk} or 1`);
    if (past && (past.rank !== 4 || past.shape[0] !== nb || past.shape[1] !== hk || past.shape[2] !== dk || past.shape[3] !== dv)) c.fail(`past_state must be [${nb}, ${hk}, ${dk}, ${dv}], found ${shapeStr(past.shape)}`);
    const scale0 = c.attrs.float('scale', 0), scale = scale0 === 0 ? 1 / Math.sqrt(dk) : scale0;
    const qv = valuesOf(q), kv = valuesOf(k), vv = valuesOf(v), gv = decay ? valuesOf(decay) : undefined, bv = beta ? valuesOf(beta) : undefined;
    const pv = past ? valuesOf(past) : undefined;
    const out = new Float64Array(nb * nt * hq * dv), present = new Float64Array(nb * hk * dk * dv);
    const group = hq / hk, S = new Float64Array(dk * dv), u = new Float64Array(dv);
    for (let b = 0; b < nb; b++) {
      for (let h = 0; h < hk; h++) {
        const base = (b * hk + h) * dk * dv;
        for (let i = 0; i < dk * dv; i++) S[i] = pv ? pv[base + i]! : 0;
        for (let t = 0; t < nt; t++) {
          const bt = b * nt + t;
          const kAt = (i: number) => kv[bt * hk * dk + h * dk + i]!;
          if (gated) {
            for (let i = 0; i < dk; i++) {
              const e = Math.exp(perKeyDim ? gv![bt * hk * dk + h * dk + i]! : gv![bt * hk + h]!);
              for (let j = 0; j < dv; j++) S[i * dv + j]! *= e;
            }
          }
          if (delta) {
            const bw = bv![bt * beta!.shape[2]! + (beta!.shape[2] === 1 ? 0 : h)]!;
            for (let j = 0; j < dv; j++) {
              let sk = 0;
              for (let i = 0; i < dk; i++) sk += S[i * dv + j]! * kAt(i);
              u[j] = bw * (vv[bt * hk * dv + h * dv + j]! - sk);
            }
          } else for (let j = 0; j < dv; j++) u[j] = vv[bt * hk * dv + h * dv + j]!;
          for (let i = 0; i < dk; i++) for (let j = 0; j < dv; j++) S[i * dv + j]! += kAt(i) * u[j]!;
          for (let g = 0; g < group; g++) {
            const qh = h * group + g;
            for (let j = 0; j < dv; j++) {
              let o = 0;
              for (let i = 0; i < dk; i++) o += qv[bt * hq * dk + qh * dk + i]! * S[i * dv + j]!;
              out[bt * hq * dv + qh * dv + j] = scale * o;
            }
          }
        }
        present.set(S, base);
      }
    }
    return [hostOut(c, out, [nb, nt, hq * dv], q.dtype), c.node.outputs[1] ? hostOut(c, present, [nb, hk, dk, dv], q.dtype) : undefined];
  },
});
