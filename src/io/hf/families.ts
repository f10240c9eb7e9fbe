// From an HF config.json to a forwardpass model: one entry per model_type with the architectures it builds, and the
// translation of each family's config fields (both transformers 4 and 5 styles) into the nn/models configs.
import type { HfModel } from '../../nn/models/hf-base.js';
import { GPT2LMHeadModel, type GPT2Config } from '../../nn/models/gpt2.js';
import { LlamaForCausalLM, type LlamaConfig } from '../../nn/models/llama.js';
import { GPTNeoXForCausalLM, type GPTNeoXConfig } from '../../nn/models/gpt-neox.js';
import { hfActivation, hfArchitecture, hfFields, hfRope, refuseFields, type HfConfig } from './config.js';
import { ENCODER_FAMILIES } from './encoders.js';

/** How one model_type is built: its architectures (the first is the default when config.json lists none). */
export interface HfFamily {
  modelTypes: string[];
  architectures: Record<string, (c: HfConfig) => HfModel>;
}

/** Fields of decoder configs that change the math and are not implemented here. */
const DECODER_REFUSED = [
  'attn_logit_softcapping', 'final_logit_softcapping', 'query_pre_attn_scalar', 'attention_multiplier', 'embedding_multiplier',
  'logits_scaling', 'residual_multiplier', 'alibi', 'use_alibi', 'num_experts', 'num_local_experts', 'mrope_section',
];

const num = (v: unknown) => (typeof v === 'number' ? v : null);

function llamaConfig(c: HfConfig): LlamaConfig {
  const t = c.model_type;
  const f = hfFields(c);
  refuseFields(c, DECODER_REFUSED);
  const hidden = f.int('hidden_size');
  const H = f.int('num_attention_heads');
  const G = c.num_key_value_heads === null ? H : f.int('num_key_value_heads', H);
  if (H % G !== 0) throw new Error(`forwardpass: config.json (${t}): num_attention_heads ${H} must be a multiple of num_key_value_heads ${G}`);
  const D = c.head_dim === null || c.head_dim === undefined ? hidden / H : f.int('head_dim');
  if (!Number.isInteger(D)) throw new Error(`forwardpass: config.json (${t}): hidden_size ${hidden} is not divisible by num_attention_heads ${H} and no head_dim is given`);
  const layers = f.int('num_hidden_layers');
  const gemma = t === 'gemma';
  const act = gemma
    ? hfActivation(c, c.hidden_activation ? ['hidden_activation'] : ['hidden_act'], 'gelu_pytorch_tanh', ['gelu_pytorch_tanh', 'gelu_new', 'gelu'])
    : hfActivation(c, ['hidden_act'], 'silu', ['silu', 'swish']);
  const bias = f.bool('attention_bias', false);
  // sliding windows: mistral and phi3 on every layer; qwen2/qwen3 per layer_types (or use_sliding_window + max_window_layers)
  let windows: (number | null)[] = new Array<number | null>(layers).fill(null);
  const sw = num(c.sliding_window);
  if ((t === 'mistral' || t === 'phi3') && sw !== null) windows.fill(sw);
  if (t === 'qwen2' || t === 'qwen3') {
    const types = c.layer_types;
    if (Array.isArray(types)) {
      if (types.length !== layers) throw new Error(`forwardpass: config.json (${t}): 'layer_types' lists ${types.length} layers, num_hidden_layers is ${layers}`);
      windows = types.map((lt, i) => {
        if (lt === 'full_attention') return null;
        if (lt === 'sliding_attention' && sw !== null) return sw;
        throw new Error(`forwardpass: config.json (${t}): layer_types[${i}] = ${JSON.stringify(lt)} is not supported (full_attention, or sliding_attention with a sliding_window)`);
      });
    } else if (c.use_sliding_window === true && sw !== null) {
      const from = f.int('max_window_layers', 0, 0);
      windows = windows.map((_, i) => (i >= from ? sw : null));
    }
  }
  const vocab = f.int('vocab_size');
  return {
    vocabSize: vocab,
    hiddenSize: hidden,
    intermediateSize: f.int('intermediate_size'),
    numLayers: layers,
    numHeads: H,
    numKvHeads: G,
    headDim: D,
    rmsEps: f.num('rms_norm_eps', 1e-6),
    maxPositions: f.int('max_position_embeddings', 2048),
    rope: hfRope(c, D),
    qkvBias: t === 'qwen2' || bias,
    oBias: t !== 'qwen2' && bias,
    mlpBias: f.bool('mlp_bias', false),
    qkNorm: t === 'qwen3',
    fused: t === 'phi3',
    normPlusOne: gemma,
    embedScale: gemma,
    // gemma's legacy hidden_act "gelu" means the tanh form (transformers rewrites it to gelu_pytorch_tanh)
    act: act === 'silu' || act === 'swish' ? 'silu' : act === 'gelu' && !gemma ? 'gelu' : 'gelu_tanh',
    slidingWindows: windows,
    tieWordEmbeddings: f.bool('tie_word_embeddings', gemma),
  };
}

function gpt2Config(c: HfConfig): GPT2Config {
  const f = hfFields(c);
  refuseFields(c, ['scale_attn_by_inverse_layer_idx', 'add_cross_attention']);
  if (c.scale_attn_weights === false) throw new Error(`forwardpass: config.json (gpt2): 'scale_attn_weights' = false changes the model's math and it is not implemented`);
  const nEmbd = f.int('n_embd');
  const act = hfActivation(c, ['activation_function'], 'gelu_new', ['gelu_new', 'gelu_pytorch_tanh', 'gelu', 'relu', 'silu']);
  return {
    vocabSize: f.int('vocab_size'),
    nEmbd,
    nHead: f.int('n_head'),
    nLayer: f.int('n_layer'),
    nPositions: f.int('n_positions'),
    nInner: c.n_inner === null || c.n_inner === undefined ? 4 * nEmbd : f.int('n_inner'),
    lnEps: f.num('layer_norm_epsilon', 1e-5),
    act: act === 'gelu_pytorch_tanh' ? 'gelu_new' : (act as GPT2Config['act']),
    tieWordEmbeddings: f.bool('tie_word_embeddings', true),
  };
}

function neoxConfig(c: HfConfig): GPTNeoXConfig {
  const f = hfFields(c);
  refuseFields(c, DECODER_REFUSED);
  const hidden = f.int('hidden_size');
  const H = f.int('num_attention_heads');
  if (hidden % H !== 0) throw new Error(`forwardpass: config.json (gpt_neox): hidden_size ${hidden} must be divisible by num_attention_heads ${H}`);
  const act = hfActivation(c, ['hidden_act'], 'gelu', ['gelu', 'gelu_new', 'gelu_fast', 'gelu_pytorch_tanh', 'relu']);
  return {
    vocabSize: f.int('vocab_size'),
    hiddenSize: hidden,
    intermediateSize: f.int('intermediate_size'),
    numLayers: f.int('num_hidden_layers'),
    numHeads: H,
    maxPositions: f.int('max_position_embeddings', 2048),
    lnEps: f.num('layer_norm_eps', 1e-5),
    rope: hfRope(c, hidden / H, { defaultTheta: f.num('rotary_emb_base', 10000), partial: f.num('rotary_pct', 0.25) }),
    act: act === 'gelu' ? 'gelu' : act === 'relu' ? 'relu' : 'gelu_tanh',
    attentionBias: f.bool('attention_bias', true),
    parallelResidual: f.bool('use_parallel_residual', true),
    tieWordEmbeddings: f.bool('tie_word_embeddings', false),
  };
}

const llama = (c: HfConfig) => new LlamaForCausalLM(llamaConfig(c), c);

/** Every supported model_type and its architectures. */
export const HF_FAMILIES: HfFamily[] = [
  { modelTypes: ['gpt2'], architectures: { GPT2LMHeadModel: (c) => new GPT2LMHeadModel(gpt2Config(c), c) } },
  { modelTypes: ['llama'], architectures: { LlamaForCausalLM: llama } },
  { modelTypes: ['mistral'], architectures: { MistralForCausalLM: llama } },
  { modelTypes: ['qwen2'], architectures: { Qwen2ForCausalLM: llama } },
  { modelTypes: ['qwen3'], architectures: { Qwen3ForCausalLM: llama } },
  { modelTypes: ['phi3'], architectures: { Phi3ForCausalLM: llama } },
  { modelTypes: ['gemma'], architectures: { GemmaForCausalLM: llama } },
  { modelTypes: ['gpt_neox'], architectures: { GPTNeoXForCausalLM: (c) => new GPTNeoXForCausalLM(neoxConfig(c), c) } },
  ...ENCODER_FAMILIES,
];

/** "gpt2 (GPT2LMHeadModel), llama (LlamaForCausalLM), ..." for errors. */
export function supportedList(): string {
  return HF_FAMILIES.map((f) => `${f.modelTypes.join('/')} (${Object.keys(f.architectures).join(', ')})`).join('; ');
}

/**
 * Build the (zero-weight) model an HF config describes; an unknown model_type or architecture is an error listing
 * the supported ones.
 *
 * @example const model = hfModelFromConfig(JSON.parse(configText)); model.loadStateDict(tensors);
 */
export function buildHfModel(c: HfConfig): HfModel {
  const family = HF_FAMILIES.find((f) => f.modelTypes.includes(c.model_type));
  if (!family) throw new Error(`forwardpass: config.json: model_type '${c.model_type}' is not supported; supported: ${supportedList()}`);
  const names = Object.keys(family.architectures);
  const arch = hfArchitecture(c, names[0]!);
  const build = family.architectures[arch];
  if (!build) throw new Error(`forwardpass: config.json (${c.model_type}): architecture '${arch}' is not supported; supported for ${c.model_type}: ${names.join(', ')}`);
  const model = build(c);
  model.architecture = arch;
  return model;
}
