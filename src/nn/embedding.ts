// Embedding: a lookup table [num, dim]; int32 ids [...] -> vectors [..., dim].
import type { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/creation.js';
import { embedding } from '../ops/transform.js';
import { Module } from './module.js';

/** @example const wte = new Embedding(80, 64); wte.forward(tensor([[5, 9]], { dtype: 'int32' })) // [1, 2, 64] */
export class Embedding extends Module {
  /** What an out-of-range id's error calls this lookup, e.g. "GPT: input 'input_ids' (token ids of wte)"; default 'embedding'. */
  label?: string;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number) {
    super();
    for (const [n, v] of [['numEmbeddings', numEmbeddings], ['embeddingDim', embeddingDim]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`forwardpass: Embedding: ${n} must be a positive integer, got ${String(v)}`);
    }
    this.registerParameter('weight', zeros([numEmbeddings, embeddingDim]));
  }
  get weight(): Tensor {
    return this.getParameter('weight');
  }
  override forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight, this.label === undefined ? {} : { name: this.label });
  }
}
