// A GPT-2 style decoder (tiny-gpt): token + learned position embeddings, pre-LN blocks of causal attention and a
// GELU MLP, final LayerNorm and an lm_head. State-dict names: wte, wpe, h.N.{ln_1, attn.c_attn, attn.c_proj,
// ln_2, mlp.c_fc, mlp.c_proj}, ln_f, lm_head. Legend: B = batch, T = new positions, C = d_model, V = vocab.
import { isIntDType } from '../../tensor/dtype.js';
import { shapeStr } from '../../tensor/shape.js';
import { arange } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { add } from '../../ops/elementwise.js';
import { linear } from '../../ops/linalg.js';
import { GELU } from '../activation.js';
import { CausalSelfAttention, KVCache, type LayerKV } from '../attention.js';
import { ModuleList } from '../container.js';
import { Embedding } from '../embedding.js';
import { Linear } from '../linear.js';
import { Module } from '../module.js';
import { LayerNorm } from '../norm.js';
import { FieldReader, findLayer, ioNames, pickInputs, requireTensor, type ConfiguredModel, type ModelConfig } from './config.js';

export interface GPTConfig {
  vocabSize: number;
  dModel: number;
  nHeads: number;
  nLayers: number;
  /** Number of learned positions (the longest sequence). */
  context: number;
  mlpHidden: number;
  /** LayerNorm eps (default 1e-5). */
  lnEps?: number;
  /** GELU form in the MLP (default 'tanh', as GPT-2). */
  geluApproximate?: 'none' | 'tanh';
  /** lm_head reuses wte.weight (no lm_head tensor). Default false. */
  tiedLmHead?: boolean;
  /** lm_head has a bias (default false). */
  lmHeadBias?: boolean;
}

/** The MLP of a block: c_fc C -> hidden, GELU, c_proj hidden -> C. */
export class GPTMLP extends Module {
  readonly c_fc: Linear;
  readonly gelu: GELU;
  readonly c_proj: Linear;
  constructor(d: number, hidden: number, approximate: 'none' | 'tanh') {
    super();
    this.c_fc = this.registerModule('c_fc', new Linear(d, hidden));
    this.gelu = this.registerModule('gelu', new GELU({ approximate }));
    this.c_proj = this.registerModule('c_proj', new Linear(hidden, d));
  }
  override forward(x: Tensor): Tensor {
    return this.c_proj.forward(this.gelu.forward(this.c_fc.forward(x)));
  }
}

/** A pre-LN block: x += attn(ln_1(x)) (checkpoint `resid_attn`); x += mlp(ln_2(x)) (checkpoint `out`). */
export class GPTBlock extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: GPTMLP;
  constructor(cfg: Required<GPTConfig>) {
    super();
    this.ln_1 = this.registerModule('ln_1', new LayerNorm(cfg.dModel, { eps: cfg.lnEps }));
    this.attn = this.registerModule('attn', new CausalSelfAttention(cfg.dModel, cfg.nHeads));
    this.ln_2 = this.registerModule('ln_2', new LayerNorm(cfg.dModel, { eps: cfg.lnEps }));
    this.mlp = this.registerModule('mlp', new GPTMLP(cfg.dModel, cfg.mlpHidden, cfg.geluApproximate));
  }
  override forward(x: Tensor, cache?: LayerKV): Tensor {
    const h = add(x, this.attn.forward(this.ln_1.forward(x), cache));
    this.checkpoint('resid_attn', h);
    const out = add(h, this.mlp.forward(this.ln_2.forward(h)));
    this.checkpoint('out', out);
    return out;
  }
}

/**
 * GPT-2 style decoder. `forward(ids [B, T] int32, { cache })` -> logits [B, T, V]; with a KVCache the ids
 * are the new tokens at positions cache.length.., and the cache grows by T.
 *
 * @example const gpt = new GPT(cfg); gpt.loadStateDict(tensors); const logits = gpt.forward(ids);
 */
export class GPT extends Module implements ConfiguredModel {
  readonly cfg: Required<GPTConfig>;
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly h: ModuleList<GPTBlock>;
  readonly ln_f: LayerNorm;
  readonly lm_head: Linear | null;
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly config: ModelConfig;

  constructor(cfg: GPTConfig, config?: ModelConfig) {
    super();
    const given = Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined)) as GPTConfig;
    this.cfg = { lnEps: 1e-5, geluApproximate: 'tanh', tiedLmHead: false, lmHeadBias: false, ...given };
    const c = this.cfg;
    for (const k of ['vocabSize', 'dModel', 'nHeads', 'nLayers', 'context', 'mlpHidden'] as const) {
      if (!Number.isInteger(c[k]) || c[k] <= 0) throw new RangeError(`forwardpass: GPT: ${k} must be a positive integer, got ${String(c[k])}`);
    }
    if (c.dModel % c.nHeads !== 0) throw new RangeError(`forwardpass: GPT: d_model ${c.dModel} must be divisible by n_heads ${c.nHeads}`);
    this.wte = this.registerModule('wte', new Embedding(c.vocabSize, c.dModel));
    this.wpe = this.registerModule('wpe', new Embedding(c.context, c.dModel));
    this.h = this.registerModule('h', new ModuleList(Array.from({ length: c.nLayers }, () => new GPTBlock(c))));
    this.ln_f = this.registerModule('ln_f', new LayerNorm(c.dModel, { eps: c.lnEps }));
    this.lm_head = c.tiedLmHead ? null : this.registerModule('lm_head', new Linear(c.dModel, c.vocabSize, { bias: c.lmHeadBias }));
    this.config = config ?? { architecture: { type: 'gpt2' } };
    this.inputNames = ioNames(config?.inputs, ['input_ids']).slice(0, 1);
    this.wte.label = `GPT: input '${this.inputNames[0]}' (token ids of wte, vocab_size ${c.vocabSize})`;
    this.outputNames = ioNames(config?.outputs, ['logits']).slice(0, 1);
  }

  /** A fresh KV cache with one entry per block. */
  createCache(): KVCache {
    return new KVCache(this.cfg.nLayers);
  }

  override forward(ids: Tensor, opts: { cache?: KVCache } = {}): Tensor {
    const { cache } = opts;
    requireTensor(ids, `GPT: input '${this.inputNames[0]}'`, "an int32 Tensor [B, T], e.g. tensor([[5, 9]], { dtype: 'int32' })");
    if (ids.rank !== 2 || !isIntDType(ids.dtype)) {
      throw new TypeError(`forwardpass: GPT: input_ids must be an int32 tensor [B, T], got ${ids.dtype} ${shapeStr(ids.shape)}`);
    }
    const t = ids.shape[1]!;
    const start = cache?.length ?? 0;
    if (t < 1) throw new RangeError(`forwardpass: GPT: input_ids must hold at least one position, got ${shapeStr(ids.shape)}`);
    if (start + t > this.cfg.context) {
      const cached = start ? ` after ${start} cached positions` : '';
      throw new RangeError(`forwardpass: GPT: input '${this.inputNames[0]}' dim 1 (sequence length) is ${t}${cached}, but the model takes at most ${this.cfg.context}${start ? ' in all' : ''} (the learned positions of wpe); feed at most ${start ? `${this.cfg.context - start} new` : `the last ${this.cfg.context}`} tokens`);
    }
    if (cache && cache.layers.length !== this.cfg.nLayers) {
      throw new RangeError(`forwardpass: GPT: the KV cache has ${cache.layers.length} layers, the model ${this.cfg.nLayers}; create it with model.createCache()`);
    }
    const tok = this.wte.forward(ids);
    const pos = this.wpe.forward(arange(start, start + t, 1, { device: ids.device }));
    let x = add(tok, pos);
    this.checkpoint('embed', x);
    let i = 0;
    for (const block of this.h) x = block.forward(x, cache?.layer(i++));
    const y = this.ln_f.forward(x);
    const logits = this.lm_head ? this.lm_head.forward(y) : linear(y, this.wte.weight);
    this.checkpoint('logits', logits);
    return logits;
  }

  run(inputs: Record<string, Tensor>): Record<string, Tensor> {
    const [ids] = pickInputs('GPT', inputs, this.inputNames, 1);
    return { [this.outputNames[0]!]: this.forward(ids!) };
  }
}

/** The GPTConfig in a fixture-style config.json (architecture fields plus the eps/bias of its layers). */
export function gptConfigFromJson(config: ModelConfig): GPTConfig {
  const a = new FieldReader(config.architecture as Record<string, unknown>, 'architecture');
  const ln = findLayer(config, 'ln_f') ?? findLayer(config, 'h.0.ln_1');
  const head = findLayer(config, 'lm_head');
  const gelu = findLayer(config, 'h.0.mlp.gelu');
  const act = gelu ? new FieldReader(gelu, "layer 'h.0.mlp.gelu'").str('approximate', 'none') : a.str('activation', 'tanh');
  return {
    vocabSize: a.int('vocab_size'),
    dModel: a.int('d_model'),
    nHeads: a.int('n_heads'),
    nLayers: a.int('n_layers'),
    context: a.int(['context', 'max_len', 'n_positions']),
    mlpHidden: a.int(['mlp_hidden', 'ff_hidden'], 4 * a.int('d_model')),
    lnEps: ln ? new FieldReader(ln, `layer '${ln.name}'`).num('eps', 1e-5) : 1e-5,
    geluApproximate: /tanh/i.test(act) ? 'tanh' : 'none',
    tiedLmHead: a.bool('tied_lm_head', false),
    lmHeadBias: head ? new FieldReader(head, "layer 'lm_head'").bool('bias', false) : false,
  };
}

/** Build a GPT from a fixture-style config (weights still zero: load them with loadStateDict). */
export function gptFromConfig(config: ModelConfig): GPT {
  return new GPT(gptConfigFromJson(config), config);
}
