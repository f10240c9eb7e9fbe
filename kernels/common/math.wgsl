// Scalar helpers WGSL lacks: erf, a tanh and sigmoid that never overflow, pow with negative bases, integer
// pow and remainder, clamp bounds that survive ±inf in i32, and float -> half bits with IEEE overflow.
// Needs CT (the compute type alias, f32 or i32) to be defined by the including kernel.

// NaN by its bits: `x != x` may be folded away by compilers that assume no NaNs (SwiftShader does).
fn is_nan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn erf_f32(x: f32) -> f32 {
  // Abramowitz & Stegun 7.1.26, |error| < 1.5e-7
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}

fn tanh_safe(x: f32) -> f32 {
  return tanh(clamp(x, -20.0, 20.0));
}

fn sigmoid_f32(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

fn pow_f32(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a >= 0.0) { return pow(a, b); }
  let nan_bits = 0x7fc00000u;
  if (fract(b) != 0.0) { return bitcast<f32>(nan_bits); }
  let r = pow(-a, b);
  return select(r, -r, (i32(b) & 1) == 1);
}

fn pow_i32(a: i32, b: i32) -> i32 {
  if (b < 0) { return select(0, select(1, -1, (b & 1) == 1 && a == -1), a == 1 || a == -1); }
  var r = 1;
  var base = a;
  var e = b;
  loop {
    if (e == 0) { break; }
    if ((e & 1) == 1) { r = r * base; }
    base = base * base;
    e = e >> 1u;
  }
  return r;
}

fn mod_i32(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  let r = a % b;
  return select(r, r + b, r != 0 && ((r < 0) != (b < 0)));
}

fn clamp_lo(v: f32) -> CT {
#if CT == i32
  return i32(max(v, -2147483648.0));
#else
  return v;
#endif
}

fn clamp_hi(v: f32) -> CT {
#if CT == i32
  return i32(min(v, 2147483520.0));
#else
  return v;
#endif
}
