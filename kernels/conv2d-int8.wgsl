// conv2d-int8: conv2d with int8 weights as an implicit GEMM, per group g: y[m, o] = Σ_k A[m, k] · wq[o, k], scaled
// per output channel, plus bias. Row m = (n, oh, ow) of the output, column k = (ci, kh, kw) of the patch:
// A[m, k] = x[n, g·Cg + ci, oh·sH - pT + kh·dH, ow·sW - pL + kw·dW] (0 in the padding).
// XQ: x int8 (one scale per image, xs [N, 1]) gathered 4 k at a time into packed words, int32 sums of
// dot4I8Packed (or its twin), y = f32(sum) · xs[n] · ws[o] + bias[o]. Else (weight-only): x float, weights unpacked to f32,
// y = sum · ws[o] + bias[o].
// Legend: N = batch, C = input channels, H, W = input size, O = output channels, Cg = C/groups and Og = O/groups
// channels per group, kH, kW = kernel size, Ho, Wo = output size, P = Ho·Wo, M = N·P, K = Cg·kH·kW true inner
// size, KpW = padded weight row length in words; x [N, C, H, W], wq [O, Kp] int8 packed, ws [O, 1], y [N, O, Ho, Wo].
// Workgroups: x (+ z·nwg.x) = tile of M, y = g·oTiles + tile of Og. TM x TN threads, each an RM x RN block
// (rows tm + i·TM, channels tn + j·TN); each K step stages 16 k (4 words) of A and of the weights.
// Defines: DOT4, XQ, HAS_BIAS, TM, TN, RM, RN (TN a multiple of RM, so each thread loads a fixed row of A).
#include "int8-bindings.wgsl"
struct Params {
  C: u32, H: i32, W: i32, O: u32,
  Cg: u32, Og: u32, K: u32, M: u32,
  kH: u32, kW: u32, P: u32, Wo: u32,
  sH: i32, sW: i32, pT: i32, pL: i32,
  dH: i32, dW: i32, oTiles: u32, KpW: u32,
  // x in elements (bytes when XQ), wq in words, the rest in elements
  xOff: u32, wOff: u32, wsOff: u32, xsOff: u32,
  biasOff: u32,
}

const TM = {{TM}}u;
const TN = {{TN}}u;
const RM = {{RM}}u;
const RN = {{RN}}u;
const NT = TM * TN;
const BM = TM * RM;
const BN = TN * RN;
// words (4 k each) per K step
const BKW = 4u;

#if XQ
alias AT = u32;
alias ACC = i32;
const AK = BKW;
#else
alias AT = f32;
alias ACC = f32;
const AK = 4u * BKW;
#endif
var<workgroup> As: array<AT, AK * BM>;  // [AK][BM]
var<workgroup> Ws: array<AT, AK * BN>;  // [AK][BN]

@compute @workgroup_size(NT)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m0 = (wid.x + wid.z * nwg.x) * BM;
  if (m0 >= P.M) { return; }
  let g = wid.y / P.oTiles;
  let o0 = (wid.y % P.oTiles) * BN;
  let HW = u32(P.H * P.W);
  let khw = P.kH * P.kW;
  let KW = (P.K + 3u) / 4u;

  // the row of A this thread stages (NT is a multiple of BM): plane base and the window's top-left corner
  let ml = lid % BM;
  let mRow = m0 + ml;
  let pos = mRow % P.P;
  let rowBase = P.xOff + ((mRow / P.P) * P.C + g * P.Cg) * HW;
  // rows past M get a position no window reaches, so they stage zeros
  let ih0 = select(-0x40000000, i32(pos / P.Wo) * P.sH - P.pT, mRow < P.M);
  let iw0 = i32(pos % P.Wo) * P.sW - P.pL;

  let tm = lid % TM;
  let tn = lid / TM;
  var acc: array<ACC, RM * RN>;

  for (var k0w = 0u; k0w < KW; k0w += BKW) {
    for (var e = lid; e < AK * BM; e += NT) {
      let kk = e / BM;
#if XQ
      var v = 0u;
      for (var j = 0u; j < 4u; j++) {
        let k = (k0w + kk) * 4u + j;
#else
      var v = 0.0;
      {
        let k = k0w * 4u + kk;
#endif
        if (k < P.K) {
          let ci = k / khw;
          let t = k % khw;
          let ih = ih0 + i32(t / P.kW) * P.dH;
          let iw = iw0 + i32(t % P.kW) * P.dW;
          if (ih >= 0 && ih < P.H && iw >= 0 && iw < P.W) {
            let p = rowBase + ci * HW + u32(ih * P.W + iw);
#if XQ
            v = v | ((u32(byte_of(XQ[p / 4u], p)) & 0xffu) << (j * 8u));
#else
            v = X[p];
#endif
          }
        }
      }
      As[kk * BM + ml] = v;
    }
    for (var e = lid; e < BKW * BN; e += NT) {
      let ol = e / BKW;
      let q = e % BKW;
      var wv = 0u;
      if (o0 + ol < P.Og && k0w + q < KW) { wv = keep_bytes(WQ[P.wOff + (g * P.Og + o0 + ol) * P.KpW + k0w + q], k0w + q, P.K); }
#if XQ
      Ws[q * BN + ol] = wv;
#else
      let f = vec4<f32>(unpack_i8x4(wv));
      for (var j = 0u; j < 4u; j++) { Ws[(q * 4u + j) * BN + ol] = f[j]; }
#endif
    }
    workgroupBarrier();
    for (var kk = 0u; kk < AK; kk++) {
      var a: array<AT, RM>;
      var b: array<AT, RN>;
      for (var i = 0u; i < RM; i++) { a[i] = As[kk * BM + tm + i * TM]; }
      for (var j = 0u; j < RN; j++) { b[j] = Ws[kk * BN + tn + j * TN]; }
      for (var i = 0u; i < RM; i++) {
        for (var j = 0u; j < RN; j++) {
#if XQ
          acc[i * RN + j] += dot_i8x4(a[i], b[j]);
#else
          acc[i * RN + j] = fma(a[i], b[j], acc[i * RN + j]);
#endif
        }
      }
    }
    workgroupBarrier();
  }

  for (var j = 0u; j < RN; j++) {
    let ol = o0 + tn + j * TN;
    if (ol >= P.Og) { continue; }
    let o = g * P.Og + ol;
    let ws = WS[P.wsOff + o];
#if HAS_BIAS
    let b = Bias[P.biasOff + o];
#else
    let b = 0.0;
#endif
    for (var i = 0u; i < RM; i++) {
      let m = m0 + tm + i * TM;
      if (m >= P.M) { continue; }
      let n = m / P.P;
#if XQ
      let v = f32(acc[i * RN + j]) * XS[P.xsOff + n] * ws;
#else
      let v = acc[i * RN + j] * ws;
#endif
      Y[n * P.O * P.P + o * P.P + m % P.P] = v + b;
    }
  }
}
