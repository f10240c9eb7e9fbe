// {{FN}}(base, row, k, kEnd): {{BUF}}[base + row·P.K + k .. + 3], 4 consecutive elements along a row of a
// row-major [P.{{ROWS}}, K] operand, zero past the last row or from kEnd on; one vec4 read when VEC4.
// Included by matmul-io.wgsl for A (a [M, K]) and Bᵀ (b [N, K]).
fn {{FN}}(base: u32, row: u32, k: u32, kEnd: u32) -> vec4<f32> {
  if (row >= P.{{ROWS}}) { return vec4<f32>(0.0); }
  let p = base + row * P.K + k;
#if VEC4
  if (k >= kEnd) { return vec4<f32>(0.0); }
  return {{BUF}}[p / 4u];
#else
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (k + j < kEnd) { v[j] = {{BUF}}[p + j]; }
  }
  return v;
#endif
}
