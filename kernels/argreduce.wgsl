// argmax / argmin along one axis: the first index of the extreme (ties -> lowest index); a NaN beats every
// number and the first NaN wins, as in the CPU kernel. Rows as in rows.wgsl (R = length of the axis).
// Each lane keeps its best (value, index); lanes combine by xor-shuffles or subgroup max/min plus a min over
// candidate indices (SUBGROUPS, lanes adjacent), then a tree in workgroup memory (always, for spread rows).
// Defines: CT (f32 | i32), DIR (max | min), SUBGROUPS.
#if SUBGROUPS
enable subgroups;
#endif
alias CT = {{CT}};
@group(0) @binding(0) var<storage, read_write> Y: array<i32>;
@group(0) @binding(1) var<storage, read> X: array<CT>;
@group(0) @binding(2) var<uniform> P: Params;
#include "rows.wgsl"
#include "reduce-ops.wgsl"
#include "row-main.wgsl"

var<workgroup> sh_v: array<CT, 256>;
var<workgroup> sh_i: array<u32, 256>;

const NO_INDEX = 0xffffffffu;

/** Whether (vb, ib) should replace (va, ia) as the best so far. */
fn better(va: CT, ia: u32, vb: CT, ib: u32) -> bool {
  let na = is_nan_{{CT}}(va);
  let nb = is_nan_{{CT}}(vb);
  if (na || nb) {
    return nb && (!na || ib < ia);
  }
  if (vb == va) {
    return ib < ia;
  }
#if DIR == max
  return vb > va;
#else
  return vb < va;
#endif
}

struct Best {
  v: CT,
  i: u32,
}

fn pick(a: Best, b: Best) -> Best {
  if (better(a.v, a.i, b.v, b.i)) {
    return b;
  }
  return a;
}

fn wg_best(b0: Best, li: u32, lane: u32, g: Group) -> Best {
  var b = b0;
#if SUBGROUPS
  if (g.stride == 1u) {
    if (g.tpr <= g.sgs) {
      for (var m = g.tpr / 2u; m > 0u; m >>= 1u) {
        b = pick(b, Best(subgroupShuffleXor(b.v, m), subgroupShuffleXor(b.i, m)));
      }
      return b;
    }
    // the subgroup's extreme (NaN if any), then the lowest index holding it
    let any_nan = subgroupAny(is_nan_{{CT}}(b.v));
    let m = sg_{{DIR}}_{{CT}}(b.v);
    let holds = select(b.v == m, is_nan_{{CT}}(b.v), any_nan);
    b = Best(m, subgroupMin(select(NO_INDEX, b.i, holds)));
    sh_v[li] = b.v;
    sh_i[li] = b.i;
    workgroupBarrier();
    for (var s = g.tpr / 2u; s >= g.sgs; s >>= 1u) {
      if (lane < s) {
        let r = pick(Best(sh_v[li], sh_i[li]), Best(sh_v[li + s], sh_i[li + s]));
        sh_v[li] = r.v;
        sh_i[li] = r.i;
      }
      workgroupBarrier();
    }
    return Best(sh_v[li - lane], sh_i[li - lane]);
  }
#endif
  sh_v[li] = b.v;
  sh_i[li] = b.i;
  workgroupBarrier();
  for (var s = g.tpr / 2u; s > 0u; s >>= 1u) {
    if (lane < s) {
      let o = li + s * g.stride;
      let r = pick(Best(sh_v[li], sh_i[li]), Best(sh_v[o], sh_i[o]));
      sh_v[li] = r.v;
      sh_i[li] = r.i;
    }
    workgroupBarrier();
  }
  return Best(sh_v[li - lane * g.stride], sh_i[li - lane * g.stride]);
}

fn row_main(li: u32, g: Group, s: Slot) {
  let base = P.off + row_base(s.row);
  var b = Best(ident_{{DIR}}_{{CT}}(), NO_INDEX);
  if (s.live) {
    for (var r = s.lane; r < P.R; r += g.tpr) {
      let v = X[base + elem_off(r)];
      if (better(b.v, b.i, v, r)) {
        b = Best(v, r);
      }
    }
  }
  b = wg_best(b, li, s.lane, g);
  if (s.live && s.lane == 0u) {
    Y[s.row] = i32(b.i);
  }
}
