// Row indexing for the strided row kernels (reduce, argreduce, softmax): the input is seen as P.rows rows (the
// kept dims, in output order) of P.R elements (the reduced dims), each side merged to at most 8 dims with
// shapes and strides in P. The thread layout (tpr_log2, rows_log2, spread) is row-main.wgsl's; it is uniform
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

// row_base(row): storage offset (without P.off) of the first element of `row`
#include "unravel.wgsl" FN=row_base RANK=nk SHAPE=kshape STRIDES=kstride
#include "unravel.wgsl" FN=elem_off_nd RANK=nr SHAPE=rshape STRIDES=rstride

/** Storage offset of reduced element r relative to its row's base. */
fn elem_off(r: u32) -> u32 {
  if (P.nr == 1u) {
    return r * P.rstride[0].x;
  }
  return elem_off_nd(r);
}
