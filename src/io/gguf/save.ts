// A llama model (LlamaForCausalLM, float or int8) written as a GGUF file in llama.cpp's layout: llama.* metadata,
// llama.cpp tensor names, q/k rows permuted for adjacent-pair RoPE, Q8_0 QuantizedLinear weights as Q8_0 blocks.
import { f32ToF16 } from '../../tensor/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LlamaForCausalLM } from '../../nn/models/llama.js';
import { QuantizedLinear } from '../../quant/modules.js';
import { unpermuteRows } from './model.js';
import type { Q8Embedding } from './embedding.js';
import type { GgufKv, GgufValue } from './reader.js';
import { writeGguf, type GgufWriteTensor } from './writer.js';

const W = 'ggufFromLlama';

function ggufName(key: string): string {
  const hf = key === 'model.embed_tokens.qs' ? 'model.embed_tokens.weight' : key.replace(/\.weight\.qs$/, '.weight');
  const fixed: Record<string, string> = { 'model.embed_tokens.weight': 'token_embd.weight', 'model.norm.weight': 'output_norm.weight', 'lm_head.weight': 'output.weight' };
  if (fixed[hf]) return fixed[hf];
  const m = /^model\.layers\.(\d+)\.(.+)\.weight(\.qs|\.d)?$/.exec(hf);
  const parts: Record<string, string> = {
    input_layernorm: 'attn_norm', post_attention_layernorm: 'ffn_norm', 'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v',
    'self_attn.o_proj': 'attn_output', 'mlp.gate_proj': 'ffn_gate', 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down',
  };
  if (!m || !parts[m[2]!]) throw new Error(`forwardpass: ${W}: parameter '${key}' has no llama.cpp name`);
  return `blk.${m[1]}.${parts[m[2]!]}.weight`;
}

/** Rows reordered the way convert_hf_to_gguf.py permutes q/k: gguf row order[r] holds HF row r. */
function permute(rows: number, nHead: number): Int32Array {
  return unpermuteRows(rows, nHead);
}

function f32Bytes(v: Float32Array): Uint8Array {
  const c = v.slice();
  return new Uint8Array(c.buffer);
}

/**
 * Serialize a llama model to GGUF bytes: float weights as F32, Q8_0 int8 layers as Q8_0 (their quants and f16
 * scales exactly). `metadata` is merged in (e.g. the tokenizer.ggml.* keys of the file it came from).
 *
 * @example writeFileSync('out.gguf', await ggufFromLlama(await quantize(lm, { weights: 'q8_0' })));
 */
export async function ggufFromLlama(model: LlamaForCausalLM, opts: { name?: string; metadata?: Record<string, GgufValue | GgufKv> } = {}): Promise<Uint8Array> {
  const c = model.c;
  const unsupported = [c.qkvBias && 'q/k/v biases', c.oBias && 'an o_proj bias', c.mlpBias && 'MLP biases', c.qkNorm && 'q/k norms', c.fused && 'fused projections',
    c.normPlusOne && '(1 + w) norms', c.embedScale && 'scaled embeddings', c.act !== 'silu' && `${c.act} MLPs`, c.rope.type !== 'default' && `${c.rope.type} RoPE`,
    c.slidingWindows.some((w) => w !== null) && 'sliding windows'].filter(Boolean);
  if (unsupported.length) throw new Error(`forwardpass: ${W}: the GGUF 'llama' architecture has no ${unsupported.join(', ')}; this model cannot be written as one`);
  const f32 = (v: number): GgufKv => ({ type: 'FLOAT32', value: v });
  const u32 = (v: number): GgufKv => ({ type: 'UINT32', value: v });
  const tensors: GgufWriteTensor[] = [];
  let anyQ8 = false;
  const quantized = new Map(model.namedModules().filter(([, m]) => m instanceof QuantizedLinear) as [string, QuantizedLinear][]);
  for (const [key, t] of model.namedParameters()) {
    if (key.endsWith('.weight.d') || key === 'model.embed_tokens.d') continue;
    const isQ = key.includes('.q_proj.'), isK = key.includes('.k_proj.');
    const name = ggufName(key);
    const emb = key === 'model.embed_tokens.qs' ? (model.getSubmodule('model.embed_tokens') as Q8Embedding) : undefined;
    const q = key.endsWith('.weight.qs') ? quantized.get(key.slice(0, -10)) : undefined;
    const rows = t.shape[0]!, cols = t.shape.length > 1 ? t.shape[1]! : 1;
    const order = isQ || isK ? permute(rows, isQ ? c.numHeads : c.numKvHeads) : null;
    // gguf row g holds HF row src where order[src] = g
    const srcOf = new Int32Array(rows);
    for (let r = 0; r < rows; r++) srcOf[order ? order[r]! : r] = r;
    if (q || emb) {
      if (q && (q.weight.scheme !== 'q8_0' || q.weight.kp !== q.weight.k)) throw new Error(`forwardpass: ${W}: layer '${key.slice(0, -10)}' is quantized per channel; GGUF needs Q8_0 (quantize with weights 'q8_0')`);
      anyQ8 = true;
      const qs = (await (q ? q.weight.qs : emb!.getParameter('qs')).data()) as Int8Array;
      const dt: Tensor = q ? q.weight.d : emb!.getParameter('d');
      const draw = await dt.data();
      const nb = cols / 32;
      const out = new Uint8Array(rows * nb * 34);
      for (let g = 0; g < rows; g++) {
        const r = srcOf[g]!;
        for (let b = 0; b < nb; b++) {
          const o = (g * nb + b) * 34;
          const h = dt.dtype === 'float16' && draw instanceof Uint16Array ? draw[r * nb + b]! : f32ToF16(Number(draw[r * nb + b]));
          out[o] = h & 255; out[o + 1] = h >> 8;
          out.set(new Uint8Array(qs.buffer, qs.byteOffset + r * cols + b * 32, 32), o + 2);
        }
      }
      tensors.push({ name, type: 'Q8_0', ne: [cols, rows], data: out });
      continue;
    }
    const v = Float32Array.from(await t.data() as ArrayLike<number>);
    if (t.shape.length === 1) { tensors.push({ name, type: 'F32', ne: [rows], data: f32Bytes(v) }); continue; }
    const out = new Float32Array(rows * cols);
    for (let g = 0; g < rows; g++) out.set(v.subarray(srcOf[g]! * cols, srcOf[g]! * cols + cols), g * cols);
    tensors.push({ name, type: 'F32', ne: [cols, rows], data: new Uint8Array(out.buffer) });
  }
  const meta: Record<string, GgufValue | GgufKv> = {
    'general.architecture': 'llama', 'general.name': opts.name ?? 'forwardpass', 'general.file_type': u32(anyQ8 ? 7 : 0), 'general.quantization_version': u32(2),
    'llama.context_length': u32(c.maxPositions), 'llama.embedding_length': u32(c.hiddenSize), 'llama.block_count': u32(c.numLayers),
    'llama.feed_forward_length': u32(c.intermediateSize), 'llama.attention.head_count': u32(c.numHeads), 'llama.attention.head_count_kv': u32(c.numKvHeads),
    'llama.rope.freq_base': f32(c.rope.theta), 'llama.attention.layer_norm_rms_epsilon': f32(c.rmsEps), 'llama.rope.dimension_count': u32(c.rope.dim),
    'llama.vocab_size': u32(c.vocabSize),
    ...(c.headDim * c.numHeads !== c.hiddenSize ? { 'llama.attention.key_length': u32(c.headDim), 'llama.attention.value_length': u32(c.headDim) } : {}),
    ...opts.metadata,
  };
  return writeGguf(meta, tensors);
}
