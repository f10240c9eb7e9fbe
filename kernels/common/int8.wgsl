// Packed int8 helpers for the INT8 kernels: 4 signed bytes per u32 word, element 4i in the lowest byte of word i.
// DOT4: the packed_4x8_integer_dot_product builtins (dot4I8Packed, unpack4xI8); otherwise their portable twins,
// which unpack with extractBits (sign-extending on i32) and multiply. The kernel puts `requires` first when DOT4.

// Σ_j a_j · b_j over the 4 signed bytes of a and b.
fn dot_i8x4(a: u32, b: u32) -> i32 {
#if DOT4
  return dot4I8Packed(a, b);
#else
  let x = bitcast<i32>(a);
  let y = bitcast<i32>(b);
  return extractBits(x, 0u, 8u) * extractBits(y, 0u, 8u) + extractBits(x, 8u, 8u) * extractBits(y, 8u, 8u)
       + extractBits(x, 16u, 8u) * extractBits(y, 16u, 8u) + extractBits(x, 24u, 8u) * extractBits(y, 24u, 8u);
#endif
}

// The 4 signed bytes of a, lowest first.
fn unpack_i8x4(a: u32) -> vec4<i32> {
#if DOT4
  return unpack4xI8(a);
#else
  let x = bitcast<i32>(a);
  return vec4<i32>(extractBits(x, 0u, 8u), extractBits(x, 8u, 8u), extractBits(x, 16u, 8u), extractBits(x, 24u, 8u));
#endif
}

// Word w of a row whose values end at k: the bytes at or past k are zeroed (padding is zero by contract, but
// a hand-made tensor may hold anything there).
fn keep_bytes(v: u32, w: u32, k: u32) -> u32 {
  let end = w * 4u + 4u;
  if (end <= k) { return v; }
  if (w * 4u >= k) { return 0u; }
  return v & ((1u << ((k - w * 4u) * 8u)) - 1u);
}

// Signed byte i (in bytes from the start of the buffer) of a packed array read through `word`.
fn byte_of(word: u32, i: u32) -> i32 {
  return extractBits(bitcast<i32>(word), (i & 3u) * 8u, 8u);
}
