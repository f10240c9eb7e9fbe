// matmul-splitk: second pass of split-K, one thread per output summing the partial products of every K slice, then bias + activation.
// Legend: S = slices (P.blocks), B = batch, M = rows, N = columns; Part [S, B, M, N] -> C [B, M, N].
// Defines: HAS_BIAS, ACT.
#include "matmul-params.wgsl" AT=2 NEXT=3
@group(0) @binding(0) var<storage, read_write> C: array<f32>;
@group(0) @binding(1) var<storage, read> Part: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let total = P.nb * P.M * P.N;
  if (i >= total) { return; }
  var s = 0.0;
  for (var j = 0u; j < P.blocks; j++) {
    s += Part[j * total + i];
  }
  C[i] = epilogue(s, i % P.N);
}
