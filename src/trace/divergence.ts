// The one divergence rule of compare mode, shared by `forwardpass trace --compare` and the step-through page: which of
// two runs is the reference (the more precise one), how far the other departs from it per op, and when that counts.
import { compareTraces, type TraceComparison } from './compare.js';
import type { Trace } from './trace.js';

/** A precision a run can have. */
export type RunPrecision = 'f32' | 'f16' | 'int8';

/** Where and how a run ran. */
export interface RunSetting {
  backend: string;
  precision: RunPrecision;
}

/**
 * Default threshold on the relative difference, by the less precise of the two runs, above the error its rounding
 * alone gives on the shipped models (measured against f32: int8 W8A8 at most 3.3 %, f16 at most 0.5 %; f32 on
 * another backend differs by summation order only), so a flagged op points at more than the expected rounding.
 */
export const DIVERGENCE_THRESHOLDS: Readonly<Record<RunPrecision, number>> = Object.freeze({ f32: 1e-3, f16: 1e-2, int8: 5e-2 });

/** The rule in words, for the CLI help (`forwardpass trace`) and the page. */
export const DIVERGENCE_RULE =
  'Compare mode measures the less precise run against the more precise one (f32 > f16 > int8; at equal precision ' +
  'against the CPU run): per op output, rel = max|other - reference| / max|reference|. An op diverges when rel ' +
  'exceeds the threshold (by the less precise run: int8 0.05, f16 0.01, f32 0.001; --threshold overrides it), when ' +
  'NaN or Inf appears on one side only, or when the two outputs differ in size.';

const RANK: Record<RunPrecision, number> = { f32: 2, f16: 1, int8: 0 };

/**
 * Which of two runs is the reference: the more precise, else the one on the CPU (the reference backend), else `a`.
 * @example referenceOf({ backend: 'cpu', precision: 'int8' }, { backend: 'cpu', precision: 'f32' }) // 'b'
 */
export function referenceOf(a: RunSetting, b: RunSetting): 'a' | 'b' {
  if (RANK[a.precision] !== RANK[b.precision]) return RANK[a.precision] > RANK[b.precision] ? 'a' : 'b';
  if (a.backend !== b.backend && b.backend === 'cpu') return 'b';
  return 'a';
}

/** The default threshold for two runs: that of the less precise one. @example divergenceThreshold(f32Run, int8Run) // 0.05 */
export function divergenceThreshold(a: RunSetting, b: RunSetting): number {
  return DIVERGENCE_THRESHOLDS[RANK[a.precision] <= RANK[b.precision] ? a.precision : b.precision];
}

/** A run's words in labels: 'f32', or 'webgpu f32' when the two runs differ in backend. */
export function runLabel(s: RunSetting, other: RunSetting): string {
  return s.backend === other.backend ? s.precision : `${s.backend} ${s.precision}`;
}

/** Two compared runs, oriented by the rule. */
export interface RunComparison {
  /** Which of the given runs the rule took as the reference. */
  reference: 'a' | 'b';
  /** The settings of the reference and of the other run. */
  ref: RunSetting;
  other: RunSetting;
  /** Short names of the two sides ('f32', 'int8'; with the backend when the backends differ). */
  labels: { ref: string; other: string };
  /** compareTraces(reference trace, other trace) at `threshold`. */
  comparison: TraceComparison;
}

/**
 * Compare two traces of the same input (both traced with values: 'full') under the divergence rule. The result is
 * the same whichever order the runs are given in; only `reference` says which one was first.
 *
 * @example const r = compareRuns({ trace: t32, setting: f32 }, { trace: t8, setting: int8 }); r.comparison.firstDivergence
 */
export function compareRuns(a: { trace: Trace; setting: RunSetting }, b: { trace: Trace; setting: RunSetting }, opts: { threshold?: number } = {}): RunComparison {
  const reference = referenceOf(a.setting, b.setting);
  const [r, o] = reference === 'a' ? [a, b] : [b, a];
  const threshold = opts.threshold ?? divergenceThreshold(a.setting, b.setting);
  return {
    reference,
    ref: r.setting,
    other: o.setting,
    labels: { ref: runLabel(r.setting, o.setting), other: runLabel(o.setting, r.setting) },
    comparison: compareTraces(r.trace, o.trace, { threshold }),
  };
}
