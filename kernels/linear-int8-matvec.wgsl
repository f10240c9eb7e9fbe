// linear-int8-matvec: linearInt8 (XQ: int8 x) and linearW8 (float x) for few rows (ROWS ≤ 4 per workgroup):
// one workgroup per 4 output columns, its threads splitting the inner dim in chunks, then a tree reduction
// through workgroup memory.
// Legend: M = rows, N = columns, k = true inner size, KW = ceil(k / 4) words, KpW = padded row length in words;
// wq [N, Kp] int8 packed, ws [N, nb]; XQ: xq [M, Kp] int8 packed with xs [M, nb], else x [M, k] float; y [M, N].
// Workgroup z = row block (rows z·ROWS ..), x + y·nwg.x = column block (columns 4·that ..). A chunk is cw words:
// one scale block (BLOCK: cw = block / 4, its int32 or float sum scaled as it ends) or, with per-row scales, a run
// of words whose sums are scaled once after the reduction (XQ: exact int32 sums, reduced as integers).
// Defines: DOT4, XQ, BLOCK, ROWS, HAS_BIAS, ACT. Constant: WG (a power of two).
#include "int8-linear.wgsl" S0=cw S1=chunks

const ROWS = {{ROWS}}u;
override WG: u32 = 64u;

#if XQ
// ST: a chunk's sums (exact int32); RT: what is reduced (int32 with per-row scales, scaled floats with blocks)
alias ST = vec4<i32>;
#if BLOCK
alias RT = vec4<f32>;
#else
alias RT = vec4<i32>;
#endif
// word w of row m times the 4 columns' weight words ww
fn part(m: u32, w: u32, ww: vec4<u32>) -> ST {
  let a = keep_bytes(XQ[P.xOff + m * P.KpW + w], w, P.k);
  return vec4<i32>(dot_i8x4(a, ww.x), dot_i8x4(a, ww.y), dot_i8x4(a, ww.z), dot_i8x4(a, ww.w));
}
#else
alias ST = vec4<f32>;
alias RT = vec4<f32>;
fn part(m: u32, w: u32, ww: vec4<u32>) -> ST {
  var a = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (w * 4u + j < P.k) { a[j] = X[P.xOff + m * P.k + w * 4u + j]; }
  }
  return vec4<f32>(dot(a, vec4<f32>(unpack_i8x4(ww.x))), dot(a, vec4<f32>(unpack_i8x4(ww.y))),
                   dot(a, vec4<f32>(unpack_i8x4(ww.z))), dot(a, vec4<f32>(unpack_i8x4(ww.w))));
}
#endif

// row r's slot of thread t
var<workgroup> red: array<RT, WG * ROWS>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n0 = (wid.x + wid.y * nwg.x) * 4u;
  if (n0 >= P.N) { return; }
  let m0 = wid.z * ROWS;
  // columns past N read column n0 (always valid) and are never stored
  var cols: vec4<u32>;
  for (var c = 0u; c < 4u; c++) { cols[c] = select(n0, n0 + c, n0 + c < P.N); }

  var acc: array<RT, ROWS>;
  for (var ch = lid; ch < P.chunks; ch += WG) {
    // explicitly zeroed: the implicit zero of a declaration inside a loop was seen to persist on SwiftShader
    var sum = array<ST, ROWS>();
    let wEnd = min(ch * P.cw + P.cw, P.KW);
    for (var w = ch * P.cw; w < wEnd; w++) {
      let ww = vec4<u32>(WQ[P.wOff + cols.x * P.KpW + w], WQ[P.wOff + cols.y * P.KpW + w],
                         WQ[P.wOff + cols.z * P.KpW + w], WQ[P.wOff + cols.w * P.KpW + w]);
      for (var r = 0u; r < ROWS; r++) {
        if (m0 + r < P.M) { sum[r] += part(m0 + r, w, ww); }
      }
    }
#if BLOCK
    let ws = vec4<f32>(WS[P.wsOff + cols.x * P.nb + ch], WS[P.wsOff + cols.y * P.nb + ch], WS[P.wsOff + cols.z * P.nb + ch], WS[P.wsOff + cols.w * P.nb + ch]);
    for (var r = 0u; r < ROWS; r++) {
      if (m0 + r < P.M) {
#if XQ
        acc[r] += vec4<f32>(sum[r]) * XS[P.xsOff + (m0 + r) * P.nb + ch] * ws;
#else
        acc[r] += sum[r] * ws;
#endif
      }
    }
#else
    for (var r = 0u; r < ROWS; r++) { acc[r] += sum[r]; }
#endif
  }

  for (var r = 0u; r < ROWS; r++) { red[r * WG + lid] = acc[r]; }
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h = h / 2u) {
    if (lid < h) {
      for (var r = 0u; r < ROWS; r++) { red[r * WG + lid] += red[r * WG + lid + h]; }
    }
    workgroupBarrier();
  }

  if (lid < ROWS && m0 + lid < P.M) {
    let m = m0 + lid;
#if BLOCK
    let v = red[lid * WG];
#else
    let ws = vec4<f32>(WS[P.wsOff + cols.x * P.nb], WS[P.wsOff + cols.y * P.nb], WS[P.wsOff + cols.z * P.nb], WS[P.wsOff + cols.w * P.nb]);
#if XQ
    let v = vec4<f32>(red[lid * WG]) * XS[P.xsOff + m * P.nb] * ws;
#else
    let v = red[lid * WG] * ws;
#endif
#endif
    for (var c = 0u; c < 4u; c++) {
      if (n0 + c < P.N) {
        Y[m * P.N + n0 + c] = epilogue(v[c], n0 + c);
      }
    }
  }
}
