// quantize-rows: float rows -> symmetric int8 (4 per u32 word, rows padded with zeros to Kp) and their scales.
// Legend: M = rows, K = values per row, Kp = padded row length (a multiple of 4), KW = Kp / 4 words per row,
// nb = scales per row, BLOCK = values per scale block. x [M, K] float, q [M, Kp] int8 packed, s [M, nb] f32.
// One workgroup per row (x + y · nwg.x). MODE row: one scale per row, max|x| by a workgroup max-reduction;
// block: each thread one block of P.block values (a multiple of 4) at a time. s = max|x| / 127 (dynamic), or
// P.scale when that is > 0 (static, already 1 when below 2^-126; values beyond ±127·s saturate).
// An s below 2^-126 (an all-zero row or block) becomes 1; a row or block holding NaN or ±Inf gets s = NaN and
// q = 0. q = clamp(round(x / s), -127, 127), rounded from the exact quotient (integer arithmetic on the float
// bits: no division error), ties per ROUND (even | away from zero); each thread writes whole words. max|x| is
// taken over the bits of |x| (for non-negative floats the bit order is the value order, and NaN/Inf come last).
// Defines: MODE, ROUND. Constant: WG (a power of two).
struct Params {
  M: u32,
  K: u32,
  KW: u32,
  nb: u32,
  block: u32,
  xOff: u32,
  scale: f32,
}
@group(0) @binding(0) var<storage, read_write> Q: array<u32>;
@group(0) @binding(1) var<storage, read_write> S: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;

override WG: u32 = 64u;

// mantissa (implicit bit included) and exponent of a finite non-negative float's bits: v = m · 2^(e - 150)
fn mant(b: u32) -> u32 {
  return select(b & 0x7fffffu, (b & 0x7fffffu) | 0x800000u, (b >> 23u) != 0u);
}
fn expo(b: u32) -> i32 {
  return max(i32(b >> 23u), 1);
}

// v / 127 correctly rounded (to nearest even), as the reference computes it in double precision then stores
// as float32; GPU division may be off by 2.5 ulp. v >= 0.
fn div127(v: f32) -> f32 {
  let b = bitcast<u32>(v);
  let e = b >> 23u;
  // zero, subnormal (results below 2^-119 matter nowhere), inf, NaN: plain division
  if (e <= 7u || e >= 255u) { return v / 127.0; }
  let num = ((b & 0x7fffffu) | 0x800000u) << 7u;
  // v / 127 = (q + r / 127) · 2^(e - 157), with q in [2^23, 2^24 + 2^17)
  var q = num / 127u;
  let r = num % 127u;
  var E = e - 7u;
  if (q >= 0x1000000u) {
    let lost = q & 1u;
    q = q >> 1u;
    E = E + 1u;
    if (lost == 1u && (r != 0u || (q & 1u) == 1u)) { q = q + 1u; }
  } else if (2u * r > 127u) {
    q = q + 1u;
  }
  if (q >= 0x1000000u) {
    q = q >> 1u;
    E = E + 1u;
  }
  return bitcast<f32>((E << 23u) | (q & 0x7fffffu));
}

// clamp(round(x / s), -127, 127) as rounded from the exact real quotient; s a normal float > 0, NaN x -> 0.
fn quant1(x: f32, s: f32) -> i32 {
  let xb = bitcast<u32>(x) & 0x7fffffffu;
  if (xb > 0x7f800000u) { return 0; }
  let neg = bitcast<u32>(x) != xb;
  if (xb == 0u) { return 0; }
  let sb = bitcast<u32>(s);
  let d = expo(xb) - expo(sb);
  var q = 0u;
  if (d > 8) {
    // |x| / s >= 2^9 · mx / ms >= 256 for a normal x (a subnormal x never gets here)
    q = 127u;
  } else if (d >= -2) {
    // the float quotient decides unless it lies within 2^-10 of a rounding boundary (its error stays below
    // 2^-14 even at WGSL's 2.5 ulp for division); there, and for subnormal x, the exact integer quotient
    let y = bitcast<f32>(xb) / s;
    if (xb >= 0x00800000u && abs(fract(y) - 0.5) > 0.0009765625) {
      return select(1, -1, neg) * i32(min(y + 0.5, 127.0));
    }
    let mx = mant(xb);
    let ms = mant(sb);
    // |x| / s = num / den exactly, num < 2^32, den < 2^26
    let num = mx << u32(max(d, 0));
    let den = ms << u32(max(-d, 0));
    q = num / den;
    let r2 = 2u * (num % den);
#if ROUND == even
    if (r2 > den || (r2 == den && (q & 1u) == 1u)) { q = q + 1u; }
#else
    if (r2 >= den) { q = q + 1u; }
#endif
    q = min(q, 127u);
  }
  // d < -2: |x| / s < 2^-2 · 2 = 0.5 rounds to 0
  return select(i32(q), -i32(q), neg);
}

fn quant_word(row: u32, w: u32, s: f32) -> u32 {
  if ((bitcast<u32>(s) & 0x7fffffffu) > 0x7f800000u) { return 0u; }
  var r = 0u;
  for (var j = 0u; j < 4u; j++) {
    let k = w * 4u + j;
    if (k < P.K) { r = r | ((u32(quant1(X[P.xOff + row * P.K + k], s)) & 0xffu) << (j * 8u)); }
  }
  return r;
}

// the bits of max|x| over [k0, k1) of a row
fn max_abs(row: u32, k0: u32, k1: u32) -> u32 {
  var m = 0u;
  for (var k = k0; k < min(k1, P.K); k++) {
    m = max(m, bitcast<u32>(X[P.xOff + row * P.K + k]) & 0x7fffffffu);
  }
  return m;
}

// the scale of a row or block from the bits of its max|x|: P.scale when static (> 0), else max|x| / 127
fn scale_of(m: u32) -> f32 {
  // a quiet NaN built from the runtime bits (a NaN constant does not compile)
  if (m >= 0x7f800000u) { return bitcast<f32>(m | 0x400000u); }
  if (P.scale > 0.0) { return P.scale; }
  let s = div127(bitcast<f32>(m));
  return select(s, 1.0, s < bitcast<f32>(0x00800000u));
}

#if MODE == row
var<workgroup> red: array<u32, WG>;
#endif

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  // uniform across the workgroup, so the barriers below stay in uniform control flow
  if (row >= P.M) { return; }
#if MODE == block
  let bw = P.block / 4u;
  for (var b = lid; b < P.nb; b += WG) {
    let s = scale_of(max_abs(row, b * P.block, b * P.block + P.block));
    S[row * P.nb + b] = s;
    for (var w = b * bw; w < b * bw + bw; w++) {
      Q[row * P.KW + w] = quant_word(row, w, s);
    }
  }
#else
  var m = 0u;
  for (var w = lid; w < P.KW; w += WG) {
    m = max(m, max_abs(row, w * 4u, w * 4u + 4u));
  }
  red[lid] = m;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h = h / 2u) {
    if (lid < h) { red[lid] = max(red[lid], red[lid + h]); }
    workgroupBarrier();
  }
  let s = scale_of(red[0]);
  if (lid == 0u) { S[row] = s; }
  for (var w = lid; w < P.KW; w += WG) {
    Q[row * P.KW + w] = quant_word(row, w, s);
  }
#endif
}
