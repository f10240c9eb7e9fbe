// Reading a Hugging Face config.json: recognising one (a `model_type`), typed fields with one clear error each,
// both config styles (transformers 5 `rope_parameters`/`dtype`, transformers 4 `rope_theta`/`rope_scaling`/
// `torch_dtype`), and refusing fields that change the math but are not implemented.
import { FieldReader } from '../../nn/models/config.js';
import { ROPE_TYPES, type RopeParams, type RopeType } from '../../nn/rope.js';

/** A parsed config.json of a Hugging Face model folder. */
export type HfConfig = Record<string, unknown> & { model_type: string };

/** True when `json` looks like a Hugging Face config.json (a string `model_type`, no forwardpass `architecture`). */
export function isHfConfig(json: unknown): json is HfConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return false;
  const o = json as Record<string, unknown>;
  const arch = o.architecture as { type?: unknown } | undefined;
  return typeof o.model_type === 'string' && (arch === undefined || (typeof arch.type === 'string' && arch.type.startsWith('hf:')));
}

/** Parse config.json text or take an object; throws unless it is an HF config. */
export function parseHfConfig(config: string | Record<string, unknown>, where = 'config.json'): HfConfig {
  let c: unknown = config;
  if (typeof config === 'string') {
    try {
      c = JSON.parse(config);
    } catch (e) {
      throw new Error(`forwardpass: ${where}: not valid JSON (${(e as Error).message})`);
    }
  }
  if (!isHfConfig(c)) {
    const keys = c !== null && typeof c === 'object' ? Object.keys(c).slice(0, 8).join(', ') : typeof c;
    throw new Error(`forwardpass: ${where}: expected a Hugging Face config with a string 'model_type', found ${keys}`);
  }
  return c;
}

/** Field reader over an HF config; errors read "config config.json (llama): expected 'hidden_size' to be ...". */
export function hfFields(c: HfConfig): FieldReader {
  return new FieldReader(c, `config.json (${c.model_type})`);
}

/** The first architecture listed, or the default for the model type. */
export function hfArchitecture(c: HfConfig, def: string): string {
  const a = c.architectures;
  if (a === undefined || a === null) return def;
  if (!Array.isArray(a) || a.length === 0 || typeof a[0] !== 'string') throw new Error(`forwardpass: config.json (${c.model_type}): 'architectures' must be a non-empty list of class names, found ${JSON.stringify(a)}`);
  return a[0];
}

/** The weights' dtype named in the config (`dtype` in transformers 5, `torch_dtype` in 4), or undefined. */
export function hfDtype(c: HfConfig): string | undefined {
  const d = c.dtype ?? c.torch_dtype;
  return typeof d === 'string' ? d : undefined;
}

const isSet = (v: unknown) => v !== undefined && v !== null && v !== false;

/**
 * Throw for fields that would change the math when set (not null/false) and are not implemented: the error names
 * the field, its value and what the loader supports.
 */
export function refuseFields(c: HfConfig, fields: string[], what = 'it is not implemented'): void {
  for (const k of fields) {
    if (isSet(c[k])) throw new Error(`forwardpass: config.json (${c.model_type}): '${k}' = ${JSON.stringify(c[k])} changes the model's math and ${what}`);
  }
}

/** Check an activation name against the supported ones; returns it. */
export function hfActivation(c: HfConfig, keys: string[], def: string, supported: string[]): string {
  const f = hfFields(c);
  const act = f.str(keys, def);
  if (!supported.includes(act)) throw new Error(`forwardpass: config.json (${c.model_type}): activation '${keys.find((k) => c[k] !== undefined) ?? keys[0]}' = '${act}' is not supported; supported: ${supported.join(', ')}`);
  return act;
}

/**
 * RoPE settings from either config style: `rope_parameters` {rope_theta, rope_type, ...} (transformers 5) or
 * `rope_theta` + `rope_scaling` {type|rope_type, factor, ...} (transformers 4); `partial_rotary_factor` at the top
 * level or inside. `headDim` is the attention head size. An unknown rope type is an error naming the field.
 */
export function hfRope(c: HfConfig, headDim: number, opts: { defaultTheta?: number; partial?: number } = {}): RopeParams {
  const f = hfFields(c);
  const params = c.rope_parameters ?? c.rope_scaling ?? null;
  const field = c.rope_parameters !== undefined && c.rope_parameters !== null ? 'rope_parameters' : 'rope_scaling';
  if (params !== null && (typeof params !== 'object' || Array.isArray(params))) throw new Error(`forwardpass: config.json (${c.model_type}): '${field}' must be an object, found ${JSON.stringify(params)}`);
  const p = (params ?? {}) as Record<string, unknown>;
  if (Object.values(p).some((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) {
    throw new Error(`forwardpass: config.json (${c.model_type}): '${field}' holds per-layer-type RoPE settings (${Object.keys(p).join(', ')}), which are not implemented`);
  }
  const pf = new FieldReader(p, `config.json (${c.model_type}) '${field}'`);
  const theta = pf.num('rope_theta', f.num('rope_theta', opts.defaultTheta ?? 10000));
  const type = String(p.rope_type ?? p.type ?? 'default');
  if (!ROPE_TYPES.includes(type as RopeType)) {
    throw new Error(`forwardpass: config.json (${c.model_type}): '${field}' rope type '${type}' is not implemented; supported: ${ROPE_TYPES.join(', ')}`);
  }
  for (const k of ['mrope_section', 'mrope_interleaved', 'short_factor', 'long_factor']) {
    if (isSet(p[k])) throw new Error(`forwardpass: config.json (${c.model_type}): '${field}.${k}' changes the RoPE math and is not implemented`);
  }
  const partial = pf.num('partial_rotary_factor', f.num('partial_rotary_factor', opts.partial ?? 1));
  const dim = Math.trunc(headDim * partial);
  if (dim < 2 || dim % 2 !== 0 || dim > headDim) throw new Error(`forwardpass: config.json (${c.model_type}): partial_rotary_factor ${partial} gives ${dim} rotary dims of a ${headDim}-dim head; expected an even number from 2 to ${headDim}`);
  const maxPos = f.int('max_position_embeddings', 2048);
  const out: RopeParams = { type: type as RopeType, theta, dim };
  if (type === 'default') return out;
  if (type === 'dynamic') return { ...out, factor: pf.num('factor'), originalMaxPositions: maxPos };
  if (type === 'linear') return { ...out, factor: pf.num('factor') };
  // llama3 and yarn: a top-level original_max_position_embeddings wins (phi3 style), as HF's standardize_rope_params
  const orig = f.int('original_max_position_embeddings', pf.int('original_max_position_embeddings', maxPos));
  if (type === 'llama3') return { ...out, factor: pf.num('factor'), originalMaxPositions: orig, lowFreqFactor: pf.num('low_freq_factor'), highFreqFactor: pf.num('high_freq_factor') };
  const opt = (k: string) => (typeof p[k] === 'number' ? (p[k] as number) : undefined);
  return {
    ...out,
    factor: typeof p.factor === 'number' ? p.factor : maxPos / orig,
    originalMaxPositions: orig,
    betaFast: opt('beta_fast') || undefined,
    betaSlow: opt('beta_slow') || undefined,
    attentionFactor: opt('attention_factor'),
    mscale: opt('mscale'),
    mscaleAllDim: opt('mscale_all_dim'),
    truncate: typeof p.truncate === 'boolean' ? p.truncate : undefined,
  };
}
