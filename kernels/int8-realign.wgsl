// int8-realign: copy n packed int8 values that start at byte `off` (not a multiple of 4) of a u32 array into a
// fresh array starting at byte 0, so that rows read as whole words; one thread per output word, zero past n.
struct Params { off: u32, n: u32 }
@group(0) @binding(0) var<storage, read_write> Y: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<uniform> P: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = gid.x + gid.y * nwg.x * 256u;
  if (w * 4u >= P.n) { return; }
  var r = 0u;
  for (var j = 0u; j < 4u; j++) {
    let e = w * 4u + j;
    if (e < P.n) {
      let b = P.off + e;
      r = r | (extractBits(X[b / 4u], (b % 4u) * 8u, 8u) << (j * 8u));
    }
  }
  Y[w] = r;
}
