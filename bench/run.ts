// Benchmark runner: `npm run bench [name ...]` runs every bench/*.bench.ts (or the named ones), prints a table per
// suite and writes bench/results/<name>.json (machine info and every figure) and bench/results/<name>.md.
// Suites default-export a BenchSuite and may time code with `measure` (tinybench underneath).
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';

/** One measured figure: a variant timed on one problem (group). */
export interface BenchRow {
  /** The problem, e.g. 'matmul 512x512x512'. */
  group: string;
  variant: string;
  /** Median milliseconds per call (the lowest per-round median with measureRounds), and the best (minimum). */
  medianMs: number;
  minMs: number;
  samples: number;
  /** Headline figure at the median time (e.g. GFLOP/s), its unit, and the same figure at the best time. */
  value: number;
  best: number;
  unit: string;
}

export interface BenchSuite {
  name: string;
  description: string;
  /** Variant name -> one line saying what it changes. */
  variants: Record<string, string>;
  notes?: string[];
  run(log: (line: string) => void): Promise<BenchRow[]>;
  /** Optional, after run(): extra top-level fields for the JSON file, and markdown to use instead of the generic table. */
  report?(rows: BenchRow[]): { json?: Record<string, unknown>; markdown?: string };
}

export interface MeasureOptions {
  /** Time budget per task in ms (after warmup); at least `minSamples` calls are made. */
  timeMs?: number;
  minSamples?: number;
  /** One untimed call first (default true). */
  warmup?: boolean;
}

/** Time `fn` with tinybench; returns the median and best milliseconds per call and the sample count. */
export async function measure(name: string, fn: () => void, opts: MeasureOptions = {}): Promise<Timing> {
  const bench = new Bench({ time: opts.timeMs ?? 300, iterations: opts.minSamples ?? 5, warmup: opts.warmup ?? true, warmupIterations: 1, warmupTime: 0, throws: true });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0]!.result;
  if (r.state !== 'completed') throw new Error(`bench: task ${name} did not complete (${r.state})`);
  return { medianMs: r.latency.p50, minMs: r.latency.min, samples: r.latency.samplesCount };
}

export interface Timing {
  medianMs: number;
  minMs: number;
  samples: number;
}

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
      out.set(t.name, prev ? { medianMs: Math.min(prev.medianMs, m.medianMs), minMs: Math.min(prev.minMs, m.minMs), samples: prev.samples + m.samples } : m);
    }
  }
  return out;
}

/** What the figures were measured on. */
export function machineInfo(): Record<string, string | number> {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch { /* not a git checkout */ }
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    date: new Date().toISOString(),
    commit,
    loadavg1AtStart: Number(os.loadavg()[0]!.toFixed(2)),
  };
}

/** Linux CPU time counters (all cores, in ticks): total and stolen by the hypervisor; null elsewhere. */
function cpuTicks(): { total: number; steal: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { total: f.reduce((x, y) => x + y, 0), steal: f[7] ?? 0 };
  } catch {
    return null;
  }
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
  const wanted = process.argv.slice(2);
  const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
  const chosen = wanted.length ? files.filter((f) => wanted.includes(f.replace(/\.bench\.ts$/, ''))) : files;
  const unknown = wanted.filter((w) => !files.includes(`${w}.bench.ts`));
  if (unknown.length) throw new Error(`bench: no bench/${unknown[0]}.bench.ts (have: ${files.map((f) => f.replace(/\.bench\.ts$/, '')).join(', ')})`);
  const outDir = join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  for (const file of chosen) {
    const suite = (await import(pathToFileURL(join(here, file)).href)).default as BenchSuite;
    const machine = machineInfo();
    console.log(`\n# ${suite.name}: ${suite.description}\n${machine.cpu}, ${machine.cores} cores, node ${machine.node}, load ${machine.loadavg1AtStart}`);
    for (const [v, d] of Object.entries(suite.variants)) console.log(`  ${v}: ${d}`);
    const t0 = performance.now();
    const ticks0 = cpuTicks();
    const rows = await suite.run((line) => console.log(line));
    const seconds = (performance.now() - t0) / 1000;
    const ticks1 = cpuTicks();
    // share of CPU time the hypervisor gave to other machines while the suite ran (noise indicator)
    const stealPercent = ticks0 && ticks1 && ticks1.total > ticks0.total ? Number(((100 * (ticks1.steal - ticks0.steal)) / (ticks1.total - ticks0.total)).toFixed(1)) : null;
    const extra = suite.report?.(rows) ?? {};
    const text = extra.markdown ?? table(rows);
    console.log(`\n${text}\n(${seconds.toFixed(0)} s${stealPercent === null ? '' : `, CPU steal ${stealPercent}%`})`);
    const loadEnd = Number(os.loadavg()[0]!.toFixed(2));
    writeFileSync(join(outDir, `${suite.name}.json`), `${JSON.stringify({ suite: suite.name, description: suite.description, machine: { ...machine, loadavg1AtEnd: loadEnd, stealPercent }, seconds: Math.round(seconds), variants: suite.variants, notes: suite.notes ?? [], ...extra.json, rows }, null, 2)}\n`);
    const md = [
      `# ${suite.name} benchmark`, '', suite.description, '',
      `Measured ${machine.date} on ${machine.cpu} (${machine.cores} cores), ${machine.os}, node ${machine.node}, commit ${machine.commit}; load average ${machine.loadavg1AtStart} at start, ${loadEnd} at end${stealPercent === null ? '' : `, CPU steal ${stealPercent}%`}; ${Math.round(seconds)} s.`, '',
      ...Object.entries(suite.variants).map(([v, d]) => `- \`${v}\`: ${d}`), '',
      text, '',
      ...(suite.notes ?? []).map((n) => `- ${n}`),
    ].join('\n');
    writeFileSync(join(outDir, `${suite.name}.md`), `${md.trimEnd()}\n`);
    console.log(`wrote bench/results/${suite.name}.json and .md`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
