// Q8_0 token embeddings kept quantized: int8 rows `qs` [V, C] and f16 block scales `d` [V, C/32]; a lookup gathers
// the rows and their scales and multiplies them out, so only the looked-up rows ever become float.
import { cast, mul } from '../../ops/elementwise.js';
import { embedding } from '../../ops/transform.js';
import { fromStorage } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../../nn/module.js';

/** @example const e = new Q8Embedding(512, 64); e.forward(ids) // [..., 64] float32 */
export class Q8Embedding extends Module {
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, device?: string) {
    super();
    if (embeddingDim % 32 !== 0) throw new RangeError(`forwardpass: Q8Embedding: the embedding size ${embeddingDim} must be a multiple of 32`);
    this.registerParameter('qs', fromStorage(new Int8Array(numEmbeddings * embeddingDim), [numEmbeddings, embeddingDim], 'int8', device));
    this.registerParameter('d', fromStorage(new Uint16Array(numEmbeddings * (embeddingDim / 32)), [numEmbeddings, embeddingDim / 32], 'float16', device));
  }
  override forward(ids: Tensor): Tensor {
    const nb = this.embeddingDim / 32;
    const q = embedding(ids, this.getParameter('qs'), { name: 'token_embd' });
    const s = embedding(ids, this.getParameter('d'), { name: 'token_embd' });
    const qf = cast(q, 'float32'), sf = cast(s, 'float32');
    const y = mul(qf.reshape([...ids.shape, nb, 32]), sf.reshape([...ids.shape, nb, 1]));
    for (const t of [q, s, qf, sf]) t.dispose();
    return y.reshape([...ids.shape, this.embeddingDim]);
  }
}
