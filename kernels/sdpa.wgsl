// Fused scaled-dot-product attention (flash-attention style): scores, scale, mask, an online softmax and the
// weighted sum of values in one pass over the keys, so no [T, S] buffer exists and S may be any length.
// Legend: B = batch, H = heads, T = queries, S = keys/values, D = query/key size, Dv = value size.
//
// One workgroup per (b, h, block of ROWS query rows, chunk of ACC*BK output columns). Its WG threads form a
// ROWS x BK grid: thread (r, c) owns query row r of the block. Keys are visited in tiles of BK: thread (r, c)
// scores key c of the tile against row r (q staged in workgroup memory in chunks of P.dc <= DC; with KTILE the
// key tile too, shared by the ROWS rows), the row's running max m and sum l are updated from the tile (every
// lane of a row computes the same values), and the thread accumulates, in registers, output columns c, c + BK,
// ... of its chunk. Inputs are read through their strides and offsets (views, zero-stride broadcast masks).
// Defines: ACC (output columns per thread), KTILE (stage key tiles: worth it when ROWS > 1).
// Overrides: WG threads, ROWS query rows per workgroup, DC capacity of a staged D chunk.

override WG: u32 = 64u;
override ROWS: u32 = 1u;
override DC: u32 = 64u;
override BK: u32 = WG / ROWS;
// row stride of the key tile: odd, so the lanes of a row read different memory banks
override KSTR: u32 = DC | 1u;

struct Params {
  B: u32, H: u32, T: u32, S: u32,
  D: u32, Dv: u32, causal: u32, scale: f32,
  // query blocks, Dv chunks; -Infinity and NaN (WGSL constant expressions cannot hold them)
  nqb: u32, nz: u32, ninf: f32, nanv: f32,
  // D chunk length; mask kind: 0 none, 1 bool (i32, nonzero = attend), 2 additive (f32)
  dc: u32, mkind: u32, _p0: u32, _p1: u32,
  // element offsets of q, k, v, mask; then each one's strides over [B, H, rows, cols]
  off: vec4<u32>,
  sq: vec4<u32>,
  sk: vec4<u32>,
  sv: vec4<u32>,
  sm: vec4<u32>,
}

@group(0) @binding(0) var<storage, read_write> O: array<f32>;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
// the mask's 32-bit words (any buffer when there is no mask)
@group(0) @binding(4) var<storage, read> M: array<u32>;
@group(0) @binding(5) var<uniform> P: Params;

var<workgroup> q_sh: array<f32, ROWS * DC>;
#if KTILE
var<workgroup> k_sh: array<f32, BK * KSTR>;
#endif
var<workgroup> s_sh: array<f32, WG>;
var<workgroup> p_sh: array<f32, WG>;

// q rows q0 .. q0 + ROWS, columns d0 .. d0 + dc of one (b, h) into q_sh (rows past T as zeros)
fn stage_q(qbase: u32, q0: u32, d0: u32, t: u32) {
  let dc = P.dc;
  for (var e = t; e < ROWS * dc; e += WG) {
    let qi = q0 + e / dc;
    let d = d0 + e % dc;
    var x = 0.0;
    if (qi < P.T && d < P.D) { x = Q[qbase + qi * P.sq.z + d * P.sq.w]; }
    q_sh[(e / dc) * DC + e % dc] = x;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let wid = wg.x + wg.y * nwg.x;
  if (wid >= P.B * P.H * P.nqb * P.nz) { return; }
  let T = P.T;
  let S = P.S;
  let D = P.D;
  let Dv = P.Dv;
  let dc = P.dc;
  let ninf = P.ninf;
  let zc = wid % P.nz;
  let rest = wid / P.nz;
  let q0 = (rest % P.nqb) * ROWS;
  let bh = rest / P.nqb;
  let b = bh / P.H;
  let h = bh % P.H;
  let r = t / BK;
  let c = t % BK;
  let i = q0 + r;
  let live = i < T;
  let qbase = P.off.x + b * P.sq.x + h * P.sq.y;
  let kbase = P.off.y + b * P.sk.x + h * P.sk.y;
  let vbase = P.off.z + b * P.sv.x + h * P.sv.y;
  let mrow = P.off.w + b * P.sm.x + h * P.sm.y + i * P.sm.z;
  let dv0 = zc * {{ACC}}u * BK;
  // keys j < lim may be attended: causal masks j > i + (S - T)
  var lim = S;
  if (P.causal != 0u) { lim = u32(clamp(i32(i) + i32(S) - i32(T) + 1, 0, i32(S))); }

  var m = ninf;
  var l = 0.0;
  var nan = false;
  var acc: array<f32, {{ACC}}>;

  // q fits one chunk (the usual case): stage it once for all key tiles
  let qonce = D <= dc;
  if (qonce) {
    stage_q(qbase, q0, 0u, t);
    workgroupBarrier();
  }

  // Barriers per key tile: one after each staged chunk (and one before restaging a tile's next chunk), one
  // after the scores, one after the probabilities. No write needs a barrier of its own: the last reads of
  // q_sh, k_sh and s_sh precede the previous tile's probability barrier, those of p_sh this tile's score barrier.
  for (var j0 = 0u; j0 < S; j0 += BK) {
    // score of key j0 + c for row r, over D in chunks of dc
    var dot = 0.0;
    for (var d0 = 0u; d0 < D; d0 += dc) {
      if (d0 > 0u) { workgroupBarrier(); }
      if (!qonce) { stage_q(qbase, q0, d0, t); }
#if KTILE
      for (var e = t; e < BK * dc; e += WG) {
        let j = j0 + e / dc;
        let d = d0 + e % dc;
        var x = 0.0;
        if (j < S && d < D) { x = K[kbase + j * P.sk.z + d * P.sk.w]; }
        k_sh[(e / dc) * KSTR + e % dc] = x;
      }
      workgroupBarrier();
#else
      if (!qonce) { workgroupBarrier(); }
#endif
      let n = min(dc, D - d0);
#if KTILE
      for (var d = 0u; d < n; d++) { dot += q_sh[r * DC + d] * k_sh[c * KSTR + d]; }
#else
      if (j0 + c < S) {
        let kp = kbase + (j0 + c) * P.sk.z + d0 * P.sk.w;
        for (var d = 0u; d < n; d++) { dot += q_sh[r * DC + d] * K[kp + d * P.sk.w]; }
      }
#endif
    }
    let j = j0 + c;
    var sc = ninf;
    if (live && j < lim) {
      sc = dot * P.scale;
      if (P.mkind == 1u) {
        if (M[mrow + j * P.sm.w] == 0u) { sc = ninf; }
      } else if (P.mkind == 2u) {
        sc += bitcast<f32>(M[mrow + j * P.sm.w]);
      }
    }
    s_sh[t] = sc;
    workgroupBarrier();

    // the row's new running max (every lane of the row reads the same scores, so all agree); a NaN or +inf
    // score makes the whole row NaN (as on the CPU: inf - inf), tested on the bits since exp(NaN) and max(x, NaN)
    // vary between GPUs. Each lane then takes the exp of its own score.
    var tmax = ninf;
    for (var jj = 0u; jj < BK; jj++) {
      let x = s_sh[r * BK + jj];
      tmax = max(tmax, x);
      let xb = bitcast<u32>(x);
      nan = nan || (xb & 0x7fffffffu) > 0x7f800000u || xb == 0x7f800000u;
    }
    let mnew = max(m, tmax);
    var p = 0.0;
    if (mnew > ninf) { p = exp(sc - mnew); }
    p_sh[t] = p;
    workgroupBarrier();

    // rescale what was accumulated under the old max (while every key so far is masked, m = mnew = -inf and
    // nothing is rescaled), then add this tile's p·v. Keys with p = 0 (masked) are added too, as p·v is in
    // PyTorch: 0·NaN and 0·inf make NaN, so a NaN or inf in any value reaches every row.
    var corr = 1.0;
    if (mnew > ninf) { corr = exp(m - mnew); }
    for (var a = 0u; a < {{ACC}}u; a++) { acc[a] *= corr; }
    var sum = 0.0;
    for (var jj = 0u; jj < BK && j0 + jj < S; jj++) {
      let pj = p_sh[r * BK + jj];
      sum += pj;
      let vrow = vbase + (j0 + jj) * P.sv.z;
      for (var a = 0u; a < {{ACC}}u; a++) {
        let col = dv0 + c + a * BK;
        if (col < Dv) { acc[a] += pj * V[vrow + col * P.sv.w]; }
      }
    }
    l = l * corr + sum;
    m = mnew;
  }

  if (!live) { return; }
  // a row with every key masked (m still -inf) gives Σ 0·v: zeros, or NaN where a value is NaN or inf
  let orow = (bh * T + i) * Dv;
  for (var a = 0u; a < {{ACC}}u; a++) {
    let col = dv0 + c + a * BK;
    if (col < Dv) {
      var y = 0.0;
      if (nan) { y = P.nanv; }
      else if (m > ninf) { y = acc[a] / l; }
      else { y = acc[a]; }
      O[orow + col] = y;
    }
  }
}
