// The config.json shape the reference models are built from, and small readers that turn a missing or
// mistyped field into one clear error naming the layer and the field.
import { isTensor, type Tensor } from '../../tensor/tensor.js';
import type { Module } from '../module.js';

/** One entry of `architecture.layers`: `name` is the state-dict prefix, `type` the layer kind. */
export interface LayerConfig {
  name: string;
  type: string;
  [key: string]: unknown;
}

/** The parts of a fixture-style config.json the builders read (other fields are ignored). */
export interface ModelConfig {
  name?: string;
  architecture: { type: string; layers?: LayerConfig[]; [key: string]: unknown };
  inputs?: { name: string; [key: string]: unknown }[];
  outputs?: { name: string; [key: string]: unknown }[];
  /** Character models: the vocabulary, id = index. */
  vocab?: unknown;
  [key: string]: unknown;
}

/** A model built from a config: a Module that can also be run on inputs keyed by the config's input names. */
export interface ConfiguredModel extends Module {
  readonly config: ModelConfig;
  /** Input names in order (config `inputs[].name`, e.g. 'input', or 'input_ids' and 'attention_mask'). */
  readonly inputNames: string[];
  /** Output names (config `outputs[].name`, e.g. 'logits'). */
  readonly outputNames: string[];
  /** Run on tensors keyed by input name; returns tensors keyed by output name. */
  run(inputs: Record<string, Tensor>): Record<string, Tensor>;
}

/**
 * Throws one sentence unless `c` is a forwardpass config (an object with `architecture.type`, a string); a Hugging
 * Face config.json (it has `model_type`) is named as such. `where` names the file or the caller.
 * @example checkModelConfig(JSON.parse(text), 'model/config.json')
 */
export function checkModelConfig(c: unknown, where: string): asserts c is ModelConfig {
  const obj = c !== null && typeof c === 'object' && !Array.isArray(c) ? (c as Record<string, unknown>) : undefined;
  const arch = obj?.architecture as { type?: unknown } | null | undefined;
  if (arch !== null && typeof arch === 'object' && typeof arch.type === 'string') return;
  if (obj && typeof obj.model_type === 'string' && arch === undefined) {
    throw new Error(`forwardpass: ${where}: this is a Hugging Face config (model_type '${obj.model_type}'); expected here forwardpass's config with architecture.type (see test/fixtures/README.md); Hugging Face folders load with loadModel / loadHfModel and the CLI's run, inspect and generate`);
  }
  const found = obj ? (arch === undefined ? `keys ${Object.keys(obj).join(', ') || 'none'}` : `architecture ${JSON.stringify(arch)?.slice(0, 80)}`) : Array.isArray(c) ? 'an array' : c === null ? 'null' : typeof c;
  throw new Error(`forwardpass: ${where}: expected forwardpass's config with architecture.type (a string), found ${found}`);
}

/** Reads typed fields of a config object; errors name `where` (e.g. "layer 'fc1' (Linear)"). */
export class FieldReader {
  constructor(readonly obj: Record<string, unknown>, readonly where: string) {}

  private find(keys: string[]): [string, unknown] | undefined {
    for (const k of keys) if (this.obj[k] !== undefined) return [k, this.obj[k]];
    return undefined;
  }

  private fail(keys: string[], want: string, found?: [string, unknown]): never {
    const names = keys.map((k) => `'${k}'`).join(' or ');
    const what = found ? `found ${JSON.stringify(found[1])}` : 'it is missing';
    throw new Error(`forwardpass: config ${this.where}: expected ${names} to be ${want}, ${what}`);
  }

  has(...keys: string[]): boolean {
    return this.find(keys) !== undefined;
  }

  /** A positive integer (or >= `min`). */
  int(keys: string | string[], def?: number, min = 1): number {
    const ks = typeof keys === 'string' ? [keys] : keys;
    const f = this.find(ks);
    const want = min === -Infinity ? 'an integer' : `an integer >= ${min}`;
    if (!f) { if (def !== undefined) return def; this.fail(ks, want); }
    if (!Number.isInteger(f[1]) || (f[1] as number) < min) this.fail(ks, want, f);
    return f[1] as number;
  }

  num(keys: string | string[], def?: number): number {
    const ks = typeof keys === 'string' ? [keys] : keys;
    const f = this.find(ks);
    if (!f) { if (def !== undefined) return def; this.fail(ks, 'a number'); }
    if (typeof f[1] !== 'number' || !Number.isFinite(f[1])) this.fail(ks, 'a finite number', f);
    return f[1] as number;
  }

  bool(keys: string | string[], def: boolean): boolean {
    const ks = typeof keys === 'string' ? [keys] : keys;
    const f = this.find(ks);
    if (!f) return def;
    if (typeof f[1] !== 'boolean') this.fail(ks, 'true or false', f);
    return f[1] as boolean;
  }

  str(keys: string | string[], def?: string): string {
    const ks = typeof keys === 'string' ? [keys] : keys;
    const f = this.find(ks);
    if (!f) { if (def !== undefined) return def; this.fail(ks, 'a string'); }
    if (typeof f[1] !== 'string') this.fail(ks, 'a string', f);
    return f[1] as string;
  }

  /** An integer or a list of `len` integers (>= min), as given (number stays number). */
  intOrList(keys: string | string[], def: number | number[] | undefined, min: number, lens: number[] = [2]): number | number[] {
    const ks = typeof keys === 'string' ? [keys] : keys;
    const f = this.find(ks);
    const want = `an integer >= ${min} or a list of ${lens.join(' or ')} of them`;
    if (!f) { if (def !== undefined) return def; this.fail(ks, want); }
    const v = f[1];
    if (Number.isInteger(v) && (v as number) >= min) return v as number;
    if (Array.isArray(v) && lens.includes(v.length) && v.every((d) => Number.isInteger(d) && d >= min)) return [...v] as number[];
    return this.fail(ks, want, f);
  }
}

/** The layer entry named `name` in `architecture.layers`, or undefined. */
export function findLayer(config: ModelConfig, name: string): LayerConfig | undefined {
  return config.architecture.layers?.find((l) => l.name === name);
}

/** Names from config `inputs`/`outputs`, or the defaults. */
export function ioNames(list: { name: string }[] | undefined, def: string[]): string[] {
  return Array.isArray(list) && list.length ? list.map((x) => x.name) : def;
}

/** 'a plain array', 'an Int32Array', 'a number', 'undefined': what a value that is not a Tensor is, for messages. */
export function describeNonTensor(x: unknown): string {
  if (Array.isArray(x)) return 'a plain array';
  if (ArrayBuffer.isView(x)) return `a${/^[AEIOU]/.test(x.constructor.name) ? 'n' : ''} ${x.constructor.name}`;
  if (x === null || x === undefined) return String(x);
  return typeof x === 'object' ? `an object (${(x as object).constructor?.name ?? 'no class'})` : `a ${typeof x}`;
}

/**
 * Throws unless `x` is a Tensor: `forwardpass: <what> must be <expected>, got a plain array`.
 * @example requireTensor(ids, "GPT: input 'input_ids'", "an int32 Tensor [B, T], e.g. tensor([[5, 9]], { dtype: 'int32' })")
 */
export function requireTensor(x: unknown, what: string, expected: string): asserts x is Tensor {
  if (!isTensor(x)) throw new TypeError(`forwardpass: ${what} must be ${expected}, got ${describeNonTensor(x)}`);
}

/** Throws unless every name in `names` is in `inputs`; returns them in order. */
export function pickInputs(what: string, inputs: Record<string, Tensor>, names: string[], required: number): (Tensor | undefined)[] {
  if (inputs === null || typeof inputs !== 'object') throw new TypeError(`forwardpass: ${what}.run: expected an object of tensors keyed by input name (${names.join(', ')})`);
  const missing = names.slice(0, required).filter((n) => !inputs[n]);
  if (missing.length) {
    throw new Error(`forwardpass: ${what}.run: missing input${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(', ')}; expected ${names.join(', ')}, got ${Object.keys(inputs).join(', ') || 'none'}`);
  }
  for (const n of names) {
    if (inputs[n] !== undefined) requireTensor(inputs[n], `${what}.run: input '${n}'`, `a Tensor (build one with tensor(values, { dtype }) or fromData(typedArray, shape))`);
  }
  return names.map((n) => inputs[n]);
}
