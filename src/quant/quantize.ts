// quantize(model, options): turns a float model's Linear and Conv2d layers into int8 layers (same names) — weights
// per output channel or in Q8_0 blocks; activations dynamic, static (scales calibrated on sample inputs through
// forward hooks: max |x| or a percentile) or kept float — with per-layer choices and layers left in float.
import { isTensor, type Tensor } from '../tensor/tensor.js';
import { keep, scope } from '../tensor/scope.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Conv2d } from '../nn/conv.js';
import { MIN_SCALE, type WeightScheme } from './formats.js';
import { QTensor, WEIGHT_SCHEMES } from './qtensor.js';
import { ACTIVATION_MODES, QuantizedConv2d, QuantizedLinear, type ActivationMode } from './modules.js';
import { replaceSubmodule } from './replace.js';
import { runOnInputs, type ModelInputs } from './calibration-input.js';

/** One calibration batch (a tensor for single-input models, or tensors by input name), or a list of them. */
export type CalibrationData = ModelInputs | readonly ModelInputs[];

export interface LayerChoice {
  weights?: WeightScheme;
  activations?: ActivationMode;
}

export interface QuantizeOptions {
  /** 'per-channel' (default): one scale per output channel; 'q8_0': blocks of 32 (Linear only; Conv2d stays per channel). */
  weights?: WeightScheme;
  /** 'dynamic' (default): per row at run time; 'static': calibrated scales; 'none': weight-only (W8). */
  activations?: ActivationMode;
  /** Inputs run through the float model to calibrate static scales (required for 'static'). */
  calibration?: CalibrationData;
  /** Static scales from this percentile of |x| (0 < p <= 100; default 100 = the max). */
  percentile?: number;
  /** Layers left in float: names ('fc1', 'h.0.mlp.c_fc') or a predicate. */
  skip?: readonly string[] | ((name: string, module: Module) => boolean);
  /** Per-layer weights / activations overriding the defaults, by layer name. */
  layers?: Readonly<Record<string, LayerChoice>>;
}

const fail = (msg: string): never => {
  throw new Error(`forwardpass: quantize: ${msg}`);
};

/** True when the model holds quantized layers. @example if (isQuantized(model)) ... */
export function isQuantized(model: Module): boolean {
  return model.namedModules().some(([, m]) => m instanceof QTensor || m instanceof QuantizedLinear || m instanceof QuantizedConv2d);
}

/** The Linear and Conv2d layers a model has, with their dotted names. @example quantizableLayers(gpt).map(([n]) => n) // ['h.0.attn.c_attn', ...] */
export function quantizableLayers(model: Module): [string, Linear | Conv2d][] {
  return model.namedModules().filter((e): e is [string, Linear | Conv2d] => e[0] !== '' && (e[1] instanceof Linear || e[1] instanceof Conv2d));
}

/**
 * Quantize `model` in place: each Linear / Conv2d (except skipped ones) becomes a QuantizedLinear /
 * QuantizedConv2d under the same name, and its float weight is freed. Resolves to the same model. Nothing
 * changes when it throws (already quantized model, bad options, NaN/Inf weights, bad calibration data).
 *
 * @example await quantize(model, { weights: 'q8_0', activations: 'static', calibration: x, skip: ['fc3'] });
 */
export async function quantize<M extends Module>(model: M, opts: QuantizeOptions = {}): Promise<M> {
  if (!(model instanceof Module)) fail(`expected a Module, got ${model === null ? 'null' : typeof model}`);
  if (isQuantized(model)) {
    const names = model.namedModules().filter(([, m]) => m instanceof QuantizedLinear || m instanceof QuantizedConv2d).map(([n]) => n);
    fail(`the model is already quantized (int8 layers: ${names.slice(0, 4).join(', ')}${names.length > 4 ? ', ...' : ''}); quantize the float model instead`);
  }
  const weights = opts.weights ?? 'per-channel';
  const activations = opts.activations ?? 'dynamic';
  checkChoice('', { weights, activations });
  const all = quantizableLayers(model);
  const names = all.map(([n]) => n);
  const known = (n: string, what: string) => { if (!names.includes(n)) fail(`${what} names '${n}', which is not a Linear or Conv2d layer of the model (have: ${names.join(', ') || 'none'})`); };
  const { skip = [], layers = {} } = opts;
  if (typeof skip !== 'function') {
    if (!Array.isArray(skip)) fail(`skip must be a list of layer names or a predicate, got ${typeof skip}`);
    for (const n of skip) known(String(n), 'skip');
  }
  for (const [n, c] of Object.entries(layers)) { known(n, 'layers'); checkChoice(n, c); }
  const isSkipped = (n: string, m: Module) => (typeof skip === 'function' ? skip(n, m) : skip.includes(n));
  const targets = all.filter(([n, m]) => !isSkipped(n, m)).map(([n, m]) => {
    const c = { weights: layers[n]?.weights ?? weights, activations: layers[n]?.activations ?? activations };
    if (m instanceof Conv2d && c.weights === 'q8_0') {
      if (layers[n]?.weights === 'q8_0') fail(`layer '${n}' is a Conv2d: conv weights are quantized per output channel, not in Q8_0 blocks`);
      c.weights = 'per-channel';
    }
    return { name: n, module: m, ...c };
  });
  if (targets.length === 0) fail(all.length ? 'every Linear and Conv2d layer is skipped: nothing to quantize' : 'the model has no Linear or Conv2d layer to quantize');
  const statics = targets.filter((t) => t.activations === 'static').map((t) => t.name);
  let scales = new Map<string, number>();
  if (statics.length) {
    if (opts.calibration === undefined) fail(`static activations (layers ${statics.slice(0, 4).join(', ')}${statics.length > 4 ? ', ...' : ''}) need calibration inputs`);
    const p = opts.percentile ?? 100;
    if (typeof p !== 'number' || !(p > 0 && p <= 100)) fail(`percentile must be in (0, 100], got ${String(p)}`);
    scales = await calibrate(model, statics, opts.calibration!, p);
  }
  const built: [string, Module][] = [];
  try {
    for (const t of targets) {
      const o = { weights: t.weights, activations: t.activations, staticScale: scales.get(t.name), name: t.name };
      built.push([t.name, t.module instanceof Linear ? await QuantizedLinear.fromLinear(t.module, o) : await QuantizedConv2d.fromConv2d(t.module, o)]);
    }
  } catch (e) {
    for (const [, m] of built) m.dispose();
    throw e;
  }
  for (const [name, q] of built) replaceSubmodule(model, name, q).dispose();
  return model;
}

function checkChoice(layer: string, c: LayerChoice): void {
  const where = layer ? ` (layer '${layer}')` : '';
  if (c === null || typeof c !== 'object') fail(`layers['${layer}'] must be an object like { weights, activations }, got ${String(c)}`);
  if (c.weights !== undefined && !WEIGHT_SCHEMES.includes(c.weights)) fail(`weights must be one of ${WEIGHT_SCHEMES.join(', ')}${where}, got '${String(c.weights)}'`);
  if (c.activations !== undefined && !ACTIVATION_MODES.includes(c.activations)) fail(`activations must be one of ${ACTIVATION_MODES.join(', ')}${where}, got '${String(c.activations)}'`);
}

/**
 * Static activation scales: run every calibration batch through the float model, record each target layer's
 * input with a forward hook, and take max |x| (or the `percentile` of |x|) / 127 per layer.
 */
async function calibrate(model: Module, targets: string[], data: CalibrationData, percentile: number): Promise<Map<string, number>> {
  const batches: readonly ModelInputs[] = Array.isArray(data) ? data : [data as ModelInputs];
  if (batches.length === 0) fail('calibration holds no batches');
  const want = new Set(targets);
  const amax = new Map<string, number>();
  const values = new Map<string, Float32Array[]>();
  let captured: [string, Tensor][] = [];
  const hook = model.registerForwardHook((_m, path, inputs) => {
    if (want.has(path) && isTensor(inputs[0])) captured.push([path, keep((inputs[0] as Tensor).clone())]);
  });
  try {
    for (const [i, batch] of batches.entries()) {
      captured = [];
      try {
        await scope(async () => { runOnInputs(model, batch, `calibration batch ${i}`); });
        for (const [path, t] of captured) {
          const x = await t.data();
          let m = amax.get(path) ?? 0;
          for (let j = 0; j < x.length; j++) {
            const a = Math.abs(x[j]!);
            if (!(a <= m)) {
              if (!Number.isFinite(a)) fail(`the calibration inputs of batch ${i} reach layer '${path}' with ${x[j]}; activations must be finite to set a static scale`);
              m = a;
            }
          }
          amax.set(path, m);
          if (percentile < 100) (values.get(path) ?? values.set(path, []).get(path)!).push(Float32Array.from(x, Math.abs));
        }
      } finally {
        for (const [, t] of captured) t.dispose();
      }
    }
  } finally {
    hook.remove();
  }
  const scales = new Map<string, number>();
  for (const name of targets) {
    if (!amax.has(name)) fail(`layer '${name}' never ran on the calibration inputs, so it has no static scale`);
    const v = percentile < 100 ? percentileOf(values.get(name)!, percentile) : amax.get(name)!;
    const s = Math.fround(v / 127);
    scales.set(name, s < MIN_SCALE ? 1 : s);
  }
  return scales;
}

/** Nearest-rank percentile of the values of several arrays. */
function percentileOf(chunks: Float32Array[], p: number): number {
  const n = chunks.reduce((s, c) => s + c.length, 0);
  const all = new Float32Array(n);
  let o = 0;
  for (const c of chunks) { all.set(c, o); o += c.length; }
  all.sort();
  return all[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!;
}
