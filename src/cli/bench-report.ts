// Terminal output of model benchmarks: the latency / throughput table, cold-start and accuracy tables, and a
// progress bar drawn on stderr only when it is a terminal (so piped output stays clean).
import type { AccuracyFigure, BenchFigure, ColdStartFigure } from './bench-result.js';

/** A number in 3 significant digits (integers above 1000 as they are). @example num(0.012345) // '0.0123' */
export function num(v: number | undefined | null): string {
  if (v === undefined || v === null || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a !== 0 && a < 1e-3) return v.toExponential(1);
  return String(+v.toPrecision(3));
}

/** Bytes as B / KiB / MiB. @example bytes(69744) // '68.1 KiB' */
export function bytes(v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  return a >= 1 << 20 ? `${(v / (1 << 20)).toFixed(1)} MiB` : a >= 1024 ? `${(v / 1024).toFixed(1)} KiB` : `${v} B`;
}

/** Left-aligned first `left` columns, right-aligned numbers; `md` adds the markdown separator row. */
export function textTable(head: string[], body: string[][], opts: { left?: number; md?: boolean } = {}): string {
  const left = opts.left ?? 1;
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const sep = `| ${widths.map((w, i) => (i < left ? '-'.repeat(w) : `${'-'.repeat(Math.max(1, w - 1))}:`)).join(' | ')} |`;
  return [line(head), sep, ...body.map(line)].join('\n');
}

/**
 * The model rows as a table: latency percentiles, throughput, time per sample, samples, difference from the
 * reference, weight bytes, peak memory and (when any) speed against peers; GPU rows say when a call's time
 * includes the readback.
 *
 * @example console.log(modelTable(result.rows));
 */
export function modelTable(rows: BenchFigure[]): string {
  const head = ['model', 'batch', 'engine', 'precision', 'p50 ms', 'p95 ms', 'p99 ms', 'samples/s', 'ms/sample', 'n', 'max |diff|', 'weights', 'peak heap', 'peer speed'];
  const body = rows.map((r) => [
    String(r.model ?? r.group), String(r.size ?? ''), `${r.engine ?? ''} ${r.backend ?? ''}${r.readback ? ' (+readback)' : ''}`, String(r.precision ?? r.variant),
    num(r.medianMs), num(r.p95Ms), num(r.p99Ms), num(r.throughput), num(r.msPerItem), String(r.samples), r.maxAbsDiff === undefined ? '' : num(r.maxAbsDiff), bytes(r.weightBytes), bytes(r.peakHeapBytes),
    Object.entries((r.speedVsPeers as Record<string, number> | undefined) ?? {}).map(([k, v]) => `${num(v)}x ${k}`).join(', '),
  ]);
  const peers = rows.some((r) => r.speedVsPeers);
  return textTable(peers ? head : head.slice(0, -1), peers ? body : body.map((b) => b.slice(0, -1)), { left: 4 });
}

/** Cold start per model / engine / precision. @example console.log(coldTable(result.coldStart)); */
export function coldTable(rows: ColdStartFigure[]): string {
  return textTable(['model', 'engine', 'precision', 'load ms', 'first call ms', 'total ms', 'weights'], rows.map((c) => [c.model, c.backend, c.precision, num(c.loadMs), num(c.firstRunMs), num(c.totalMs), bytes(c.weightBytes)]), { left: 3 });
}

/** Accuracy against float32 per precision. @example console.log(accuracyTable(acc)); */
export function accuracyTable(rows: AccuracyFigure[]): string {
  return textTable(['model', 'engine', 'precision', 'n', 'top-1 agreement', 'max |diff|', 'cosine', 'accuracy (labels)'], rows.map((a) => [a.model, a.backend, a.precision, String(a.n), `${(a.top1Agreement * 100).toFixed(2)}%`, num(a.maxAbsDiff), a.cosine.toFixed(6), a.accuracy === undefined ? '—' : `${(a.accuracy * 100).toFixed(2)}%`]), { left: 3 });
}

export interface Progress {
  tick(label: string): void;
  done(): void;
}

/**
 * A one-line progress bar on `stream` (stderr), redrawn in place; silent when the stream is not a TTY.
 *
 * @example const p = progressBar(total); p.tick('mlp-digits b8'); p.done();
 */
export function progressBar(total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  let n = 0;
  const t0 = performance.now();
  const tty = !!stream.isTTY;
  const draw = (label: string) => {
    const width = 24, filled = Math.round((width * n) / Math.max(1, total));
    const eta = n > 0 ? ((performance.now() - t0) / n) * (total - n) / 1000 : 0;
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${n}/${total} ${eta > 0 ? `~${eta.toFixed(0)} s left ` : ''}${label.slice(0, 40).padEnd(40)}`);
  };
  return {
    tick(label) {
      n = Math.min(total, n + 1);
      if (tty) draw(label);
    },
    done() {
      if (tty) stream.write(`\r${' '.repeat(90)}\r`);
    },
  };
}
