// batchNorm (inference, running statistics): y = (x - mean[c]) * weight[c] / sqrt(var[c] + eps) + bias[c],
// one thread per element. Legend: x [N, C, S] (S = product of the dims after C), c = (i / S) % C.
// Missing weight/bias (has_w / has_b = 0) read as 1 / 0 (norm-affine.wgsl).
struct Params {
  n: u32,
  C: u32,
  S: u32,
  off_x: u32,
  off_m: u32,
  off_v: u32,
  off_w: u32,
  off_b: u32,
  has_w: u32,
  has_b: u32,
  eps: f32,
}
@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> M: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read> W: array<f32>;
@group(0) @binding(5) var<storage, read> B: array<f32>;
@group(0) @binding(6) var<uniform> P: Params;
#include "norm-affine.wgsl"

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= P.n) {
    return;
  }
  let c = (i / P.S) % P.C;
  let scale = weight_at(c) / sqrt(V[P.off_v + c] + P.eps);
  Y[i] = (X[P.off_x + i] - M[P.off_m + c]) * scale + bias_at(c);
}
