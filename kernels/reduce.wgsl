// sum, mean, prod, max, min and var over any axes: one output per row of R reduced elements (rows.wgsl), each
// lane striding over the row, then a workgroup (or subgroup) combine. var is two-pass: mean, then squared
// deviations, divided by max(R - correction, 0) with correction in P.aux.
// Legend: rows = output elements, R = reduced elements per output. Defines: CT (f32 | i32), OP (add | mul | max
// | min), FINISH (none | mean | var), SUBGROUPS.
#if SUBGROUPS
enable subgroups;
#endif
alias CT = {{CT}};
@group(0) @binding(0) var<storage, read_write> Y: array<CT>;
@group(0) @binding(1) var<storage, read> X: array<CT>;
@group(0) @binding(2) var<uniform> P: Params;
#include "rows.wgsl"
#include "reduce-ops.wgsl"
#include "row-main.wgsl"
#include "workgroup-reduce.wgsl" NAME=acc OP={{OP}} T={{CT}}

fn row_main(li: u32, g: Group, s: Slot) {
  let base = P.off + row_base(s.row);
  var acc = ident_{{OP}}_{{CT}}();
  if (s.live) {
    for (var r = s.lane; r < P.R; r += g.tpr) {
      acc = op_{{OP}}_{{CT}}(acc, X[base + elem_off(r)]);
    }
  }
  acc = wg_acc(acc, li, s.lane, g);
#if FINISH == mean
  let res = select(acc / f32(P.R), nan_f32(), P.R == 0u);
#elif FINISH == var
  let mean = acc / f32(P.R);
  var ss = 0.0;
  if (s.live) {
    for (var r = s.lane; r < P.R; r += g.tpr) {
      let d = X[base + elem_off(r)] - mean;
      ss += d * d;
    }
  }
  ss = wg_acc(ss, li, s.lane, g);
  // as the CPU: ss / max(R - correction, 0), where x / 0 is +inf and 0 / 0 (or R = 0) is NaN
  let den = max(f32(P.R) - P.aux, 0.0);
  var res = ss / den;
  if (den == 0.0 || P.R == 0u) {
    res = select(nan_f32(), inf_f32(), ss > 0.0 && P.R > 0u);
  }
#else
  let res = acc;
#endif
  if (s.live && s.lane == 0u) {
    Y[s.row] = res;
  }
}
