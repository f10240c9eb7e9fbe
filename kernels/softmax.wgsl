// softmax / logSoftmax along one axis, fused: row max (NaN propagates), sum of exp(x - max), then the write.
// A row whose max is NaN or ±inf (a NaN, a +inf, or every value -inf) is all NaN, as exp(x - max) makes it in
// PyTorch; tested on the bits because WGSL's exp of NaN may be anything (SwiftShader gives +inf).
// Rows as in rows.wgsl: a row is the L values along the axis (R = L); the output has the input's layout.
// Legend: rows = outer * inner, R = L. P.aux = 1 (logSoftmax): write x - max - log(sum), not exp(x - max) / sum.
// Defines: SUBGROUPS.
#if SUBGROUPS
enable subgroups;
#endif
@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<uniform> P: Params;
#include "rows.wgsl"
#include "reduce-ops.wgsl"
#include "row-main.wgsl"
#include "workgroup-reduce.wgsl" NAME=max OP=max T=f32
#include "workgroup-reduce.wgsl" NAME=sum OP=add T=f32

fn row_main(li: u32, g: Group, s: Slot) {
  let obase = row_base(s.row);
  let base = P.off + obase;
  var m = ident_max_f32();
  if (s.live) {
    for (var r = s.lane; r < P.R; r += g.tpr) {
      m = op_max_f32(m, X[base + elem_off(r)]);
    }
  }
  m = wg_max(m, li, s.lane, g);
  var sum = 0.0;
  if (s.live) {
    for (var r = s.lane; r < P.R; r += g.tpr) {
      sum += exp(X[base + elem_off(r)] - m);
    }
  }
  sum = wg_sum(sum, li, s.lane, g);
  if (!s.live) {
    return;
  }
  let shift = m + log(sum);
  let inv = 1.0 / sum;
  let dead = (bitcast<u32>(m) & 0x7f800000u) == 0x7f800000u;
  for (var r = s.lane; r < P.R; r += g.tpr) {
    let e = elem_off(r);
    let x = X[base + e];
    if (dead) {
      Y[obase + e] = nan_f32();
    } else if (P.aux != 0.0) {
      Y[obase + e] = x - shift;
    } else {
      Y[obase + e] = exp(x - m) * inv;
    }
  }
}
