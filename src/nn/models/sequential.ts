// Sequential models from config.json `architecture.layers` (mlp-digits, cnn-digits, cnn-mnist...): a table maps
// each config layer type to a module, registered under the layer's `name` so state-dict keys match.
import type { Tensor } from '../../tensor/tensor.js';
import { GELU, LeakyReLU, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Tanh } from '../activation.js';
import { Sequential } from '../container.js';
import { Conv1d, Conv2d } from '../conv.js';
import { Embedding } from '../embedding.js';
import { Linear } from '../linear.js';
import type { Module } from '../module.js';
import { BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm } from '../norm.js';
import { AvgPool2d, MaxPool2d } from '../pooling.js';
import { Dropout, Flatten, Identity } from '../utility.js';
import { FieldReader, ioNames, pickInputs, requireTensor, type ConfiguredModel, type LayerConfig, type ModelConfig } from './config.js';

type LayerBuilder = (f: FieldReader) => Module;

const pair = (v: number | number[]): [number, number] => (typeof v === 'number' ? [v, v] : (v as [number, number]));

/**
 * Config layer type -> module builder. Field names follow the fixtures' config.json (`in`, `out`, `kernel`,
 * `channels`, `dim`...) with the PyTorch argument names accepted as aliases.
 */
export const LAYER_TYPES: Readonly<Record<string, LayerBuilder>> = {
  Linear: (f) => new Linear(f.int(['in', 'in_features']), f.int(['out', 'out_features']), { bias: f.bool('bias', true) }),
  Conv2d: (f) => new Conv2d(f.int(['in_channels', 'in']), f.int(['out_channels', 'out']), pair(f.intOrList(['kernel', 'kernel_size'], undefined, 1)), {
    stride: pair(f.intOrList('stride', 1, 1)),
    padding: f.intOrList('padding', 0, 0, [2, 4]) as number | [number, number] | [number, number, number, number],
    dilation: pair(f.intOrList('dilation', 1, 1)),
    groups: f.int('groups', 1),
    bias: f.bool('bias', true),
  }),
  Conv1d: (f) => new Conv1d(f.int(['in_channels', 'in']), f.int(['out_channels', 'out']), f.int(['kernel', 'kernel_size']), {
    stride: f.int('stride', 1),
    padding: f.intOrList('padding', 0, 0, [2]) as number | [number, number],
    dilation: f.int('dilation', 1),
    groups: f.int('groups', 1),
    bias: f.bool('bias', true),
  }),
  BatchNorm2d: (f) => new BatchNorm2d(f.int(['channels', 'num_features']), { eps: f.num('eps', 1e-5), affine: f.bool('affine', true) }),
  BatchNorm1d: (f) => new BatchNorm1d(f.int(['channels', 'num_features']), { eps: f.num('eps', 1e-5), affine: f.bool('affine', true) }),
  LayerNorm: (f) => new LayerNorm(f.intOrList(['dim', 'normalized_shape'], undefined, 1, [1, 2, 3, 4]), { eps: f.num('eps', 1e-5), elementwiseAffine: f.bool('elementwise_affine', true), bias: f.bool('bias', true) }),
  RMSNorm: (f) => new RMSNorm(f.intOrList(['dim', 'normalized_shape'], undefined, 1, [1, 2, 3, 4]), { ...(f.has('eps') ? { eps: f.num('eps') } : {}), elementwiseAffine: f.bool('elementwise_affine', true) }),
  GroupNorm: (f) => new GroupNorm(f.int(['groups', 'num_groups']), f.int(['channels', 'num_channels']), { eps: f.num('eps', 1e-5), affine: f.bool('affine', true) }),
  Embedding: (f) => new Embedding(f.int(['num', 'num_embeddings']), f.int(['dim', 'embedding_dim'])),
  ReLU: () => new ReLU(),
  ReLU6: () => new ReLU6(),
  LeakyReLU: (f) => new LeakyReLU(f.num('negative_slope', 0.01)),
  GELU: (f) => new GELU({ approximate: f.str('approximate', 'none') as 'none' | 'tanh' }),
  SiLU: () => new SiLU(),
  Tanh: () => new Tanh(),
  Sigmoid: () => new Sigmoid(),
  Softmax: (f) => new Softmax(f.int('dim', -1, -Infinity)),
  Dropout: (f) => new Dropout(f.num('p', 0.5)),
  Identity: () => new Identity(),
  MaxPool2d: (f) => new MaxPool2d(pair(f.intOrList(['kernel', 'kernel_size'], undefined, 1)), {
    stride: pair(f.intOrList('stride', f.intOrList(['kernel', 'kernel_size'], undefined, 1), 1)),
    padding: f.intOrList('padding', 0, 0, [2, 4]) as number | [number, number],
    dilation: pair(f.intOrList('dilation', 1, 1)),
    ceilMode: f.bool('ceil_mode', false),
  }),
  AvgPool2d: (f) => new AvgPool2d(pair(f.intOrList(['kernel', 'kernel_size'], undefined, 1)), {
    stride: pair(f.intOrList('stride', f.intOrList(['kernel', 'kernel_size'], undefined, 1), 1)),
    padding: f.intOrList('padding', 0, 0, [2, 4]) as number | [number, number],
    ceilMode: f.bool('ceil_mode', false),
    countIncludePad: f.bool('count_include_pad', true),
  }),
  Flatten: (f) => new Flatten(f.int('start_dim', 1, -Infinity), f.int('end_dim', -1, -Infinity)),
};

/** Build the module for one config layer entry; an unknown type is an error listing the known ones. */
export function layerFromConfig(layer: LayerConfig): Module {
  if (layer === null || typeof layer !== 'object' || typeof layer.name !== 'string' || typeof layer.type !== 'string') {
    throw new Error(`forwardpass: config layer: expected an object with string 'name' and 'type', got ${JSON.stringify(layer)}`);
  }
  const build = Object.prototype.hasOwnProperty.call(LAYER_TYPES, layer.type) ? LAYER_TYPES[layer.type] : undefined;
  if (!build) {
    throw new Error(`forwardpass: config layer '${layer.name}': unknown type '${layer.type}'; known types: ${Object.keys(LAYER_TYPES).join(', ')}`);
  }
  return build(new FieldReader(layer, `layer '${layer.name}' (${layer.type})`));
}

/**
 * A Sequential built from a config: children named by the layers' names. Records the checkpoint `input`.
 *
 * @example const model = sequentialFromConfig(config); model.loadStateDict(tensors); model.forward(x)
 */
export class SequentialModel extends Sequential implements ConfiguredModel {
  readonly inputNames: string[];
  readonly outputNames: string[];
  constructor(readonly config: ModelConfig) {
    super();
    const layers = config?.architecture?.layers;
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new Error(`forwardpass: sequentialFromConfig: config.architecture.layers must be a non-empty list of layers`);
    }
    const seen = new Set<string>();
    for (const l of layers) {
      if (seen.has(l?.name)) throw new Error(`forwardpass: config layer '${l.name}': the name is used twice`);
      seen.add(l?.name);
      if (typeof l?.name === 'string' && l.name.includes('.')) throw new Error(`forwardpass: config layer '${l.name}': a sequential layer name cannot contain dots`);
      this.append(layerFromConfig(l), l.name);
    }
    this.inputNames = ioNames(config.inputs, ['input']).slice(0, 1);
    this.outputNames = ioNames(config.outputs, ['logits']).slice(0, 1);
  }

  override forward(x: Tensor): Tensor {
    requireTensor(x, `SequentialModel: input '${this.inputNames[0]}'`, 'a float32 Tensor, e.g. tensor(values) or fromData(typedArray, shape)');
    this.checkpoint('input', x);
    return super.forward(x);
  }

  run(inputs: Record<string, Tensor>): Record<string, Tensor> {
    const [x] = pickInputs('SequentialModel', inputs, this.inputNames, 1);
    return { [this.outputNames[0]!]: this.forward(x!) };
  }
}

/** Build a sequential model (architecture types 'mlp', 'cnn', 'sequential') from its config. */
export function sequentialFromConfig(config: ModelConfig): SequentialModel {
  return new SequentialModel(config);
}
