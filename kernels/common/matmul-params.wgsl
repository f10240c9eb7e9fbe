// The matmul kernels' uniform block P, the Bias and P bindings, and the epilogue (epilogue.wgsl: bias when
// HAS_BIAS, then ACT). Include with AT = the first binding after the kernel's storage inputs and NEXT = AT + 1:
// Bias binds at AT and P at NEXT, or P at AT.
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

#if HAS_BIAS
@group(0) @binding({{AT}}) var<storage, read> Bias: array<f32>;
@group(0) @binding({{NEXT}}) var<uniform> P: Params;
#else
@group(0) @binding({{AT}}) var<uniform> P: Params;
#endif

#include "epilogue.wgsl"
