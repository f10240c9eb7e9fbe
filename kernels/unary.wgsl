// Unary elementwise ops (and copy, cast): y[i] = EXPR(x at its strided offset). One thread per output element.
// Defines: CT compute type, TX / TY storage types of x and y (f32 | i32), EXPR over x, alpha, beta; a_CONTIG.
#include "elementwise-params.wgsl"
alias CT = {{CT}};
@group(0) @binding(0) var<storage, read_write> Y: array<{{TY}}>;
@group(0) @binding(1) var<storage, read> X: array<{{TX}}>;
@group(0) @binding(2) var<uniform> P: Params;
#include "strided.wgsl" NAME=a STRIDES=sa SLOT=0
#include "math.wgsl"

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= P.n) { return; }
  let x = CT(X[offset_a(i)]);
  let alpha = P.alpha;
  let beta = P.beta;
  Y[i] = {{TY}}({{EXPR}});
}
