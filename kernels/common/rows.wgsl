// Row indexing for the reduction-like kernels (reduce, argreduce, softmax): the input is seen as P.rows rows
// (the kept dims, in output order) of P.R elements (the reduced dims), each side merged to at most 8 dims
// with shapes and strides in P. A 256-thread workgroup holds 2^rows_log2 rows of 2^tpr_log2 lanes. Lanes of a
// row are adjacent threads (spread = 0: a subgroup sees one row) or one row-count apart (spread = 1: adjacent
// threads take adjacent rows, so reading a non-innermost reduced dim stays coalesced). The layout is uniform
// data, not a pipeline constant, so one pipeline serves every shape.
struct Params {
  rows: u32,
  R: u32,
  nk: u32,
  nr: u32,
  off: u32,
  aux: f32,
  tpr_log2: u32,
  rows_log2: u32,
  spread: u32,
  kshape: array<vec4<u32>, 2>,
  kstride: array<vec4<u32>, 2>,
  rshape: array<vec4<u32>, 2>,
  rstride: array<vec4<u32>, 2>,
}

/** This thread's row (`live` is false past the last row) and lane within the row. */
struct Slot {
  row: u32,
  lane: u32,
  live: bool,
}

fn group_of(sgs: u32) -> Group {
  return Group(1u << P.tpr_log2, select(1u, 1u << P.rows_log2, P.spread != 0u), sgs);
}

fn slot_of(li: u32, g: u32) -> Slot {
  var s: Slot;
  if (P.spread != 0u) {
    s.row = (g << P.rows_log2) + (li & ((1u << P.rows_log2) - 1u));
    s.lane = li >> P.rows_log2;
  } else {
    s.row = (g << P.rows_log2) + (li >> P.tpr_log2);
    s.lane = li & ((1u << P.tpr_log2) - 1u);
  }
  s.live = s.row < P.rows;
  return s;
}

/** Storage offset (without P.off) of the first element of `row`. */
fn row_base(row: u32) -> u32 {
  var rem = row;
  var off = 0u;
  for (var d = i32(P.nk) - 1; d >= 0; d--) {
    let k = u32(d);
    let n = P.kshape[k / 4u][k % 4u];
    off += (rem % n) * P.kstride[k / 4u][k % 4u];
    rem = rem / n;
  }
  return off;
}

/** Storage offset of reduced element r relative to its row's base. */
fn elem_off(r: u32) -> u32 {
  if (P.nr == 1u) {
    return r * P.rstride[0].x;
  }
  var rem = r;
  var off = 0u;
  for (var d = i32(P.nr) - 1; d >= 0; d--) {
    let k = u32(d);
    let n = P.rshape[k / 4u][k % 4u];
    off += (rem % n) * P.rstride[k / 4u][k % 4u];
    rem = rem / n;
  }
  return off;
}
