// ViT as Hugging Face writes it (ViTModel, ViTForImageClassification): patch Conv2d (stride = patch), [CLS] + learned
// positions, pre-LN layers, final layernorm, classifier on CLS (or a tanh pooler).
// Legend: B = batch, Ch = channels, P = patches, N = P + 1 positions, C = hidden, L = labels.
import type { Tensor } from '../../tensor/tensor.js';
import { zeros } from '../../tensor/creation.js';
import { shapeStr } from '../../tensor/shape.js';
import { add, tanh } from '../../ops/elementwise.js';
import { concat } from '../../ops/transform.js';
import { ModuleList } from '../container.js';
import { Conv2d } from '../conv.js';
import { Linear } from '../linear.js';
import { Module } from '../module.js';
import { LayerNorm } from '../norm.js';
import { encoderAct, BertSelfAttention, type EncoderAct } from './bert-family.js';
import { HfModel, stackHidden, type HfLayout, type HfOutputs } from './hf-base.js';

export interface ViTConfig {
  imageSize: number;
  patchSize: number;
  numChannels: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  lnEps: number;
  act: EncoderAct;
  qkvBias: boolean;
  numLabels: number;
  /** ViTModel's pooler width (pooler_output_size; default hidden). */
  poolerSize: number;
}

/** projection: Conv2d(Ch -> C, kernel = stride = patch): [B, Ch, H, W] -> [B, P, C]. */
export class ViTPatchEmbeddings extends Module {
  readonly projection: Conv2d;
  constructor(private readonly c: ViTConfig) {
    super();
    this.projection = this.registerModule('projection', new Conv2d(c.numChannels, c.hiddenSize, c.patchSize, { stride: c.patchSize }));
  }
  override forward(pixels: Tensor): Tensor {
    const { imageSize: S, numChannels: ch } = this.c;
    if (pixels.rank !== 4 || pixels.shape[1] !== ch || pixels.shape[2] !== S || pixels.shape[3] !== S) {
      throw new RangeError(`forwardpass: ViT: pixel_values must be [B, ${ch}, ${S}, ${S}] (image_size ${S}; other sizes need position interpolation, which is not implemented), got ${shapeStr(pixels.shape)}`);
    }
    const y = this.projection.forward(pixels); // [B, C, h, w]
    const [b, C, h, w] = y.shape as [number, number, number, number];
    return y.reshape([b, C, h * w]).transpose(1, 2); // [B, P, C]
  }
}

/** [CLS] + patches, plus learned position embeddings [1, N, C]. */
export class ViTEmbeddings extends Module {
  readonly patch_embeddings: ViTPatchEmbeddings;
  constructor(c: ViTConfig) {
    super();
    const n = (c.imageSize / c.patchSize) ** 2 + 1;
    this.registerParameter('cls_token', zeros([1, 1, c.hiddenSize]));
    this.registerParameter('position_embeddings', zeros([1, n, c.hiddenSize]));
    this.patch_embeddings = this.registerModule('patch_embeddings', new ViTPatchEmbeddings(c));
  }
  override forward(pixels: Tensor): Tensor {
    const p = this.patch_embeddings.forward(pixels);
    const b = p.shape[0]!;
    const cls = this.getParameter('cls_token');
    const x = concat([cls.expand([b, 1, cls.shape[2]!]), p], 1);
    return add(x, this.getParameter('position_embeddings'));
  }
}

/** attention.attention (query/key/value) and attention.output.dense. */
export class ViTAttention extends Module {
  readonly attention: BertSelfAttention;
  readonly output: ViTDense;
  constructor(c: ViTConfig) {
    super();
    this.attention = this.registerModule('attention', new BertSelfAttention(c, c.qkvBias));
    this.output = this.registerModule('output', new ViTDense(c.hiddenSize, c.hiddenSize));
  }
  override forward(x: Tensor): Tensor {
    return this.output.forward(this.attention.forward(x, null));
  }
}

/** A module holding one `dense` Linear (HF's ViTSelfOutput, ViTOutput). */
export class ViTDense extends Module {
  readonly dense: Linear;
  constructor(inF: number, outF: number, bias = true) {
    super();
    this.dense = this.registerModule('dense', new Linear(inF, outF, { bias }));
  }
  override forward(x: Tensor): Tensor {
    return this.dense.forward(x);
  }
}

/** x += attn(layernorm_before(x)); x += output(act(intermediate(layernorm_after(x)))). */
export class ViTLayer extends Module {
  readonly attention: ViTAttention;
  readonly intermediate: ViTDense;
  readonly output: ViTDense;
  readonly layernorm_before: LayerNorm;
  readonly layernorm_after: LayerNorm;
  constructor(private readonly c: ViTConfig) {
    super();
    this.attention = this.registerModule('attention', new ViTAttention(c));
    this.intermediate = this.registerModule('intermediate', new ViTDense(c.hiddenSize, c.intermediateSize));
    this.output = this.registerModule('output', new ViTDense(c.intermediateSize, c.hiddenSize));
    this.layernorm_before = this.registerModule('layernorm_before', new LayerNorm(c.hiddenSize, { eps: c.lnEps }));
    this.layernorm_after = this.registerModule('layernorm_after', new LayerNorm(c.hiddenSize, { eps: c.lnEps }));
  }
  override forward(x: Tensor): Tensor {
    const h = add(x, this.attention.forward(this.layernorm_before.forward(x)));
    return add(h, this.output.forward(encoderAct(this.c.act, this.intermediate.forward(this.layernorm_after.forward(h)))));
  }
}

export class ViTEncoder extends Module {
  readonly layer: ModuleList<ViTLayer>;
  constructor(c: ViTConfig) {
    super();
    this.layer = this.registerModule('layer', new ModuleList(Array.from({ length: c.numLayers }, () => new ViTLayer(c))));
  }
}

/**
 * ViTModel (`withHead` false: last_hidden_state, pooler_output = tanh(dense(CLS))) or ViTForImageClassification
 * (logits [B, L] from the CLS position after the final LayerNorm). hidden_states [L+1, B, N, C] holds the raw layer
 * outputs (the last one before the final LayerNorm), as HF's.
 *
 * @example const vit = await loadHfModel('models/vit'); vit.run({ pixel_values }).logits
 */
export class ViTModel extends HfModel {
  readonly inputNames = ['pixel_values'];
  protected readonly allOutputs: string[];
  protected readonly layout: HfLayout;
  readonly embeddings: ViTEmbeddings;
  readonly encoder: ViTEncoder;
  readonly layernorm: LayerNorm;
  readonly pooler?: ViTDense;
  readonly classifier?: Linear;

  constructor(readonly c: ViTConfig, raw: Record<string, unknown>, readonly withHead: boolean) {
    super(raw);
    // the classification model keeps its ViTModel under `vit`; the base model holds the parts itself
    const holder = withHead ? this.registerModule('vit', new Module()) : this;
    this.embeddings = holder.registerModule('embeddings', new ViTEmbeddings(c));
    this.encoder = holder.registerModule('encoder', new ViTEncoder(c));
    this.layernorm = holder.registerModule('layernorm', new LayerNorm(c.hiddenSize, { eps: c.lnEps }));
    if (withHead) this.classifier = this.registerModule('classifier', new Linear(c.hiddenSize, c.numLabels));
    else this.pooler = this.registerModule('pooler', new ViTDense(c.hiddenSize, c.poolerSize));
    this.layout = { basePrefix: 'vit', isBase: !withHead };
    this.allOutputs = withHead ? ['logits', 'last_hidden_state', 'hidden_states'] : ['last_hidden_state', 'pooler_output', 'hidden_states'];
  }

  override forward(pixels: Tensor): HfOutputs {
    let x = this.embeddings.forward(pixels);
    const hidden = [x];
    for (const layer of this.encoder.layer) hidden.push((x = layer.forward(x)));
    const y = this.layernorm.forward(x);
    const out: HfOutputs = { last_hidden_state: y };
    if (this.outputHiddenStates) out.hidden_states = stackHidden(hidden);
    if (this.classifier) out.logits = this.classifier.forward(y.select(1, 0));
    if (this.pooler) out.pooler_output = tanh(this.pooler.forward(y.select(1, 0)));
    return out;
  }

  run(inputs: Record<string, Tensor>): HfOutputs {
    const [pixels] = this.pick(inputs);
    return this.forward(pixels!);
  }
}
