// Scalar helpers WGSL lacks: NaN and infinity tests on the bits, erf, a tanh and sigmoid that never overflow, a
// softplus that keeps its negative tail, pow and remainder with C's special cases (as PyTorch), integer pow and
// remainder, clamp bounds that survive ±inf in i32. Needs CT (the compute type alias, f32 or i32) to be defined by
// the including kernel.

// NaN by its bits: `x != x` may be folded away by compilers that assume no NaNs (SwiftShader does).
fn is_nan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn is_inf(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u;
}

// a quiet NaN from a private variable (WGSL refuses NaN as a constant expression)
var<private> QNAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS_M: u32 = 0x7f800000u;

fn qnan() -> f32 {
  return bitcast<f32>(QNAN_BITS);
}

fn inf_of(negative: bool) -> f32 {
  return bitcast<f32>(INF_BITS_M | select(0u, 0x80000000u, negative));
}

// NaN test and truth (non-zero, NaN included, as in PyTorch) for the compute type
fn nan_ct(x: CT) -> bool {
#if CT == i32
  return false;
#else
  return is_nan(x);
#endif
}

fn truthy(x: CT) -> bool {
#if CT == i32
  return x != 0;
#else
  return !(x == 0.0) || is_nan(x);
#endif
}

fn erf_f32(x: f32) -> f32 {
  // Abramowitz & Stegun 7.1.26, |error| < 1.5e-7
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}

// tanh without overflow, and with its relative precision near 0: builtin tanh may be computed from exponentials
// (SwiftShader: tanh(1e-8) = 0, tanh(1e-5) off by 1.4e-3 relative), so |x| < 0.1 takes the odd series to x^7
// (truncation under 3e-10 relative)
fn tanh_safe(x: f32) -> f32 {
  let x2 = x * x;
  let series = x * (1.0 - x2 * (0.33333334 - x2 * (0.13333334 - x2 * 0.053968254)));
  return select(select(tanh(clamp(x, -20.0, 20.0)), series, abs(x) < 0.1), x, is_nan(x));
}

// log(1 + y) for y >= 0 without losing y when it is small against 1 (where 1 + y rounds to 1 or nearly): the
// series y - y^2/2 + ... + y^7/7 below 0.05 (truncation under 1e-10 relative), log(1 + y) above
fn log1p_pos(y: f32) -> f32 {
  if (y >= 0.05) { return log(1.0 + y); }
  return y * (1.0 - y * (0.5 - y * (0.33333334 - y * (0.25 - y * (0.2 - y * (0.16666667 - y * 0.14285715))))));
}

// softplus = log(1 + e^x) as max(x, 0) + log1p(e^-|x|): e^x for very negative x (log(1.0 + exp(x)) gives 0 once
// 1 + e^x rounds to 1, x < -17), x itself above 20 (as the CPU reference), NaN kept
fn softplus_f32(x: f32) -> f32 {
  return select(max(x, 0.0) + log1p_pos(exp(-abs(x))), x, x > 20.0 || is_nan(x));
}

fn sigmoid_f32(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

// C's pow: pow(x, 0) = pow(1, y) = 1 (NaN too), pow(-1, ±inf) = 1, |a| < 1 or > 1 to ±inf gives 0 or inf,
// (-inf)^y = ±inf or ±0 by y's sign and oddness, a negative finite base to a non-integer power is NaN
fn pow_f32(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return qnan(); }
  let m = abs(a);
  if (is_inf(b)) {
    if (m == 1.0) { return 1.0; }
    return select(0.0, inf_of(false), (m > 1.0) == (b > 0.0));
  }
  if (m == 0.0 || is_inf(m)) {
    // 0^y and inf^y: 0 or inf by the sign of y (swapped for inf), negative when a < 0 and y an odd integer
    let big = (m == 0.0) == (b < 0.0);
    let odd = fract(b) == 0.0 && abs(b) < 16777216.0 && (i32(b) & 1) == 1;
    let neg = odd && bitcast<u32>(a) >= 0x80000000u;
    return select(select(0.0, -0.0, neg), inf_of(neg), big);
  }
  if (a > 0.0) { return pow(a, b); }
  if (fract(b) != 0.0) { return qnan(); }
  let r = pow(m, b);
  return select(r, -r, abs(b) < 16777216.0 && (i32(b) & 1) == 1);
}

// Python's remainder (the sign of the divisor), as the CPU: NaN when b is 0 or a infinite; a (or a + b) when b is
// infinite, where a - floor(a / b) * b would give NaN
fn mod_f32(a: f32, b: f32) -> f32 {
  if (is_inf(b) && !is_inf(a) && !is_nan(a)) {
    return select(a, b, a != 0.0 && ((a < 0.0) != (b < 0.0)));
  }
  let r = a - trunc(a / b) * b;
  return select(r, r + b, r != 0.0 && ((r < 0.0) != (b < 0.0)));
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
