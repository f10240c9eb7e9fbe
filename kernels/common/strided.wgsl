// offset_{{NAME}}(i): the storage index of output element i in input {{NAME}}, whose strides over the output
// shape P.shape are P.{{STRIDES}} (0 on broadcast dims) and whose first element is at P.off[{{SLOT}}].
fn offset_{{NAME}}(i: u32) -> u32 {
#if {{NAME}}_CONTIG
  return P.off[{{SLOT}}] + i;
#else
  var rem = i;
  var off = P.off[{{SLOT}}];
  for (var d = i32(P.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let s = P.shape[k / 4u][k % 4u];
    off += (rem % s) * P.{{STRIDES}}[k / 4u][k % 4u];
    rem = rem / s;
  }
  return off;
#endif
}
