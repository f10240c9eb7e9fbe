// linear-w8: tiled weight-only GEMM, y = act(x · (wq · ws)ᵀ + bias): float x, int8 weights dequantized to f32
// (unpacked, times their block's or row's scale) as they are staged into workgroup memory.
// Legend: M = rows, N = columns, k = true inner size, KpW = padded weight row length in words; x [M, k] float,
// wq [N, Kp] int8 packed 4 per u32, ws [N, nb] f32 (scale of word w: ws[n, 4w / block], or ws[n, 0] when
// block = 0), bias [N], y [M, N]. A workgroup of WG_X x WG_Y threads owns a (4·WG_Y) x (4·WG_X) tile of y and
// walks k 4·TKW values at a time; thread (tx, ty) owns rows ty + r·WG_Y and columns tx + c·WG_X (r, c < 4).
// Defines: DOT4 (unpack4xI8), HAS_BIAS, ACT. Constants: WG_X, WG_Y, TKW.
#if DOT4
requires packed_4x8_integer_dot_product;
#endif
#include "math.wgsl" CT=f32
#include "int8.wgsl"
struct Params {
  M: u32,
  N: u32,
  k: u32,
  KW: u32,
  KpW: u32,
  nb: u32,
  block: u32,
  xOff: u32,
  // wq in words, the rest in elements
  wOff: u32,
  wsOff: u32,
  biasOff: u32,
}
@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<storage, read> WQ: array<u32>;
@group(0) @binding(2) var<storage, read> WS: array<f32>;
@group(0) @binding(3) var<storage, read> X: array<f32>;
#if HAS_BIAS
@group(0) @binding(4) var<storage, read> Bias: array<f32>;
@group(0) @binding(5) var<uniform> P: Params;
#else
@group(0) @binding(4) var<uniform> P: Params;
#endif

alias CT = f32;

fn act(x: f32) -> f32 {
  return {{ACT}};
}

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override TKW: u32 = 4u;

// [4·TKW][4·WG_Y] values of x and [4·TKW][4·WG_X] dequantized weights
var<workgroup> tileA: array<f32, 16u * TKW * WG_Y>;
var<workgroup> tileB: array<f32, 16u * TKW * WG_X>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let li = ty * WG_X + tx;
  let threads = WG_X * WG_Y;
  let BM = 4u * WG_Y;
  let BN = 4u * WG_X;
  let TK = 4u * TKW;
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;

  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < P.k; k0 += TK) {
    // x: consecutive threads read consecutive k of a row
    for (var i = li; i < BM * TK; i += threads) {
      let m = m0 + i / TK;
      let k = k0 + i % TK;
      var v = 0.0;
      if (m < P.M && k < P.k) { v = X[P.xOff + m * P.k + k]; }
      tileA[(i % TK) * BM + i / TK] = v;
    }
    // wq: one word (4 values of one column) per step
    for (var i = li; i < BN * TKW; i += threads) {
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

  for (var r = 0u; r < 4u; r++) {
    let m = m0 + ty + r * WG_Y;
    if (m >= P.M) { continue; }
    for (var c = 0u; c < 4u; c++) {
      let n = n0 + tx + c * WG_X;
      if (n < P.N) {
#if HAS_BIAS
        Y[m * P.N + n] = act(acc[r][c] + Bias[P.biasOff + n]);
#else
        Y[m * P.N + n] = act(acc[r][c]);
#endif
      }
    }
  }
}
