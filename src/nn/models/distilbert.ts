// DistilBERT as Hugging Face writes it: post-LN layers (attention.{q,k,v,out}_lin, sa_layer_norm, ffn.lin1/lin2,
// output_layer_norm) and HF's heads: base, sequence / token classification, masked LM tied to the word embeddings.
// Legend: B = batch, T = positions, C = dim, V = vocab, L = labels.
import type { Tensor } from '../../tensor/tensor.js';
import { arange } from '../../tensor/creation.js';
import { add, relu } from '../../ops/elementwise.js';
import { selfAttend } from '../attention.js';
import { ModuleList } from '../container.js';
import { Embedding } from '../embedding.js';
import { Linear } from '../linear.js';
import { Module } from '../module.js';
import { LayerNorm } from '../norm.js';
import { encoderAct, TiedDecoder, type BertHead, type EncoderAct } from './bert-family.js';
import { checkIds, HfModel, keyMask, stackHidden, type HfLayout, type HfOutputs } from './hf-base.js';

export interface DistilBertConfig {
  vocabSize: number;
  dim: number;
  hiddenDim: number;
  numLayers: number;
  numHeads: number;
  maxPositions: number;
  act: EncoderAct;
  numLabels: number;
  tieWordEmbeddings: boolean;
}

const EPS = 1e-12; // DistilBERT's LayerNorms all use 1e-12

export class DistilBertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  constructor(private readonly c: DistilBertConfig) {
    super();
    this.word_embeddings = this.registerModule('word_embeddings', new Embedding(c.vocabSize, c.dim));
    this.position_embeddings = this.registerModule('position_embeddings', new Embedding(c.maxPositions, c.dim));
    this.LayerNorm = this.registerModule('LayerNorm', new LayerNorm(c.dim, { eps: EPS }));
  }
  override forward(ids: Tensor): Tensor {
    const t = ids.shape[1]!;
    if (t > this.c.maxPositions) throw new RangeError(`forwardpass: DistilBERT: ${t} positions exceed the ${this.c.maxPositions} learned ones (max_position_embeddings)`);
    return this.LayerNorm.forward(add(this.word_embeddings.forward(ids), this.position_embeddings.forward(arange(0, t, 1, { device: ids.device }))));
  }
}

export class MultiHeadSelfAttention extends Module {
  readonly q_lin: Linear;
  readonly k_lin: Linear;
  readonly v_lin: Linear;
  readonly out_lin: Linear;
  constructor(private readonly c: DistilBertConfig) {
    super();
    this.q_lin = this.registerModule('q_lin', new Linear(c.dim, c.dim));
    this.k_lin = this.registerModule('k_lin', new Linear(c.dim, c.dim));
    this.v_lin = this.registerModule('v_lin', new Linear(c.dim, c.dim));
    this.out_lin = this.registerModule('out_lin', new Linear(c.dim, c.dim));
  }
  override forward(x: Tensor, mask: Tensor | null): Tensor {
    return this.out_lin.forward(selfAttend(this, this.q_lin, this.k_lin, this.v_lin, x, this.c.numHeads, mask));
  }
}

export class FFN extends Module {
  readonly lin1: Linear;
  readonly lin2: Linear;
  constructor(private readonly c: DistilBertConfig) {
    super();
    this.lin1 = this.registerModule('lin1', new Linear(c.dim, c.hiddenDim));
    this.lin2 = this.registerModule('lin2', new Linear(c.hiddenDim, c.dim));
  }
  override forward(x: Tensor): Tensor {
    return this.lin2.forward(encoderAct(this.c.act, this.lin1.forward(x)));
  }
}

/** x = sa_layer_norm(attention(x) + x); x = output_layer_norm(ffn(x) + x). */
export class TransformerBlock extends Module {
  readonly attention: MultiHeadSelfAttention;
  readonly sa_layer_norm: LayerNorm;
  readonly ffn: FFN;
  readonly output_layer_norm: LayerNorm;
  constructor(c: DistilBertConfig) {
    super();
    this.attention = this.registerModule('attention', new MultiHeadSelfAttention(c));
    this.sa_layer_norm = this.registerModule('sa_layer_norm', new LayerNorm(c.dim, { eps: EPS }));
    this.ffn = this.registerModule('ffn', new FFN(c));
    this.output_layer_norm = this.registerModule('output_layer_norm', new LayerNorm(c.dim, { eps: EPS }));
  }
  override forward(x: Tensor, mask: Tensor | null): Tensor {
    const h = this.sa_layer_norm.forward(add(this.attention.forward(x, mask), x));
    return this.output_layer_norm.forward(add(this.ffn.forward(h), h));
  }
}

export class DistilBertTransformer extends Module {
  readonly layer: ModuleList<TransformerBlock>;
  constructor(c: DistilBertConfig) {
    super();
    this.layer = this.registerModule('layer', new ModuleList(Array.from({ length: c.numLayers }, () => new TransformerBlock(c))));
  }
}

/**
 * DistilBertModel ('base': last_hidden_state, hidden_states), ForSequenceClassification ('sequence': logits [B, L]
 * from classifier(relu(pre_classifier(x[:, 0])))), ForTokenClassification ('token': logits [B, T, L]) or
 * ForMaskedLM ('masked-lm': logits [B, T, V]).
 *
 * @example const m = await loadHfModel('distilbert-folder'); m.run({ input_ids, attention_mask }).logits
 */
export class DistilBertModel extends HfModel {
  readonly inputNames = ['input_ids', 'attention_mask'];
  protected readonly allOutputs: string[];
  protected readonly layout: HfLayout;
  readonly embeddings: DistilBertEmbeddings;
  readonly transformer: DistilBertTransformer;
  readonly pre_classifier?: Linear;
  readonly classifier?: Linear;
  readonly vocab_transform?: Linear;
  readonly vocab_layer_norm?: LayerNorm;
  readonly vocab_projector?: TiedDecoder;

  constructor(readonly c: DistilBertConfig, raw: Record<string, unknown>, readonly kind: BertHead) {
    super(raw);
    const holder = kind === 'base' ? this : this.registerModule('distilbert', new Module());
    this.embeddings = holder.registerModule('embeddings', new DistilBertEmbeddings(c));
    this.transformer = holder.registerModule('transformer', new DistilBertTransformer(c));
    if (kind === 'sequence') this.pre_classifier = this.registerModule('pre_classifier', new Linear(c.dim, c.dim));
    if (kind === 'sequence' || kind === 'token') this.classifier = this.registerModule('classifier', new Linear(c.dim, c.numLabels));
    if (kind === 'masked-lm') {
      this.vocab_transform = this.registerModule('vocab_transform', new Linear(c.dim, c.dim));
      this.vocab_layer_norm = this.registerModule('vocab_layer_norm', new LayerNorm(c.dim, { eps: EPS }));
      this.vocab_projector = this.registerModule('vocab_projector', new TiedDecoder(c.tieWordEmbeddings ? this.embeddings.word_embeddings : null, c.dim, c.vocabSize, true));
    }
    this.layout = { basePrefix: 'distilbert', isBase: kind === 'base', ignore: c.tieWordEmbeddings ? [/^vocab_projector\.weight$/] : [] };
    this.allOutputs = kind === 'base' ? ['last_hidden_state', 'hidden_states'] : ['logits', 'last_hidden_state', 'hidden_states'];
  }

  override forward(ids: Tensor, attentionMask: Tensor | null = null): HfOutputs {
    const [b, t] = checkIds('DistilBertModel', ids);
    const mask = keyMask('DistilBertModel', attentionMask, b, t);
    let x = this.embeddings.forward(ids);
    const hidden = [x];
    for (const layer of this.transformer.layer) hidden.push((x = layer.forward(x, mask)));
    const out: HfOutputs = { last_hidden_state: x };
    if (this.outputHiddenStates) out.hidden_states = stackHidden(hidden);
    if (this.kind === 'sequence') out.logits = this.classifier!.forward(relu(this.pre_classifier!.forward(x.select(1, 0))));
    if (this.kind === 'token') out.logits = this.classifier!.forward(x);
    if (this.kind === 'masked-lm') out.logits = this.vocab_projector!.forward(this.vocab_layer_norm!.forward(encoderAct(this.c.act, this.vocab_transform!.forward(x))));
    const { logits, ...rest } = out;
    return logits ? { logits, ...rest } : out;
  }

  run(inputs: Record<string, Tensor>): HfOutputs {
    const [ids, mask] = this.pick(inputs);
    return this.forward(ids!, mask ?? null);
  }
}
