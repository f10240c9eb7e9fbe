// conv2d as an implicit GEMM, per group g: out[m, o] = bias[o] + sum_k A[m, k] * w[o, k], where row m = (n, oh, ow)
// of the output and column k = (ci, kh, kw) of the patch: A[m, k] = x[n, g*Cg + ci, oh*sH - pT + kh*dH,
// ow*sW - pL + kw*dW] (0 in the padding). No im2col buffer: each K step gathers a BM x BK slab of A and a BK x BN
// slab of w into workgroup memory; each thread keeps an RM x RN block of outputs in registers.
// Legend: N = batch, C = input channels, H, W = input size, O = output channels, Cg = C/groups and Og = O/groups
// channels per group, kH, kW = kernel size, Ho, Wo = output size, P = Ho*Wo, M = N*P, K = Cg*kH*kW.
// Workgroups: x (+ z * nwg.x) = tile of M, y = g * oTiles + tile of Og.
// Defines: TM, TN threads along m and o; RM, RN register block. B is read only when P.hasBias is 1.
struct Params {
  C: u32, H: i32, W: i32, O: u32,
  Cg: u32, Og: u32, K: u32, M: u32,
  kH: u32, kW: u32, P: u32, Wo: u32,
  sH: i32, sW: i32, pT: i32, pL: i32,
  dH: i32, dW: i32, oTiles: u32, xOff: u32,
  wOff: u32, bOff: u32, hasBias: u32,
}
@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<uniform> P: Params;

const TM = {{TM}}u;
const TN = {{TN}}u;
const RM = {{RM}}u;
const RN = {{RN}}u;
const NT = TM * TN;
const BM = TM * RM;
const BN = TN * RN;
const BK = 8u;
// A loads: each thread fills one k column of the slab (kc) at LA rows, ROWS apart (consecutive threads, consecutive rows).
const ROWS = NT / BK;
const LA = BM / ROWS;
const WSTRIDE = BK + 1u;

var<workgroup> As: array<f32, BK * BM>;       // [BK][BM]
var<workgroup> Ws: array<f32, BN * WSTRIDE>;  // [BN][BK] padded

@compute @workgroup_size(NT)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m0 = (wid.x + wid.z * nwg.x) * BM;
  if (m0 >= P.M) { return; }
  let g = wid.y / P.oTiles;
  let o0 = (wid.y % P.oTiles) * BN;
  let HW = u32(P.H * P.W);
  let khw = P.kH * P.kW;

  // the rows this thread loads: input plane base and the top-left input position of each output's window
  let kc = lid / ROWS;
  let r0 = lid % ROWS;
  var rowBase: array<u32, LA>;
  var rowIh: array<i32, LA>;
  var rowIw: array<i32, LA>;
  for (var j = 0u; j < LA; j++) {
    let m = m0 + r0 + j * ROWS;
    let p = m % P.P;
    rowBase[j] = P.xOff + ((m / P.P) * P.C + g * P.Cg) * HW;
    // rows past M get a position no window reaches, so they load zeros
    rowIh[j] = select(-0x40000000, i32(p / P.Wo) * P.sH - P.pT, m < P.M);
    rowIw[j] = i32(p % P.Wo) * P.sW - P.pL;
  }

  let tm = lid % TM;
  let tn = lid / TM;
  var acc: array<f32, RM * RN>;
  for (var j = 0u; j < RN; j++) {
    var b = 0.0;
    let o = o0 + tn + j * TN;
    if (P.hasBias != 0u && o < P.Og) { b = B[P.bOff + g * P.Og + o]; }
    for (var i = 0u; i < RM; i++) { acc[i * RN + j] = b; }
  }

  for (var k0 = 0u; k0 < P.K; k0 += BK) {
    let k = k0 + kc;
    if (k < P.K) {
      let ci = k / khw;
      let t = k % khw;
      let cOff = ci * HW;
      let dh = i32(t / P.kW) * P.dH;
      let dw = i32(t % P.kW) * P.dW;
      for (var j = 0u; j < LA; j++) {
        let ih = rowIh[j] + dh;
        let iw = rowIw[j] + dw;
        var v = 0.0;
        if (ih >= 0 && ih < P.H && iw >= 0 && iw < P.W) { v = X[rowBase[j] + cOff + u32(ih * P.W + iw)]; }
        As[kc * BM + r0 + j * ROWS] = v;
      }
    } else {
      for (var j = 0u; j < LA; j++) { As[kc * BM + r0 + j * ROWS] = 0.0; }
    }
    for (var e = lid; e < BK * BN; e += NT) {
      let kk = e % BK;
      let ol = e / BK;
      var v = 0.0;
      if (k0 + kk < P.K && o0 + ol < P.Og) { v = Wt[P.wOff + (g * P.Og + o0 + ol) * P.K + k0 + kk]; }
      Ws[ol * WSTRIDE + kk] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var a: array<f32, RM>;
      var b: array<f32, RN>;
      for (var i = 0u; i < RM; i++) { a[i] = As[kk * BM + tm + i * TM]; }
      for (var j = 0u; j < RN; j++) { b[j] = Ws[(tn + j * TN) * WSTRIDE + kk]; }
      for (var i = 0u; i < RM; i++) {
        for (var j = 0u; j < RN; j++) { acc[i * RN + j] = fma(a[i], b[j], acc[i * RN + j]); }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < RM; i++) {
    let m = m0 + tm + i * TM;
    if (m >= P.M) { continue; }
    let base = (m / P.P) * P.O * P.P + m % P.P;
    for (var j = 0u; j < RN; j++) {
      let o = o0 + tn + j * TN;
      if (o < P.Og) { Y[base + (g * P.Og + o) * P.P] = acc[i * RN + j]; }
    }
  }
}
