// matmul-matvec: products with few rows (ROWS ≤ 4 per workgroup): one workgroup per block of output columns, its threads splitting K, then a subgroup or workgroup-memory reduction.
// Legend: B = batch, M = rows, N = columns, K = inner dim; a [Ba, M, K], b [Bb, K, N] or [Bb, N, K] (TRANS_B),
// C [B, M, N]. Workgroup z = batch·P.blocks + row block; x, y = column block. Every row of the block reuses each
// b element loaded (b dominates the traffic: M is small).
// TRANS_B (b [N, K], linear weights): WG threads stride over K in vec4 steps, each accumulating 4 columns for
//   every row; partial sums are added with subgroupAdd then across subgroups (SUBGROUPS), or in two levels
//   through workgroup memory (the portable twin).
// else (b [K, N]): KS k-slices x CV column vec4s (4·CV columns), b read as coalesced rows; the KS partial sums of
//   each column meet in workgroup memory and the first slice's threads add them.
// Defines: VEC4, OUT4, TRANS_B, HAS_BIAS, ACT, ROWS, SUBGROUPS. Constants: WG (TRANS_B) or KS, CV; powers of two.
#if SUBGROUPS
enable subgroups;
#endif
#include "matmul-params.wgsl" AT=3 NEXT=4
#include "matmul-io.wgsl"

const ROWS = {{ROWS}}u;

#if TRANS_B
override WG: u32 = 256u;
#if SUBGROUPS
// one slot per subgroup and row (subgroups have at least 4 invocations)
var<workgroup> red: array<vec4<f32>, (WG + 3u) / 4u * ROWS>;
#else
// one slot per thread, reused row after row
var<workgroup> red: array<vec4<f32>, WG>;
#endif

@compute @workgroup_size(WG)
#if SUBGROUPS
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_size) sgSize: u32, @builtin(subgroup_invocation_id) sgLane: u32) {
#else
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
#endif
  let n0 = (wid.x + wid.y * nwg.x) * 4u;
  if (n0 >= P.N) { return; }
  let b = wid.z / P.blocks;
  let m0 = (wid.z % P.blocks) * ROWS;
  let aBase = P.aOff + b * P.aStep;
  let bBase = P.bOff + b * P.bStep;

  // acc[r][c]: row m0 + r, column n0 + c
  var acc: array<vec4<f32>, ROWS>;
  let k4 = (P.K + 3u) / 4u;
  for (var q = lid; q < k4; q += WG) {
    let k = q * 4u;
    let w0 = bt4(bBase, n0, k, P.K);
    let w1 = bt4(bBase, n0 + 1u, k, P.K);
    let w2 = bt4(bBase, n0 + 2u, k, P.K);
    let w3 = bt4(bBase, n0 + 3u, k, P.K);
    for (var r = 0u; r < ROWS; r++) {
      let x = a4(aBase, m0 + r, k, P.K);
      acc[r] += vec4<f32>(dot(x, w0), dot(x, w1), dot(x, w2), dot(x, w3));
    }
  }

#if SUBGROUPS
  // subgroups are taken to be consecutive runs of local_invocation_index, as on every implementation
  for (var r = 0u; r < ROWS; r++) {
    let s = subgroupAdd(acc[r]);
    if (sgLane == 0u) { red[(lid / sgSize) * ROWS + r] = s; }
  }
  workgroupBarrier();
  if (lid < ROWS && m0 + lid < P.M) {
    var t = vec4<f32>(0.0);
    for (var j = 0u; j < (WG + sgSize - 1u) / sgSize; j++) {
      t += red[j * ROWS + lid];
    }
    store4(((b * P.M) + m0 + lid) * P.N, n0, t);
  }
#else
  // per row, in two levels: 16 threads each add a sixteenth of the slots, then thread 0 adds those 16
  let part = (WG + 15u) / 16u;
  for (var r = 0u; r < ROWS; r++) {
    red[lid] = acc[r];
    workgroupBarrier();
    var t = vec4<f32>(0.0);
    if (lid < 16u) {
      for (var j = lid * part; j < min(WG, lid * part + part); j++) {
        t += red[j];
      }
    }
    workgroupBarrier();
    if (lid < 16u) { red[lid] = t; }
    workgroupBarrier();
    if (lid == 0u && m0 + r < P.M) {
      var u = vec4<f32>(0.0);
      for (var j = 0u; j < 16u; j++) {
        u += red[j];
      }
      store4(((b * P.M) + m0 + r) * P.N, n0, u);
    }
    workgroupBarrier();
  }
#endif
}
#else
override KS: u32 = 16u;
override CV: u32 = 16u;
// one slot per thread, reused row after row
var<workgroup> red: array<vec4<f32>, KS * CV>;

@compute @workgroup_size(KS * CV)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n0 = (wid.x + wid.y * nwg.x) * 4u * CV;
  if (n0 >= P.N) { return; }
  let b = wid.z / P.blocks;
  let m0 = (wid.z % P.blocks) * ROWS;
  let aBase = P.aOff + b * P.aStep;
  let bBase = P.bOff + b * P.bStep;
  let cv = lid % CV;
  let ks = lid / CV;
  let n = n0 + cv * 4u;

  var acc: array<vec4<f32>, ROWS>;
  for (var k = ks; k < P.K; k += KS) {
    let w = b4(bBase, k, n, P.K);
    for (var r = 0u; r < ROWS; r++) {
      if (m0 + r < P.M) { acc[r] = fma(vec4<f32>(a1(aBase, m0 + r, k)), w, acc[r]); }
    }
  }
  // per row, the KS partial sums of each column meet in workgroup memory and the first slice's threads add them
  for (var r = 0u; r < ROWS; r++) {
    red[lid] = acc[r];
    workgroupBarrier();
    if (ks == 0u && m0 + r < P.M) {
      var t = vec4<f32>(0.0);
      for (var j = 0u; j < KS; j++) {
        t += red[j * CV + cv];
      }
      store4(((b * P.M) + m0 + r) * P.N, n, t);
    }
    workgroupBarrier();
  }
}
#endif
