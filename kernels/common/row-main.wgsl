// The row kernels' entry point (reduce, argreduce, softmax, norm): main() finds this thread's row and lane and
// calls the kernel's `fn row_main(li: u32, g: Group, s: Slot)`, with every thread, from uniform control flow.
// Needs P (rows, tpr_log2, rows_log2, spread), Group (reduce-ops.wgsl) and SUBGROUPS.

// Layout: a 256-thread workgroup holds 2^P.rows_log2 rows of 2^P.tpr_log2 lanes. Lanes of a row are adjacent
// threads (P.spread = 0: a subgroup sees one row) or one row-count apart (P.spread = 1: adjacent threads take
// adjacent rows, so reading a non-innermost reduced dim stays coalesced).

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

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>
#if SUBGROUPS
  , @builtin(subgroup_size) sgs: u32
#endif
) {
#if !SUBGROUPS
  let sgs = 0u;
#endif
  row_main(li, group_of(sgs), slot_of(li, wid.x + wid.y * nwg.x));
}
