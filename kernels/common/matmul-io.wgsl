// Guarded loads and stores for the matmul kernels: 4 consecutive elements along a row of A (a [M, K]), of Bᵀ
// (b [N, K]) or of B (b [K, N]), zero past the row/column count or the end of the K range; vec4 bindings
// when VEC4 (K % 4 == 0, N % 4 == 0 unless TRANS_B, offsets % 4 == 0), bounds-checked scalars otherwise.
// store4 writes up to 4 outputs of a row through epilogue() (vec4 stores when OUT4: N % 4 == 0).
// Declares the bindings C (0), A (1) and B (2); needs P and epilogue() (matmul-params.wgsl AT=3 NEXT=4).
#if OUT4
@group(0) @binding(0) var<storage, read_write> C: array<vec4<f32>>;
#else
@group(0) @binding(0) var<storage, read_write> C: array<f32>;
#endif
#if VEC4
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
#else
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
#endif

// a4: A[base + row·K + k .. + 3] (a [M, K]); bt4: B[base + n·K + k .. + 3] (b [N, K])
#include "matmul-krow.wgsl" FN=a4 BUF=A ROWS=M
#include "matmul-krow.wgsl" FN=bt4 BUF=B ROWS=N

// A[base + row·K + k] (row < M, k < K checked by the caller)
fn a1(base: u32, row: u32, k: u32) -> f32 {
  let p = base + row * P.K + k;
#if VEC4
  return A[p / 4u][p % 4u];
#else
  return A[p];
#endif
}

// b [K, N]: B[base + k·N + n .. + 3]
fn b4(base: u32, k: u32, n: u32, kEnd: u32) -> vec4<f32> {
  if (k >= kEnd) { return vec4<f32>(0.0); }
  let p = base + k * P.N + n;
#if VEC4
  if (n >= P.N) { return vec4<f32>(0.0); }
  return B[p / 4u];
#else
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (n + j < P.N) { v[j] = B[p + j]; }
  }
  return v;
#endif
}

// C[rowBase + n .. + 3] = epilogue(v), skipping columns >= N
fn store4(rowBase: u32, n: u32, v: vec4<f32>) {
#if OUT4
  if (n < P.N) {
    C[(rowBase + n) / 4u] = vec4<f32>(epilogue(v.x, n), epilogue(v.y, n + 1u), epilogue(v.z, n + 2u), epilogue(v.w, n + 3u));
  }
#else
  for (var j = 0u; j < 4u; j++) {
    if (n + j < P.N) { C[rowBase + n + j] = epilogue(v[j], n + j); }
  }
#endif
}
