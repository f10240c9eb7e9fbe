// Encoder and vision families (bert, roberta, xlm-roberta, distilbert, vit): config translation and architectures.
import { BertFamilyModel, type BertFamilyConfig, type BertHead, type EncoderAct } from '../../nn/models/bert-family.js';
import { DistilBertModel, type DistilBertConfig } from '../../nn/models/distilbert.js';
import { ViTModel, type ViTConfig } from '../../nn/models/vit.js';
import { hfActivation, hfFields, refuseFields, type HfConfig } from './config.js';
import type { HfFamily } from './families.js';

const ACTS = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu', 'silu', 'swish'];

function encoderAct(c: HfConfig, keys: string[]): EncoderAct {
  const a = hfActivation(c, keys, 'gelu', ACTS);
  return a === 'gelu_new' || a === 'gelu_pytorch_tanh' ? 'gelu_tanh' : a === 'swish' ? 'silu' : (a as EncoderAct);
}

/** Number of labels: id2label's size, else num_labels, else 2 (HF's default). */
function numLabels(c: HfConfig): number {
  const m = c.id2label;
  if (m && typeof m === 'object' && !Array.isArray(m) && Object.keys(m).length > 0) return Object.keys(m).length;
  return hfFields(c).int('num_labels', 2);
}

function bertConfig(c: HfConfig): BertFamilyConfig {
  const f = hfFields(c);
  refuseFields(c, ['is_decoder', 'add_cross_attention']);
  const pe = c.position_embedding_type;
  if (pe !== undefined && pe !== null && pe !== 'absolute') throw new Error(`forwardpass: config.json (${c.model_type}): 'position_embedding_type' = ${JSON.stringify(pe)} changes the model's math and is not implemented (only 'absolute')`);
  const roberta = c.model_type !== 'bert';
  return {
    vocabSize: f.int('vocab_size'),
    hiddenSize: f.int('hidden_size'),
    numLayers: f.int('num_hidden_layers'),
    numHeads: f.int('num_attention_heads'),
    intermediateSize: f.int('intermediate_size'),
    maxPositions: f.int('max_position_embeddings'),
    typeVocabSize: f.int('type_vocab_size', 2, 0),
    lnEps: f.num('layer_norm_eps', 1e-12),
    act: encoderAct(c, ['hidden_act']),
    robertaPositions: roberta,
    padTokenId: c.pad_token_id === null ? 1 : f.int('pad_token_id', roberta ? 1 : 0, 0),
    numLabels: numLabels(c),
    tieWordEmbeddings: f.bool('tie_word_embeddings', true),
  };
}

function distilConfig(c: HfConfig): DistilBertConfig {
  const f = hfFields(c);
  return {
    vocabSize: f.int('vocab_size'),
    dim: f.int('dim'),
    hiddenDim: f.int('hidden_dim'),
    numLayers: f.int('n_layers'),
    numHeads: f.int('n_heads'),
    maxPositions: f.int('max_position_embeddings'),
    act: encoderAct(c, ['activation']),
    numLabels: numLabels(c),
    tieWordEmbeddings: f.bool('tie_word_embeddings', true),
  };
}

function vitConfig(c: HfConfig): ViTConfig {
  const f = hfFields(c);
  const imageSize = f.int('image_size');
  const patchSize = f.int('patch_size');
  if (imageSize % patchSize !== 0) throw new Error(`forwardpass: config.json (vit): image_size ${imageSize} must be a multiple of patch_size ${patchSize}`);
  const pact = f.str('pooler_act', 'tanh');
  if (pact !== 'tanh') throw new Error(`forwardpass: config.json (vit): 'pooler_act' = '${pact}' is not supported (tanh only)`);
  return {
    imageSize,
    patchSize,
    numChannels: f.int('num_channels', 3),
    hiddenSize: f.int('hidden_size'),
    numLayers: f.int('num_hidden_layers'),
    numHeads: f.int('num_attention_heads'),
    intermediateSize: f.int('intermediate_size'),
    lnEps: f.num('layer_norm_eps', 1e-12),
    act: encoderAct(c, ['hidden_act']),
    qkvBias: f.bool('qkv_bias', true),
    numLabels: numLabels(c),
    poolerSize: f.int('pooler_output_size', f.int('hidden_size')),
  };
}

const bertHeads = (prefix: string, pre: 'bert' | 'roberta'): HfFamily['architectures'] => {
  const make = (kind: BertHead) => (c: HfConfig) => new BertFamilyModel(bertConfig(c), c, kind, pre);
  return {
    [`${prefix}Model`]: make('base'),
    [`${prefix}ForSequenceClassification`]: make('sequence'),
    [`${prefix}ForTokenClassification`]: make('token'),
    [`${prefix}ForMaskedLM`]: make('masked-lm'),
  };
};

const distil = (kind: BertHead) => (c: HfConfig) => new DistilBertModel(distilConfig(c), c, kind);

/** The encoder families, listed after the decoders in HF_FAMILIES. */
export const ENCODER_FAMILIES: HfFamily[] = [
  { modelTypes: ['bert'], architectures: bertHeads('Bert', 'bert') },
  { modelTypes: ['roberta'], architectures: bertHeads('Roberta', 'roberta') },
  { modelTypes: ['xlm-roberta'], architectures: bertHeads('XLMRoberta', 'roberta') },
  {
    modelTypes: ['distilbert'],
    architectures: {
      DistilBertModel: distil('base'),
      DistilBertForSequenceClassification: distil('sequence'),
      DistilBertForTokenClassification: distil('token'),
      DistilBertForMaskedLM: distil('masked-lm'),
    },
  },
  {
    modelTypes: ['vit'],
    architectures: {
      ViTForImageClassification: (c) => new ViTModel(vitConfig(c), c, true),
      ViTModel: (c) => new ViTModel(vitConfig(c), c, false),
    },
  },
];
