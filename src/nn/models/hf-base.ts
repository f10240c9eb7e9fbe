// What every Hugging Face model built here shares: HF's output names, loadStateDict that takes a checkpoint's own
// keys (a missing or extra base-model prefix, old LayerNorm gamma/beta, buffers HF no longer loads), attention
// masks from `attention_mask`, and the ConfiguredModel plumbing (run by input names, config for rebuilding).
import { isIntDType } from '../../tensor/dtype.js';
import { shapeStr } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ne, logicalAnd } from '../../ops/elementwise.js';
import { stack } from '../../ops/transform.js';
import { tensor } from '../../tensor/creation.js';
import { Module } from '../module.js';
import type { LoadStateDictResult, StateDictInput } from '../state-dict.js';
import { pickInputs, type ConfiguredModel, type ModelConfig } from './config.js';

/** Outputs by HF's names: logits, last_hidden_state, pooler_output, hidden_states ([L+1, B, T, C] stacked). */
export type HfOutputs = Record<string, Tensor>;

/** How a family's checkpoints are laid out, for loadStateDict. */
export interface HfLayout {
  /** The base model's attribute name in head models ('model', 'transformer', 'bert', ...). */
  basePrefix: string;
  /** True when this model is the base model itself (its keys have no prefix). */
  isBase: boolean;
  /** Checkpoint keys HF accepts and ignores (non-persistent buffers of older versions, tied copies). */
  ignore?: RegExp[];
  /** Older key names and their current form (gpt_neox: embed_out. -> lm_head.). */
  renames?: [RegExp, string][];
}

/** Buffers older checkpoints stored that carry no weights (masks, position ids, rotary frequencies). */
const ALWAYS_IGNORED = [/(^|\.)rotary_emb\.inv_freq$/, /(^|\.)embeddings\.position_ids$/, /(^|\.)embeddings\.token_type_ids$/];

/** The config a model built from an HF config.json carries: the file's fields plus `architecture.type` 'hf:<model_type>'. */
export function hfModelConfig(raw: Record<string, unknown>): ModelConfig {
  return { ...raw, architecture: { type: `hf:${String(raw.model_type)}` } };
}

/**
 * Base class of the HF models: `run(inputs)` by HF input names (input_ids, attention_mask, token_type_ids,
 * pixel_values) returning HF's output names, and a `loadStateDict` that takes HF checkpoint keys as they are.
 */
export abstract class HfModel extends Module implements ConfiguredModel {
  readonly config: ModelConfig;
  /** The HF class this model stands for (config.json `architectures[0]`, e.g. 'Qwen2ForCausalLM'). */
  architecture: string;
  abstract readonly inputNames: string[];
  /** Every output run() can give, hidden_states included. */
  protected abstract readonly allOutputs: string[];
  /**
   * Whether run() also returns hidden_states ([L+1, B, T, C], the embeddings and every layer's output): off by
   * default as in HF (config.json `output_hidden_states`), since it keeps every layer's activations.
   */
  outputHiddenStates: boolean;
  protected abstract readonly layout: HfLayout;

  constructor(raw: Record<string, unknown>) {
    super();
    this.config = hfModelConfig(raw);
    this.architecture = this.constructor.name;
    this.outputHiddenStates = raw.output_hidden_states === true;
  }

  /** Output names of run(): logits, last_hidden_state, pooler_output as the model has them; hidden_states when asked. */
  get outputNames(): string[] {
    return this.allOutputs.filter((n) => n !== 'hidden_states' || this.outputHiddenStates);
  }

  /** The device of the weights (where inputs should live). */
  get device(): string {
    return this.namedParameters()[0]?.[1].device ?? 'cpu';
  }

  /** Run on tensors by HF input name; returns tensors by HF output name. */
  abstract run(inputs: Record<string, Tensor>): HfOutputs;

  /** The inputs of `run` in `inputNames` order, the first required. */
  protected pick(inputs: Record<string, Tensor>): (Tensor | undefined)[] {
    return pickInputs(this.constructor.name, inputs, this.inputNames, 1);
  }

  /**
   * Load HF checkpoint tensors by their own names: keys may lack or carry the base-model prefix (a base model
   * drops a head model's other keys, as HF does), old `gamma`/`beta` LayerNorm names are accepted, and buffers
   * HF ignores (attention-mask buffers, position_ids, rotary inv_freq) are skipped. Otherwise strict, as Module's.
   *
   * @example model.loadStateDict((await readSafetensorsFile('model.safetensors')).tensors)
   */
  override loadStateDict(tensors: StateDictInput, opts: { strict?: boolean } = {}): LoadStateDictResult {
    const given = tensors instanceof Map ? tensors : new Map(Object.entries(tensors ?? {}));
    return super.loadStateDict(this.adaptKeys(given), opts);
  }

  private adaptKeys(given: Map<string, Tensor>): Map<string, Tensor> {
    const expected = new Set(this.namedParameters().map(([k]) => k));
    const { basePrefix, isBase } = this.layout;
    const ignore = [...ALWAYS_IGNORED, ...(this.layout.ignore ?? [])];
    const pre = `${basePrefix}.`;
    const out = new Map<string, Tensor>();
    const hasPrefixed = [...given.keys()].some((k) => k.startsWith(pre));
    for (const [key, t] of given) {
      let k = key;
      if (isBase) {
        if (k.startsWith(pre)) k = k.slice(pre.length);
        else if (hasPrefixed) continue; // a head model's classifier / lm head: not part of the base model
      } else if (!hasPrefixed && !expected.has(k) && expected.has(pre + renamed(k))) {
        k = pre + k; // a base-model checkpoint (no prefix) loaded into a head model
      }
      if (!expected.has(k) && expected.has(renamed(k))) k = renamed(k);
      for (const [from, to] of this.layout.renames ?? []) if (!expected.has(k) && expected.has(k.replace(from, to))) k = k.replace(from, to);
      if (!expected.has(k) && ignore.some((r) => r.test(k))) continue;
      out.set(k, t);
    }
    return out;
  }
}

/** Old LayerNorm names: `.gamma` -> `.weight`, `.beta` -> `.bias`. */
function renamed(k: string): string {
  return k.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias');
}

/** Checks input_ids: an integer tensor [B, T] with T >= 1. */
export function checkIds(what: string, ids: Tensor): [number, number] {
  if (!ids || ids.rank !== 2 || !isIntDType(ids.dtype) || ids.shape[1]! < 1) {
    throw new TypeError(`forwardpass: ${what}: input_ids must be an int32 tensor [B, T] with T >= 1, got ${ids ? `${ids.dtype} ${shapeStr(ids.shape)}` : String(ids)}`);
  }
  return ids.shape as [number, number];
}

/**
 * attention_mask [B, S] (1 = token, 0 = padding; any int or float dtype) as a bool key mask [B, 1, 1, S], checked
 * against the batch and key count. Null stays null.
 */
export function keyMask(what: string, mask: Tensor | null | undefined, b: number, s: number): Tensor | null {
  if (!mask) return null;
  if (mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== s) {
    throw new RangeError(`forwardpass: ${what}: attention_mask must be [B, S] = [${b}, ${s}] (batch, all key positions), got ${shapeStr(mask.shape)}`);
  }
  return ne(mask, 0).reshape([b, 1, 1, s]);
}

/**
 * A bool mask [1, 1, T, S] letting query start+i see key j only when start + i - j < window (HF's sliding window),
 * combined with `mask` when given. Null when the window covers every key.
 */
export function slidingWindowMask(mask: Tensor | null, start: number, t: number, s: number, window: number | null, device: string): Tensor | null {
  if (window === null || start + t <= window) return mask;
  const m = new Uint8Array(t * s);
  for (let i = 0; i < t; i++) for (let j = 0; j < s; j++) m[i * s + j] = start + i - j < window ? 1 : 0;
  const w = tensor(m, { shape: [1, 1, t, s], dtype: 'bool', device });
  return mask ? logicalAnd(mask, w) : w;
}

/**
 * Checks optional position_ids [B, T] (int32); null stays null. Each id must lie in 0..start+T-1, as the positions a
 * left-padded batch gives (HF's generate: cumsum(attention_mask) - 1).
 */
export function checkPositionIds(what: string, pos: Tensor | null | undefined, b: number, t: number): Tensor | null {
  if (!pos) return null;
  if (pos.rank !== 2 || pos.shape[0] !== b || pos.shape[1] !== t || !isIntDType(pos.dtype)) {
    throw new RangeError(`forwardpass: ${what}: position_ids must be an int32 tensor [B, T] = [${b}, ${t}] like input_ids, got ${pos.dtype} ${shapeStr(pos.shape)}`);
  }
  return pos;
}

/** HF's output_hidden_states as one tensor [L+1, B, T, C]. */
export function stackHidden(list: Tensor[]): Tensor {
  return stack(list, 0);
}
