// gather along an axis: out [outer, K, inner] = x [outer, A, inner] at rows indices [K] (i32; with NEG, negative
// counts from the end). One thread per output element; an invalid index writes 0 and is reported by the CHECK
// variant: one workgroup finds the first invalid index and writes E = [its position + 1 (0: none), its raw value].
// Defines: T storage type of x and y; NEG; CHECK.
struct Params {
  n: u32,      // output elements (CHECK: K)
  K: u32,
  A: u32,
  inner: u32,
  xOff: u32,
  iOff: u32,
}
#if CHECK
@group(0) @binding(0) var<storage, read_write> E: array<u32>;
@group(0) @binding(1) var<storage, read> I: array<i32>;
@group(0) @binding(2) var<uniform> P: Params;
#else
@group(0) @binding(0) var<storage, read_write> Y: array<{{T}}>;
@group(0) @binding(1) var<storage, read> X: array<{{T}}>;
@group(0) @binding(2) var<storage, read> I: array<i32>;
@group(0) @binding(3) var<uniform> P: Params;
#endif

/** The row an index selects, or -1 when it is out of range. */
fn row(raw: i32) -> i32 {
  var i = raw;
#if NEG
  if (i < 0) { i += i32(P.A); }
#endif
  return select(-1, i, i >= 0 && i < i32(P.A));
}

#if CHECK
var<workgroup> first: atomic<u32>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) { atomicStore(&first, 0xffffffffu); }
  workgroupBarrier();
  for (var k = lid; k < P.K; k += 256u) {
    if (row(I[P.iOff + k]) < 0) {
      atomicMin(&first, k);
      break;
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let f = atomicLoad(&first);
    if (f == 0xffffffffu) {
      E[0] = 0u;
      E[1] = 0u;
    } else {
      E[0] = f + 1u;
      E[1] = bitcast<u32>(I[P.iOff + f]);
    }
  }
}
#else
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= P.n) { return; }
  let j = i % P.inner;
  let ok = i / P.inner;
  let k = ok % P.K;
  let o = ok / P.K;
  let r = row(I[P.iOff + k]);
  if (r < 0) {
    Y[i] = {{T}}(0);
  } else {
    Y[i] = X[P.xOff + (o * P.A + u32(r)) * P.inner + j];
  }
}
#endif
