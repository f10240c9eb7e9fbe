// wg_{{NAME}}(v, li, lane, g): combine v (thread li, lane `lane` of its row) over the g.tpr lanes of each row
// with op_{{OP}}_{{T}}; every lane of the row gets the result. Needs reduce-ops.wgsl (Group, the ops). Call it
// from uniform control flow with every thread of the workgroup (also those past the last row); workgroups
// have 256 threads. SUBGROUPS, when the row's lanes are adjacent (stride 1): rows no longer than a subgroup
// reduce by xor-shuffles; longer rows by the subgroup op, then a tree over one partial per subgroup.
// Otherwise (the portable path, and spread rows): a tree in workgroup memory.
var<workgroup> sh_{{NAME}}: array<{{T}}, 256>;

fn wg_{{NAME}}(v0: {{T}}, li: u32, lane: u32, g: Group) -> {{T}} {
  var v = v0;
#if SUBGROUPS
  // subgroups are taken as runs of adjacent local indices (true of 1-D workgroups on every driver in use)
  if (g.stride == 1u) {
    if (g.tpr <= g.sgs) {
      for (var m = g.tpr / 2u; m > 0u; m >>= 1u) {
        v = op_{{OP}}_{{T}}(v, subgroupShuffleXor(v, m));
      }
      return v;
    }
    v = sg_{{OP}}_{{T}}(v);
    sh_{{NAME}}[li] = v;
    workgroupBarrier();
    for (var s = g.tpr / 2u; s >= g.sgs; s >>= 1u) {
      if (lane < s) {
        sh_{{NAME}}[li] = op_{{OP}}_{{T}}(sh_{{NAME}}[li], sh_{{NAME}}[li + s]);
      }
      workgroupBarrier();
    }
    let r = sh_{{NAME}}[li - lane];
    workgroupBarrier();
    return r;
  }
#endif
  sh_{{NAME}}[li] = v;
  workgroupBarrier();
  for (var s = g.tpr / 2u; s > 0u; s >>= 1u) {
    if (lane < s) {
      sh_{{NAME}}[li] = op_{{OP}}_{{T}}(sh_{{NAME}}[li], sh_{{NAME}}[li + s * g.stride]);
    }
    workgroupBarrier();
  }
  let r = sh_{{NAME}}[li - lane * g.stride];
  // the next reduction may overwrite the array: wait until every lane has read its row's result
  workgroupBarrier();
  return r;
}
