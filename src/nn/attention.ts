// Multi-head self-attention modules: CausalSelfAttention (GPT-2: fused c_attn, KV cache) and SelfAttention
// (BERT: separate query/key/value, padding mask), plus the head split/merge helpers and the KV cache.
// Legend: B = batch, T = query positions, S = key positions (cached + new), H = heads, D = head dim, C = H·D.
import { shapeStr } from '../tensor/shape.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { attentionProbs, scaledDotProductAttention } from '../ops/attention.js';
import { concat } from '../ops/transform.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/** [B, T, C] -> [B, H, T, D] (a view: head h takes columns h·D..(h+1)·D). */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, t, c] = x.shape as [number, number, number];
  const r = x.reshape([b, t, heads, c / heads]);
  const p = r.permute(0, 2, 1, 3);
  r.dispose();
  return p;
}

/** [B, H, T, D] -> [B, T, H·D], heads concatenated in order. */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, t, d] = x.shape as [number, number, number, number];
  const p = x.permute(0, 2, 1, 3);
  const r = p.reshape([b, t, h * d]);
  p.dispose();
  return r;
}

/**
 * Keys and values of one attention layer, [B, H, S, D], grown along S as tokens are decoded.
 *
 * @example const kv = new LayerKV(); attn.forward(prompt, kv); attn.forward(nextToken, kv); kv.length
 */
export class LayerKV {
  k: Tensor | null = null;
  v: Tensor | null = null;

  /** Number of cached positions. */
  get length(): number {
    return this.k?.shape[2] ?? 0;
  }

  /** Append new keys/values [B, H, T, D]; returns the full cached k, v (owned by the cache). */
  append(k: Tensor, v: Tensor): [Tensor, Tensor] {
    if (this.k && (this.k.shape[0] !== k.shape[0] || this.k.shape[1] !== k.shape[1] || this.k.shape[3] !== k.shape[3])) {
      throw new RangeError(`forwardpass: KV cache: new keys ${shapeStr(k.shape)} do not continue the cached ${shapeStr(this.k.shape)} (batch, heads and head dim must match)`);
    }
    const nk = keep(this.k ? concat([this.k, k], 2) : k.contiguous());
    const nv = keep(this.v ? concat([this.v!, v], 2) : v.contiguous());
    this.clear();
    this.k = nk;
    this.v = nv;
    return [nk, nv];
  }

  clear(): void {
    this.k?.dispose();
    this.v?.dispose();
    this.k = null;
    this.v = null;
  }
}

/**
 * A key/value cache for a stack of causal attention layers. Dispose it (or reset) when done.
 *
 * @example const cache = gpt.createCache(); gpt.forward(promptIds, { cache }); gpt.forward(nextId, { cache }); cache.dispose();
 */
export class KVCache {
  readonly layers: LayerKV[];
  constructor(numLayers: number) {
    this.layers = Array.from({ length: numLayers }, () => new LayerKV());
  }
  /** Positions cached so far (that of the first layer; all layers agree after a full forward). */
  get length(): number {
    return this.layers[0]?.length ?? 0;
  }
  layer(i: number): LayerKV {
    const l = this.layers[i];
    if (!l) throw new RangeError(`forwardpass: KV cache: layer ${i} is out of range for a cache of ${this.layers.length} layers`);
    return l;
  }
  reset(): void {
    for (const l of this.layers) l.clear();
  }
  dispose(): void {
    this.reset();
  }
}

export interface AttendOptions {
  /** Bool (true = attend) or additive float mask, broadcastable to [B, H, T, S]. */
  mask?: Tensor | null;
  /** Mask key j > i + (S - T). */
  isCausal?: boolean;
}

/**
 * Attention over head-split q [B, H, T, D], k/v [B, H, S, D] -> merged heads [B, T, C]. Records the
 * checkpoints `probs` (only when a hook listens on `owner`) and `merged` on `owner`.
 */
export function attendHeads(owner: Module, q: Tensor, k: Tensor, v: Tensor, opts: AttendOptions = {}): Tensor {
  const o = { mask: opts.mask ?? null, isCausal: opts.isCausal ?? false, scale: 1 / Math.sqrt(q.shape[3]!) };
  if (owner.hooked) owner.checkpoint('probs', attentionProbs(q, k, o));
  const merged = mergeHeads(scaledDotProductAttention(q, k, v, o));
  owner.checkpoint('merged', merged);
  return merged;
}

function checkHeads(what: string, embedDim: number, numHeads: number): void {
  if (!Number.isInteger(embedDim) || !Number.isInteger(numHeads) || embedDim <= 0 || numHeads <= 0 || embedDim % numHeads !== 0) {
    throw new RangeError(`forwardpass: ${what}: embedDim (${embedDim}) must be a positive multiple of numHeads (${numHeads})`);
  }
}

function checkInput(what: string, x: Tensor, c: number): void {
  if (x.rank !== 3 || x.shape[2] !== c) throw new RangeError(`forwardpass: ${what}: expected an input [B, T, ${c}], got ${shapeStr(x.shape)}`);
}

/**
 * GPT-2 style causal self-attention: c_attn Linear C -> 3C (columns [q | k | v]), c_proj Linear C -> C.
 * With a LayerKV, new keys/values are appended to it and the queries attend to all cached positions.
 *
 * @example const attn = new CausalSelfAttention(64, 4); attn.forward(x) // [B, T, 64] -> [B, T, 64]
 */
export class CausalSelfAttention extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  constructor(readonly embedDim: number, readonly numHeads: number, opts: { bias?: boolean } = {}) {
    super();
    checkHeads('CausalSelfAttention', embedDim, numHeads);
    this.c_attn = this.registerModule('c_attn', new Linear(embedDim, 3 * embedDim, opts));
    this.c_proj = this.registerModule('c_proj', new Linear(embedDim, embedDim, opts));
  }

  override forward(x: Tensor, cache?: LayerKV): Tensor {
    const c = this.embedDim;
    checkInput('CausalSelfAttention', x, c);
    const qkv = this.c_attn.forward(x);
    const [q, k, v] = [0, 1, 2].map((i) => splitHeads(qkv.narrow(2, i * c, c), this.numHeads)) as [Tensor, Tensor, Tensor];
    const [kk, vv] = cache ? cache.append(k, v) : [k, v];
    return this.c_proj.forward(attendHeads(this, q, kk, vv, { isCausal: true }));
  }
}

/**
 * BERT style bidirectional self-attention: query, key, value and out Linear C -> C. The optional mask is a
 * key padding mask [B, S] (bool: true = attend; or additive float) or anything broadcastable to [B, H, T, S].
 *
 * @example const attn = new SelfAttention(64, 4); attn.forward(x, mask) // x [B, T, 64], mask [B, T]
 */
export class SelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly out: Linear;
  constructor(readonly embedDim: number, readonly numHeads: number, opts: { bias?: boolean } = {}) {
    super();
    checkHeads('SelfAttention', embedDim, numHeads);
    this.query = this.registerModule('query', new Linear(embedDim, embedDim, opts));
    this.key = this.registerModule('key', new Linear(embedDim, embedDim, opts));
    this.value = this.registerModule('value', new Linear(embedDim, embedDim, opts));
    this.out = this.registerModule('out', new Linear(embedDim, embedDim, opts));
  }

  override forward(x: Tensor, mask?: Tensor | null): Tensor {
    checkInput('SelfAttention', x, this.embedDim);
    const merged = selfAttend(this, this.query, this.key, this.value, x, this.numHeads, mask ?? null);
    return this.out.forward(merged);
  }
}

/** Shared by SelfAttention and the BERT layer: project x with q/k/v, attend with a padding mask, merge heads. */
export function selfAttend(owner: Module, query: Linear, key: Linear, value: Linear, x: Tensor, heads: number, mask: Tensor | null): Tensor {
  const [q, k, v] = [query, key, value].map((m) => splitHeads(m.forward(x), heads)) as [Tensor, Tensor, Tensor];
  return attendHeads(owner, q, k, v, { mask: mask && mask.rank === 2 ? paddingMask(mask, x) : mask });
}

/** A key padding mask [B, S] viewed as [B, 1, 1, S]. */
function paddingMask(mask: Tensor, x: Tensor): Tensor {
  const [b, s] = mask.shape as [number, number];
  if (b !== x.shape[0] || s !== x.shape[1]) {
    throw new RangeError(`forwardpass: SelfAttention: a padding mask must be [B, S] = [${x.shape[0]}, ${x.shape[1]}], got ${shapeStr(mask.shape)}`);
  }
  return mask.reshape([b, 1, 1, s]);
}
