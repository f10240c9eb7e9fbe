// Terminal view of traces: one aligned line per op (index, path, op, output shape, min/mean/max/std, NaN/Inf flags,
// a unicode sparkline of the histogram, time), PyTorch-style values for a step, and compare-mode lines.
import { formatTensor } from '../tensor/format.js';
import type { Trace } from './trace.js';
import type { CompareRow, TraceComparison } from './compare.js';
import type { TimingKind, TraceRecord } from './types.js';

const BARS = '▁▂▃▄▅▆▇█';

/**
 * A histogram as `width` block characters (bins merged when there are more than `width`; empty bins are spaces).
 * @example sparkline([0, 1, 4, 2]) // ' ▂█▄'
 */
export function sparkline(counts: readonly number[], width = 16): string {
  if (counts.length === 0) return '';
  const n = Math.min(width, counts.length);
  const merged = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = Math.floor((i * counts.length) / n); j < Math.floor(((i + 1) * counts.length) / n); j++) s += counts[j]!;
    return s;
  });
  const top = Math.max(...merged);
  return merged.map((c) => (c === 0 || top === 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.ceil((c / top) * BARS.length) - 1)]!)).join('');
}

/** A number in at most ~9 characters: 4 significant digits, exponent form when very large or small. */
export function shortNum(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** What `ms` means, in words, for headers. @example timingText('cpu') // 'CPU kernel wall time' */
export function timingText(t: TimingKind): string {
  if (t === 'cpu') return 'CPU kernel wall time';
  if (t === 'gpu-encode') return 'time to encode the GPU commands (the GPU runs them later, batched); trace with { sync: true } for GPU time';
  return 'each op replayed alone on the GPU, submit to completion';
}

export interface RecordFormatOptions {
  /** Column width of the path (default 24; longer paths are shortened from the left). */
  pathWidth?: number;
  /** Sparkline width (default 16). */
  sparkWidth?: number;
}

function fit(s: string, w: number): string {
  return s.length > w ? '…' + s.slice(s.length - w + 1) : s.padEnd(w);
}

/**
 * One line for one op.
 * @example formatRecord(rec) // '   3  fc2               linear      [1, 64]   min -2.1 mean 0.4 ... ▁▃█▂   0.051 ms'
 */
export function formatRecord(r: TraceRecord, opts: RecordFormatOptions = {}): string {
  const pw = opts.pathWidth ?? 24;
  const parts = [String(r.index).padStart(4), fit(r.path === '' ? '(model)' : r.path, pw), r.op.padEnd(12), shapeText(r.output.shape).padEnd(14)];
  const st = r.output.stats;
  if (st) {
    parts.push(`min ${shortNum(st.min).padStart(9)}  mean ${shortNum(st.mean).padStart(9)}  max ${shortNum(st.max).padStart(9)}  std ${shortNum(st.std).padStart(9)}`);
    parts.push(sparkline(st.hist.counts, opts.sparkWidth ?? 16).padEnd(opts.sparkWidth ?? 16));
  }
  parts.push(`${r.ms.toFixed(3).padStart(8)} ms`);
  const flags: string[] = [];
  if (st?.nan) flags.push(`NaN×${st.nan}`);
  if (st?.inf) flags.push(`Inf×${st.inf}`);
  if (r.output.dtype !== 'float32') flags.push(r.output.dtype);
  if (r.marks.length) flags.push(`= ${r.marks.join(', ')}`);
  return parts.join('  ') + (flags.length ? '  ' + flags.join('  ') : '');
}

/** The op's first output printed like PyTorch (needs values: 'full'). @example formatValues(rec) // 'tensor([[0.1, ...]])' */
export function formatValues(r: TraceRecord): string {
  const v = r.output.values;
  if (!v) return `(no values: trace with { values: 'full' })`;
  return formatTensor(v, r.output.shape, r.output.dtype, r.backend);
}

/** The path column width that fits every record of a trace (8 to 40). @example pathWidthOf(trace.records) // 15 */
export function pathWidthOf(records: readonly { path: string }[]): number {
  return Math.min(40, Math.max(8, ...records.map((r) => (r.path === '' ? 7 : r.path.length))));
}

/** A header line and one line per op; with `values`, each op's values follow its line. @example console.log(formatTrace(t)) */
export function formatTrace(t: Trace, opts: RecordFormatOptions & { values?: boolean } = {}): string {
  const pathWidth = opts.pathWidth ?? pathWidthOf(t.records);
  const lines = [`trace: ${t.length} ops on ${t.backend || 'no backend'}, ${t.totalMs.toFixed(3)} ms in all (ms = ${timingText(t.timing)})`];
  for (const r of t.records) {
    lines.push(formatRecord(r, { ...opts, pathWidth }));
    if (opts.values) lines.push(formatValues(r));
  }
  return lines.join('\n');
}

const opsText = (row: CompareRow) => (row.ref.op === row.other.op ? row.ref.op : `${row.ref.op}→${row.other.op}`);

/** One compare line: where, ops on each side, max abs, relative, cosine, and a marker past the threshold. @example formatCompareRow(c.rows[0]) */
export function formatCompareRow(row: CompareRow, pathWidth = 24, opWidth = 12): string {
  const where = [String(row.ref.index).padStart(4), fit(row.ref.path === '' ? '(model)' : row.ref.path, pathWidth), opsText(row).padEnd(opWidth)];
  const sizes = (r: CompareRow['ref']) => `[${r.output.shape.join(', ')}]`;
  const cells = row.shapeMismatch
    ? [...where, `sizes differ: ${sizes(row.ref)} vs ${sizes(row.other)}`]
    : [...where, `max|Δ| ${shortNum(row.maxAbs).padStart(9)}`, `rel ${shortNum(row.rel).padStart(9)}`, `cos ${Number.isNaN(row.cosine) ? 'nan' : row.cosine.toFixed(6)}`];
  return cells.join('  ') + (row.diverged ? '  ◀ diverges' : '');
}

/**
 * Every compared op, the unmatched counts, and the first divergence. `labels` name the two sides (default
 * 'reference' and 'other'); op indices and paths are the reference run's.
 * @example console.log(formatComparison(c, { labels: { ref: 'f32', other: 'int8' } }))
 */
export function formatComparison(c: TraceComparison, opts: { pathWidth?: number; labels?: { ref: string; other: string } } = {}): string {
  const pathWidth = opts.pathWidth ?? pathWidthOf(c.rows.map((r) => r.ref));
  const labels = opts.labels ?? { ref: 'reference', other: 'other' };
  const opWidth = Math.max(12, ...c.rows.map((r) => opsText(r).length));
  const lines = c.rows.map((r) => formatCompareRow(r, pathWidth, opWidth));
  if (c.unmatched.ref.length || c.unmatched.other.length) {
    const kinds = (rs: CompareRow['ref'][]) => [...new Set(rs.map((r) => r.op))].join(', ');
    const side = (n: number, what: string, rs: CompareRow['ref'][]) => `${n} ${what} ops${n ? ` (${kinds(rs)})` : ''}`;
    lines.push(`unmatched: ${side(c.unmatched.ref.length, labels.ref, c.unmatched.ref)}, ${side(c.unmatched.other.length, labels.other, c.unmatched.other)}`);
  }
  const f = c.firstDivergence;
  lines.push(f
    ? `first divergence (rel > ${c.threshold}): op ${f.ref.index} ${f.ref.op} at '${f.ref.path}' (max|Δ| ${shortNum(f.maxAbs)}, rel ${shortNum(f.rel)})`
    : `no divergence above rel ${c.threshold} in ${c.rows.length} compared ops`);
  return lines.join('\n');
}
