// linear-int8: tiled W8A8 GEMM, y = act(Σ over scale blocks of int32(xq · wq) · xs · ws + bias), int32 sums of
// packed int8 products (dot4I8Packed or its portable twin), rescaled in float at the end of each scale block.
// Legend: M = rows, N = columns, k = true inner size, KW = ceil(k / 4) words holding data, KpW = padded row
// length in words; xq [M, Kp] and wq [N, Kp] int8 packed 4 per u32, xs [M, nb], ws [N, nb] f32, bias [N], y [M, N].
// Scale block j covers words [j·bw, (j+1)·bw) (bw = block / 4; per-row scales: nb = 1, bw >= KW). The int32 sums
// are folded into the float sums every fw words (fw = bw for blocks, at most 32768 words per row so 127·127·4
// per word cannot overflow) and at the last word.
// Tiles as int8-gemm.wgsl: a workgroup owns a (4·WG_Y) x (4·WG_X) tile of y and walks the words TKW at a time.
// Defines: DOT4, HAS_BIAS, ACT. Constants: WG_X, WG_Y, TKW.
#include "int8-linear.wgsl" XQ=true S0=bw S1=fw
#include "int8-gemm.wgsl" TKW=8

// [TKW][4·WG_Y] words of xq and [TKW][4·WG_X] words of wq
var<workgroup> tileA: array<u32, TKW * 4u * WG_Y>;
var<workgroup> tileB: array<u32, TKW * 4u * WG_X>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let li = ty * WG_X + tx;
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;

  var iacc: array<vec4<i32>, 4>;
  var facc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < P.KW; k0 += TKW) {
    for (var i = li; i < BM * TKW; i += THREADS) {
      let m = m0 + i / TKW;
      let w = k0 + i % TKW;
      var v = 0u;
      if (m < P.M && w < P.KW) { v = keep_bytes(XQ[P.xOff + m * P.KpW + w], w, P.k); }
      tileA[(i % TKW) * BM + i / TKW] = v;
    }
    for (var i = li; i < BN * TKW; i += THREADS) {
      let n = n0 + i / TKW;
      let w = k0 + i % TKW;
      var v = 0u;
      if (n < P.N && w < P.KW) { v = WQ[P.wOff + n * P.KpW + w]; }
      tileB[(i % TKW) * BN + i / TKW] = v;
    }
    workgroupBarrier();
    for (var q = 0u; q < TKW; q++) {
      let w = k0 + q;
      if (w >= P.KW) { break; }
      let b = vec4<u32>(tileB[q * BN + tx], tileB[q * BN + tx + WG_X], tileB[q * BN + tx + 2u * WG_X], tileB[q * BN + tx + 3u * WG_X]);
      for (var r = 0u; r < 4u; r++) {
        let a = tileA[q * BM + ty + r * WG_Y];
        iacc[r] += vec4<i32>(dot_i8x4(a, b.x), dot_i8x4(a, b.y), dot_i8x4(a, b.z), dot_i8x4(a, b.w));
      }
      // end of a scale block (or of a run the int32 sums are safe over): fold into the float sums
      if ((w + 1u) % P.fw == 0u || w + 1u == P.KW) {
        let j = w / P.bw;
        var ws = vec4<f32>(0.0);
        for (var c = 0u; c < 4u; c++) {
          let n = n0 + tx + c * WG_X;
          if (n < P.N) { ws[c] = WS[P.wsOff + n * P.nb + j]; }
        }
        for (var r = 0u; r < 4u; r++) {
          let m = m0 + ty + r * WG_Y;
          var xs = 0.0;
          if (m < P.M) { xs = XS[P.xsOff + m * P.nb + j]; }
          facc[r] += vec4<f32>(iacc[r]) * xs * ws;
          iacc[r] = vec4<i32>(0);
        }
      }
    }
    workgroupBarrier();
  }

  store_tile(m0, n0, tx, ty, facc);
}
