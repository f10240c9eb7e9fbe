// A BERT style encoder classifier (tiny-bert-cls): word + learned position embeddings, emb_ln, post-LN layers
// layers.N.{query, key, value, attn_out, attn_ln, ff_in, ff_out, ff_ln}, a tanh pooler on position 0 and a
// classifier. Padding: additive mask (1 - mask) · -10000. Legend: B = batch, T = positions, C = d_model.
import { isIntDType } from '../../tensor/dtype.js';
import { shapeStr } from '../../tensor/shape.js';
import { arange } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { add, cast, mul, sub } from '../../ops/elementwise.js';
import { GELU } from '../activation.js';
import { selfAttend } from '../attention.js';
import { ModuleList } from '../container.js';
import { Embedding } from '../embedding.js';
import { Linear } from '../linear.js';
import { Module } from '../module.js';
import { LayerNorm } from '../norm.js';
import { FieldReader, findLayer, ioNames, pickInputs, requireTensor, type ConfiguredModel, type ModelConfig } from './config.js';

export interface BERTConfig {
  vocabSize: number;
  dModel: number;
  nHeads: number;
  nLayers: number;
  ffHidden: number;
  /** Number of learned positions (the longest sequence). */
  maxLen: number;
  numClasses: number;
  /** LayerNorm eps (default 1e-12, as BERT). */
  lnEps?: number;
  /** GELU form in the feed-forward block (default 'none': exact erf). */
  geluApproximate?: 'none' | 'tanh';
  /** Value added to the scores of padded keys (default -10000). */
  maskValue?: number;
}

/** One post-LN encoder layer: x = attn_ln(x + attn_out(attn(x))); x = ff_ln(x + ff_out(gelu(ff_in(x)))). */
export class BERTLayer extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly attn_out: Linear;
  readonly attn_ln: LayerNorm;
  readonly ff_in: Linear;
  readonly ff_gelu: GELU;
  readonly ff_out: Linear;
  readonly ff_ln: LayerNorm;
  constructor(private readonly c: Required<BERTConfig>) {
    super();
    const d = c.dModel;
    this.query = this.registerModule('query', new Linear(d, d));
    this.key = this.registerModule('key', new Linear(d, d));
    this.value = this.registerModule('value', new Linear(d, d));
    this.attn_out = this.registerModule('attn_out', new Linear(d, d));
    this.attn_ln = this.registerModule('attn_ln', new LayerNorm(d, { eps: c.lnEps }));
    this.ff_in = this.registerModule('ff_in', new Linear(d, c.ffHidden));
    this.ff_gelu = this.registerModule('ff_gelu', new GELU({ approximate: c.geluApproximate }));
    this.ff_out = this.registerModule('ff_out', new Linear(c.ffHidden, d));
    this.ff_ln = this.registerModule('ff_ln', new LayerNorm(d, { eps: c.lnEps }));
  }

  /** x [B, T, C]; mask: additive [B, 1, 1, T] or null. Checkpoints `probs` (when hooked) and `merged`. */
  override forward(x: Tensor, mask: Tensor | null = null): Tensor {
    const merged = selfAttend(this, this.query, this.key, this.value, x, this.c.nHeads, mask);
    const h = this.attn_ln.forward(add(x, this.attn_out.forward(merged)));
    const f = this.ff_out.forward(this.ff_gelu.forward(this.ff_in.forward(h)));
    return this.ff_ln.forward(add(h, f));
  }
}

/**
 * BERT style sequence classifier. `forward(ids [B, T] int32, attentionMask? [B, T] (1 = token, 0 = pad))`
 * -> logits [B, numClasses].
 *
 * @example const bert = bertFromConfig(config); bert.loadStateDict(tensors); bert.forward(ids, mask)
 */
export class BERT extends Module implements ConfiguredModel {
  readonly cfg: Required<BERTConfig>;
  readonly word_emb: Embedding;
  readonly pos_emb: Embedding;
  readonly emb_ln: LayerNorm;
  readonly layers: ModuleList<BERTLayer>;
  readonly pooler: Linear;
  readonly classifier: Linear;
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly config: ModelConfig;

  constructor(cfg: BERTConfig, config?: ModelConfig) {
    super();
    const given = Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined)) as BERTConfig;
    this.cfg = { lnEps: 1e-12, geluApproximate: 'none', maskValue: -10000, ...given };
    const c = this.cfg;
    for (const k of ['vocabSize', 'dModel', 'nHeads', 'nLayers', 'ffHidden', 'maxLen', 'numClasses'] as const) {
      if (!Number.isInteger(c[k]) || c[k] <= 0) throw new RangeError(`forwardpass: BERT: ${k} must be a positive integer, got ${String(c[k])}`);
    }
    if (c.dModel % c.nHeads !== 0) throw new RangeError(`forwardpass: BERT: d_model ${c.dModel} must be divisible by n_heads ${c.nHeads}`);
    this.word_emb = this.registerModule('word_emb', new Embedding(c.vocabSize, c.dModel));
    this.pos_emb = this.registerModule('pos_emb', new Embedding(c.maxLen, c.dModel));
    this.emb_ln = this.registerModule('emb_ln', new LayerNorm(c.dModel, { eps: c.lnEps }));
    this.layers = this.registerModule('layers', new ModuleList(Array.from({ length: c.nLayers }, () => new BERTLayer(c))));
    this.pooler = this.registerModule('pooler', new Linear(c.dModel, c.dModel, { activation: 'tanh' }));
    this.classifier = this.registerModule('classifier', new Linear(c.dModel, c.numClasses));
    this.config = config ?? { architecture: { type: 'bert' } };
    this.inputNames = ioNames(config?.inputs, ['input_ids', 'attention_mask']).slice(0, 2);
    this.word_emb.label = `BERT: input '${this.inputNames[0]}' (token ids of word_emb, vocab_size ${c.vocabSize})`;
    this.outputNames = ioNames(config?.outputs, ['logits']).slice(0, 1);
  }

  override forward(ids: Tensor, attentionMask: Tensor | null = null): Tensor {
    const logits = this.classifier.forward(this.pooled(ids, attentionMask));
    this.checkpoint('logits', logits);
    return logits;
  }

  /** The pooled sentence vector [B, C] (tanh(pooler(h_CLS))) that the classifier reads; the serve embeddings. */
  pooled(ids: Tensor, attentionMask: Tensor | null = null): Tensor {
    requireTensor(ids, `BERT: input '${this.inputNames[0]}'`, "an int32 Tensor [B, T], e.g. tensor([[5, 9]], { dtype: 'int32' })");
    if (attentionMask !== null && attentionMask !== undefined) requireTensor(attentionMask, `BERT: input '${this.inputNames[1] ?? 'attention_mask'}'`, 'a Tensor [B, T] of 1 (token) and 0 (padding)');
    if (ids.rank !== 2 || !isIntDType(ids.dtype)) {
      throw new TypeError(`forwardpass: BERT: input_ids must be an int32 tensor [B, T], got ${ids.dtype} ${shapeStr(ids.shape)}`);
    }
    const [b, t] = ids.shape as [number, number];
    if (t < 1 || t > this.cfg.maxLen) {
      throw new RangeError(`forwardpass: BERT: input '${this.inputNames[0]}' dim 1 (sequence length) is ${t}, but the model takes 1 to ${this.cfg.maxLen} (the learned positions of pos_emb)`);
    }
    let mask: Tensor | null = null;
    if (attentionMask) {
      if (attentionMask.rank !== 2 || attentionMask.shape[0] !== b || attentionMask.shape[1] !== t) {
        throw new RangeError(`forwardpass: BERT: attention_mask must have the shape of input_ids ${shapeStr(ids.shape)}, got ${shapeStr(attentionMask.shape)}`);
      }
      const m = attentionMask.dtype === 'float32' ? attentionMask : cast(attentionMask, 'float32');
      mask = mul(sub(1, m), this.cfg.maskValue).reshape([b, 1, 1, t]);
    }
    let x = add(this.word_emb.forward(ids), this.pos_emb.forward(arange(0, t, 1, { device: ids.device })));
    this.checkpoint('embed', x);
    x = this.emb_ln.forward(x);
    for (const layer of this.layers) x = layer.forward(x, mask);
    return this.pooler.forward(x.select(1, 0));
  }

  run(inputs: Record<string, Tensor>): Record<string, Tensor> {
    const [ids, mask] = pickInputs('BERT', inputs, this.inputNames, 1);
    return { [this.outputNames[0]!]: this.forward(ids!, mask ?? null) };
  }
}

/** The BERTConfig in a fixture-style config.json (architecture fields plus the eps of its LayerNorms). */
export function bertConfigFromJson(config: ModelConfig): BERTConfig {
  const a = new FieldReader(config.architecture as Record<string, unknown>, 'architecture');
  const ln = findLayer(config, 'emb_ln');
  const gelu = findLayer(config, 'layers.0.ff_gelu');
  const act = gelu ? new FieldReader(gelu, "layer 'layers.0.ff_gelu'").str('approximate', 'none') : a.str('activation', 'erf');
  return {
    vocabSize: a.int('vocab_size'),
    dModel: a.int('d_model'),
    nHeads: a.int('n_heads'),
    nLayers: a.int('n_layers'),
    ffHidden: a.int(['ff_hidden', 'mlp_hidden'], 4 * a.int('d_model')),
    maxLen: a.int(['max_len', 'context', 'max_position_embeddings']),
    numClasses: a.int(['num_classes', 'num_labels']),
    lnEps: ln ? new FieldReader(ln, "layer 'emb_ln'").num('eps', 1e-12) : 1e-12,
    geluApproximate: /tanh/i.test(act) ? 'tanh' : 'none',
  };
}

/** Build a BERT classifier from a fixture-style config (weights still zero: load them with loadStateDict). */
export function bertFromConfig(config: ModelConfig): BERT {
  return new BERT(bertConfigFromJson(config), config);
}
