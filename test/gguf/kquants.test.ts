// A Q4_K_M-style file (Q4_K matrices, Q6_K ffn_down and output) built from seeded random blocks: the float model holds
// exactly the reference dequantization, and the int8 model (requantized to Q8_0 once at load) stays close to it.
// Also the metadata errors: an unknown architecture, a bad rope_freqs.weight, a missing key.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';

const C = 256, V = 64;

function kBlocks(type: 'Q4_K' | 'Q6_K', n: number, rng: () => number): Uint8Array {
  const b = new Uint8Array(fp.ggmlBytes(type, n)).map(() => Math.floor(rng() * 256));
  const size = fp.GGML_TYPES[type].typeSize;
  for (let o = 0; o < b.length; o += size) {
    if (type === 'Q4_K') { b[o] = 0x00; b[o + 1] = 0x0c; b[o + 2] = 0x00; b[o + 3] = 0x0c; } // d = dmin = 2^-12
    else { b[o + 208] = 0x00; b[o + 209] = 0x04; } // d = 2^-14
  }
  return b;
}

function file(extra: Record<string, fp.GgufValue> = {}, more: fp.GgufWriteTensor[] = []): Uint8Array {
  const rng = fp.makeRng(11);
  const f32 = (n: number, f: () => number) => new Uint8Array(Float32Array.from({ length: n }, f).buffer);
  const t: fp.GgufWriteTensor[] = [
    { name: 'token_embd.weight', type: 'F32', ne: [C, V], data: f32(C * V, () => rng() - 0.5) },
    { name: 'output_norm.weight', type: 'F32', ne: [C], data: f32(C, () => 1) },
    { name: 'output.weight', type: 'Q6_K', ne: [C, V], data: kBlocks('Q6_K', C * V, rng) },
    { name: 'blk.0.attn_norm.weight', type: 'F32', ne: [C], data: f32(C, () => 1) },
    { name: 'blk.0.ffn_norm.weight', type: 'F32', ne: [C], data: f32(C, () => 1) },
    ...['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up'].map((n) => ({ name: `blk.0.${n}.weight`, type: 'Q4_K' as const, ne: [C, C], data: kBlocks('Q4_K', C * C, rng) })),
    { name: 'blk.0.ffn_down.weight', type: 'Q6_K', ne: [C, C], data: kBlocks('Q6_K', C * C, rng) },
    ...more,
  ];
  return fp.writeGguf({
    'general.architecture': 'llama', 'llama.embedding_length': C, 'llama.block_count': 1, 'llama.feed_forward_length': C, 'llama.attention.head_count': 4,
    'llama.attention.head_count_kv': 4, 'llama.context_length': 64, 'llama.attention.layer_norm_rms_epsilon': 1e-5, ...extra,
  }, t);
}

describe('K-quant files', () => {
  it('Q4_K/Q6_K: f32 holds the reference dequantization (q rows un-permuted); int8 requantized stays within cosine 0.999', async () => {
    const f = fp.readGguf(file());
    const flt = await fp.ggufModelFromFile(f, { precision: 'f32' });
    const q = (await flt.getSubmodule('model.layers.0.self_attn.q_proj').getParameter('weight').data()) as Float32Array;
    const raw = fp.dequantizeRowQ4_KRef(fp.ggufTensorBytes(f, 'blk.0.attn_q.weight'), C * C);
    const order = fp.unpermuteRows(C, 4);
    for (const r of [0, 1, 31, 32, 33, 200]) expect(q.subarray(r * C, r * C + C)).toEqual(raw.subarray(order[r]! * C, order[r]! * C + C));
    const int8 = await fp.ggufModelFromFile(f, { activations: 'none' });
    expect(int8.getSubmodule('model.layers.0.mlp.down_proj')).toBeInstanceOf(fp.QuantizedLinear);
    const ids = fp.tensor([[1, 5, 9, 33, 60, 2, 7, 8]], { dtype: 'int32' });
    const a = (await flt.forward(ids).logits!.data()) as Float32Array, b = (await int8.forward(ids).logits!.data()) as Float32Array;
    let dot = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) { dot += a[i]! * b[i]!; aa += a[i]! ** 2; bb += b[i]! ** 2; }
    expect(dot / Math.sqrt(aa * bb)).toBeGreaterThan(0.999); // measured 0.999984 (max |d| 0.022 on logits up to 3.6), W8
    flt.dispose(); int8.dispose();
  });

  it('metadata the loader cannot honour is one error naming it', async () => {
    await expect(fp.ggufModelFromFile(fp.readGguf(file({ 'general.architecture': 'rwkv6' })))).rejects.toThrow(/architecture 'rwkv6' is not supported; supported: llama, mistral, qwen2, qwen3, gemma, phi3/);
    await expect(fp.ggufModelFromFile(fp.readGguf(file({}, [{ name: 'rope_freqs.weight', type: 'F32', ne: [16], data: new Uint8Array(64) }])))).rejects.toThrow(/rope_freqs\.weight has shape \[16\]; 64 rotary dims need \[32\]/);
    await expect(fp.ggufModelFromFile(fp.readGguf(file({}, [{ name: 'rope_freqs.weight', type: 'F32', ne: [32], data: new Uint8Array(128) }])))).rejects.toThrow(/rope_freqs\.weight must hold positive finite factors; found 0 at 0/);
    await expect(fp.ggufModelFromFile(fp.readGguf(file({ 'llama.rope.scaling.type': 'longrope' })))).rejects.toThrow(/'llama.rope.scaling.type' = "longrope" is not supported/);
    const noHeads = fp.writeGguf({ 'general.architecture': 'llama', 'llama.embedding_length': 8 }, [{ name: 'token_embd.weight', type: 'F32', ne: [8, 2], data: new Uint8Array(64) }]);
    await expect(fp.ggufModelFromFile(fp.readGguf(noHeads))).rejects.toThrow(/the file has no 'llama.attention.head_count'/);
    await expect(fp.ggufModelFromFile(fp.readGguf(file({}, [{ name: 'blk.0.mystery.weight', type: 'F32', ne: [4], data: new Uint8Array(16) }])))).rejects.toThrow(/tensor 'blk.0.mystery.weight' has no place/);
  });
});

describe('tensor shapes against the metadata', () => {
  it('a tensor whose shape disagrees with the metadata is one error naming both', async () => {
    const bytes = file({ 'llama.feed_forward_length': 512 });
    await expect(fp.ggufModelFromFile(fp.readGguf(bytes))).rejects.toThrow(/tensor 'blk\.0\.ffn_(gate|up|down)\.weight' has shape \[\d+, \d+\] \(ne \[\d+, \d+\]\); the metadata's model needs \[\d+, \d+\]/);
  });
});
