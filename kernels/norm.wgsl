// layerNorm, rmsNorm and groupNorm, fused: each row (a layerNorm row of D values, or one (n, group) block of
// Cg * S values) gets its mean (skipped for rms), then the mean squared deviation, both summed in f32 over
// lanes and combined across the workgroup (two passes, as the CPU kernel), then the scaled and shifted write.
// Legend: rows = row count, R = values per row, G = groups, Cg = channels per group, S = values per channel;
// element r of row `row` uses weight/bias index (row % G) * Cg + r / S (layerNorm: G = 1, S = 1 -> r).
// A 256-thread workgroup holds 2^rows_log2 rows of 2^tpr_log2 adjacent lanes. Missing weight/bias
// (has_w / has_b = 0) read as 1 / 0. Defines: SUBGROUPS.
#if SUBGROUPS
enable subgroups;
#endif
struct Params {
  rows: u32,
  R: u32,
  G: u32,
  Cg: u32,
  S: u32,
  off_x: u32,
  off_w: u32,
  off_b: u32,
  has_w: u32,
  has_b: u32,
  rms: u32,
  eps: f32,
  tpr_log2: u32,
  rows_log2: u32,
}
@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<uniform> P: Params;
#include "reduce-ops.wgsl"
#include "workgroup-reduce.wgsl" NAME=sum OP=add T=f32

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>
#if SUBGROUPS
  , @builtin(subgroup_size) sgs: u32
#endif
) {
#if !SUBGROUPS
  let sgs = 0u;
#endif
  let tpr = 1u << P.tpr_log2;
  let g = Group(tpr, 1u, sgs);
  let lane = li & (tpr - 1u);
  let row = ((wid.x + wid.y * nwg.x) << P.rows_log2) + (li >> P.tpr_log2);
  let live = row < P.rows;
  let obase = row * P.R;
  let base = P.off_x + obase;
  let n = f32(P.R);
  var mean = 0.0;
  if (P.rms == 0u) {
    var s = 0.0;
    if (live) {
      for (var r = lane; r < P.R; r += tpr) {
        s += X[base + r];
      }
    }
    mean = wg_sum(s, li, lane, g) / n;
  }
  var ss = 0.0;
  if (live) {
    for (var r = lane; r < P.R; r += tpr) {
      let d = X[base + r] - mean;
      ss += d * d;
    }
  }
  ss = wg_sum(ss, li, lane, g);
  if (!live) {
    return;
  }
  let inv = 1.0 / sqrt(ss / n + P.eps);
  let pbase = (row % P.G) * P.Cg;
  for (var r = lane; r < P.R; r += tpr) {
    let c = pbase + r / P.S;
    var w = 1.0;
    var b = 0.0;
    if (P.has_w != 0u) {
      w = W[P.off_w + c];
    }
    if (P.has_b != 0u) {
      b = B[P.off_b + c];
    }
    Y[obase + r] = (X[base + r] - mean) * inv * w + b;
  }
}
