// Pack one T per element into 16- or 8-bit storage (the inverse of unpack.wgsl): one thread per u32 word.
// f16 rounds to nearest even; values beyond the half range become ±inf, NaN stays NaN. Bytes keep the low 8 bits.
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read_write> Y: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<{{T}}>;
@group(0) @binding(2) var<uniform> P: Params;

fn half_bits(v: f32) -> u32 {
  let s = select(0u, 0x8000u, v < 0.0);
  if ((bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u) { return 0x7e00u; }  // NaN by its bits (v != v may be folded away)
  if (abs(v) >= 65520.0) { return s | 0x7c00u; }
  return pack2x16float(vec2<f32>(v, 0.0)) & 0xffffu;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = gid.x + gid.y * nwg.x * 256u;
#if KIND == f16
  let j = w * 2u;
  if (j >= P.n) { return; }
  var hi = 0u;
  if (j + 1u < P.n) { hi = half_bits(X[j + 1u]); }
  Y[w] = half_bits(X[j]) | (hi << 16u);
#else
  let j = w * 4u;
  if (j >= P.n) { return; }
  var r = 0u;
  for (var k = 0u; k < 4u; k++) {
    if (j + k < P.n) { r = r | ((bitcast<u32>(X[j + k]) & 0xffu) << (k * 8u)); }
  }
  Y[w] = r;
#endif
}
