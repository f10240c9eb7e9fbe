// Compare mode: two traces of the same input (two precisions, two backends, or a healthy and a broken model) matched
// op by op (module path + op + occurrence) or, where the op sequences differ (int8 layers run other ops), by module
// output or by the last op at the same path (ONNX node); per match the max abs difference, relative difference and
// cosine, and the first op past a threshold.
import type { Tensor } from '../tensor/tensor.js';
import { cast } from '../ops/elementwise.js';
import { Module } from '../nn/module.js';
import { modelFromConfig } from '../nn/models/from-config.js';
import type { ConfiguredModel, ModelConfig } from '../nn/models/config.js';
import { isQuantized, quantize } from '../quant/quantize.js';
import { OnnxSession } from '../io/onnx/session.js';
import { trace, Trace, type TraceInputs } from './trace.js';
import type { Traceable, TraceOptions, TraceRecord } from './types.js';

/** One matched pair of ops. */
export interface CompareRow {
  ref: TraceRecord;
  other: TraceRecord;
  /**
   * 'op': same path, op and occurrence; 'mark': the same module output / checkpoint, produced by different ops;
   * 'path': the last op at the same path (an ONNX node's output when the node runs other ops, e.g. at int8).
   */
  matchedBy: 'op' | 'mark' | 'path';
  /** Largest |ref - other| (Infinity where exactly one side is NaN or Inf differs; NaN when sizes differ). */
  maxAbs: number;
  /** maxAbs / max |ref| (max |ref| floored at 1e-12). */
  rel: number;
  /** Cosine similarity of the two outputs as vectors (1 when both are all zeros). */
  cosine: number;
  /**
   * The two outputs hold different numbers of elements (e.g. a variant that computes a layer over another length),
   * so maxAbs, rel and cosine are NaN; such a row is always diverged. Shapes that differ only in layout with the
   * same element count ([1, 13, 64] against [13, 64], as ops at the same ONNX node may give) are compared as flat
   * vectors and not flagged.
   */
  shapeMismatch: boolean;
  /** rel above the threshold, a NaN/Inf on one side only, or a shape mismatch. */
  diverged: boolean;
}

export interface TraceComparison {
  rows: CompareRow[];
  /** Ops of either trace without a counterpart (an int8 model's quantize steps, a cast...). */
  unmatched: { ref: TraceRecord[]; other: TraceRecord[] };
  threshold: number;
  /** The first row, in reference execution order, that diverged (past the threshold, one-sided NaN/Inf, shapes). */
  firstDivergence?: CompareRow;
}

/** Options of compareTraces: `threshold` on the relative max abs difference (default 0.01). */
export interface CompareOptions {
  threshold?: number;
}

const keyOf = (r: TraceRecord, k: number) => `${r.path}\u0000${r.op}\u0000${k}`;

function keyed(records: readonly TraceRecord[]): Map<string, TraceRecord> {
  const seen = new Map<string, number>();
  const out = new Map<string, TraceRecord>();
  for (const r of records) {
    const base = `${r.path}\u0000${r.op}`;
    const k = seen.get(base) ?? 0;
    seen.set(base, k + 1);
    out.set(keyOf(r, k), r);
  }
  return out;
}

/** The last op at each path. */
function lastByPath(records: readonly TraceRecord[]): Map<string, TraceRecord> {
  const out = new Map<string, TraceRecord>();
  for (const r of records) out.set(r.path, r);
  return out;
}

function valuesOf(r: TraceRecord, side: string): Float32Array {
  const v = r.output.values;
  if (!v) throw new Error(`forwardpass: compareTraces: the ${side} trace has no values for op ${r.index} (${r.op} at '${r.path}'); trace both with { values: 'full' }`);
  return v;
}

/** maxAbs, rel and cosine of two equally long arrays (all NaN when the lengths differ). @example diffMetrics(a, b).cosine // 0.9999 */
export function diffMetrics(a: Float32Array, b: Float32Array): { maxAbs: number; rel: number; cosine: number; oneSided: boolean } {
  if (a.length !== b.length) return { maxAbs: NaN, rel: NaN, cosine: NaN, oneSided: false };
  let maxAbs = 0, scale = 0, dot = 0, na = 0, nb = 0, oneSided = false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    const fx = Number.isFinite(x), fy = Number.isFinite(y);
    if (!fx || !fy) {
      if (!(Object.is(x, y) || (x !== x && y !== y))) { oneSided = true; maxAbs = Infinity; }
      continue;
    }
    const d = Math.abs(x - y);
    if (d > maxAbs) maxAbs = d;
    if (Math.abs(x) > scale) scale = Math.abs(x);
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  const cosine = na === 0 && nb === 0 ? 1 : na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
  return { maxAbs, rel: maxAbs / Math.max(scale, 1e-12), cosine, oneSided };
}

/**
 * Match two traces of the same input and measure how far `other` departs from `ref` at every op.
 *
 * @example const c = compareTraces(f32Trace, int8Trace, { threshold: 0.05 }); c.firstDivergence?.ref.path
 */
export function compareTraces(ref: Trace, other: Trace, opts: CompareOptions = {}): TraceComparison {
  const threshold = opts.threshold ?? 0.01;
  if (!(threshold >= 0)) throw new RangeError(`forwardpass: compareTraces: threshold must be a number >= 0, got ${String(opts.threshold)}`);
  const byKey = keyed(other.records);
  const byMark = new Map<string, TraceRecord>();
  for (const r of other.records) for (const m of r.marks) if (!byMark.has(m)) byMark.set(m, r);
  const refKeys = keyed(ref.records);
  const lastRef = lastByPath(ref.records);
  const lastOther = lastByPath(other.records);
  const used = new Set<TraceRecord>();
  const rows: CompareRow[] = [];
  const unmatchedRef: TraceRecord[] = [];
  for (const [key, r] of refKeys) {
    let o = byKey.get(key);
    let matchedBy: CompareRow['matchedBy'] = 'op';
    if (!o || used.has(o)) {
      o = undefined;
      matchedBy = 'mark';
      for (const m of r.marks) {
        const cand = byMark.get(m);
        if (cand && !used.has(cand)) { o = cand; break; }
      }
    }
    if (!o && lastRef.get(r.path) === r) {
      const cand = lastOther.get(r.path);
      if (cand && !used.has(cand)) { o = cand; matchedBy = 'path'; }
    }
    if (!o) { unmatchedRef.push(r); continue; }
    used.add(o);
    const a = valuesOf(r, 'reference'), b = valuesOf(o, 'other');
    const d = diffMetrics(a, b);
    const shapeMismatch = a.length !== b.length;
    rows.push({ ref: r, other: o, matchedBy, maxAbs: d.maxAbs, rel: d.rel, cosine: d.cosine, shapeMismatch, diverged: shapeMismatch || d.oneSided || d.rel > threshold });
  }
  const firstDivergence = rows.find((row) => row.diverged);
  return { rows, unmatched: { ref: unmatchedRef, other: other.records.filter((r) => !used.has(r)) }, threshold, ...(firstDivergence ? { firstDivergence } : {}) };
}

/** The variant to compare against: another backend and/or precision of the same model, or a model given directly. */
export interface CompareAgainst {
  backend?: string;
  precision?: 'f32' | 'f16' | 'int8';
  /**
   * Use this model instead of rebuilding one (it runs on the inputs moved to `backend`, cast to float16 for
   * `precision` f16 unless it is an OnnxSession, whose inputs stay float32).
   */
  model?: Traceable;
}

/** Build the variant model: a copy from the config sharing the weights, moved and cast or quantized. */
async function buildVariant(model: Traceable, against: CompareAgainst): Promise<Module> {
  const config = (model as { config?: ModelConfig }).config;
  if (!(model instanceof Module) || !config) throw new TypeError(`forwardpass: traceCompare: only a model built from a config (loadModel, modelFromConfig) can be rebuilt at another backend or precision; pass against.model instead`);
  if (isQuantized(model)) throw new TypeError(`forwardpass: traceCompare: the model is int8 already; compare it against a float model given as against.model`);
  const copy: ConfiguredModel = modelFromConfig(config);
  try {
    copy.loadStateDict(model.stateDict());
    if (against.backend !== undefined) await copy.to(against.backend);
    if (against.precision === 'f16') await copy.to({ dtype: 'float16' });
    if (against.precision === 'int8') await quantize(copy);
    return copy;
  } catch (e) {
    copy.dispose();
    throw e;
  }
}

/**
 * The same inputs on `backend`, float ones cast to float16 for precision f16 unless the variant is an ONNX session
 * (its graph inputs stay float32 at f16; only its weights are halves). Every tensor made goes in `made`, also
 * when a later one fails, for the caller to free.
 */
export async function moveInputs(inputs: TraceInputs, against: CompareAgainst, variant: Traceable, made: Tensor[]): Promise<TraceInputs> {
  const halves = against.precision === 'f16' && !(variant instanceof OnnxSession);
  const one = async (t: Tensor): Promise<Tensor> => {
    let x = t;
    if (against.backend !== undefined && x.device !== against.backend) { x = await x.to(against.backend); made.push(x); }
    if (halves && x.dtype === 'float32') { x = cast(x, 'float16'); made.push(x); }
    return x;
  };
  if ((inputs as Tensor).__isTensor) return one(inputs as Tensor);
  const out: Tensor[] = [];
  if (Array.isArray(inputs)) {
    for (const t of inputs) out.push(await one(t));
    return out;
  }
  const named: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(inputs)) named[k] = await one(t as Tensor);
  return named;
}

/**
 * Trace `model` (the reference) and a variant of it (another backend or precision, or `against.model`) on the same
 * inputs and compare them op by op.
 *
 * @example const { comparison } = await traceCompare(model, { input: x }, { against: { precision: 'int8' } });
 */
export async function traceCompare(model: Traceable, inputs: TraceInputs, opts: TraceOptions & CompareOptions & { against: CompareAgainst }): Promise<{ ref: Trace; other: Trace; comparison: TraceComparison }> {
  const against = opts?.against;
  if (!against || typeof against !== 'object') throw new TypeError(`forwardpass: traceCompare: expected { against: { backend?, precision?, model? } }, got ${String(against)}`);
  if (against.precision !== undefined && !['f32', 'f16', 'int8'].includes(against.precision)) throw new RangeError(`forwardpass: traceCompare: precision must be 'f32', 'f16' or 'int8', got '${String(against.precision)}'`);
  const traceOpts: TraceOptions = { ...opts, values: 'full' };
  const variant = against.model ?? (await buildVariant(model, against));
  const made: Tensor[] = [];
  try {
    const moved = await moveInputs(inputs, against, variant, made);
    const ref = await trace(model, inputs, traceOpts);
    const other = await trace(variant, moved, traceOpts);
    return { ref, other, comparison: compareTraces(ref, other, opts) };
  } finally {
    for (const t of made) t.dispose();
    if (!against.model) (variant as Module).dispose();
  }
}
