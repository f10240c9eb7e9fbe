// Linear: y = x·Wᵀ + b over the last dim, PyTorch weight layout [out, in]; an optional fused activation.
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/creation.js';
import type { ActivationName } from '../ops/attrs.js';
import { linear } from '../ops/linalg.js';
import { Module } from './module.js';

export interface LinearOptions {
  /** Add a bias [out] (default true). */
  bias?: boolean;
  /** Activation fused after the bias (default 'none'); e.g. 'tanh' for a BERT pooler. */
  activation?: ActivationName;
}

/**
 * Fully connected layer over the last dim: [..., in] -> [..., out]. Parameters `weight` [out, in] and
 * `bias` [out] start as zeros; load real values with loadStateDict.
 *
 * @example const fc = new Linear(64, 10); const y = fc.forward(x); // x [B, 64] -> [B, 10]
 */
export class Linear extends Module {
  readonly activation: ActivationName;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`forwardpass: Linear: ${n} must be a positive integer, got ${String(v)}`);
    }
    this.activation = opts.activation ?? 'none';
    this.registerParameter('weight', zeros([outFeatures, inFeatures]));
    if (opts.bias ?? true) this.registerParameter('bias', zeros([outFeatures]));
  }

  get weight(): Tensor {
    return this.getParameter('weight');
  }
  get bias(): Tensor | undefined {
    return this.maybeParameter('bias');
  }

  override forward(x: Tensor): Tensor {
    const k = this.inFeatures;
    if (x.rank < 1 || x.shape[x.rank - 1] !== k) {
      throw new RangeError(`forwardpass: Linear(${k} -> ${this.outFeatures}): expected an input [..., ${k}], got ${shapeStr(x.shape)}`);
    }
    return linear(x, this.weight, this.bias ?? null, { activation: this.activation });
  }
}
