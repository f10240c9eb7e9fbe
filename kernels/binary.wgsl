// Binary elementwise ops and comparisons with broadcasting: y[i] = EXPR(a, b), each input read through its
// strides over the output shape. Defines: CT compute type (= input storage type), TY output type, EXPR; a_CONTIG, b_CONTIG.
#include "elementwise-params.wgsl"
alias CT = {{CT}};
@group(0) @binding(0) var<storage, read_write> Y: array<{{TY}}>;
@group(0) @binding(1) var<storage, read> A: array<CT>;
@group(0) @binding(2) var<storage, read> B: array<CT>;
@group(0) @binding(3) var<uniform> P: Params;
#include "strided.wgsl" NAME=a STRIDES=sa SLOT=0
#include "strided.wgsl" NAME=b STRIDES=sb SLOT=1
#include "math.wgsl"

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= P.n) { return; }
  let a = A[offset_a(i)];
  let b = B[offset_b(i)];
#if COMPARE
  Y[i] = select(0, 1, {{EXPR}});
#else
  Y[i] = {{TY}}({{EXPR}});
#endif
}
