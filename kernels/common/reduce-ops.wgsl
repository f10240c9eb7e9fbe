// Combining ops for reductions on f32 and i32: identities, op_<OP>_<T>(a, b) for add, mul, max, min, and the
// subgroup forms sg_<OP>_<T>(v) when SUBGROUPS is set. Float max/min propagate NaN (as the CPU kernels do),
// tested on the bits so no fast-math assumption can drop the check. NaN and infinities come from private
// variables: WGSL refuses them as constant expressions.

/** How a row's lanes lie in the workgroup (the same for every thread): lanes per row (a power of two), the
 * distance between adjacent lanes (1, or the rows per workgroup when rows are spread), and the subgroup size
 * (0 without subgroups). */
struct Group {
  tpr: u32,
  stride: u32,
  sgs: u32,
}

var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;

fn is_nan_f32(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn is_nan_i32(x: i32) -> bool {
  return false;
}

fn nan_f32() -> f32 {
  return bitcast<f32>(NAN_BITS);
}

fn inf_f32() -> f32 {
  return bitcast<f32>(INF_BITS);
}

fn ident_add_f32() -> f32 { return 0.0; }
fn ident_mul_f32() -> f32 { return 1.0; }
fn ident_max_f32() -> f32 { return -inf_f32(); }
fn ident_min_f32() -> f32 { return inf_f32(); }
fn ident_add_i32() -> i32 { return 0; }
fn ident_mul_i32() -> i32 { return 1; }
fn ident_max_i32() -> i32 { return bitcast<i32>(0x80000000u); }
fn ident_min_i32() -> i32 { return 0x7fffffff; }

fn op_add_f32(a: f32, b: f32) -> f32 { return a + b; }
fn op_mul_f32(a: f32, b: f32) -> f32 { return a * b; }
fn op_max_f32(a: f32, b: f32) -> f32 { return select(max(a, b), nan_f32(), is_nan_f32(a) || is_nan_f32(b)); }
fn op_min_f32(a: f32, b: f32) -> f32 { return select(min(a, b), nan_f32(), is_nan_f32(a) || is_nan_f32(b)); }
fn op_add_i32(a: i32, b: i32) -> i32 { return a + b; }
fn op_mul_i32(a: i32, b: i32) -> i32 { return a * b; }
fn op_max_i32(a: i32, b: i32) -> i32 { return max(a, b); }
fn op_min_i32(a: i32, b: i32) -> i32 { return min(a, b); }

#if SUBGROUPS
fn sg_add_f32(v: f32) -> f32 { return subgroupAdd(v); }
fn sg_mul_f32(v: f32) -> f32 { return subgroupMul(v); }
fn sg_max_f32(v: f32) -> f32 { return select(subgroupMax(v), nan_f32(), subgroupAny(is_nan_f32(v))); }
fn sg_min_f32(v: f32) -> f32 { return select(subgroupMin(v), nan_f32(), subgroupAny(is_nan_f32(v))); }
fn sg_add_i32(v: i32) -> i32 { return subgroupAdd(v); }
fn sg_mul_i32(v: i32) -> i32 { return subgroupMul(v); }
fn sg_max_i32(v: i32) -> i32 { return subgroupMax(v); }
fn sg_min_i32(v: i32) -> i32 { return subgroupMin(v); }
#endif
