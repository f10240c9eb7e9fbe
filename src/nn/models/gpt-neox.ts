// GPT-NeoX as Hugging Face writes it (GPTNeoXForCausalLM, Pythia): a per-head interleaved query_key_value, RoPE on
// the first R = D · rotary_pct dims, parallel (x + attn(ln1 x) + mlp(ln2 x)) or sequential residual.
// Legend: B = batch, T = new positions, C = hidden, H = heads, D = head dim, R = rotary dims, V = vocab.
import type { Tensor } from '../../tensor/tensor.js';
import { add } from '../../ops/elementwise.js';
import { linear } from '../../ops/linalg.js';
import { attendHeads, KVCache, type LayerKV } from '../attention.js';
import { ModuleList } from '../container.js';
import { Embedding } from '../embedding.js';
import { Linear } from '../linear.js';
import { Module } from '../module.js';
import { LayerNorm } from '../norm.js';
import { applyRope, ropeTables, ropeTablesAt, type RopeParams } from '../rope.js';
import { encoderAct, type EncoderAct } from './bert-family.js';
import { checkIds, checkPositionIds, HfModel, keyMask, stackHidden, type HfLayout, type HfOutputs } from './hf-base.js';
import type { DecoderForwardOptions } from './llama.js';

export interface GPTNeoXConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  maxPositions: number;
  lnEps: number;
  rope: RopeParams;
  act: EncoderAct;
  attentionBias: boolean;
  parallelResidual: boolean;
  tieWordEmbeddings: boolean;
}

export class GPTNeoXAttention extends Module {
  readonly query_key_value: Linear;
  readonly dense: Linear;
  constructor(private readonly c: GPTNeoXConfig) {
    super();
    this.query_key_value = this.registerModule('query_key_value', new Linear(c.hiddenSize, 3 * c.hiddenSize, { bias: c.attentionBias }));
    this.dense = this.registerModule('dense', new Linear(c.hiddenSize, c.hiddenSize, { bias: c.attentionBias }));
  }
  override forward(x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor | null, cache?: LayerKV): Tensor {
    const [b, t] = x.shape as [number, number];
    const H = this.c.numHeads, D = this.c.hiddenSize / H;
    const qkv = this.query_key_value.forward(x).reshape([b, t, H, 3 * D]).permute(0, 2, 1, 3); // [B, H, T, 3D]
    const q = applyRope(qkv.narrow(3, 0, D), cos, sin);
    const k = applyRope(qkv.narrow(3, D, D), cos, sin);
    const v = qkv.narrow(3, 2 * D, D);
    const [kk, vv] = cache ? cache.append(k, v) : [k, v];
    return this.dense.forward(attendHeads(this, q, kk, vv, { mask, isCausal: true }));
  }
}

export class GPTNeoXMLP extends Module {
  readonly dense_h_to_4h: Linear;
  readonly dense_4h_to_h: Linear;
  constructor(private readonly c: GPTNeoXConfig) {
    super();
    this.dense_h_to_4h = this.registerModule('dense_h_to_4h', new Linear(c.hiddenSize, c.intermediateSize));
    this.dense_4h_to_h = this.registerModule('dense_4h_to_h', new Linear(c.intermediateSize, c.hiddenSize));
  }
  override forward(x: Tensor): Tensor {
    return this.dense_4h_to_h.forward(encoderAct(this.c.act, this.dense_h_to_4h.forward(x)));
  }
}

export class GPTNeoXLayer extends Module {
  readonly input_layernorm: LayerNorm;
  readonly post_attention_layernorm: LayerNorm;
  readonly attention: GPTNeoXAttention;
  readonly mlp: GPTNeoXMLP;
  constructor(private readonly c: GPTNeoXConfig) {
    super();
    this.input_layernorm = this.registerModule('input_layernorm', new LayerNorm(c.hiddenSize, { eps: c.lnEps }));
    this.post_attention_layernorm = this.registerModule('post_attention_layernorm', new LayerNorm(c.hiddenSize, { eps: c.lnEps }));
    this.attention = this.registerModule('attention', new GPTNeoXAttention(c));
    this.mlp = this.registerModule('mlp', new GPTNeoXMLP(c));
  }
  override forward(x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor | null, cache?: LayerKV): Tensor {
    const a = this.attention.forward(this.input_layernorm.forward(x), cos, sin, mask, cache);
    if (this.c.parallelResidual) return add(add(this.mlp.forward(this.post_attention_layernorm.forward(x)), a), x);
    const h = add(a, x);
    return add(this.mlp.forward(this.post_attention_layernorm.forward(h)), h);
  }
}

export class GPTNeoXModel extends Module {
  readonly embed_in: Embedding;
  readonly layers: ModuleList<GPTNeoXLayer>;
  readonly final_layer_norm: LayerNorm;
  constructor(readonly c: GPTNeoXConfig) {
    super();
    this.embed_in = this.registerModule('embed_in', new Embedding(c.vocabSize, c.hiddenSize));
    this.layers = this.registerModule('layers', new ModuleList(Array.from({ length: c.numLayers }, () => new GPTNeoXLayer(c))));
    this.final_layer_norm = this.registerModule('final_layer_norm', new LayerNorm(c.hiddenSize, { eps: c.lnEps }));
  }
  override forward(ids: Tensor, opts: DecoderForwardOptions = {}): HfOutputs {
    const [b, t] = checkIds('GPTNeoXModel', ids);
    const { cache } = opts;
    if (cache && cache.layers.length !== this.c.numLayers) throw new RangeError(`forwardpass: GPTNeoXModel: the KV cache has ${cache.layers.length} layers, the model ${this.c.numLayers}; create it with model.createCache()`);
    const start = cache?.length ?? 0;
    const mask = keyMask('GPTNeoXModel', opts.attentionMask, b, start + t);
    const pos = checkPositionIds('GPTNeoXModel', opts.positionIds, b, t);
    const [cos, sin] = pos ? ropeTablesAt(this.c.rope, pos, start + t) : ropeTables(this.c.rope, start, t, ids.device);
    let x = this.embed_in.forward(ids);
    const hidden: Tensor[] = [x];
    [...this.layers].forEach((layer, i) => {
      x = layer.forward(x, cos, sin, mask, cache?.layer(i));
      hidden.push(x);
    });
    const y = this.final_layer_norm.forward(x);
    hidden[hidden.length - 1] = y;
    return opts.outputHiddenStates ? { last_hidden_state: y, hidden_states: stackHidden(hidden) } : { last_hidden_state: y };
  }
}

/**
 * GPTNeoXForCausalLM: logits [B, T, V]; works with `generate`.
 *
 * @example const pythia = await loadHfModel('pythia-folder'); pythia.forward(ids).logits
 */
export class GPTNeoXForCausalLM extends HfModel {
  readonly gpt_neox: GPTNeoXModel;
  readonly lm_head: Linear | null;
  readonly inputNames = ['input_ids', 'attention_mask', 'position_ids'];
  protected readonly allOutputs = ['logits', 'last_hidden_state', 'hidden_states'];
  protected readonly layout: HfLayout;
  readonly cfg: { vocabSize: number; context: number };

  constructor(readonly c: GPTNeoXConfig, raw: Record<string, unknown>) {
    super(raw);
    this.gpt_neox = this.registerModule('gpt_neox', new GPTNeoXModel(c));
    this.lm_head = c.tieWordEmbeddings ? null : this.registerModule('lm_head', new Linear(c.hiddenSize, c.vocabSize, { bias: false }));
    this.layout = {
      basePrefix: 'gpt_neox',
      isBase: false,
      ignore: [/\.attention\.(masked_)?bias$/, ...(c.tieWordEmbeddings ? [/^(lm_head|embed_out)\.weight$/] : [])],
      renames: [[/^embed_out\./, 'lm_head.']],
    };
    this.cfg = { vocabSize: c.vocabSize, context: Infinity }; // RoPE has no position table: generation never slides a window
  }

  createCache(): KVCache {
    return new KVCache(this.c.numLayers);
  }

  override forward(ids: Tensor, opts: DecoderForwardOptions = {}): HfOutputs {
    const out = this.gpt_neox.forward(ids, opts);
    const y = out.last_hidden_state!;
    return { logits: this.lm_head ? this.lm_head.forward(y) : linear(y, this.gpt_neox.embed_in.weight), ...out };
  }

  run(inputs: Record<string, Tensor>): HfOutputs {
    const [ids, mask, positionIds] = this.pick(inputs);
    return this.forward(ids!, { attentionMask: mask ?? null, positionIds, outputHiddenStates: this.outputHiddenStates });
  }
}
