// conv2d with one input channel per group (depthwise; Cg = 1): output channel o reads input channel o / Og.
// A workgroup computes a 16 x 16 tile of one output plane (n, o); with TILED it first stages the input patch the
// tile reads (PH x PW, padding as zeros) in workgroup memory, otherwise each thread reads x directly.
// Legend: N = batch, C = input channels, H, W = input size, O = output channels, Og = O/C, kH, kW = kernel size,
// Ho, Wo = output size, PH, PW = patch size. Workgroups: x = tile in the plane, y (+ z * nwg.y) = plane n*O + o.
// Defines: TILED, MAX_PATCH. B is read only when P.hasBias is 1.
struct Params {
  C: u32, H: i32, W: i32, O: u32,
  Og: u32, Ho: u32, Wo: u32, tilesW: u32,
  kH: u32, kW: u32, sH: u32, sW: u32,
  pT: i32, pL: i32, dH: u32, dW: u32,
  planes: u32, PH: u32, PW: u32, xOff: u32,
  wOff: u32, bOff: u32, hasBias: u32,
}
@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<uniform> P: Params;

const T = 16u;
/** Largest staged patch, in elements (the program picks TILED only when PH * PW fits). */
const MAX_PATCH = {{MAX_PATCH}}u;
#if TILED
var<workgroup> stage: array<f32, MAX_PATCH>;
#endif

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let plane = wid.y + wid.z * nwg.y;
  if (plane >= P.planes) { return; }
  let n = plane / P.O;
  let o = plane % P.O;
  let xPlane = P.xOff + (n * P.C + o / P.Og) * u32(P.H * P.W);
  let oh0 = (wid.x / P.tilesW) * T;
  let ow0 = (wid.x % P.tilesW) * T;
  let ih0 = i32(oh0 * P.sH) - P.pT;
  let iw0 = i32(ow0 * P.sW) - P.pL;
#if TILED
  for (var e = li; e < P.PH * P.PW; e += T * T) {
    let ih = ih0 + i32(e / P.PW);
    let iw = iw0 + i32(e % P.PW);
    var v = 0.0;
    if (ih >= 0 && ih < P.H && iw >= 0 && iw < P.W) { v = X[xPlane + u32(ih * P.W + iw)]; }
    stage[e] = v;
  }
  workgroupBarrier();
#endif
  let oh = oh0 + lid.y;
  let ow = ow0 + lid.x;
  if (oh >= P.Ho || ow >= P.Wo) { return; }
  var acc = 0.0;
  if (P.hasBias != 0u) { acc = B[P.bOff + o]; }
  let taps = P.wOff + o * P.kH * P.kW;
  for (var kh = 0u; kh < P.kH; kh++) {
#if TILED
    let row = (lid.y * P.sH + kh * P.dH) * P.PW + lid.x * P.sW;
    for (var kw = 0u; kw < P.kW; kw++) {
      acc = fma(Wt[taps + kh * P.kW + kw], stage[row + kw * P.dW], acc);
    }
#else
    let ih = ih0 + i32(lid.y * P.sH + kh * P.dH);
    if (ih < 0 || ih >= P.H) { continue; }
    for (var kw = 0u; kw < P.kW; kw++) {
      let iw = iw0 + i32(lid.x * P.sW + kw * P.dW);
      if (iw >= 0 && iw < P.W) { acc = fma(Wt[taps + kh * P.kW + kw], X[xPlane + u32(ih * P.W + iw)], acc); }
    }
#endif
  }
  Y[plane * P.Ho * P.Wo + oh * P.Wo + ow] = acc;
}
