// linear-w8: tiled weight-only GEMM, y = act(x · (wq · ws)ᵀ + bias): float x, int8 weights dequantized to f32
// (unpacked, times their block's or row's scale) as they are staged into workgroup memory.
// Legend: M = rows, N = columns, k = true inner size, KpW = padded weight row length in words; x [M, k] float,
// wq [N, Kp] int8 packed 4 per u32, ws [N, nb] f32 (scale of word w: ws[n, 4w / block], or ws[n, 0] when
// block = 0), bias [N], y [M, N]. Tiles as int8-gemm.wgsl: a workgroup owns a (4·WG_Y) x (4·WG_X) tile of y and
// walks k 4·TKW values at a time. P.spare is unused (the shared uniform block's second kernel word).
// Defines: DOT4 (unpack4xI8), HAS_BIAS, ACT. Constants: WG_X, WG_Y, TKW.
#include "int8-linear.wgsl" XQ=false S0=block S1=spare
#include "int8-gemm.wgsl" TKW=4

// [4·TKW][4·WG_Y] values of x and [4·TKW][4·WG_X] dequantized weights
var<workgroup> tileA: array<f32, 16u * TKW * WG_Y>;
var<workgroup> tileB: array<f32, 16u * TKW * WG_X>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let li = ty * WG_X + tx;
  let TK = 4u * TKW;
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;

  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < P.k; k0 += TK) {
    // x: consecutive threads read consecutive k of a row
    for (var i = li; i < BM * TK; i += THREADS) {
      let m = m0 + i / TK;
      let k = k0 + i % TK;
      var v = 0.0;
      if (m < P.M && k < P.k) { v = X[P.xOff + m * P.k + k]; }
      tileA[(i % TK) * BM + i / TK] = v;
    }
    // wq: one word (4 values of one column) per step
    for (var i = li; i < BN * TKW; i += THREADS) {
      let n = n0 + i / TKW;
      let w = k0 / 4u + i % TKW;
      var v = vec4<f32>(0.0);
      if (n < P.N && w < P.KW) {
        var j = 0u;
        if (P.block != 0u) { j = w * 4u / P.block; }
        v = vec4<f32>(unpack_i8x4(WQ[P.wOff + n * P.KpW + w])) * WS[P.wsOff + n * P.nb + j];
      }
      let kq = (i % TKW) * 4u;
      for (var e = 0u; e < 4u; e++) { tileB[(kq + e) * BN + i / TKW] = v[e]; }
    }
    workgroupBarrier();
    for (var q = 0u; q < TK; q++) {
      let b = vec4<f32>(tileB[q * BN + tx], tileB[q * BN + tx + WG_X], tileB[q * BN + tx + 2u * WG_X], tileB[q * BN + tx + 3u * WG_X]);
      for (var r = 0u; r < 4u; r++) {
        acc[r] = fma(vec4<f32>(tileA[q * BM + ty + r * WG_Y]), b, acc[r]);
      }
    }
    workgroupBarrier();
  }

  store_tile(m0, n0, tx, ty, acc);
}
