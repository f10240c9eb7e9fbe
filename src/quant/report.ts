// What quantization did to a model: per-layer scheme and weight bytes against float32 (the model's own report),
// and per-layer cosine similarity of a quantized model's activations against its float twin on the same inputs.
import { isTensor, type Tensor } from '../tensor/tensor.js';
import { keep, scope } from '../tensor/scope.js';
import type { Module } from '../nn/module.js';
import { QuantizedConv2d, QuantizedLinear, type ActivationMode } from './modules.js';
import type { WeightScheme } from './formats.js';
import { runOnInputs, type ModelInputs } from './calibration-input.js';

export interface LayerReport {
  name: string;
  type: 'Linear' | 'Conv2d';
  weights: WeightScheme;
  activations: ActivationMode;
  /** Static activation scale, when static. */
  scale?: number;
  /** Bytes of int8 quants + scales, and of the float32 weight they replace. */
  bytes: number;
  floatBytes: number;
}

export interface QuantizationReport {
  layers: LayerReport[];
  /** Sums over the quantized layers' weights (biases excluded: they stay float32). */
  weightBytes: number;
  floatWeightBytes: number;
  /** weightBytes / floatWeightBytes. */
  ratio: number;
}

/**
 * The quantized layers of a model with their schemes and weight bytes (int8 + scales) against float32.
 *
 * @example const r = quantizationReport(model); console.log(formatReport(r)); r.ratio // 0.26
 */
export function quantizationReport(model: Module): QuantizationReport {
  const layers: LayerReport[] = [];
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof QuantizedLinear || m instanceof QuantizedConv2d)) continue;
    const d = m.describe();
    layers.push({ name, type: d.type, weights: d.weights, activations: d.activations, ...(d.scale !== undefined ? { scale: d.scale } : {}), bytes: m.weight.bytes(), floatBytes: m.weight.floatBytes() });
  }
  const weightBytes = layers.reduce((s, l) => s + l.bytes, 0);
  const floatWeightBytes = layers.reduce((s, l) => s + l.floatBytes, 0);
  return { layers, weightBytes, floatWeightBytes, ratio: floatWeightBytes ? weightBytes / floatWeightBytes : NaN };
}

/** The report as a text table (one row per layer, then the totals). @example console.log(formatReport(quantizationReport(m))) */
export function formatReport(r: QuantizationReport): string {
  const rows = [['layer', 'type', 'weights', 'activations', 'int8 bytes', 'f32 bytes', 'ratio'],
    ...r.layers.map((l) => [l.name, l.type, l.weights, l.activations + (l.scale !== undefined ? ` (${l.scale.toPrecision(4)})` : ''), String(l.bytes), String(l.floatBytes), (l.bytes / l.floatBytes).toFixed(3)]),
    ['total', '', '', '', String(r.weightBytes), String(r.floatWeightBytes), r.ratio.toFixed(3)]];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

/** Cosine similarity of two equally long arrays (1 for two zero vectors, NaN when either holds NaN). @example cosine([1, 0], [1, 1]) // 0.707 */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`forwardpass: cosine: arrays of ${a.length} and ${b.length} values`);
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  if (aa === 0 && bb === 0) return 1;
  return ab / Math.sqrt(aa * bb);
}

/** Run `model` on `inputs`, keeping a copy of the output of every module in `names` (by dotted path) and of the model. */
async function captureOutputs(model: Module, inputs: ModelInputs, names: ReadonlySet<string>): Promise<Map<string, Float32Array>> {
  const kept: [string, Tensor][] = [];
  const h = model.registerForwardHook((_m, path, _ins, out) => {
    if ((names.has(path) || path === '') && isTensor(out)) kept.push([path, keep(out.clone())]);
  });
  try {
    await scope(async () => { runOnInputs(model, inputs, 'layerCosines inputs'); });
  } finally {
    h.remove();
  }
  const out = new Map<string, Float32Array>();
  for (const [k, t] of kept) {
    if (!out.has(k)) out.set(k, Float32Array.from(await t.data()));
    t.dispose();
  }
  return out;
}

/**
 * Per quantized layer (in execution order, then '' for the model output): the cosine similarity between its
 * output in `quantized` and in the float `reference` model on the same inputs. A broken layer shows as a drop.
 *
 * @example for (const { name, cosine } of await layerCosines(f32Model, int8Model, x)) console.log(name, cosine);
 */
export async function layerCosines(reference: Module, quantized: Module, inputs: ModelInputs): Promise<{ name: string; cosine: number }[]> {
  const names = new Set(quantizationReport(quantized).layers.map((l) => l.name));
  const ref = await captureOutputs(reference, inputs, names);
  const got = await captureOutputs(quantized, inputs, names);
  const out: { name: string; cosine: number }[] = [];
  for (const [name, g] of got) {
    const r = ref.get(name);
    if (r && r.length === g.length) out.push({ name, cosine: cosine(r, g) });
  }
  return out;
}
