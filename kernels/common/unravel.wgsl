// {{FN}}(i): the storage offset (from the first element) of element i in row-major order of a P.{{RANK}}-dim
// shape P.{{SHAPE}} with strides P.{{STRIDES}}, both packed four to a vec4<u32> (up to 8 dims).
fn {{FN}}(i: u32) -> u32 {
  var rem = i;
  var off = 0u;
  for (var d = i32(P.{{RANK}}) - 1; d >= 0; d--) {
    let k = u32(d);
    let n = P.{{SHAPE}}[k / 4u][k % 4u];
    off += (rem % n) * P.{{STRIDES}}[k / 4u][k % 4u];
    rem = rem / n;
  }
  return off;
}
