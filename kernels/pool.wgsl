// 2-D max / average pooling, one thread per output element looping over its window.
// Legend: P = N*C planes, H, W = input size, Ho, Wo = output size, kH, kW = window, sH, sW = stride,
// pT, pL, pB, pR = padding (top, left, bottom, right), dH, dW = dilation.
// max: padding never wins, NaN propagates. avg: the divisor counts window positions inside the input, plus
// (COUNT_PAD) those inside the padding; positions past the padding (ceilMode overhang) never count.
// Defines: OP (max | avg), T storage type (avg: f32 only), COUNT_PAD.
struct Params {
  n: u32,
  H: i32, W: i32, Ho: u32, Wo: u32,
  kH: i32, kW: i32, sH: i32, sW: i32,
  pT: i32, pL: i32, pB: i32, pR: i32,
  dH: i32, dW: i32,
  xOff: u32,
  lowest: u32,  // max: the bits of -inf (f32) or of the smallest i32, where the running maximum starts
}
@group(0) @binding(0) var<storage, read_write> Y: array<{{T}}>;
@group(0) @binding(1) var<storage, read> X: array<{{T}}>;
@group(0) @binding(2) var<uniform> P: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let q = gid.x + gid.y * nwg.x * 256u;
  if (q >= P.n) { return; }
  let ow = i32(q % P.Wo);
  let oh = i32((q / P.Wo) % P.Ho);
  let plane = P.xOff + (q / (P.Wo * P.Ho)) * u32(P.H * P.W);
  let ih0 = oh * P.sH - P.pT;
  let iw0 = ow * P.sW - P.pL;
#if OP == max
  var m = bitcast<{{T}}>(P.lowest);
  for (var kh = 0; kh < P.kH; kh++) {
    let ih = ih0 + kh * P.dH;
    if (ih < 0 || ih >= P.H) { continue; }
    for (var kw = 0; kw < P.kW; kw++) {
      let iw = iw0 + kw * P.dW;
      if (iw < 0 || iw >= P.W) { continue; }
      let v = X[plane + u32(ih * P.W + iw)];
#if T == f32
      // a bit test: compilers may fold `v != v` to false
      if ((bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u) {
        Y[q] = v;
        return;
      }
#endif
      m = max(m, v);
    }
  }
  Y[q] = m;
#else
  var s = 0.0;
  var inside = 0;
  var padded = 0;
  for (var kh = 0; kh < P.kH; kh++) {
    let ih = ih0 + kh * P.dH;
    let rowIn = ih >= 0 && ih < P.H;
    let rowPadded = ih >= -P.pT && ih < P.H + P.pB;
    for (var kw = 0; kw < P.kW; kw++) {
      let iw = iw0 + kw * P.dW;
      if (rowPadded && iw >= -P.pL && iw < P.W + P.pR) { padded++; }
      if (rowIn && iw >= 0 && iw < P.W) {
        s += X[plane + u32(ih * P.W + iw)];
        inside++;
      }
    }
  }
#if COUNT_PAD
  Y[q] = s / f32(padded);
#else
  Y[q] = s / f32(inside);
#endif
#endif
}
