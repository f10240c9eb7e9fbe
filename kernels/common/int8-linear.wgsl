// The head of the linearInt8 / linearW8 kernels: int8-bindings.wgsl, their uniform block P (two kernel-specific
// words named S0 and S1 by the includer) and epilogue.wgsl (bias when HAS_BIAS, then ACT).
// Legend: M = rows, N = columns, k = true inner size, KW = ceil(k / 4) words, KpW = padded row length in words.
// Include first, with XQ (int8 x) and S0, S1. Defines: DOT4, HAS_BIAS, ACT.
#include "int8-bindings.wgsl"
struct Params {
  M: u32,
  N: u32,
  k: u32,
  KW: u32,
  KpW: u32,
  nb: u32,
  {{S0}}: u32,
  {{S1}}: u32,
  // offsets: packed int8 tensors in words, the rest in elements
  xOff: u32,
  xsOff: u32,
  wOff: u32,
  wsOff: u32,
  biasOff: u32,
}

#include "epilogue.wgsl"
