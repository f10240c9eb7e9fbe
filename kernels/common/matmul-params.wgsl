// The matmul kernels' uniform block and epilogue: bias (HAS_BIAS, read from Bias) then the activation ACT, a
// WGSL expression over x taken from the elementwise table. Needs Bias declared by the kernel when HAS_BIAS.
struct Params {
  M: u32,
  N: u32,
  K: u32,
  // batch count of the output
  nb: u32,
  aOff: u32,
  bOff: u32,
  biasOff: u32,
  // first batch of this dispatch (batches beyond the workgroup-count limit go in several dispatches)
  batch0: u32,
  // elements between consecutive matrices of a and b: 0 when broadcast over the batch
  aStep: u32,
  bStep: u32,
  // split-K: K elements per slice
  kChunk: u32,
  // split-K: slice count; matvec: row blocks per batch
  blocks: u32,
}

alias CT = f32;

fn act(x: f32) -> f32 {
  return {{ACT}};
}

fn epilogue(v: f32, n: u32) -> f32 {
#if HAS_BIAS
  return act(v + Bias[P.biasOff + n]);
#else
  return act(v);
#endif
}
