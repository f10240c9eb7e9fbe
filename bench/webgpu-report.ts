// WebGPU benchmark results: the row types shared by its sections, turning timings into rows, and the markdown
// (adapter, matmul table with forwardpass/tfjs ratios, model latency table, summary) written to results/webgpu.md.
import { loadavg } from 'node:os';
import type { BenchRow } from './run.js';
import { percentile, type TimedResult } from './webgpu-setup.js';

export type Engine = 'webgpu' | 'tfjs-webgpu' | 'cpu';

/** One measured figure, with where and how it was measured. */
export interface WebGpuRow extends BenchRow {
  section: 'matmul' | 'model';
  engine: Engine;
  /** The adapter the figure was measured on, in one line ('none (CPU backend)' for CPU rows). */
  adapter: string;
  /** Set on a software adapter: its figures are CPU speed. */
  speedNote: string | null;
  p95Ms: number;
  /** 1-minute load average when the figure was recorded (the machine is shared). */
  loadavg1: number;
  /** The untimed first call (compile + allocation), or null when there was none. */
  firstMs: number | null;
  warmup: boolean;
  /** Largest |difference| of the last timed result from the CPU backend's (null for CPU rows). */
  maxAbsDiffVsCpu: number | null;
  /** matmul: n of the n x n x n product; model: the batch. */
  size: number;
  model?: string;
  /** forwardpass WebGPU matmul: the pipeline that ran (kernel file + defines + constants). */
  kernel?: string;
  /** forwardpass WebGPU matmul: GFLOP/s divided by tfjs-webgpu's at the same size (> 1: forwardpass faster). */
  ratioVsTfjs?: number | null;
}

/** A figure that was not measured, and why ("skipped: time budget ...", "failed: ...", "unavailable: ..."). */
export interface SkipEntry {
  section: 'matmul' | 'model';
  engine: Engine;
  variant: string;
  size: number;
  model?: string;
  reason: string;
}

/** What the sections share while the suite runs. */
export interface Collector {
  adapter: string;
  speedNote: string | null;
  rows: WebGpuRow[];
  skipped: SkipEntry[];
  log: (line: string) => void;
}

/**
 * Turn a timing into a row (or a skip entry when it has no samples). `work` is the FLOPs of one call for
 * GFLOP/s, or the batch for samples/s.
 *
 * @example addResult(col, { section: 'model', engine: 'cpu', group: 'mlp-digits batch 8', variant: 'cpu', size: 8, model: 'mlp-digits' }, r, 8, 'samples/s', null)
 */
export function addResult(col: Collector, base: { section: WebGpuRow['section']; engine: Engine; group: string; variant: string; size: number; model?: string; kernel?: string }, r: TimedResult, work: number, unit: 'GFLOP/s' | 'samples/s', diff: number | null): WebGpuRow | null {
  if (r.skipped || r.samples.length === 0) {
    const reason = r.skipped ?? 'failed: no samples';
    col.skipped.push({ section: base.section, engine: base.engine, variant: base.variant, size: base.size, ...(base.model ? { model: base.model } : {}), reason });
    col.log(`  ${base.group.padEnd(26)} ${base.variant.padEnd(20)} ${reason}`);
    return null;
  }
  const p50 = percentile(r.samples, 0.5), p95 = percentile(r.samples, 0.95), min = Math.min(...r.samples);
  const rate = (ms: number) => (unit === 'GFLOP/s' ? work / ms / 1e6 : (work * 1000) / ms);
  const gpu = base.engine !== 'cpu';
  const row: WebGpuRow = {
    ...base, medianMs: p50, minMs: min, samples: r.samples.length, value: rate(p50), best: rate(min), unit,
    adapter: gpu ? col.adapter : 'none (CPU backend)', speedNote: gpu ? col.speedNote : null,
    p95Ms: p95, loadavg1: Number(loadavg()[0]!.toFixed(2)), firstMs: r.firstMs, warmup: r.warmup, maxAbsDiffVsCpu: diff,
  };
  col.rows.push(row);
  col.log(`  ${base.group.padEnd(26)} ${base.variant.padEnd(20)} ${num(row.value)} ${unit}, p50 ${num(p50)} ms, p95 ${num(p95)} ms, n=${r.samples.length}${r.firstMs !== null ? `, first call ${num(r.firstMs)} ms` : ''}${diff !== null ? `, max |diff| vs cpu ${diff.toExponential(1)}` : ''}`);
  return row;
}

/** Three significant digits, without exponent for ordinary magnitudes. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : a >= 0.01 ? v.toFixed(3) : v.toPrecision(2);
}

export interface ReportInput {
  adapterText: string;
  speedNote: string | null;
  adapterDetails: string[];
  tfjsDetails: string[];
  matmulVariants: string[];
  matmulSizes: number[];
  modelNames: string[];
  batches: number[];
  modelInputs: Record<string, string>;
  rows: WebGpuRow[];
  skipped: SkipEntry[];
  autoPaths: Record<number, string>;
  method: string[];
}

/** A table cell for a missing figure: the skip reason (unavailability is explained once, in the Adapter section). */
const reasonOf = (s: SkipEntry | undefined) => (!s ? '—' : s.reason.startsWith('unavailable:') ? 'unavailable (see Adapter)' : s.reason.replace(/\|/g, '/'));

/** The markdown body of results/webgpu.md. */
export function renderMarkdown(r: ReportInput): string {
  const find = (section: string, variant: string, size: number, model?: string) => r.rows.find((x) => x.section === section && x.variant === variant && x.size === size && x.model === model);
  const skip = (section: string, variant: string, size: number, model?: string) => r.skipped.find((x) => x.section === section && x.variant === variant && x.size === size && x.model === model);
  const out: string[] = ['## Adapter', '', ...r.adapterDetails.map((l) => `- ${l}`), ...r.tfjsDetails.map((l) => `- ${l}`), ''];
  if (r.speedNote) out.push(`**${r.speedNote}.** Every WebGPU and tfjs-webgpu figure below ran on it.`, '');

  out.push('## Matmul: square float32 C = A·B, GFLOP/s', '');
  out.push('Cell: GFLOP/s at the median call (median ms, samples); one call = dispatch + readback of the whole result (`await data()`). † no separate warm-up call (one call takes over 5 s and the same kernel already ran at the smaller size). Ratios divide GFLOP/s by tfjs-webgpu\'s at the same size (> 1: forwardpass faster).', '');
  const head = ['n', ...r.matmulVariants, 'auto / tfjs', 'best forwardpass webgpu / tfjs'];
  out.push(`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const n of r.matmulSizes) {
    const cells = r.matmulVariants.map((v) => {
      const row = find('matmul', v, n);
      return row ? `${num(row.value)} (${num(row.medianMs)} ms, ${row.samples})${row.warmup ? '' : '†'}` : reasonOf(skip('matmul', v, n));
    });
    const tfjs = find('matmul', 'tfjs-webgpu', n);
    const auto = find('matmul', 'webgpu auto', n);
    const gpuRows = r.rows.filter((x) => x.section === 'matmul' && x.engine === 'webgpu' && x.size === n);
    const best = gpuRows.length ? gpuRows.reduce((a, b) => (b.value > a.value ? b : a)) : null;
    const ratio = (row: WebGpuRow | null | undefined, tag: boolean) => (row && tfjs ? `${num(row.value / tfjs.value)}×${tag ? ` (${row.variant.replace('webgpu ', '')})` : ''}` : '—');
    out.push(`| ${[String(n), ...cells, ratio(auto, false), ratio(best, true)].join(' | ')} |`);
  }
  out.push('', `The automatic choice (\`chooseMatmulPath\`) at these sizes: ${r.matmulSizes.map((n) => `${n}: ${r.autoPaths[n] ?? '?'}`).join(', ')}.`, '');

  out.push(`## Fixture models: latency per forward call (batch ${r.batches.join(', ')})`, '');
  out.push('p50 / p95 of the timed calls after a separate warm-up call (its time is the "first call" column: pipeline compilation and buffer allocation); WebGPU calls include reading the logits back. samples/s = batch / p50. "webgpu / cpu" divides samples/s (> 1: WebGPU faster).', '');
  const mh = ['model', 'batch', 'cpu p50 / p95 ms', 'cpu samples/s', 'webgpu first call ms', 'webgpu p50 / p95 ms', 'webgpu samples/s', 'webgpu / cpu', 'max abs diff vs cpu'];
  out.push(`| ${mh.join(' | ')} |`, `| ${mh.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`);
  for (const m of r.modelNames) {
    for (const b of r.batches) {
      const c = find('model', 'cpu', b, m), g = find('model', 'webgpu', b, m);
      const lat = (x: WebGpuRow | undefined, v: string) => (x ? `${num(x.medianMs)} / ${num(x.p95Ms)} (n=${x.samples})` : reasonOf(skip('model', v, b, m)));
      out.push(`| ${[m, String(b), lat(c, 'cpu'), c ? num(c.value) : '—', g?.firstMs != null ? num(g.firstMs) : '—', lat(g, 'webgpu'), g ? num(g.value) : '—', c && g ? `${num(g.value / c.value)}×` : '—', g?.maxAbsDiffVsCpu != null ? g.maxAbsDiffVsCpu.toExponential(1) : '—'].join(' | ')} |`);
    }
  }
  out.push('', `Inputs: ${Object.entries(r.modelInputs).map(([k, v]) => `${k}: ${v}`).join('; ')}.`, '');

  out.push('## What the numbers mean', '', ...summary(r).map((l) => `- ${l}`), '', '## Method', '', ...r.method.map((l) => `- ${l}`));
  return out.join('\n');
}

function summary(r: ReportInput): string[] {
  const lines: string[] = [];
  if (r.speedNote) lines.push(`The adapter is software (${r.adapterText}): WebGPU here is Dawn running SwiftShader on the same 2 CPU cores as the CPU backend, so the WebGPU figures say nothing about a real GPU. On it the CPU backend is expected to win; what carries over is the comparison with tfjs-webgpu on the same adapter.`);
  const mm = (v: string, n: number) => r.rows.find((x) => x.section === 'matmul' && x.variant === v && x.size === n);
  const ratios = r.matmulSizes.flatMap((n) => {
    const a = mm('webgpu auto', n), t = mm('tfjs-webgpu', n);
    return a && t ? [`${num(a.value / t.value)}× at ${n}`] : [];
  });
  if (ratios.length) lines.push(`forwardpass WebGPU matmul (automatic path) against tfjs-webgpu on the same adapter, GFLOP/s ratio: ${ratios.join(', ')} (> 1: forwardpass faster).`);
  else lines.push('No forwardpass/tfjs matmul ratio could be formed (see the tfjs column for the reason).');
  const cpuVsGpu = r.matmulSizes.flatMap((n) => {
    const a = mm('webgpu auto', n), c = mm('cpu fp.matmul', n);
    return a && c ? [`${num(c.value / a.value)}× at ${n}`] : [];
  });
  if (cpuVsGpu.length) lines.push(`The CPU backend's matmul against forwardpass WebGPU (automatic path): ${cpuVsGpu.join(', ')} (> 1: CPU faster).`);
  const twins = r.matmulSizes.flatMap((n) => {
    const a = mm('webgpu auto', n), v = mm('webgpu gemm-vec4', n);
    return a && v && a.kernel === v.kernel ? [{ n, spread: Math.max(a.value, v.value) / Math.min(a.value, v.value) }] : [];
  });
  if (twins.length) {
    const worst = twins.reduce((x, y) => (y.spread > x.spread ? y : x));
    lines.push(`Noise: 'webgpu auto' and 'webgpu gemm-vec4' ran the very same pipeline at ${twins.map((t) => t.n).join(', ')}, yet their figures differ by up to ${num(worst.spread)}× (at ${worst.n}): that is the noise of this loaded machine, and smaller differences between any two columns mean nothing.`);
  }
  const pairs = r.modelNames.flatMap((m) => r.batches.flatMap((b) => {
    const c = r.rows.find((x) => x.section === 'model' && x.variant === 'cpu' && x.size === b && x.model === m);
    const g = r.rows.find((x) => x.section === 'model' && x.variant === 'webgpu' && x.size === b && x.model === m);
    return c && g ? [{ m, b, ratio: g.value / c.value }] : [];
  }));
  if (pairs.length) {
    const cpuWins = pairs.filter((p) => p.ratio < 1).length;
    const lo = pairs.reduce((a, b) => (b.ratio < a.ratio ? b : a)), hi = pairs.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    lines.push(`Models: the CPU backend is faster in ${cpuWins} of ${pairs.length} (model, batch) pairs measured on both; WebGPU/CPU throughput ranges from ${num(lo.ratio)}× (${lo.m}, batch ${lo.b}) to ${num(hi.ratio)}× (${hi.m}, batch ${hi.b}).`);
  }
  const bad = r.rows.filter((x) => x.maxAbsDiffVsCpu !== null && x.maxAbsDiffVsCpu > (x.section === 'model' ? 1e-3 : 1e-4 * Math.sqrt(x.size)));
  const compared = r.rows.some((x) => x.maxAbsDiffVsCpu !== null);
  if (compared) lines.push(bad.length ? `MISMATCH: ${bad.map((x) => `${x.group} ${x.variant} (${x.maxAbsDiffVsCpu})`).join(', ')} differ from the CPU backend beyond tolerance.` : 'Every timed WebGPU and tfjs result matched the CPU backend within tolerance (matmul 1e-4·√K, models 1e-3).');
  const skippedBudget = r.skipped.filter((s) => s.reason.startsWith('skipped: time budget')).length;
  if (skippedBudget) lines.push(`${skippedBudget} figure(s) did not fit the time box and are marked "skipped: time budget" with the predicted time of one call on this adapter.`);
  lines.push('The machine is a shared 2-core VM: expect ±20% or more between runs; calls of several seconds have only 1-3 samples, and with fewer than 20 samples p95 is close to the slowest call.');
  return lines;
}
