// A llama-family model from a GGUF file (llama, mistral, qwen2, qwen3, gemma, phi3): the `<arch>.*` metadata becomes the
// model's config, llama.cpp tensor names become HF module names (q/k rows un-permuted for llama's adjacent-pair RoPE,
// gemma's stored 1 + w norms back to w, rope_freqs.weight as per-frequency RoPE factors), and Q8_0 weights go straight into
// QuantizedLinear layers (int8 quants + f16 scales, no float copy); other quantized types are requantized to Q8_0.
import { adoptStorage } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { f32ToF16 } from '../../tensor/dtype.js';
import { LlamaForCausalLM } from '../../nn/models/llama.js';
import { Linear } from '../../nn/linear.js';
import { hfModelFromConfig } from '../hf/index.js';
import { QuantizedLinear, type ActivationMode } from '../../quant/modules.js';
import { quantizeRowsRef, roundScalesToF16 } from '../../quant/formats.js';
import { f16ToF32 } from '../../tensor/dtype.js';
import { dequantizeGgml } from './blocks.js';
import { Q8Embedding } from './embedding.js';
import type { GgufFile, GgufTensorInfo, GgufValue } from './reader.js';
import { ggufTensorBytes } from './reader.js';

export type GgufPrecision = 'int8' | 'f32' | 'f16';

export interface GgufLoadOptions {
  device?: string;
  /** 'int8' (default for files whose matrices are quantized): Linear layers run the int8 kernels, Q8_0 weights as
   * they are, other types requantized to Q8_0 once; 'f32' dequantizes every weight (default for F32/F16/BF16
   * files); 'f16' dequantizes and stores float16. Embeddings and norms are always float. */
  precision?: GgufPrecision;
  /** Int8 layers: 'none' (default) keeps activations float (W8, weight-only: only the file's rounding error, and
   * on the CPU fast path faster than float32 at batch 1), 'dynamic' quantizes them per block of 32 (W8A8). */
  activations?: Extract<ActivationMode, 'dynamic' | 'none'>;
}

/**
 * Architectures whose GGUF tensors map onto LlamaForCausalLM: the HF model_type they build, whether llama.cpp permuted
 * their q/k rows (only the archs its graph ropes in adjacent pairs: llama and mistral; qwen2, qwen3, gemma and phi3
 * use NeoX-style rotate-half RoPE, as HF does), and llama.cpp names that mean something else in that arch.
 */
interface GgufArch { modelType: string; permuted: boolean; names?: Record<string, string>; normPlusOne?: boolean }
const ARCHS: Record<string, GgufArch> = {
  llama: { modelType: 'llama', permuted: true },
  mistral: { modelType: 'mistral', permuted: true },
  qwen2: { modelType: 'qwen2', permuted: false },
  qwen3: { modelType: 'qwen3', permuted: false },
  // llama.cpp's converter stores gemma's RMSNorm weights as 1 + w (its graph then uses plain RMSNorm)
  gemma: { modelType: 'gemma', permuted: false, normPlusOne: true },
  // fused projections: attn_qkv = [q; k; v] rows, ffn_up = [gate; up] rows (gate first, as HF's gate_up_proj)
  phi3: { modelType: 'phi3', permuted: false, names: { attn_qkv: 'self_attn.qkv_proj', ffn_up: 'mlp.gate_up_proj' } },
};
const HF_ARCHITECTURE: Record<string, string> = {
  llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM', gemma: 'GemmaForCausalLM', phi3: 'Phi3ForCausalLM',
};

const FLOAT_TYPES = new Set(['F32', 'F16', 'BF16']);
const W = 'gguf';

const FIXED_NAMES: Record<string, string> = { 'token_embd.weight': 'model.embed_tokens.weight', 'output_norm.weight': 'model.norm.weight', 'output.weight': 'lm_head.weight' };
const BLOCK_NAMES: Record<string, string> = {
  attn_norm: 'input_layernorm', ffn_norm: 'post_attention_layernorm', attn_q: 'self_attn.q_proj', attn_k: 'self_attn.k_proj',
  attn_v: 'self_attn.v_proj', attn_output: 'self_attn.o_proj', attn_q_norm: 'self_attn.q_norm', attn_k_norm: 'self_attn.k_norm',
  ffn_gate: 'mlp.gate_proj', ffn_up: 'mlp.up_proj', ffn_down: 'mlp.down_proj',
};

/** HF name of a llama.cpp tensor name in architecture `arch` (default llama), or null when unknown. */
export function hfTensorName(name: string, arch = 'llama'): string | null {
  if (FIXED_NAMES[name]) return FIXED_NAMES[name];
  const m = /^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$/.exec(name);
  if (!m) return null;
  const p = ARCHS[arch]?.names?.[m[2]!] ?? BLOCK_NAMES[m[2]!];
  return p ? `model.layers.${m[1]}.${p}.${m[3]}` : null;
}

/** The llama.cpp name of an HF parameter name (the inverse of hfTensorName), for errors. */
function ggufTensorName(key: string, arch: string): string {
  for (const [g, h] of Object.entries(FIXED_NAMES)) if (h === key) return g;
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(key);
  const names = { ...BLOCK_NAMES, ...ARCHS[arch]?.names };
  const g = m && Object.keys(names).find((k) => names[k] === m[2]);
  return g ? `blk.${m![1]}.${g}.${m![3]}` : key;
}

function meta(file: GgufFile, key: string): GgufValue | undefined {
  return file.metadata.get(key)?.value;
}

function numberMeta(file: GgufFile, key: string, fallback?: number): number {
  const v = meta(file, key);
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Error(`forwardpass: ${W}: the file has no '${key}' (needed to build the model)`);
  }
  if (typeof v !== 'number') throw new Error(`forwardpass: ${W}: '${key}' must be a number, found ${Array.isArray(v) ? 'an array (per-layer values are not supported)' : JSON.stringify(String(v))}`);
  return v;
}

/** The architecture entry of a file, or one clear error listing the supported ones. */
function ggufArch(file: GgufFile): [string, GgufArch] {
  const arch = meta(file, 'general.architecture');
  if (typeof arch !== 'string') throw new Error(`forwardpass: ${W}: 'general.architecture' must be a string, found ${JSON.stringify(String(arch))}`);
  const a = ARCHS[arch];
  if (!a) throw new Error(`forwardpass: ${W}: architecture '${arch}' is not supported; supported: ${Object.keys(ARCHS).join(', ')}`);
  return [arch, a];
}

/**
 * Per-layer sliding windows from `<arch>.attention.sliding_window` (every layer unless
 * `<arch>.attention.sliding_window_pattern` says otherwise: an array of booleans, true = that layer slides, or n =
 * every n-th layer attends fully) as HF config fields for the file's model type; {} when the file has no window.
 */
function slidingWindowConfig(file: GgufFile, arch: string, modelType: string, layers: number): Record<string, unknown> {
  const k = (s: string) => `${arch}.${s}`;
  if (meta(file, k('attention.sliding_window')) === undefined) return {};
  const window = numberMeta(file, k('attention.sliding_window'));
  const pat = meta(file, k('attention.sliding_window_pattern'));
  let slides: boolean[];
  if (pat === undefined) slides = new Array<boolean>(layers).fill(true);
  else if (typeof pat === 'number') slides = Array.from({ length: layers }, (_, i) => i % pat < pat - 1);
  else if (Array.isArray(pat) && pat.length === layers && pat.every((v) => typeof v === 'boolean')) slides = pat as boolean[];
  else throw new Error(`forwardpass: ${W}: '${k('attention.sliding_window_pattern')}' must be a number or ${layers} booleans (one per layer), found ${Array.isArray(pat) ? `an array of ${pat.length}` : JSON.stringify(String(pat))}`);
  if (modelType === 'qwen2' || modelType === 'qwen3') return { sliding_window: window, layer_types: slides.map((s) => (s ? 'sliding_attention' : 'full_attention')) };
  if ((modelType === 'mistral' || modelType === 'phi3') && slides.every(Boolean)) return { sliding_window: window };
  throw new Error(`forwardpass: ${W}: '${k('attention.sliding_window')}' with ${slides.every(Boolean) ? 'every layer sliding' : 'a per-layer pattern'} is not supported for ${arch} files`);
}

/** The HF-style config (transformers 5 fields) that a GGUF file's metadata describes. */
export function ggufHfConfig(file: GgufFile): Record<string, unknown> {
  const [arch, a] = ggufArch(file);
  const k = (s: string) => `${arch}.${s}`;
  const hidden = numberMeta(file, k('embedding_length'));
  const heads = numberMeta(file, k('attention.head_count'));
  const headDim = numberMeta(file, k('attention.key_length'), hidden / heads);
  const layers = numberMeta(file, k('block_count'));
  const emb = file.tensors.get('token_embd.weight');
  if (!emb) throw new Error(`forwardpass: ${W}: the file has no token_embd.weight`);
  for (const t of ['rope_factors_long.weight', 'rope_factors_short.weight']) {
    if (file.tensors.has(t)) throw new Error(`forwardpass: ${W}: the file has ${t} (phi3 LongRoPE factors), which this loader does not apply`);
  }
  const ropeDim = numberMeta(file, k('rope.dimension_count'), headDim);
  const scaling = meta(file, k('rope.scaling.type'));
  let rope: Record<string, unknown> = { rope_type: 'default', rope_theta: numberMeta(file, k('rope.freq_base'), 10000) };
  if (scaling === 'linear' || scaling === 'yarn') {
    rope = { ...rope, rope_type: scaling, factor: numberMeta(file, k('rope.scaling.factor')) };
    if (scaling === 'yarn') rope.original_max_position_embeddings = numberMeta(file, k('rope.scaling.original_context_length'));
  } else if (scaling !== undefined && scaling !== 'none') {
    throw new Error(`forwardpass: ${W}: '${k('rope.scaling.type')}' = ${JSON.stringify(scaling)} is not supported (none, linear, yarn)`);
  }
  if (ropeDim !== headDim) rope.partial_rotary_factor = ropeDim / headDim;
  // llama and mistral files that carry a sliding window are HF's MistralForCausalLM (llama + a window on every layer)
  const modelType = a.modelType === 'llama' && meta(file, k('attention.sliding_window')) !== undefined ? 'mistral' : a.modelType;
  if (modelType === 'phi3' && !file.tensors.has('blk.0.attn_qkv.weight') && file.tensors.has('blk.0.attn_q.weight')) {
    throw new Error(`forwardpass: ${W}: this phi3 file has separate attn_q/attn_k/attn_v tensors; the loader needs llama.cpp's fused blk.N.attn_qkv.weight`);
  }
  return {
    model_type: modelType,
    architectures: [HF_ARCHITECTURE[modelType]],
    vocab_size: numberMeta(file, k('vocab_size'), emb.shape[0]),
    hidden_size: hidden,
    intermediate_size: numberMeta(file, k('feed_forward_length')),
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: numberMeta(file, k('attention.head_count_kv'), heads),
    head_dim: headDim,
    rms_norm_eps: numberMeta(file, k('attention.layer_norm_rms_epsilon'), 1e-6),
    max_position_embeddings: numberMeta(file, k('context_length'), 2048),
    rope_parameters: rope,
    tie_word_embeddings: !file.tensors.has('output.weight'),
    attention_bias: file.tensors.has('blk.0.attn_output.bias') || (modelType !== 'qwen2' && file.tensors.has('blk.0.attn_q.bias')),
    mlp_bias: file.tensors.has('blk.0.ffn_down.bias'),
    ...(modelType === 'gemma' ? { hidden_act: 'gelu_pytorch_tanh' } : {}),
    ...slidingWindowConfig(file, arch, modelType, layers),
  };
}

/** llama.cpp's q/k row order back to HF's: rows (h, i, two) -> (h, two, i) within each head of `headDim` rows. */
export function unpermuteRows(rows: number, nHead: number): Int32Array {
  const hd = rows / nHead, half = hd / 2;
  const src = new Int32Array(rows); // src[hfRow] = ggufRow
  for (let h = 0; h < nHead; h++) for (let two = 0; two < 2; two++) for (let i = 0; i < half; i++) src[h * hd + two * half + i] = h * hd + i * 2 + two;
  return src;
}

/** A tensor's values as float32 (F32 aligned: a view of the file), rows reordered by `order` when given. */
function floatValues(file: GgufFile, e: GgufTensorInfo, order: Int32Array | null): Float32Array {
  const raw = ggufTensorBytes(file, e.name);
  const n = e.shape.reduce((a, b) => a * b, 1);
  let v = e.type === 'F32' && raw.byteOffset % 4 === 0 ? new Float32Array(raw.buffer, raw.byteOffset, n) : dequantizeGgml(e.type, raw, n);
  if (order) {
    const cols = e.ne[0]!;
    const out = new Float32Array(n);
    for (let r = 0; r < order.length; r++) out.set(v.subarray(order[r]! * cols, (order[r]! + 1) * cols), r * cols);
    v = out;
  }
  return v;
}

/** Q8_0 blocks -> the project's layout: qs int8 [rows, cols] and d float16 bits [rows, cols/32], rows reordered. */
export function q8_0ToRows(raw: Uint8Array, rows: number, cols: number, order: Int32Array | null): { qs: Int8Array; d: Uint16Array } {
  const nb = cols / 32;
  const qs = new Int8Array(rows * cols), d = new Uint16Array(rows * nb);
  const src = new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let r = 0; r < rows; r++) {
    const s = order ? order[r]! : r;
    for (let b = 0; b < nb; b++) {
      const o = (s * nb + b) * 34;
      d[r * nb + b] = raw[o]! | (raw[o + 1]! << 8);
      qs.set(src.subarray(o + 2, o + 34), r * cols + b * 32);
    }
  }
  return { qs, d };
}

/** llama.cpp's per-frequency RoPE factors (each rotary frequency is divided by its factor; llama3 scaling is stored
 * this way, with no scaling type in the metadata), checked: R/2 positive finite values for R rotary dims. */
function ropeFreqFactors(file: GgufFile, e: GgufTensorInfo, dim: number): Float32Array {
  if (e.shape.join() !== String(dim / 2)) throw new Error(`forwardpass: ${W}: rope_freqs.weight has shape [${e.shape.join(', ')}]; ${dim} rotary dims need [${dim / 2}]`);
  const factors = floatValues(file, e, null).slice();
  const bad = factors.findIndex((v) => !(v > 0 && v < Infinity));
  if (bad >= 0) throw new Error(`forwardpass: ${W}: rope_freqs.weight must hold positive finite factors; found ${factors[bad]} at ${bad}`);
  return factors;
}

/**
 * Build the model a parsed GGUF file describes and load its weights.
 *
 * @example const lm = await ggufModelFromFile(readGguf(bytes)); generate(lm, ids, { maxNewTokens: 20 })
 */
export async function ggufModelFromFile(file: GgufFile, opts: GgufLoadOptions = {}): Promise<LlamaForCausalLM> {
  const cfg = ggufHfConfig(file);
  const [archName, arch] = ggufArch(file);
  const quantizedFile = [...file.tensors.values()].some((e) => e.shape.length === 2 && e.name !== 'token_embd.weight' && !FLOAT_TYPES.has(e.type));
  const precision = opts.precision ?? (quantizedFile ? 'int8' : 'f32');
  if (!['int8', 'f32', 'f16'].includes(precision)) throw new RangeError(`forwardpass: ${W}: precision must be 'int8', 'f32' or 'f16', got '${String(precision)}'`);
  const activations = opts.activations ?? 'none';
  const model = hfModelFromConfig(cfg) as LlamaForCausalLM;
  const device = opts.device;
  const H = cfg.num_attention_heads as number, G = cfg.num_key_value_heads as number;
  const state = new Map<string, Tensor>();
  const ropeFreqs = file.tensors.get('rope_freqs.weight');
  try {
    if (ropeFreqs) model.c.rope.freqFactors = ropeFreqFactors(file, ropeFreqs, model.c.rope.dim);
    const params = new Map(model.namedParameters());
    const linears = new Map(model.namedModules().filter(([, m]) => m instanceof Linear) as [string, Linear][]);
    const seen = new Set<string>();
    // tensors are adopted, not copied (CPU: the arrays made here, or the file's own bytes, become the weights, counted by memory())
    const aliasFile = precision === 'f32' && [...file.tensors.values()].every((e) => e.type === 'F32');
    for (const e of file.tensors.values()) {
      if (e === ropeFreqs) continue;
      const key = hfTensorName(e.name, archName);
      if (!key) throw new Error(`forwardpass: ${W}: tensor '${e.name}' has no place in a ${String(cfg.architectures)} (unknown llama.cpp name)`);
      const want = params.get(key);
      if (!want) throw new Error(`forwardpass: ${W}: tensor '${e.name}' (${key}) has no place in this ${String(cfg.architectures)} (its metadata describes no such parameter)`);
      if (want.shape.join() !== e.shape.join()) throw new Error(`forwardpass: ${W}: tensor '${e.name}' has shape [${e.shape.join(', ')}] (ne [${e.ne.join(', ')}]); the metadata's model needs [${want.shape.join(', ')}] for ${key}`);
      seen.add(key);
      const isQ = /\.q_proj\.weight$/.test(key), isK = /\.k_proj\.weight$/.test(key);
      const order = arch.permuted && (isQ || isK) ? unpermuteRows(e.shape[0]!, isQ ? H : G) : null;
      if (key === 'model.embed_tokens.weight' && e.type === 'Q8_0' && precision === 'int8' && !cfg.tie_word_embeddings) {
        // untied Q8_0 embeddings stay int8 (a tied table also serves as the float lm_head, so it is dequantized)
        const [rows, cols] = e.shape as [number, number];
        model.replaceSubmodule('model.embed_tokens', new Q8Embedding(rows, cols, device)).dispose();
        const { qs, d } = q8_0ToRows(ggufTensorBytes(file, e.name), rows, cols, null);
        state.set('model.embed_tokens.qs', adoptStorage(qs, [rows, cols], 'int8', device));
        state.set('model.embed_tokens.d', adoptStorage(d, [rows, cols / 32], 'float16', device));
        continue;
      }
      const layer = key.endsWith('.weight') ? linears.get(key.slice(0, -7)) : undefined;
      if (layer && precision === 'int8') {
        const [rows, cols] = e.shape as [number, number];
        if (cols % 32 !== 0) throw new Error(`forwardpass: ${W}: tensor '${e.name}' has ${cols} columns; int8 layers need a multiple of 32 (load with precision 'f32')`);
        let qs: Int8Array, d: Uint16Array | Float32Array;
        if (e.type === 'Q8_0') ({ qs, d } = q8_0ToRows(ggufTensorBytes(file, e.name), rows, cols, order));
        else {
          const v = floatValues(file, e, order);
          const q = quantizeRowsRef(v, rows, cols, 32);
          d = roundScalesToF16(q, v, (x) => f16ToF32(f32ToF16(x))) ? Uint16Array.from(q.d, f32ToF16) : q.d;
          qs = q.qs as Int8Array;
        }
        const f16 = d instanceof Uint16Array;
        const ql = new QuantizedLinear(cols, rows, { weights: 'q8_0', activations, bias: layer.bias !== undefined, activation: layer.activation, device, scaleDType: f16 ? 'float16' : 'float32' });
        model.replaceSubmodule(key.slice(0, -7), ql).dispose();
        state.set(`${key}.qs`, adoptStorage(qs, [rows, cols], 'int8', device));
        state.set(`${key}.d`, adoptStorage(d, [rows, cols / 32], f16 ? 'float16' : 'float32', device));
        continue;
      }
      let v = floatValues(file, e, order);
      // gemma: the file holds 1 + w; w = stored - 1 is exact in float32 for stored values in [0.5, 2] (Sterbenz)
      if (arch.normPlusOne && /norm\.weight$/.test(key)) v = v.map((x) => x - 1);
      // a view of the file's bytes only when the model is all the file's F32 data; else a copy, so the file can go
      else if (!aliasFile && v.buffer === file.bytes.buffer) v = v.slice();
      state.set(key, adoptStorage(v, e.shape, 'float32', device));
    }
    const missing = [...params.keys()].filter((k) => !seen.has(k) && !(k === 'lm_head.weight' && cfg.tie_word_embeddings));
    if (missing.length) throw new Error(`forwardpass: ${W}: this ${archName} file lacks ${missing.length} tensor(s) its metadata's model needs: ${missing.slice(0, 8).map((k) => ggufTensorName(k, archName)).join(', ')}${missing.length > 8 ? ', ...' : ''}`);
    model.loadStateDict(state);
    if (precision === 'f16') await model.to({ dtype: 'float16' });
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    for (const t of state.values()) t.dispose();
  }
  return model;
}
