// The Llama family as Hugging Face writes it (llama, mistral, qwen2, qwen3, phi3, gemma through config flags): pre-RMSNorm
// blocks, rotate-half RoPE, grouped-query attention, SwiGLU MLP; module names model.layers.N.self_attn.q_proj, ...
// Legend: B = batch, T = new positions, S = key positions (cached + new), C = hidden, H = q heads, G = kv heads, D = head dim.
import type { Tensor } from '../../tensor/tensor.js';
import { add, gelu, mul, silu } from '../../ops/elementwise.js';
import { linear } from '../../ops/linalg.js';
import { attendHeads, KVCache, splitHeads, type LayerKV } from '../attention.js';
import { ModuleList } from '../container.js';
import { Embedding } from '../embedding.js';
import { Linear } from '../linear.js';
import { Module } from '../module.js';
import { RMSNorm } from '../norm.js';
import { applyRope, ropeTables, ropeTablesAt, type RopeParams } from '../rope.js';
import { checkIds, checkPositionIds, HfModel, keyMask, slidingWindowMask, stackHidden, type HfLayout, type HfOutputs } from './hf-base.js';
import { rmsNorm } from '../../ops/norm.js';

export interface LlamaConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsEps: number;
  maxPositions: number;
  rope: RopeParams;
  /** Biases on q_proj, k_proj, v_proj (llama attention_bias, qwen2). */
  qkvBias: boolean;
  /** Bias on o_proj (llama attention_bias). */
  oBias: boolean;
  mlpBias: boolean;
  /** qwen3: RMSNorm over each head of q and k before RoPE (q_norm, k_norm). */
  qkNorm: boolean;
  /** phi3: one qkv_proj and one gate_up_proj instead of separate projections. */
  fused: boolean;
  /** gemma: RMSNorm scales by (1 + weight). */
  normPlusOne: boolean;
  /** gemma: embeddings times sqrt(hidden). */
  embedScale: boolean;
  /** MLP activation on the gate: silu, or gemma's tanh GELU. */
  act: 'silu' | 'gelu_tanh' | 'gelu';
  /** Sliding window per layer (null: full attention). */
  slidingWindows: (number | null)[];
  tieWordEmbeddings: boolean;
}

/** RMSNorm, or gemma's (1 + w) form. */
export class LlamaRMSNorm extends RMSNorm {
  constructor(dim: number, eps: number, readonly plusOne: boolean) {
    super(dim, { eps });
  }
  override forward(x: Tensor): Tensor {
    if (!this.plusOne) return super.forward(x);
    return mul(rmsNorm(x, this.normalizedShape, null, this.eps), add(this.getParameter('weight'), 1));
  }
}

/** Attention with separate or fused (phi3 qkv_proj) projections, optional q/k norms, RoPE and GQA. */
export class LlamaAttention extends Module {
  readonly q_proj?: Linear;
  readonly k_proj?: Linear;
  readonly v_proj?: Linear;
  readonly qkv_proj?: Linear;
  readonly o_proj: Linear;
  readonly q_norm?: LlamaRMSNorm;
  readonly k_norm?: LlamaRMSNorm;
  constructor(private readonly c: LlamaConfig, private readonly window: number | null) {
    super();
    const { hiddenSize: C, numHeads: H, numKvHeads: G, headDim: D } = c;
    if (c.fused) {
      this.qkv_proj = this.registerModule('qkv_proj', new Linear(C, (H + 2 * G) * D, { bias: c.qkvBias }));
    } else {
      this.q_proj = this.registerModule('q_proj', new Linear(C, H * D, { bias: c.qkvBias }));
      this.k_proj = this.registerModule('k_proj', new Linear(C, G * D, { bias: c.qkvBias }));
      this.v_proj = this.registerModule('v_proj', new Linear(C, G * D, { bias: c.qkvBias }));
    }
    this.o_proj = this.registerModule('o_proj', new Linear(H * D, C, { bias: c.oBias }));
    if (c.qkNorm) {
      this.q_norm = this.registerModule('q_norm', new LlamaRMSNorm(D, c.rmsEps, c.normPlusOne));
      this.k_norm = this.registerModule('k_norm', new LlamaRMSNorm(D, c.rmsEps, c.normPlusOne));
    }
  }

  /** x [B, T, C]; cos/sin [T, R]; mask bool [B, 1, 1, S] or null; cache: this layer's keys/values [B, G, S, D]. */
  override forward(x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor | null, cache?: LayerKV): Tensor {
    const { numHeads: H, numKvHeads: G, headDim: D } = this.c;
    let q: Tensor, k: Tensor, v: Tensor;
    if (this.qkv_proj) {
      const qkv = this.qkv_proj.forward(x);
      q = qkv.narrow(2, 0, H * D);
      k = qkv.narrow(2, H * D, G * D);
      v = qkv.narrow(2, (H + G) * D, G * D);
    } else {
      [q, k, v] = [this.q_proj!.forward(x), this.k_proj!.forward(x), this.v_proj!.forward(x)];
    }
    q = splitHeads(q, H); // [B, H, T, D]
    k = splitHeads(k, G); // [B, G, T, D]
    v = splitHeads(v, G);
    if (this.q_norm) { q = this.q_norm.forward(q); k = this.k_norm!.forward(k); }
    q = applyRope(q, cos, sin);
    k = applyRope(k, cos, sin);
    const start = cache?.length ?? 0;
    const [kk, vv] = cache ? cache.append(k, v) : [k, v];
    const s = kk.shape[2]!;
    const m = slidingWindowMask(mask, start, x.shape[1]!, s, this.window, x.device);
    const merged = attendHeads(this, q, repeatKv(kk, H / G), repeatKv(vv, H / G), { mask: m, isCausal: true });
    return this.o_proj.forward(merged);
  }
}

/** [B, G, S, D] -> [B, G·rep, S, D], each key/value head repeated for its `rep` query heads (HF's repeat_kv). */
export function repeatKv(x: Tensor, rep: number): Tensor {
  if (rep === 1) return x;
  const [b, g, s, d] = x.shape as [number, number, number, number];
  return x.unsqueeze(2).expand([b, g, rep, s, d]).reshape([b, g * rep, s, d]);
}

/** SwiGLU: down(act(gate(x)) · up(x)); phi3 computes gate and up with one gate_up_proj (gate first). */
export class LlamaMLP extends Module {
  readonly gate_proj?: Linear;
  readonly up_proj?: Linear;
  readonly gate_up_proj?: Linear;
  readonly down_proj: Linear;
  constructor(private readonly c: LlamaConfig) {
    super();
    const { hiddenSize: C, intermediateSize: I, mlpBias: bias } = c;
    if (c.fused) {
      this.gate_up_proj = this.registerModule('gate_up_proj', new Linear(C, 2 * I, { bias }));
    } else {
      this.gate_proj = this.registerModule('gate_proj', new Linear(C, I, { bias }));
      this.up_proj = this.registerModule('up_proj', new Linear(C, I, { bias }));
    }
    this.down_proj = this.registerModule('down_proj', new Linear(I, C, { bias }));
  }
  override forward(x: Tensor): Tensor {
    const I = this.c.intermediateSize;
    let gate: Tensor, up: Tensor;
    if (this.gate_up_proj) {
      const gu = this.gate_up_proj.forward(x);
      [gate, up] = [gu.narrow(-1, 0, I), gu.narrow(-1, I, I)];
    } else {
      [gate, up] = [this.gate_proj!.forward(x), this.up_proj!.forward(x)];
    }
    const a = this.c.act === 'silu' ? silu(gate) : gelu(gate, { approximate: this.c.act === 'gelu_tanh' ? 'tanh' : 'none' });
    return this.down_proj.forward(mul(a, up));
  }
}

/** One pre-norm block: x += attn(input_layernorm(x)); x += mlp(post_attention_layernorm(x)). */
export class LlamaDecoderLayer extends Module {
  readonly input_layernorm: LlamaRMSNorm;
  readonly self_attn: LlamaAttention;
  readonly post_attention_layernorm: LlamaRMSNorm;
  readonly mlp: LlamaMLP;
  constructor(c: LlamaConfig, window: number | null) {
    super();
    this.input_layernorm = this.registerModule('input_layernorm', new LlamaRMSNorm(c.hiddenSize, c.rmsEps, c.normPlusOne));
    this.self_attn = this.registerModule('self_attn', new LlamaAttention(c, window));
    this.post_attention_layernorm = this.registerModule('post_attention_layernorm', new LlamaRMSNorm(c.hiddenSize, c.rmsEps, c.normPlusOne));
    this.mlp = this.registerModule('mlp', new LlamaMLP(c));
  }
  override forward(x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor | null, cache?: LayerKV): Tensor {
    const h = add(x, this.self_attn.forward(this.input_layernorm.forward(x), cos, sin, mask, cache));
    return add(h, this.mlp.forward(this.post_attention_layernorm.forward(h)));
  }
}

export interface DecoderForwardOptions {
  /** Keys and values of earlier positions (generation); the new ids sit at positions cache.length.. */
  cache?: KVCache;
  /** [B, S] over all key positions (cached + new): 1 = token, 0 = padding. */
  attentionMask?: Tensor | null;
  /** [B, T] int32 positions of the new ids (default start..start+T-1 for every row); left-padded batches pass
   * cumsum(attention_mask) - 1 as HF's generate does. Each must lie in 0..start+T-1. */
  positionIds?: Tensor | null;
  /** Also return hidden_states [L+1, B, T, C] (default false). */
  outputHiddenStates?: boolean;
}

/** The base model (LlamaModel): last_hidden_state [B, T, C] after the final norm, hidden_states when asked. */
export class LlamaModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<LlamaDecoderLayer>;
  readonly norm: LlamaRMSNorm;
  constructor(readonly c: LlamaConfig) {
    super();
    this.embed_tokens = this.registerModule('embed_tokens', new Embedding(c.vocabSize, c.hiddenSize));
    this.layers = this.registerModule('layers', new ModuleList(Array.from({ length: c.numLayers }, (_, i) => new LlamaDecoderLayer(c, c.slidingWindows[i] ?? null))));
    this.norm = this.registerModule('norm', new LlamaRMSNorm(c.hiddenSize, c.rmsEps, c.normPlusOne));
  }
  override forward(ids: Tensor, opts: DecoderForwardOptions = {}): HfOutputs {
    const [b, t] = checkIds('LlamaModel', ids);
    const { cache } = opts;
    if (cache && cache.layers.length !== this.c.numLayers) throw new RangeError(`forwardpass: LlamaModel: the KV cache has ${cache.layers.length} layers, the model ${this.c.numLayers}; create it with model.createCache()`);
    const start = cache?.length ?? 0;
    const mask = keyMask('LlamaModel', opts.attentionMask, b, start + t);
    const pos = checkPositionIds('LlamaModel', opts.positionIds, b, t);
    const [cos, sin] = pos ? ropeTablesAt(this.c.rope, pos, start + t) : ropeTables(this.c.rope, start, t, ids.device);
    let x = this.embed_tokens.forward(ids);
    if (this.c.embedScale) x = mul(x, Math.fround(Math.sqrt(this.c.hiddenSize)));
    const hidden: Tensor[] = [x];
    [...this.layers].forEach((layer, i) => {
      x = layer.forward(x, cos, sin, mask, cache?.layer(i));
      hidden.push(x);
    });
    const y = this.norm.forward(x);
    hidden[hidden.length - 1] = y;
    return opts.outputHiddenStates ? { last_hidden_state: y, hidden_states: stackHidden(hidden) } : { last_hidden_state: y };
  }
}

/**
 * A Llama-family causal LM (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM,
 * Phi3ForCausalLM, GemmaForCausalLM). `forward(ids, { cache, attentionMask })` -> { logits [B, T, V],
 * last_hidden_state }; works with `generate`.
 *
 * @example const lm = new LlamaForCausalLM(cfg, rawConfig); lm.loadStateDict(tensors); lm.forward(ids).logits
 */
export class LlamaForCausalLM extends HfModel {
  readonly model: LlamaModel;
  readonly lm_head: Linear | null;
  readonly inputNames = ['input_ids', 'attention_mask', 'position_ids'];
  protected readonly allOutputs = ['logits', 'last_hidden_state', 'hidden_states'];
  protected readonly layout: HfLayout;
  /** For generate: vocabulary size and the positions the model was configured for. */
  readonly cfg: { vocabSize: number; context: number };

  constructor(readonly c: LlamaConfig, raw: Record<string, unknown>) {
    super(raw);
    this.model = this.registerModule('model', new LlamaModel(c));
    this.lm_head = c.tieWordEmbeddings ? null : this.registerModule('lm_head', new Linear(c.hiddenSize, c.vocabSize, { bias: false }));
    this.layout = { basePrefix: 'model', isBase: false, ignore: c.tieWordEmbeddings ? [/^lm_head\.weight$/] : [] };
    this.cfg = { vocabSize: c.vocabSize, context: Infinity }; // RoPE has no position table: generation never slides a window
  }

  /** A fresh KV cache with one entry per layer. */
  createCache(): KVCache {
    return new KVCache(this.c.numLayers);
  }

  override forward(ids: Tensor, opts: DecoderForwardOptions = {}): HfOutputs {
    const out = this.model.forward(ids, opts);
    const y = out.last_hidden_state!;
    const logits = this.lm_head ? this.lm_head.forward(y) : linear(y, this.model.embed_tokens.weight);
    return { logits, ...out };
  }

  run(inputs: Record<string, Tensor>): HfOutputs {
    const [ids, mask, positionIds] = this.pick(inputs);
    return this.forward(ids!, { attentionMask: mask ?? null, positionIds, outputHiddenStates: this.outputHiddenStates });
  }
}
