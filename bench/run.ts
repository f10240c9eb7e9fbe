// Benchmark runner: `npm run bench [-- --full] [name ...] [--all] [--scale X]` runs the default suites (quick unless
// --full), the named bench/*.bench.ts, or all; writes bench/results/<name>.json (machine info and every figure),
// <name>.md and the suite's charts (under bench/results/full/ for --full runs). Suites default-export a
// BenchSuite; `measure` times code with tinybench.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { cpuTicks, machineInfo, type BenchFigure } from '../src/cli/bench-result.js';
import type { Timer } from '../src/cli/bench-models.js';
import { progressBar, type Progress } from '../src/cli/bench-report.js';

export { machineInfo };

/** One measured figure: a variant timed on one problem (group); see BenchFigure for the optional fields. */
export type BenchRow = BenchFigure;

/** What a suite is asked to do: quick (default) or --full, and a time scale for development runs. */
export interface RunContext {
  full: boolean;
  /** Multiplies every time budget (FORWARDPASS_BENCH_SCALE or --scale; e.g. 0.05 for a smoke run). */
  scale: number;
  /** A progress bar on stderr (drawn only on a terminal). */
  progress(total: number): Progress;
}

export interface BenchSuite {
  name: string;
  description: string;
  /** Variant name -> one line saying what it changes. */
  variants: Record<string, string>;
  notes?: string[];
  /** In the default set (`npm run bench` without names); the others run when named or with --all. */
  default?: boolean;
  run(log: (line: string) => void, ctx: RunContext): Promise<BenchRow[]>;
  /**
   * Optional, after run(): extra top-level fields for the JSON file, markdown to use instead of the generic table,
   * and extra files (e.g. SVG charts) by path relative to bench/results/ (bench/results/full/ for --full runs).
   */
  report?(rows: BenchRow[]): { json?: Record<string, unknown>; markdown?: string; files?: Record<string, string> };
}

export interface MeasureOptions {
  /** Time budget per task in ms (after warmup); at least `minSamples` calls are made. */
  timeMs?: number;
  minSamples?: number;
  /** One untimed call first (default true). */
  warmup?: boolean;
}

/** Time `fn` (sync or async) with tinybench; returns the median and best milliseconds per call, the sample count and the samples. */
export async function measure(name: string, fn: () => unknown, opts: MeasureOptions = {}): Promise<Timing> {
  const bench = new Bench({ time: opts.timeMs ?? 300, iterations: opts.minSamples ?? 5, warmup: opts.warmup ?? true, warmupIterations: 1, warmupTime: 0, throws: true, retainSamples: true });
  bench.add(name, fn as () => void);
  await bench.run();
  const r = bench.tasks[0]!.result;
  if (r.state !== 'completed') throw new Error(`bench: task ${name} did not complete (${r.state})`);
  return { medianMs: r.latency.p50, minMs: r.latency.min, samples: r.latency.samplesCount, sampleMs: [...(r.latency.samples ?? [])] };
}

export interface Timing {
  medianMs: number;
  minMs: number;
  samples: number;
  /** Every timed call in ms (tinybench retains them). */
  sampleMs?: number[];
}

/**
 * The Timer of src/cli/bench-models.ts on tinybench: warm-up calls are made by the caller, so tinybench's own
 * warm-up is off; at least `minSamples` calls, then calls until `timeMs` is spent (capped at `maxSamples`).
 */
export const tinybenchTimer: Timer = async (name, fn, budget) => {
  const bench = new Bench({ time: budget.timeMs, iterations: budget.minSamples, warmup: false, throws: true, retainSamples: true });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0]!.result;
  if (r.state !== 'completed') throw new Error(`bench: task ${name} did not complete (${r.state})`);
  return { samples: [...(r.latency.samples ?? [])].slice(0, Math.max(budget.maxSamples, budget.minSamples)), warmupMs: [] };
};

/**
 * Time several tasks round-robin: `rounds` passes, each giving every task `timeMs / rounds`, so that bursts of
 * load from other jobs hit all tasks alike. Per task: the lowest per-round median, the fastest call, all samples.
 */
export async function measureRounds(tasks: { name: string; fn: () => void; minSamples?: number }[], opts: { rounds?: number; timeMs?: number } = {}): Promise<Map<string, Timing>> {
  const rounds = opts.rounds ?? 3;
  const out = new Map<string, Timing>();
  for (let r = 0; r < rounds; r++) {
    for (const t of tasks) {
      const m = await measure(t.name, t.fn, { timeMs: (opts.timeMs ?? 300) / rounds, minSamples: t.minSamples ?? 3, warmup: r === 0 });
      const prev = out.get(t.name);
      out.set(t.name, prev ? { medianMs: Math.min(prev.medianMs, m.medianMs), minMs: Math.min(prev.minMs, m.minMs), samples: prev.samples + m.samples, sampleMs: [...(prev.sampleMs ?? []), ...(m.sampleMs ?? [])] } : m);
    }
  }
  return out;
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** A plain-text (and markdown) table of rows. */
export function table(rows: BenchRow[]): string {
  const head = ['problem', 'variant', 'median ms', 'best ms', `${rows[0]?.unit ?? 'value'} (median)`, '(best)', 'samples'];
  const body = rows.map((r) => [r.group, r.variant, fmt(r.medianMs), fmt(r.minMs), fmt(r.value), fmt(r.best), String(r.samples)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `| ${widths.map((w, i) => (i < 2 ? '-'.repeat(w) : '-'.repeat(w - 1) + ':')).join(' | ')} |`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const argv = process.argv.slice(2);
  const full = argv.includes('--full'), all = argv.includes('--all');
  const scaleArg = argv.find((a) => a.startsWith('--scale='))?.slice(8) ?? process.env.FORWARDPASS_BENCH_SCALE ?? '1';
  const scale = Number(scaleArg);
  if (!(scale > 0)) throw new Error(`bench: the time scale (--scale=X or FORWARDPASS_BENCH_SCALE) must be a positive number, got '${scaleArg}'`);
  const badFlag = argv.find((a) => a.startsWith('--') && a !== '--full' && a !== '--all' && !a.startsWith('--scale='));
  if (badFlag) throw new Error(`bench: unknown option ${badFlag} (expected --full, --all, --scale=X)`);
  const wanted = argv.filter((a) => !a.startsWith('--'));
  const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
  const unknown = wanted.filter((w) => !files.includes(`${w}.bench.ts`));
  if (unknown.length) throw new Error(`bench: no bench/${unknown[0]}.bench.ts (have: ${files.map((f) => f.replace(/\.bench\.ts$/, '')).join(', ')})`);
  const suites: BenchSuite[] = [];
  for (const f of wanted.length ? files.filter((x) => wanted.includes(x.replace(/\.bench\.ts$/, ''))) : files) {
    const suite = (await import(pathToFileURL(join(here, f)).href)).default as BenchSuite;
    if (wanted.length || all || suite.default) suites.push(suite);
  }
  // --full runs are kept apart (bench/results/full/) so that a full record and the quick one live side by side
  const outDir = join(here, 'results', ...(full ? ['full'] : []));
  mkdirSync(outDir, { recursive: true });
  const ctx: RunContext = { full, scale, progress: (total) => progressBar(total) };
  for (const suite of suites) {
    const machine = machineInfo();
    console.log(`\n# ${suite.name}: ${suite.description}\n${machine.cpu}, ${machine.cores} cores, node ${machine.node}, load ${machine.loadavg1AtStart}`);
    for (const [v, d] of Object.entries(suite.variants)) console.log(`  ${v}: ${d}`);
    const t0 = performance.now();
    const ticks0 = cpuTicks();
    const rows = await suite.run((line) => console.log(line), ctx);
    const seconds = (performance.now() - t0) / 1000;
    const ticks1 = cpuTicks();
    // share of CPU time the hypervisor gave to other machines while the suite ran (noise indicator)
    const stealPercent = ticks0 && ticks1 && ticks1.total > ticks0.total ? Number(((100 * (ticks1.steal - ticks0.steal)) / (ticks1.total - ticks0.total)).toFixed(1)) : null;
    const extra = suite.report?.(rows) ?? {};
    const text = extra.markdown ?? table(rows);
    console.log(`\n${text}\n(${seconds.toFixed(0)} s${stealPercent === null ? '' : `, CPU steal ${stealPercent}%`})`);
    const loadEnd = Number(os.loadavg()[0]!.toFixed(2));
    writeFileSync(join(outDir, `${suite.name}.json`), `${JSON.stringify({ format: 'forwardpass-bench-v1', suite: suite.name, description: suite.description, machine: { ...machine, loadavg1AtEnd: loadEnd, stealPercent }, seconds: Math.round(seconds), settings: { full, scale }, variants: suite.variants, notes: suite.notes ?? [], ...extra.json, rows }, null, 2)}\n`);
    for (const [path, content] of Object.entries(extra.files ?? {})) {
      mkdirSync(dirname(join(outDir, path)), { recursive: true });
      writeFileSync(join(outDir, path), content);
    }
    const md = [
      `# ${suite.name} benchmark`, '', suite.description, '',
      `Measured ${machine.date} on ${machine.cpu} (${machine.cores} cores), ${machine.os}, node ${machine.node}, commit ${machine.commit}; load average ${machine.loadavg1AtStart} at start, ${loadEnd} at end${stealPercent === null ? '' : `, CPU steal ${stealPercent}%`}; ${Math.round(seconds)} s${full ? ' (--full)' : ''}${scale !== 1 ? `, time scale ${scale}` : ''}.`, '',
      ...Object.entries(suite.variants).map(([v, d]) => `- \`${v}\`: ${d}`), '',
      text, '',
      ...(suite.notes ?? []).map((n) => `- ${n}`),
    ].join('\n');
    writeFileSync(join(outDir, `${suite.name}.md`), `${md.trimEnd()}\n`);
    console.log(`wrote bench/results/${full ? 'full/' : ''}${suite.name}.json and .md${extra.files ? ` and ${Object.keys(extra.files).length} more file(s)` : ''}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
