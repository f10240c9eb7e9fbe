// The uniform block shared by the elementwise kernels: element count, output rank and shape (up to 8 dims),
// two float parameters, and for up to three inputs an element offset and strides over the output shape.
struct Params {
  n: u32,
  rank: u32,
  alpha: f32,
  beta: f32,
  shape: array<vec4<u32>, 2>,
  off: vec4<u32>,
  sa: array<vec4<u32>, 2>,
  sb: array<vec4<u32>, 2>,
  sc: array<vec4<u32>, 2>,
}
