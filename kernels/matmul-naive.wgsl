// matmul-naive: one thread per output element, a plain dot product over K from global memory (the baseline the benchmark compares against).
// Legend: B = batch, M = rows, N = columns, K = inner dim; a [Ba, M, K], b [Bb, K, N] or [Bb, N, K] (TRANS_B),
// C [B, M, N]; Ba, Bb are 1 or B (P.aStep / P.bStep = 0 broadcasts). Defines: TRANS_B, HAS_BIAS, ACT.
#include "matmul-params.wgsl" AT=3 NEXT=4
@group(0) @binding(0) var<storage, read_write> C: array<f32>;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= P.nb * P.M * P.N) { return; }
  let n = i % P.N;
  let m = (i / P.N) % P.M;
  let b = i / (P.M * P.N);
  let pa = P.aOff + b * P.aStep + m * P.K;
#if TRANS_B
  let pb = P.bOff + b * P.bStep + n * P.K;
  let sb = 1u;
#else
  let pb = P.bOff + b * P.bStep + n;
  let sb = P.N;
#endif
  var s = 0.0;
  for (var k = 0u; k < P.K; k++) {
    s = fma(A[pa + k], B[pb + k * sb], s);
  }
  C[i] = epilogue(s, n);
}
