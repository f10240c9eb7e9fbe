// The optional per-channel weight and bias of the normalization kernels (norm, batchnorm): a missing one
// (P.has_w / P.has_b = 0; the program binds x in its slot, never read) reads as 1 / 0.
// Needs the bindings W, B and P (off_w, off_b, has_w, has_b) declared by the kernel.
fn weight_at(c: u32) -> f32 {
  if (P.has_w != 0u) {
    return W[P.off_w + c];
  }
  return 1.0;
}

fn bias_at(c: u32) -> f32 {
  if (P.has_b != 0u) {
    return B[P.off_b + c];
  }
  return 0.0;
}
