// `forwardpass bench compare a.json b.json`: match the rows of two result files and flag the time differences
// beyond noise as regressions (or improvements), and any accuracy drop against float32.
import { rowKey, type AccuracyFigure, type BenchFigure } from './bench-result.js';

/** The smallest relative change in median time that counts, whatever the spread: 5%. */
export const MIN_CHANGE = 0.05;
/** A change must also exceed this many times the larger relative spread ((p75 - p25) / p50) of the two runs. */
export const SPREAD_FACTOR = 3;
/** Top-1 agreement with float32 may drop by this much (0.1 point) before it counts; cosine by 1e-4. */
export const AGREEMENT_DROP = 0.001;
export const COSINE_DROP = 1e-4;

export const NOISE_RULE = `a median time differs beyond noise when it changed by more than max(${MIN_CHANGE * 100}%, ${SPREAD_FACTOR} x the larger relative spread (p75 - p25) / p50 of the two runs); accuracy regresses when top-1 agreement with float32 drops by more than ${AGREEMENT_DROP * 100} point or cosine by more than ${COSINE_DROP}`;

export type Verdict = 'regression' | 'improvement' | 'same' | 'added' | 'removed';

export interface RowComparison {
  key: string;
  beforeMs: number | null;
  afterMs: number | null;
  /** after / before - 1 (positive: slower). */
  change: number | null;
  threshold: number | null;
  verdict: Verdict;
}

export interface AccuracyComparison {
  key: string;
  before: AccuracyFigure;
  after: AccuracyFigure;
  verdict: 'regression' | 'same';
}

export interface Comparison {
  rows: RowComparison[];
  accuracy: AccuracyComparison[];
  regressions: number;
  improvements: number;
  /** Machine fields that differ between the runs (cpu, cores, node...): the comparison is then apples to oranges. */
  machineDiffers: string[];
}

interface ResultLike {
  rows?: BenchFigure[];
  accuracy?: AccuracyFigure[];
  machine?: Record<string, unknown>;
}

const fail = (msg: string): never => {
  throw new Error(`forwardpass: bench compare: ${msg}`);
};

function checkFile(f: unknown, name: string): ResultLike {
  if (f === null || typeof f !== 'object' || !Array.isArray((f as ResultLike).rows)) fail(`${name} must be a benchmark result (a JSON object with a 'rows' array), got ${f === null ? 'null' : Array.isArray(f) ? 'an array' : typeof f === 'object' ? `an object with keys ${Object.keys(f).slice(0, 5).join(', ') || 'none'}` : typeof f}`);
  for (const [i, r] of (f as ResultLike).rows!.entries()) {
    if (typeof r?.group !== 'string' || typeof r?.variant !== 'string' || typeof r?.medianMs !== 'number') fail(`${name} row ${i} needs a string group and variant and a numeric medianMs, got ${JSON.stringify(r).slice(0, 80)}`);
  }
  return f as ResultLike;
}

/**
 * The threshold (relative change of the median) beyond which a row's difference is not noise.
 *
 * @example changeThreshold(0.01, 0.03) // 0.09 (3 x 0.03 beats 5%)
 */
export function changeThreshold(spreadBefore = 0, spreadAfter = 0): number {
  return Math.max(MIN_CHANGE, SPREAD_FACTOR * Math.max(spreadBefore, spreadAfter));
}

/**
 * Compare two result files row by row (matched by key) and accuracy by model/precision/backend.
 *
 * @example const c = compareResults(JSON.parse(a), JSON.parse(b)); c.regressions // 0
 */
export function compareResults(before: unknown, after: unknown): Comparison {
  const a = checkFile(before, 'the first file'), b = checkFile(after, 'the second file');
  const byKey = (rows: BenchFigure[]) => new Map(rows.map((r) => [rowKey(r), r]));
  const ra = byKey(a.rows!), rb = byKey(b.rows!);
  const rows: RowComparison[] = [];
  for (const [key, x] of ra) {
    const y = rb.get(key);
    if (!y) { rows.push({ key, beforeMs: x.medianMs, afterMs: null, change: null, threshold: null, verdict: 'removed' }); continue; }
    const change = y.medianMs / x.medianMs - 1;
    const threshold = changeThreshold(x.spread, y.spread);
    // symmetric in ratio terms: slower by more than the threshold, or faster by the same factor
    const verdict: Verdict = change > threshold ? 'regression' : x.medianMs / y.medianMs - 1 > threshold ? 'improvement' : 'same';
    rows.push({ key, beforeMs: x.medianMs, afterMs: y.medianMs, change, threshold, verdict });
  }
  for (const [key, y] of rb) if (!ra.has(key)) rows.push({ key, beforeMs: null, afterMs: y.medianMs, change: null, threshold: null, verdict: 'added' });
  const accKey = (f: AccuracyFigure) => `accuracy ${f.model} ${f.precision} ${f.backend}`;
  const accB = new Map((b.accuracy ?? []).map((f) => [accKey(f), f]));
  const accuracy: AccuracyComparison[] = [];
  for (const x of a.accuracy ?? []) {
    const y = accB.get(accKey(x));
    if (!y) continue;
    const worse = x.top1Agreement - y.top1Agreement > AGREEMENT_DROP || x.cosine - y.cosine > COSINE_DROP;
    accuracy.push({ key: accKey(x), before: x, after: y, verdict: worse ? 'regression' : 'same' });
  }
  const machineDiffers = ['cpu', 'cores', 'node', 'adapter'].filter((k) => a.machine?.[k] !== undefined && b.machine?.[k] !== undefined && a.machine[k] !== b.machine[k]);
  return {
    rows,
    accuracy,
    regressions: rows.filter((r) => r.verdict === 'regression').length + accuracy.filter((r) => r.verdict === 'regression').length,
    improvements: rows.filter((r) => r.verdict === 'improvement').length,
    machineDiffers,
  };
}

const pct = (x: number | null) => (x === null ? '' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`);
const ms = (x: number | null) => (x === null ? '—' : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3));

/**
 * The comparison as text: changed rows first (regressions, improvements), then a count of the rest.
 *
 * @example process.stdout.write(formatBenchComparison(compareResults(a, b)));
 */
export function formatBenchComparison(c: Comparison, opts: { all?: boolean } = {}): string {
  const order: Verdict[] = ['regression', 'improvement', 'removed', 'added', 'same'];
  const shown = c.rows.filter((r) => opts.all || r.verdict !== 'same').sort((x, y) => order.indexOf(x.verdict) - order.indexOf(y.verdict));
  const table = [['verdict', 'row', 'before ms', 'after ms', 'change', 'noise threshold'], ...shown.map((r) => [r.verdict.toUpperCase(), r.key, ms(r.beforeMs), ms(r.afterMs), pct(r.change), r.threshold === null ? '' : `±${(r.threshold * 100).toFixed(1)}%`])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = shown.length ? table.map((row) => row.map((v, i) => (i >= 2 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd()) : ['no timing differences beyond noise'];
  for (const r of c.accuracy.filter((x) => x.verdict === 'regression')) {
    lines.push(`ACCURACY REGRESSION ${r.key}: top-1 agreement ${(r.before.top1Agreement * 100).toFixed(2)}% -> ${(r.after.top1Agreement * 100).toFixed(2)}%, cosine ${r.before.cosine.toFixed(6)} -> ${r.after.cosine.toFixed(6)}`);
  }
  const same = c.rows.filter((r) => r.verdict === 'same').length;
  lines.push('', `${c.regressions} regression(s), ${c.improvements} improvement(s), ${same} row(s) within noise${opts.all ? '' : ' (not listed)'}; ${c.accuracy.length} accuracy figure(s) compared.`);
  lines.push(`Rule: ${NOISE_RULE}.`);
  if (c.machineDiffers.length) lines.push(`Warning: the runs differ in ${c.machineDiffers.join(', ')}; differences may come from the machine.`);
  return lines.join('\n');
}
