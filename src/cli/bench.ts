// `forwardpass bench <model-folder>`: latency percentiles, throughput, cold start, memory and accuracy vs float32
// of a model at several batch sizes, backends and precisions; `forwardpass bench compare a.json b.json` flags
// regressions. Timing uses the small loop of bench-stats.ts (no benchmark library at run time).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { flag, parseArgs, UsageError } from './args.js';
import { PRECISIONS, selectBackend, type Precision } from './backend.js';
import { batchInputs, syntheticInputs } from './bench-inputs.js';
import { accuracyVsF32, benchModel, forwardpassRunner, readModelConfig, type ModelRunner, type Timer } from './bench-models.js';
import { accuracyTable, coldTable, modelTable, progressBar } from './bench-report.js';
import { cpuTicks, machineInfo, type BenchFile } from './bench-result.js';
import { scaleBudget, timeCalls, type TimeBudget } from './bench-stats.js';
import { compareResults, formatBenchComparison } from './bench-compare.js';
import { readConfig } from './model-folder.js';
import { BENCH_COMPARE_SPEC, BENCH_SPEC, BENCH_USAGE } from './specs.js';
import { applyThreadsFlag } from './threads.js';


/** Timed milliseconds per (backend, precision, batch) figure by default. */
const DEFAULT_TIME_MS = 300;

function list(v: string, what: string): string[] {
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`bench: --${what} needs a comma-separated list, got '${v}'`);
  return items;
}

function batches(v: string): number[] {
  return list(v, 'batch').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0 || n > 65536) throw new UsageError(`bench: --batch expects positive integers (e.g. 1,8,64), got '${s}'`);
    return n;
  });
}

function positiveNumber(v: string | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`bench: --${what} must be a positive number, got '${v}'`);
  return n;
}

async function compareCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, BENCH_COMPARE_SPEC);
  if (args.positionals.length !== 2) throw new UsageError(`bench compare: expected two result files (a.json b.json), got ${args.positionals.length}`);
  const [a, b] = args.positionals.map((p) => {
    let text: string;
    try {
      text = readFileSync(p!, 'utf8');
    } catch (e) {
      throw new Error(`forwardpass: bench compare: cannot read '${p}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new Error(`forwardpass: bench compare: '${p}' is not valid JSON (${(e as Error).message})`);
    }
  });
  const c = compareResults(a, b);
  process.stdout.write(`${formatBenchComparison(c, { all: flag(args, 'all') === 'true' })}\n`);
  if (c.regressions > 0) throw new Error(`forwardpass: bench compare: ${c.regressions} regression(s) beyond noise between '${args.positionals[0]}' and '${args.positionals[1]}'`);
}

/** The dependency-free timer the CLI uses. */
const cliTimer: Timer = (_name, fn, budget) => timeCalls(fn, budget);

export async function benchCommand(argv: string[]): Promise<void> {
  if (argv[0] === 'compare') return compareCommand(argv.slice(1));
  const args = parseArgs(argv, BENCH_SPEC);
  applyThreadsFlag(args, 'bench');
  const [dir, ...extra] = args.positionals;
  if (!dir || extra.length) throw new UsageError(`bench: expected one model folder, got ${args.positionals.length}; usage: ${BENCH_USAGE}`);
  if (dir.endsWith('.onnx')) throw new UsageError(`bench: expected a model folder (config.json + model.safetensors), got the ONNX file '${dir}'; the benchmark suite (npm run bench) times .onnx files against onnxruntime`);
  const precisions = list(flag(args, 'precision', 'f32,f16,int8')!, 'precision').map((p) => {
    if (!(PRECISIONS as readonly string[]).includes(p)) throw new UsageError(`bench: --precision must list some of ${PRECISIONS.join(', ')}, got '${p}'`);
    return p as Precision;
  });
  if (!precisions.includes('f32')) precisions.unshift('f32'); // the reference for accuracy and differences
  const batchList = batches(flag(args, 'batch', '1,8,64')!);
  const timeMs = positiveNumber(flag(args, 'time-ms'), DEFAULT_TIME_MS, 'time-ms');
  const rounds = Math.round(positiveNumber(flag(args, 'rounds'), 2, 'rounds'));
  const config = readConfig(dir);
  const backends: string[] = [];
  for (const b of list(flag(args, 'backend', 'cpu')!, 'backend')) backends.push(await selectBackend(b, 'bench'));
  if (!backends.includes('cpu')) backends.unshift('cpu'); // the float32 CPU run is the reference
  const name = config.name ?? basename(resolve(dir));

  const machine = machineInfo();
  const ticks0 = cpuTicks();
  const runners: ModelRunner[] = [];
  const distinct = [...new Set(backends)];
  const progress = progressBar(distinct.length * precisions.length * batchList.length);
  try {
    // built inside the try: a runner that fails to build (say on webgpu) must not leak the ones before it
    for (const backend of distinct) for (const p of precisions) runners.push(await forwardpassRunner(dir, backend, p));
    const budget: TimeBudget = scaleBudget({ warmupCalls: 1, timeMs, minSamples: 5, maxSamples: 10_000 }, 1);
    const t0 = performance.now();
    const result = await benchModel(name, async (B) => (await batchInputs(dir, config, B)).inputs, runners, {
      batches: batchList, budget, rounds, callLimitMs: Math.max(10_000, 20 * timeMs), timer: cliTimer, tick: (l) => progress.tick(l),
    });
    progress.done();
    const cpuRunners = runners.filter((r) => r.backend === 'cpu');
    const accuracy = flag(args, 'no-accuracy') ? [] : await accuracyVsF32(name, dir, readModelConfig(dir), cpuRunners, 'forwardpass cpu f32', async () => syntheticInputs(config, 64, 7));
    const seconds = (performance.now() - t0) / 1000;
    const ticks1 = cpuTicks();
    const out: string[] = [modelTable(result.rows)];
    for (const s of result.skipped) out.push(`${s.key}: ${s.reason}`);
    out.push('', 'cold start (build + precision + first call incl. readback):', coldTable(result.coldStart));
    if (accuracy.length) out.push('', `accuracy vs float32 on the CPU (${(await batchInputs(dir, config, 1)).source === 'eval-set rows (eval.json)' ? 'whole eval set' : 'seeded synthetic inputs'}):`, accuracyTable(accuracy));
    out.push('', `${seconds.toFixed(1)} s on ${machine.cpu} (${machine.cores} cores), load ${machine.loadavg1AtStart}; p50/p95/p99 over ${rounds} round-robin pass(es) of ~${timeMs} ms per figure after one warm-up call`);
    process.stdout.write(`${out.join('\n')}\n`);
    const json = flag(args, 'json');
    if (json) {
      const file: BenchFile = {
        format: 'forwardpass-bench-v1', suite: `cli ${name}`, description: `forwardpass bench ${argv.join(' ')}`,
        machine: { ...machine, stealPercent: ticks0 && ticks1 && ticks1.total > ticks0.total ? Number(((100 * (ticks1.steal - ticks0.steal)) / (ticks1.total - ticks0.total)).toFixed(1)) : null },
        settings: { backends, precisions, batches: batchList, timeMs, rounds, seconds: Math.round(seconds) },
        rows: result.rows, accuracy, coldStart: result.coldStart, skipped: result.skipped,
      };
      writeFileSync(json, `${JSON.stringify(file, null, 2)}\n`);
      process.stdout.write(`wrote ${json}\n`);
    }
  } finally {
    progress.done();
    for (const r of runners) r.dispose();
  }
}
