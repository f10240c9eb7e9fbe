// GPT-2 as Hugging Face writes it (GPT2LMHeadModel): Conv1D projections with [in, out] weights, a fused c_attn
// ([q | k | v] along the output axis), gelu_new, lm_head tied to transformer.wte.
// Legend: B = batch, T = new positions, S = key positions, C = n_embd, H = heads, V = vocab.
import type { Tensor } from '../../tensor/tensor.js';
import { arange, zeros } from '../../tensor/creation.js';
import { shapeStr } from '../../tensor/shape.js';
import { add, gelu, relu, silu } from '../../ops/elementwise.js';
import { linear, matmul } from '../../ops/linalg.js';
import { attendHeads, KVCache, splitHeads, type LayerKV } from '../attention.js';
import { ModuleList } from '../container.js';
import { Embedding } from '../embedding.js';
import { Linear } from '../linear.js';
import { Module } from '../module.js';
import { LayerNorm } from '../norm.js';
import { checkIds, checkPositionIds, HfModel, keyMask, stackHidden, type HfLayout, type HfOutputs } from './hf-base.js';
import type { DecoderForwardOptions } from './llama.js';

export interface GPT2Config {
  vocabSize: number;
  nEmbd: number;
  nHead: number;
  nLayer: number;
  nPositions: number;
  nInner: number;
  lnEps: number;
  act: 'gelu_new' | 'gelu' | 'relu' | 'silu';
  /** false: a separate lm_head.weight (GPT-2 ties it to wte by default). */
  tieWordEmbeddings: boolean;
}

/** HF's Conv1D: y = x · W + b with W [in, out] as stored (a Linear with its weight transposed). */
export class Conv1D extends Module {
  constructor(readonly nx: number, readonly nf: number) {
    super();
    this.registerParameter('weight', zeros([nx, nf]));
    this.registerParameter('bias', zeros([nf]));
  }
  /** The same layer as an nn.Linear (weight transposed to [out, in]), e.g. for quantize(). */
  toLinear(): Linear {
    const lin = new Linear(this.nx, this.nf);
    lin.loadStateDict({ weight: this.getParameter('weight').transpose(0, 1).contiguous(), bias: this.getParameter('bias') });
    return lin;
  }
  override forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.nx) throw new RangeError(`forwardpass: Conv1D(${this.nx} -> ${this.nf}): expected an input [..., ${this.nx}], got ${shapeStr(x.shape)}`);
    return add(matmul(x, this.getParameter('weight')), this.getParameter('bias'));
  }
}

/** Causal self-attention with the fused c_attn (columns [q | k | v]) and c_proj. */
export class GPT2Attention extends Module {
  readonly c_attn: Conv1D;
  readonly c_proj: Conv1D;
  constructor(private readonly c: GPT2Config) {
    super();
    this.c_attn = this.registerModule('c_attn', new Conv1D(c.nEmbd, 3 * c.nEmbd));
    this.c_proj = this.registerModule('c_proj', new Conv1D(c.nEmbd, c.nEmbd));
  }
  override forward(x: Tensor, mask: Tensor | null, cache?: LayerKV): Tensor {
    const C = this.c.nEmbd;
    const qkv = this.c_attn.forward(x); // [B, T, 3C]
    const [q, k, v] = [0, 1, 2].map((i) => splitHeads(qkv.narrow(2, i * C, C), this.c.nHead)) as [Tensor, Tensor, Tensor];
    const [kk, vv] = cache ? cache.append(k, v) : [k, v];
    return this.c_proj.forward(attendHeads(this, q, kk, vv, { mask, isCausal: true }));
  }
}

/** c_fc, activation (gelu_new: the tanh GELU), c_proj. */
export class GPT2MLP extends Module {
  readonly c_fc: Conv1D;
  readonly c_proj: Conv1D;
  constructor(private readonly c: GPT2Config) {
    super();
    this.c_fc = this.registerModule('c_fc', new Conv1D(c.nEmbd, c.nInner));
    this.c_proj = this.registerModule('c_proj', new Conv1D(c.nInner, c.nEmbd));
  }
  override forward(x: Tensor): Tensor {
    const h = this.c_fc.forward(x);
    const a = this.c.act === 'relu' ? relu(h) : this.c.act === 'silu' ? silu(h) : gelu(h, { approximate: this.c.act === 'gelu_new' ? 'tanh' : 'none' });
    return this.c_proj.forward(a);
  }
}

/** Pre-LN block: x += attn(ln_1(x)); x += mlp(ln_2(x)). */
export class GPT2Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: GPT2Attention;
  readonly ln_2: LayerNorm;
  readonly mlp: GPT2MLP;
  constructor(c: GPT2Config) {
    super();
    this.ln_1 = this.registerModule('ln_1', new LayerNorm(c.nEmbd, { eps: c.lnEps }));
    this.attn = this.registerModule('attn', new GPT2Attention(c));
    this.ln_2 = this.registerModule('ln_2', new LayerNorm(c.nEmbd, { eps: c.lnEps }));
    this.mlp = this.registerModule('mlp', new GPT2MLP(c));
  }
  override forward(x: Tensor, mask: Tensor | null, cache?: LayerKV): Tensor {
    const h = add(x, this.attn.forward(this.ln_1.forward(x), mask, cache));
    return add(h, this.mlp.forward(this.ln_2.forward(h)));
  }
}

/** GPT2Model: embeddings (token + learned position), blocks, ln_f -> last_hidden_state [B, T, C]. */
export class GPT2Model extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly h: ModuleList<GPT2Block>;
  readonly ln_f: LayerNorm;
  constructor(readonly c: GPT2Config) {
    super();
    this.wte = this.registerModule('wte', new Embedding(c.vocabSize, c.nEmbd));
    this.wpe = this.registerModule('wpe', new Embedding(c.nPositions, c.nEmbd));
    this.h = this.registerModule('h', new ModuleList(Array.from({ length: c.nLayer }, () => new GPT2Block(c))));
    this.ln_f = this.registerModule('ln_f', new LayerNorm(c.nEmbd, { eps: c.lnEps }));
  }
  override forward(ids: Tensor, opts: DecoderForwardOptions = {}): HfOutputs {
    const [b, t] = checkIds('GPT2Model', ids);
    const { cache } = opts;
    const start = cache?.length ?? 0;
    if (start + t > this.c.nPositions) throw new RangeError(`forwardpass: GPT2Model: ${start ? `${start} cached + ${t} new positions` : `${t} positions`} exceed the ${this.c.nPositions} learned positions (n_positions)`);
    if (cache && cache.layers.length !== this.c.nLayer) throw new RangeError(`forwardpass: GPT2Model: the KV cache has ${cache.layers.length} layers, the model ${this.c.nLayer}; create it with model.createCache()`);
    const mask = keyMask('GPT2Model', opts.attentionMask, b, start + t);
    const pos = checkPositionIds('GPT2Model', opts.positionIds, b, t) ?? arange(start, start + t, 1, { device: ids.device });
    let x = add(this.wte.forward(ids), this.wpe.forward(pos));
    const hidden: Tensor[] = [x];
    [...this.h].forEach((block, i) => {
      x = block.forward(x, mask, cache?.layer(i));
      hidden.push(x);
    });
    const y = this.ln_f.forward(x);
    hidden[hidden.length - 1] = y;
    return opts.outputHiddenStates ? { last_hidden_state: y, hidden_states: stackHidden(hidden) } : { last_hidden_state: y };
  }
}

/**
 * GPT2LMHeadModel: logits [B, T, V] from the tied lm_head (wte). Works with `generate`.
 *
 * @example const gpt2 = await loadHfModel('models/gpt2'); gpt2.forward(ids).logits
 */
export class GPT2LMHeadModel extends HfModel {
  readonly transformer: GPT2Model;
  readonly lm_head: Linear | null;
  readonly inputNames = ['input_ids', 'attention_mask', 'position_ids'];
  protected readonly allOutputs = ['logits', 'last_hidden_state', 'hidden_states'];
  protected readonly layout: HfLayout;
  readonly cfg: { vocabSize: number; context: number };

  constructor(readonly c: GPT2Config, raw: Record<string, unknown>) {
    super(raw);
    this.transformer = this.registerModule('transformer', new GPT2Model(c));
    this.lm_head = c.tieWordEmbeddings ? null : this.registerModule('lm_head', new Linear(c.nEmbd, c.vocabSize, { bias: false }));
    this.layout = { basePrefix: 'transformer', isBase: false, ignore: [/\.attn\.(masked_)?bias$/, ...(c.tieWordEmbeddings ? [/^lm_head\.weight$/] : [])] };
    this.cfg = { vocabSize: c.vocabSize, context: c.nPositions };
  }

  createCache(): KVCache {
    return new KVCache(this.c.nLayer);
  }

  override forward(ids: Tensor, opts: DecoderForwardOptions = {}): HfOutputs {
    const out = this.transformer.forward(ids, opts);
    const y = out.last_hidden_state!;
    return { logits: this.lm_head ? this.lm_head.forward(y) : linear(y, this.transformer.wte.weight), ...out };
  }

  run(inputs: Record<string, Tensor>): HfOutputs {
    const [ids, mask, positionIds] = this.pick(inputs);
    return this.forward(ids!, { attentionMask: mask ?? null, positionIds, outputHiddenStates: this.outputHiddenStates });
  }
}
