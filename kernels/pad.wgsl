// pad (negative pads crop): output coordinate j of dim d reads input coordinate j - before[d]; outside the input
// MODE constant writes P.value, reflect mirrors without repeating the edge, edge clamps. One thread per output.
// Shapes up to rank 8 in vec4 pairs. Defines: T storage type, MODE (constant | reflect | edge).
struct Params {
  n: u32,
  rank: u32,
  xOff: u32,
  value: u32,   // bits of a T
  outShape: array<vec4<u32>, 2>,
  inShape: array<vec4<i32>, 2>,
  before: array<vec4<i32>, 2>,
  inStrides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<storage, read_write> Y: array<{{T}}>;
@group(0) @binding(1) var<storage, read> X: array<{{T}}>;
@group(0) @binding(2) var<uniform> P: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let q = gid.x + gid.y * nwg.x * 256u;
  if (q >= P.n) { return; }
  var rem = q;
  var off = P.xOff;
  for (var d = i32(P.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let len = P.outShape[k / 4u][k % 4u];
    let n = P.inShape[k / 4u][k % 4u];
    var i = i32(rem % len) - P.before[k / 4u][k % 4u];
    rem = rem / len;
    if (i < 0 || i >= n) {
#if MODE == constant
      Y[q] = bitcast<{{T}}>(P.value);
      return;
#elif MODE == edge
      i = select(n - 1, 0, i < 0);
#else
      i = select(2 * (n - 1) - i, -i, i < 0);
#endif
    }
    off += u32(i) * P.inStrides[k / 4u][k % 4u];
  }
  Y[q] = X[off];
}
