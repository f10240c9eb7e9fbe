// Unpack 16- and 8-bit storage to one T per element: KIND f16 (two halves per u32, low half first),
// i8 (four signed bytes per u32, lowest byte first) or u8 (four unsigned bytes). One thread per element.
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read_write> Y: array<{{T}}>;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<uniform> P: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= P.n) { return; }
#if KIND == f16
  Y[i] = unpack2x16float(X[i >> 1u])[i & 1u];
#elif KIND == i8
  Y[i] = extractBits(bitcast<i32>(X[i >> 2u]), (i & 3u) * 8u, 8u);
#else
  Y[i] = i32(extractBits(X[i >> 2u], (i & 3u) * 8u, 8u));
#endif
}
