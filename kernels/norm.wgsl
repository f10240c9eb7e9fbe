// layerNorm, rmsNorm and groupNorm, fused: each row (a layerNorm row of D values, or one (n, group) block of
// Cg * S values) gets its mean (skipped for rms), then the mean squared deviation, both summed in f32 over
// lanes and combined across the workgroup (two passes, as the CPU kernel), then the scaled and shifted write.
// Legend: rows = row count, R = values per row, G = groups, Cg = channels per group, S = values per channel;
// element r of row `row` uses weight/bias index (row % G) * Cg + r / S (layerNorm: G = 1, S = 1 -> r).
// Threads as in row-main.wgsl, with adjacent lanes (P.spread = 0). Missing weight/bias (has_w / has_b = 0) read
// as 1 / 0 (norm-affine.wgsl). Defines: SUBGROUPS.
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
  spread: u32,
}
@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<uniform> P: Params;
#include "reduce-ops.wgsl"
#include "row-main.wgsl"
#include "workgroup-reduce.wgsl" NAME=sum OP=add T=f32
#include "norm-affine.wgsl"

fn row_main(li: u32, g: Group, s: Slot) {
  let obase = s.row * P.R;
  let base = P.off_x + obase;
  let n = f32(P.R);
  var mean = 0.0;
  if (P.rms == 0u) {
    var sum = 0.0;
    if (s.live) {
      for (var r = s.lane; r < P.R; r += g.tpr) {
        sum += X[base + r];
      }
    }
    mean = wg_sum(sum, li, s.lane, g) / n;
  }
  var ss = 0.0;
  if (s.live) {
    for (var r = s.lane; r < P.R; r += g.tpr) {
      let d = X[base + r] - mean;
      ss += d * d;
    }
  }
  ss = wg_sum(ss, li, s.lane, g);
  if (!s.live) {
    return;
  }
  let inv = 1.0 / sqrt(ss / n + P.eps);
  let pbase = (s.row % P.G) * P.Cg;
  for (var r = s.lane; r < P.R; r += g.tpr) {
    let c = pbase + r / P.S;
    Y[obase + r] = (X[base + r] - mean) * inv * weight_at(c) + bias_at(c);
  }
}
