// The epilogue of the matmul and linear kernels: y = act(v + Bias[P.biasOff + n]) (HAS_BIAS) or act(v), where ACT
// is a WGSL expression over x from the elementwise table (math.wgsl is included for it). Needs P.biasOff and, with
// HAS_BIAS, the Bias binding. Defines: HAS_BIAS, ACT.
alias CT = f32;
#include "math.wgsl" CT=f32

fn act(x: f32) -> f32 {
  return {{ACT}};
}

// y[m, n] from its sum v
fn epilogue(v: f32, n: u32) -> f32 {
#if HAS_BIAS
  return act(v + Bias[P.biasOff + n]);
#else
  return act(v);
#endif
}
