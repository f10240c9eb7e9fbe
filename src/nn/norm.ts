// Normalization modules (inference): BatchNorm1d/2d with running statistics, LayerNorm, RMSNorm, GroupNorm.
// Scales start at ones and shifts at zeros, as PyTorch initializes them.
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { ones, zeros } from '../tensor/creation.js';
import { batchNorm, groupNorm, layerNorm, rmsNorm } from '../ops/norm.js';
import { Module } from './module.js';

function positiveInt(op: string, what: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) <= 0) throw new RangeError(`forwardpass: ${op}: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

function shapeArg(op: string, s: number | readonly number[]): number[] {
  const arr = typeof s === 'number' ? [s] : [...s];
  if (arr.length === 0) throw new RangeError(`forwardpass: ${op}: normalizedShape must not be empty`);
  arr.forEach((d) => positiveInt(op, 'normalizedShape', d));
  return arr;
}

/** Shared by BatchNorm1d/2d: weight, bias, running_mean, running_var [C]. */
class BatchNormBase extends Module {
  readonly eps: number;
  constructor(private readonly kind: string, private readonly ranks: number[], readonly numFeatures: number, opts: { eps?: number; affine?: boolean } = {}) {
    super();
    positiveInt(kind, 'numFeatures', numFeatures);
    this.eps = opts.eps ?? 1e-5;
    if (opts.affine ?? true) {
      this.registerParameter('weight', ones([numFeatures]));
      this.registerParameter('bias', zeros([numFeatures]));
    }
    this.registerBuffer('running_mean', zeros([numFeatures]));
    this.registerBuffer('running_var', ones([numFeatures]));
    this.ignoredStateKeys.add('num_batches_tracked');
  }
  override forward(x: Tensor): Tensor {
    if (!this.ranks.includes(x.rank) || x.shape[1] !== this.numFeatures) {
      const want = this.ranks.length === 1 ? '[N, C, H, W]' : '[N, C] or [N, C, L]';
      throw new RangeError(`forwardpass: ${this.kind}(${this.numFeatures}): expected an input ${want} with C = ${this.numFeatures}, got ${shapeStr(x.shape)}`);
    }
    return batchNorm(x, this.getParameter('running_mean'), this.getParameter('running_var'), this.maybeParameter('weight') ?? null, this.maybeParameter('bias') ?? null, this.eps);
  }
}

/** Batch norm over NCHW input with running statistics. @example new BatchNorm2d(16, { eps: 1e-5 }) */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, opts: { eps?: number; affine?: boolean } = {}) {
    super('BatchNorm2d', [4], numFeatures, opts);
  }
}

/** Batch norm over [N, C] or [N, C, L] input. @example new BatchNorm1d(32) */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, opts: { eps?: number; affine?: boolean } = {}) {
    super('BatchNorm1d', [2, 3], numFeatures, opts);
  }
}

/** Layer norm over the trailing `normalizedShape` dims. @example new LayerNorm(64, { eps: 1e-12 }) */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  constructor(normalizedShape: number | readonly number[], opts: { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {}) {
    super();
    this.normalizedShape = shapeArg('LayerNorm', normalizedShape);
    this.eps = opts.eps ?? 1e-5;
    if (opts.elementwiseAffine ?? true) {
      this.registerParameter('weight', ones(this.normalizedShape));
      if (opts.bias ?? true) this.registerParameter('bias', zeros(this.normalizedShape));
    }
  }
  override forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.maybeParameter('weight') ?? null, this.maybeParameter('bias') ?? null, this.eps);
  }
}

/** RMS norm over the trailing dims (eps default: float32 machine epsilon, as torch.nn.RMSNorm). @example new RMSNorm(64, { eps: 1e-6 }) */
export class RMSNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number | undefined;
  constructor(normalizedShape: number | readonly number[], opts: { eps?: number; elementwiseAffine?: boolean } = {}) {
    super();
    this.normalizedShape = shapeArg('RMSNorm', normalizedShape);
    this.eps = opts.eps;
    if (opts.elementwiseAffine ?? true) this.registerParameter('weight', ones(this.normalizedShape));
  }
  override forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, this.maybeParameter('weight') ?? null, this.eps);
  }
}

/** Group norm over [N, C, ...] with C split into numGroups. @example new GroupNorm(4, 32) */
export class GroupNorm extends Module {
  readonly eps: number;
  constructor(readonly numGroups: number, readonly numChannels: number, opts: { eps?: number; affine?: boolean } = {}) {
    super();
    positiveInt('GroupNorm', 'numGroups', numGroups);
    positiveInt('GroupNorm', 'numChannels', numChannels);
    if (numChannels % numGroups !== 0) throw new RangeError(`forwardpass: GroupNorm: numChannels ${numChannels} must be divisible by numGroups ${numGroups}`);
    this.eps = opts.eps ?? 1e-5;
    if (opts.affine ?? true) {
      this.registerParameter('weight', ones([numChannels]));
      this.registerParameter('bias', zeros([numChannels]));
    }
  }
  override forward(x: Tensor): Tensor {
    if (x.rank < 2 || x.shape[1] !== this.numChannels) {
      throw new RangeError(`forwardpass: GroupNorm(${this.numGroups}, ${this.numChannels}): expected an input [N, ${this.numChannels}, ...], got ${shapeStr(x.shape)}`);
    }
    return groupNorm(x, this.numGroups, this.maybeParameter('weight') ?? null, this.maybeParameter('bias') ?? null, this.eps);
  }
}
