// matmul-gemm: tiled GEMM, A and B tiles staged through workgroup memory, each thread a 4x4 register block, fused bias + activation.
// Legend: B = batch, M = rows, N = columns, K = inner dim; a [Ba, M, K], b [Bb, K, N] or [Bb, N, K] (TRANS_B),
// C [B, M, N]; Ba, Bb are 1 or B (P.aStep / P.bStep = 0 broadcasts). A workgroup of WG_X x WG_Y threads owns a
// (4·WG_Y) x (4·WG_X) tile of C and walks K in steps of TK; thread (x, y) owns rows 4y..4y+3, columns 4x..4x+3.
// Both tiles are held as vec4 along the dim the inner loop reads: A along K, B along N (Bᵀ is transposed while
// staged, so TRANS_B needs no copy). SPLIT: workgroup z = slice·nb + batch covers K range [slice·kChunk, +kChunk)
// and writes raw partial sums to C [slices, B, M, N] (matmul-splitk.wgsl adds them up).
// Defines: VEC4, OUT4, TRANS_B, HAS_BIAS, ACT, SPLIT. Constants: WG_X, WG_Y, TK (a multiple of 4).
#include "matmul-params.wgsl" AT=3 NEXT=4
#include "matmul-io.wgsl"

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override TK: u32 = 16u;

// A tile: [4·WG_Y rows][TK / 4] vec4 along k; B tile: [TK][WG_X] vec4 along n
var<workgroup> tileA: array<vec4<f32>, WG_Y * TK>;
var<workgroup> tileB: array<vec4<f32>, TK * WG_X>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let li = ty * WG_X + tx;
  let threads = WG_X * WG_Y;
  let kq = TK / 4u;
  let m0 = wid.y * 4u * WG_Y;
  let n0 = wid.x * 4u * WG_X;
#if SPLIT
  let slice = wid.z / P.nb;
  let b = wid.z % P.nb;
  let kBegin = slice * P.kChunk;
  let kEnd = min(P.K, kBegin + P.kChunk);
#else
  let b = P.batch0 + wid.z;
  let kBegin = 0u;
  let kEnd = P.K;
#endif
  let aBase = P.aOff + b * P.aStep;
  let bBase = P.bOff + b * P.bStep;

  var acc: array<vec4<f32>, 4>;
  for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
    for (var i = li; i < 4u * WG_Y * kq; i += threads) {
      tileA[i] = a4(aBase, m0 + i / kq, k0 + (i % kq) * 4u, kEnd);
    }
#if TRANS_B
    for (var i = li; i < 4u * WG_X * kq; i += threads) {
      let c = i / kq;
      let q = i % kq;
      let v = bt4(bBase, n0 + c, k0 + q * 4u, kEnd);
      for (var j = 0u; j < 4u; j++) {
        tileB[(q * 4u + j) * WG_X + c / 4u][c % 4u] = v[j];
      }
    }
#else
    for (var i = li; i < TK * WG_X; i += threads) {
      tileB[i] = b4(bBase, k0 + i / WG_X, n0 + (i % WG_X) * 4u, kEnd);
    }
#endif
    workgroupBarrier();
    for (var q = 0u; q < kq; q++) {
      let b0 = tileB[(q * 4u) * WG_X + tx];
      let b1 = tileB[(q * 4u + 1u) * WG_X + tx];
      let b2 = tileB[(q * 4u + 2u) * WG_X + tx];
      let b3 = tileB[(q * 4u + 3u) * WG_X + tx];
      for (var r = 0u; r < 4u; r++) {
        let a = tileA[(ty * 4u + r) * kq + q];
        acc[r] = fma(vec4<f32>(a.x), b0, acc[r]);
        acc[r] = fma(vec4<f32>(a.y), b1, acc[r]);
        acc[r] = fma(vec4<f32>(a.z), b2, acc[r]);
        acc[r] = fma(vec4<f32>(a.w), b3, acc[r]);
      }
    }
    workgroupBarrier();
  }

#if SPLIT
  let outBatch = slice * P.nb + b;
#else
  let outBatch = b;
#endif
  let n = n0 + tx * 4u;
  for (var r = 0u; r < 4u; r++) {
    let m = m0 + ty * 4u + r;
    if (m < P.M) { store4((outBatch * P.M + m) * P.N, n, acc[r]); }
  }
}
