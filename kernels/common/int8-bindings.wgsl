// The INT8 kernels' head: `requires` for DOT4 (so include this first), the packed int8 helpers (int8.wgsl) and
// the bindings y (0), wq (1), ws (2), then xq (3) and xs (4) when XQ or float x (3), then Bias when HAS_BIAS and
// the uniform block P last. The including kernel declares struct Params. Defines: DOT4, XQ, HAS_BIAS.
#if DOT4
requires packed_4x8_integer_dot_product;
#endif
#include "int8.wgsl"
@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<storage, read> WQ: array<u32>;
@group(0) @binding(2) var<storage, read> WS: array<f32>;
#if XQ
@group(0) @binding(3) var<storage, read> XQ: array<u32>;
@group(0) @binding(4) var<storage, read> XS: array<f32>;
#if HAS_BIAS
@group(0) @binding(5) var<storage, read> Bias: array<f32>;
@group(0) @binding(6) var<uniform> P: Params;
#else
@group(0) @binding(5) var<uniform> P: Params;
#endif
#else
@group(0) @binding(3) var<storage, read> X: array<f32>;
#if HAS_BIAS
@group(0) @binding(4) var<storage, read> Bias: array<f32>;
@group(0) @binding(5) var<uniform> P: Params;
#else
@group(0) @binding(4) var<uniform> P: Params;
#endif
#endif
