// The tiles of the linearInt8 / linearW8 GEMMs: a workgroup of WG_X x WG_Y threads owns a BM x BN = (4·WG_Y) x
// (4·WG_X) tile of y; thread (tx, ty) owns rows ty + r·WG_Y and columns tx + c·WG_X (r, c < 4), so tile reads are
// conflict-free. Include after int8-linear.wgsl, with TKW = the default words per K step.
override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override TKW: u32 = {{TKW}}u;
override BM: u32 = 4u * WG_Y;
override BN: u32 = 4u * WG_X;
override THREADS: u32 = WG_X * WG_Y;

// y at thread (tx, ty)'s outputs of the tile at (m0, n0): epilogue(acc[r][c]) inside M x N
fn store_tile(m0: u32, n0: u32, tx: u32, ty: u32, acc: array<vec4<f32>, 4>) {
  for (var r = 0u; r < 4u; r++) {
    let m = m0 + ty + r * WG_Y;
    if (m >= P.M) { continue; }
    for (var c = 0u; c < 4u; c++) {
      let n = n0 + tx + c * WG_X;
      if (n < P.N) { Y[m * P.N + n] = epilogue(acc[r][c], n); }
    }
  }
}
