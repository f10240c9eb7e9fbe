// BERT-style encoders as Hugging Face writes them (bert, roberta, xlm-roberta: the same post-LN modules; roberta numbers
// positions from padding_idx + 1) with HF's heads: base (pooler), sequence / token classification, masked LM.
// Legend: B = batch, T = positions, C = hidden, V = vocab, L = labels.
import type { Tensor } from '../../tensor/tensor.js';
import { arange, tensor, zeros } from '../../tensor/creation.js';
import { shapeStr } from '../../tensor/shape.js';
import { add, cast, gelu, mul, ne, relu, silu, tanh } from '../../ops/elementwise.js';
import { linear, matmul } from '../../ops/linalg.js';
import { selfAttend } from '../attention.js';
import { ModuleList } from '../container.js';
import { Embedding } from '../embedding.js';
import { Linear } from '../linear.js';
import { Module } from '../module.js';
import { LayerNorm } from '../norm.js';
import { checkIds, HfModel, keyMask, stackHidden, type HfLayout, type HfOutputs } from './hf-base.js';

export type EncoderAct = 'gelu' | 'gelu_tanh' | 'relu' | 'silu';

export interface BertFamilyConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  /** token_type_embeddings rows (0: none). */
  typeVocabSize: number;
  lnEps: number;
  act: EncoderAct;
  /** roberta / xlm-roberta: positions are padding_idx + 1 + (index among non-pad tokens); pads get padding_idx. */
  robertaPositions: boolean;
  padTokenId: number;
  numLabels: number;
  tieWordEmbeddings: boolean;
}

/** The activation of an encoder's feed-forward block. */
export function encoderAct(act: EncoderAct, x: Tensor): Tensor {
  return act === 'relu' ? relu(x) : act === 'silu' ? silu(x) : gelu(x, { approximate: act === 'gelu_tanh' ? 'tanh' : 'none' });
}

/**
 * Roberta's position ids from input_ids [B, T]: padding_idx + cumsum(ids != pad) on tokens, padding_idx on pads.
 * The running count is a product with an upper-triangular matrix of ones (exact in float32), so it stays on the device.
 */
export function robertaPositionIds(ids: Tensor, pad: number): Tensor {
  const t = ids.shape[1]!;
  const tri = new Float32Array(t * t);
  for (let j = 0; j < t; j++) for (let i = j; i < t; i++) tri[j * t + i] = 1;
  const m = cast(ne(ids, pad), 'float32');
  const count = matmul(m, tensor(tri, { shape: [t, t], device: ids.device })); // count[b, i] = Σ_{j <= i} m[b, j]
  return cast(add(mul(count, m), pad), 'int32');
}

/** word + position (+ token type) embeddings, then LayerNorm. */
export class BertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings?: Embedding;
  readonly LayerNorm: LayerNorm;
  constructor(private readonly c: BertFamilyConfig) {
    super();
    this.word_embeddings = this.registerModule('word_embeddings', new Embedding(c.vocabSize, c.hiddenSize));
    this.position_embeddings = this.registerModule('position_embeddings', new Embedding(c.maxPositions, c.hiddenSize));
    if (c.typeVocabSize > 0) this.token_type_embeddings = this.registerModule('token_type_embeddings', new Embedding(c.typeVocabSize, c.hiddenSize));
    this.LayerNorm = this.registerModule('LayerNorm', new LayerNorm(c.hiddenSize, { eps: c.lnEps }));
  }
  override forward(ids: Tensor, tokenTypeIds: Tensor | null): Tensor {
    const [b, t] = ids.shape as [number, number];
    const last = this.c.robertaPositions ? this.c.padTokenId + t : t - 1;
    if (last >= this.c.maxPositions) throw new RangeError(`forwardpass: ${this.constructor.name}: ${t} positions need position ${last}, beyond the ${this.c.maxPositions} learned ones (max_position_embeddings)`);
    const pos = this.c.robertaPositions ? robertaPositionIds(ids, this.c.padTokenId) : arange(0, t, 1, { device: ids.device });
    let x = add(this.word_embeddings.forward(ids), this.position_embeddings.forward(pos));
    if (this.token_type_embeddings) {
      if (tokenTypeIds && (tokenTypeIds.rank !== 2 || tokenTypeIds.shape[0] !== b || tokenTypeIds.shape[1] !== t)) {
        throw new RangeError(`forwardpass: ${this.constructor.name}: token_type_ids must have the shape of input_ids [${b}, ${t}], got ${shapeStr(tokenTypeIds.shape)}`);
      }
      const types = tokenTypeIds ?? zeros([b, t], { dtype: 'int32', device: ids.device });
      x = add(x, this.token_type_embeddings.forward(types));
    }
    return this.LayerNorm.forward(x);
  }
}

/** query, key, value (attention.self). */
export class BertSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  private readonly heads: number;
  constructor(c: { hiddenSize: number; numHeads: number }, bias = true) {
    super();
    const C = c.hiddenSize;
    this.heads = c.numHeads;
    this.query = this.registerModule('query', new Linear(C, C, { bias }));
    this.key = this.registerModule('key', new Linear(C, C, { bias }));
    this.value = this.registerModule('value', new Linear(C, C, { bias }));
  }
  /** x [B, T, C], mask bool [B, 1, 1, T] or null -> merged heads [B, T, C]. */
  override forward(x: Tensor, mask: Tensor | null): Tensor {
    return selfAttend(this, this.query, this.key, this.value, x, this.heads, mask);
  }
}

/** dense, then LayerNorm(dense(x) + residual) (attention.output and output). */
export class BertResidualOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  constructor(inF: number, c: BertFamilyConfig) {
    super();
    this.dense = this.registerModule('dense', new Linear(inF, c.hiddenSize));
    this.LayerNorm = this.registerModule('LayerNorm', new LayerNorm(c.hiddenSize, { eps: c.lnEps }));
  }
  override forward(x: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(this.dense.forward(x), residual));
  }
}

export class BertAttention extends Module {
  readonly self: BertSelfAttention;
  readonly output: BertResidualOutput;
  constructor(c: BertFamilyConfig) {
    super();
    this.self = this.registerModule('self', new BertSelfAttention(c));
    this.output = this.registerModule('output', new BertResidualOutput(c.hiddenSize, c));
  }
  override forward(x: Tensor, mask: Tensor | null): Tensor {
    return this.output.forward(this.self.forward(x, mask), x);
  }
}

/** intermediate.dense with the activation. */
export class BertIntermediate extends Module {
  readonly dense: Linear;
  constructor(private readonly c: BertFamilyConfig) {
    super();
    this.dense = this.registerModule('dense', new Linear(c.hiddenSize, c.intermediateSize));
  }
  override forward(x: Tensor): Tensor {
    return encoderAct(this.c.act, this.dense.forward(x));
  }
}

export class BertLayer extends Module {
  readonly attention: BertAttention;
  readonly intermediate: BertIntermediate;
  readonly output: BertResidualOutput;
  constructor(c: BertFamilyConfig) {
    super();
    this.attention = this.registerModule('attention', new BertAttention(c));
    this.intermediate = this.registerModule('intermediate', new BertIntermediate(c));
    this.output = this.registerModule('output', new BertResidualOutput(c.intermediateSize, c));
  }
  override forward(x: Tensor, mask: Tensor | null): Tensor {
    const h = this.attention.forward(x, mask);
    return this.output.forward(this.intermediate.forward(h), h);
  }
}

export class BertEncoder extends Module {
  readonly layer: ModuleList<BertLayer>;
  constructor(c: BertFamilyConfig) {
    super();
    this.layer = this.registerModule('layer', new ModuleList(Array.from({ length: c.numLayers }, () => new BertLayer(c))));
  }
}

/** tanh(dense(x[:, 0])). */
export class BertPooler extends Module {
  readonly dense: Linear;
  constructor(c: BertFamilyConfig) {
    super();
    this.dense = this.registerModule('dense', new Linear(c.hiddenSize, c.hiddenSize, { activation: 'tanh' }));
  }
  override forward(x: Tensor): Tensor {
    return this.dense.forward(x.select(1, 0));
  }
}

/** BertModel / RobertaModel: last_hidden_state [B, T, C], hidden_states [L+1, B, T, C], pooler_output [B, C] when it has a pooler. */
export class BertModel extends Module {
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly pooler?: BertPooler;
  constructor(readonly c: BertFamilyConfig, withPooler: boolean) {
    super();
    this.embeddings = this.registerModule('embeddings', new BertEmbeddings(c));
    this.encoder = this.registerModule('encoder', new BertEncoder(c));
    if (withPooler) this.pooler = this.registerModule('pooler', new BertPooler(c));
  }
  override forward(ids: Tensor, attentionMask: Tensor | null = null, tokenTypeIds: Tensor | null = null, outputHiddenStates = false): HfOutputs {
    return runBertModel(this, ids, attentionMask, tokenTypeIds, outputHiddenStates);
  }
}

/** BertModel's computation (a plain function, so a base model registered at the top level runs it as its own). */
function runBertModel(m: BertModel, ids: Tensor, attentionMask: Tensor | null, tokenTypeIds: Tensor | null, outputHiddenStates: boolean): HfOutputs {
  const [b, t] = checkIds('BertModel', ids);
  const mask = keyMask('BertModel', attentionMask, b, t);
  let x = m.embeddings.forward(ids, tokenTypeIds);
  const hidden = [x];
  for (const layer of m.encoder.layer) hidden.push((x = layer.forward(x, mask)));
  const out: HfOutputs = { last_hidden_state: x };
  if (outputHiddenStates) out.hidden_states = stackHidden(hidden);
  if (m.pooler) out.pooler_output = m.pooler.forward(x);
  return out;
}

/** A masked-LM decoder tied to the word embeddings (or with its own weight): linear(x, W) + bias [V]. */
export class TiedDecoder extends Module {
  constructor(readonly tied: Embedding | null, inF: number, vocab: number, bias: boolean) {
    super();
    if (!tied) this.registerParameter('weight', zeros([vocab, inF]));
    if (bias) this.registerParameter('bias', zeros([vocab]));
  }
  override forward(x: Tensor, bias: Tensor | null = null): Tensor {
    return linear(x, this.tied ? this.tied.weight : this.getParameter('weight'), bias ?? this.maybeParameter('bias') ?? null);
  }
}

/** bert's cls.predictions: transform.{dense, act, LayerNorm}, decoder (tied), bias. */
export class BertLMPredictionHead extends Module {
  readonly transform: BertPredictionHeadTransform;
  readonly decoder: TiedDecoder;
  constructor(c: BertFamilyConfig, tied: Embedding) {
    super();
    this.transform = this.registerModule('transform', new BertPredictionHeadTransform(c));
    this.registerParameter('bias', zeros([c.vocabSize]));
    this.decoder = this.registerModule('decoder', new TiedDecoder(c.tieWordEmbeddings ? tied : null, c.hiddenSize, c.vocabSize, false));
  }
  override forward(x: Tensor): Tensor {
    return this.decoder.forward(this.transform.forward(x), this.getParameter('bias'));
  }
}

/** dense, activation, LayerNorm (no residual): bert's prediction-head transform. */
export class BertPredictionHeadTransform extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  constructor(private readonly c: BertFamilyConfig) {
    super();
    this.dense = this.registerModule('dense', new Linear(c.hiddenSize, c.hiddenSize));
    this.LayerNorm = this.registerModule('LayerNorm', new LayerNorm(c.hiddenSize, { eps: c.lnEps }));
  }
  override forward(x: Tensor): Tensor {
    return this.LayerNorm.forward(encoderAct(this.c.act, this.dense.forward(x)));
  }
}

/** bert's cls: predictions. */
export class BertOnlyMLMHead extends Module {
  readonly predictions: BertLMPredictionHead;
  constructor(c: BertFamilyConfig, tied: Embedding) {
    super();
    this.predictions = this.registerModule('predictions', new BertLMPredictionHead(c, tied));
  }
  override forward(x: Tensor): Tensor {
    return this.predictions.forward(x);
  }
}

/** roberta's lm_head: dense, exact GELU, layer_norm, decoder (tied), bias. */
export class RobertaLMHead extends Module {
  readonly dense: Linear;
  readonly layer_norm: LayerNorm;
  readonly decoder: TiedDecoder;
  constructor(c: BertFamilyConfig, tied: Embedding) {
    super();
    this.dense = this.registerModule('dense', new Linear(c.hiddenSize, c.hiddenSize));
    this.layer_norm = this.registerModule('layer_norm', new LayerNorm(c.hiddenSize, { eps: c.lnEps }));
    this.registerParameter('bias', zeros([c.vocabSize]));
    this.decoder = this.registerModule('decoder', new TiedDecoder(c.tieWordEmbeddings ? tied : null, c.hiddenSize, c.vocabSize, false));
  }
  override forward(x: Tensor): Tensor {
    return this.decoder.forward(this.layer_norm.forward(gelu(this.dense.forward(x))), this.getParameter('bias'));
  }
}

/** roberta's classifier: out_proj(tanh(dense(x[:, 0]))). */
export class RobertaClassificationHead extends Module {
  readonly dense: Linear;
  readonly out_proj: Linear;
  constructor(c: BertFamilyConfig) {
    super();
    this.dense = this.registerModule('dense', new Linear(c.hiddenSize, c.hiddenSize));
    this.out_proj = this.registerModule('out_proj', new Linear(c.hiddenSize, c.numLabels));
  }
  override forward(x: Tensor): Tensor {
    return this.out_proj.forward(tanh(this.dense.forward(x.select(1, 0))));
  }
}

export type BertHead = 'base' | 'sequence' | 'token' | 'masked-lm';

/**
 * A bert / roberta / xlm-roberta model with one of HF's heads: 'base' (BertModel: last_hidden_state, pooler_output),
 * 'sequence' (ForSequenceClassification: logits [B, L]), 'token' (ForTokenClassification: logits [B, T, L]),
 * 'masked-lm' (ForMaskedLM: logits [B, T, V]). `prefix` is 'bert' or 'roberta'.
 *
 * @example const m = await loadHfModel('models/bert'); m.run({ input_ids, attention_mask }).logits
 */
export class BertFamilyModel extends HfModel {
  readonly inputNames = ['input_ids', 'attention_mask', 'token_type_ids'];
  protected readonly allOutputs: string[];
  protected readonly layout: HfLayout;
  readonly base: BertModel;
  readonly head: Module | null = null;

  constructor(readonly c: BertFamilyConfig, raw: Record<string, unknown>, readonly kind: BertHead, readonly prefix: 'bert' | 'roberta') {
    super(raw);
    const roberta = prefix === 'roberta';
    const pooler = kind === 'base' || (kind === 'sequence' && !roberta);
    this.base = new BertModel(c, pooler);
    if (kind === 'base') for (const [n, m] of this.base.namedChildren()) this.registerModule(n, m);
    else this.registerModule(prefix, this.base);
    const emb = this.base.embeddings.word_embeddings;
    if (kind === 'sequence') this.head = this.registerModule('classifier', roberta ? new RobertaClassificationHead(c) : new Linear(c.hiddenSize, c.numLabels));
    if (kind === 'token') this.head = this.registerModule('classifier', new Linear(c.hiddenSize, c.numLabels));
    if (kind === 'masked-lm' && roberta) this.head = this.registerModule('lm_head', new RobertaLMHead(c, emb));
    if (kind === 'masked-lm' && !roberta) this.head = this.registerModule('cls', new BertOnlyMLMHead(c, emb));
    // HF ignores these too: tied copies, the pooler of a checkpoint loaded into a head without one, and bert's
    // next-sentence head (bert-base-uncased stores it beside the masked-LM head)
    const ignore = [/^(cls\.predictions|lm_head)\.decoder\.bias$/, ...(c.tieWordEmbeddings ? [/^(cls\.predictions|lm_head)\.decoder\.weight$/] : [])];
    if (!pooler) ignore.push(new RegExp(`^${prefix}\\.pooler\\.`));
    ignore.push(/^cls\.seq_relationship\./);
    this.layout = { basePrefix: prefix, isBase: kind === 'base', ignore };
    this.allOutputs = kind === 'base' ? ['last_hidden_state', 'pooler_output', 'hidden_states'] : ['logits', 'last_hidden_state', ...(pooler ? ['pooler_output'] : []), 'hidden_states'];
  }

  override forward(ids: Tensor, attentionMask: Tensor | null = null, tokenTypeIds: Tensor | null = null): HfOutputs {
    const h = this.outputHiddenStates;
    const out = this.kind === 'base' ? runBertModel(this.base, ids, attentionMask, tokenTypeIds, h) : this.base.forward(ids, attentionMask, tokenTypeIds, h);
    if (this.kind === 'base') return out;
    const x = out.last_hidden_state!;
    const usePooled = this.kind === 'sequence' && this.prefix === 'bert';
    return { logits: this.head!.forward(usePooled ? out.pooler_output! : x), ...out };
  }

  run(inputs: Record<string, Tensor>): HfOutputs {
    const [ids, mask, types] = this.pick(inputs);
    return this.forward(ids!, mask ?? null, types ?? null);
  }
}
