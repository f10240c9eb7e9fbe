// where(cond, a, b) with broadcasting: y[i] = cond[i] != 0 ? a[i] : b[i]. Defines: T storage type of a, b, y;
// a_CONTIG, b_CONTIG, c_CONTIG (c = cond, i32 0/1).
#include "elementwise-params.wgsl"
@group(0) @binding(0) var<storage, read_write> Y: array<{{T}}>;
@group(0) @binding(1) var<storage, read> C: array<i32>;
@group(0) @binding(2) var<storage, read> A: array<{{T}}>;
@group(0) @binding(3) var<storage, read> B: array<{{T}}>;
@group(0) @binding(4) var<uniform> P: Params;
#include "strided.wgsl" NAME=c STRIDES=sa SLOT=0
#include "strided.wgsl" NAME=a STRIDES=sb SLOT=1
#include "strided.wgsl" NAME=b STRIDES=sc SLOT=2

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= P.n) { return; }
  Y[i] = select(B[offset_b(i)], A[offset_a(i)], C[offset_c(i)] != 0);
}
