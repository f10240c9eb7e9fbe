// concat, one dispatch per input: input i viewed as [outer, block] (block = its axis length * inner) fills the
// columns [dst, dst + block) of the output viewed as [outer, outBlock]. One thread per input element.
// Defines: T storage type.
struct Params {
  n: u32,        // input elements
  block: u32,
  outBlock: u32,
  dst: u32,
  srcOff: u32,
}
@group(0) @binding(0) var<storage, read_write> Y: array<{{T}}>;
@group(0) @binding(1) var<storage, read> X: array<{{T}}>;
@group(0) @binding(2) var<uniform> P: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= P.n) { return; }
  Y[(i / P.block) * P.outBlock + P.dst + i % P.block] = X[P.srcOff + i];
}
