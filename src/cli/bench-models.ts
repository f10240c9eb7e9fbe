// Model benchmarks shared by `forwardpass bench` and bench/models.bench.ts: engine-neutral runners (forwardpass
// at a precision on a backend here; peers are added by bench/), cold start, round-robin timing per batch,
// memory, and accuracy of each precision against float32 on the eval set.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { getBackend } from '../tensor/device.js';
import { scope, scopeSync } from '../tensor/scope.js';
import { tensor } from '../tensor/creation.js';
import { cast } from '../ops/elementwise.js';
import { addOpHook } from '../ops/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { quantize } from '../quant/quantize.js';
import { cosine } from '../quant/report.js';
import { loadModelFolder } from './model-folder.js';
import type { Precision } from './backend.js';
import type { ModelConfig } from '../nn/models/config.js';
import { evalInputs, type HostInputs } from './bench-inputs.js';
import { summarize, type TimeBudget, type TimedSamples } from './bench-stats.js';
import { figureFrom, type AccuracyFigure, type BenchFigure, type ColdStartFigure } from './bench-result.js';
import { startHeapPeak } from './bench-heap.js';

/** A model on one engine, backend and precision, ready to be given inputs. */
export interface ModelRunner {
  /** e.g. 'forwardpass cpu f32', 'onnxruntime-node cpu f32'. */
  name: string;
  engine: string;
  backend: string;
  precision: string;
  /** Whether a call's time includes copying the output from a device to the host (null: host engine). */
  readback: boolean | null;
  weightBytes: number | null;
  /** Milliseconds spent building the model (reading the folder, converting the precision, moving it). */
  loadMs: number;
  /** Give the inputs of one batch; `call` runs the model once and returns the first output as float32. */
  bind(inputs: HostInputs): Promise<BoundCall>;
  /** Live and pooled bytes of the backend's own accounting, where it has one (after a probe call: its peak). */
  memory?(): { liveBytes: number; pooledBytes: number };
  dispose(): void;
}

export interface BoundCall {
  /**
   * Run once; the result is the first output as float32. `atPeak`, when given, is called after the output is
   * read and before the call's intermediate tensors are freed (where memory use peaks); timed calls omit it.
   */
  call(atPeak?: () => void): Promise<Float32Array>;
  dispose(): void;
}

/** Time a call with a budget (`warmupCalls` is 0 here: the caller makes the warm-up call itself). */
export type Timer = (name: string, fn: () => Promise<unknown>, budget: TimeBudget) => Promise<TimedSamples>;

const toF32 = (a: ArrayLike<number>): Float32Array => (a instanceof Float32Array ? a : Float32Array.from(a));

/**
 * A forwardpass runner: the folder's model built on the CPU, brought to the precision (f16 casts the weights,
 * int8 quantizes Linear/Conv2d: per-channel weights, dynamic per-row activations) and moved to the backend.
 *
 * @example const r = await forwardpassRunner('test/fixtures/mlp-digits', 'cpu', 'int8'); const b = await r.bind(inputs); await b.call();
 */
export async function forwardpassRunner(dir: string, backend: string, precision: Precision): Promise<ModelRunner> {
  const t0 = performance.now();
  const { model } = loadModelFolder(dir, 'cpu');
  if (precision === 'int8') await quantize(model);
  if (precision === 'f16') await model.to({ dtype: 'float16' });
  if (backend !== 'cpu') await model.to(backend);
  const loadMs = performance.now() - t0;
  const dev = getBackend(backend);
  let peakMemory: { liveBytes: number; pooledBytes: number } | null = null;
  return {
    name: `forwardpass ${backend} ${precision}`,
    engine: 'forwardpass',
    backend,
    precision,
    readback: backend === 'cpu' ? null : true,
    weightBytes: model.parameterBytes(),
    loadMs,
    async bind(inputs) {
      const ins: Record<string, Tensor> = {};
      for (const [k, v] of Object.entries(inputs)) {
        const t = tensor(v.data, { shape: v.shape, dtype: v.dtype, device: backend });
        // f16: float inputs are stored as halves too (as `forwardpass run --precision f16` feeds them)
        ins[k] = precision === 'f16' && v.dtype === 'float32' ? scopeSync(() => cast(t, 'float16')) : t;
        if (ins[k] !== t) t.dispose();
      }
      const first = model.outputNames[0]!;
      return {
        call: async (atPeak) => {
          if (!atPeak) return scope(async () => toF32(await model.run(ins)[first]!.data()));
          // probe call: the backend's live bytes after every op (intermediates may be freed before the call ends)
          let peak = dev.memory();
          const off = addOpHook(() => { const m = dev.memory(); if (m.liveBytes > peak.liveBytes) peak = m; });
          try {
            return await scope(async () => {
              const y = toF32(await model.run(ins)[first]!.data());
              peakMemory = peak;
              atPeak();
              return y;
            });
          } finally {
            off();
          }
        },
        dispose: () => { for (const t of Object.values(ins)) t.dispose(); },
      };
    },
    memory: () => { const m = peakMemory ?? dev.memory(); peakMemory = null; return { liveBytes: m.liveBytes, pooledBytes: m.pooledBytes }; },
    dispose: () => model.dispose(),
  };
}

/** Largest |a - b| (Infinity when lengths differ or a value is NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Row-wise argmax over the last dimension of size `classes`. */
export function argmaxRows(a: ArrayLike<number>, classes: number): Int32Array {
  const n = Math.floor(a.length / classes), out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (a[r * classes + c]! > a[r * classes + best]!) best = c;
    out[r] = best;
  }
  return out;
}

export interface ModelBenchOptions {
  batches: number[];
  /** Timed budget per runner and batch, spread over `rounds` round-robin passes over the runners. */
  budget: TimeBudget;
  rounds: number;
  /** A runner whose warm-up call (or whose predicted call, linear in the batch) exceeds this skips this and larger batches. */
  callLimitMs: number;
  /** A per-runner call limit (e.g. tighter on a software GPU adapter); default callLimitMs. */
  callLimitFor?: (r: ModelRunner) => number;
  timer: Timer;
  log?: (line: string) => void;
  /** Called after each (runner, batch) figure. */
  tick?: (label: string) => void;
  /** The runner outputs are compared with (default: 'forwardpass cpu f32' when present). */
  reference?: string;
}

export interface ModelBenchResult {
  rows: BenchFigure[];
  coldStart: ColdStartFigure[];
  skipped: { key: string; reason: string }[];
}

/**
 * Benchmark one model on several runners at every batch: cold start (load + first call), then per batch a
 * warm-up call each (output checked against the reference, memory sampled before the call's tensors are
 * freed), then the runners timed round-robin. Speed ratios against peers are added per batch.
 *
 * @example const r = await benchModel('mlp-digits', inputsOf, runners, { batches: [1, 8], budget, rounds: 2, callLimitMs: 5000, timer });
 */
export async function benchModel(model: string, inputsOf: (B: number) => Promise<HostInputs>, runners: ModelRunner[], o: ModelBenchOptions): Promise<ModelBenchResult> {
  const out: ModelBenchResult = { rows: [], coldStart: [], skipped: [] };
  const refName = o.reference ?? 'forwardpass cpu f32';
  const stopped = new Map<string, string>();
  const prev = new Map<string, { B: number; ms: number }>();
  const cold = new Set<string>();
  for (const B of o.batches) {
    const inputs = await inputsOf(B);
    const bound = new Map<string, BoundCall>();
    const outputs = new Map<string, Float32Array>();
    const live: ModelRunner[] = [];
    const warm = new Map<string, { ms: number[]; heap: number; live?: number; pooled?: number }>();
    const key = (r: ModelRunner) => `model ${model} ${r.engine} ${r.backend} ${r.precision} b${B}`;
    for (const r of runners) {
      const why = stopped.get(r.name);
      const p = prev.get(r.name);
      const predicted = p ? (p.ms * B) / p.B : 0;
      const limit = o.callLimitFor?.(r) ?? o.callLimitMs;
      if (why || predicted > limit) {
        const reason = why ?? `skipped: time budget (one call predicted ~${(predicted / 1000).toFixed(1)} s > ${(limit / 1000).toFixed(1)} s)`;
        stopped.set(r.name, reason);
        out.skipped.push({ key: key(r), reason });
        o.tick?.(`${model} ${r.name} b${B} skipped`);
        continue;
      }
      let b: BoundCall | undefined;
      let y: Float32Array;
      const warmMs: number[] = [];
      let memAfter: { liveBytes: number; pooledBytes: number } | undefined, mem0: typeof memAfter;
      let heapPeak = 0;
      try {
        const t0 = performance.now();
        b = await r.bind(inputs);
        // a cold runner's first call compiles and allocates: it is the cold start, and a second call is the warm-up
        for (let i = cold.has(r.name) ? 1 : 0; i < 2; i++) {
          mem0 = r.memory?.();
          let peakSeen = false;
          const heap = startHeapPeak();
          const atPeak = () => { peakSeen = true; heap.sample(); memAfter = r.memory?.(); };
          const t1 = performance.now();
          try {
            y = await b.call(atPeak);
            warmMs.push(performance.now() - t1);
            // engines without a peak hook (peers) are sampled after the call
            if (!peakSeen) atPeak();
          } finally {
            heapPeak = heap.stop();
          }
          if (!cold.has(r.name)) {
            cold.add(r.name);
            const firstRunMs = performance.now() - t0;
            out.coldStart.push({ model, precision: r.precision, backend: `${r.engine} ${r.backend}`, loadMs: r.loadMs, firstRunMs, totalMs: r.loadMs + firstRunMs, weightBytes: r.weightBytes ?? NaN });
            if (firstRunMs > 2 * limit) break;
          }
        }
      } catch (e) {
        const reason = `failed: ${(e as Error).message.split('\n')[0]}`;
        stopped.set(r.name, reason);
        out.skipped.push({ key: key(r), reason });
        o.log?.(`  ${model} ${r.name} batch ${B}: ${reason}`);
        b?.dispose();
        continue;
      }
      const first = warmMs[warmMs.length - 1]!;
      if (first > limit) {
        const reason = `skipped: time budget (the warm-up call took ${(first / 1000).toFixed(1)} s)`;
        stopped.set(r.name, reason);
        out.skipped.push({ key: key(r), reason });
        b.dispose();
        continue;
      }
      bound.set(r.name, b);
      outputs.set(r.name, y!);
      live.push(r);
      warm.set(r.name, { ms: warmMs, heap: heapPeak, live: memAfter && mem0 ? memAfter.liveBytes - mem0.liveBytes : undefined, pooled: memAfter?.pooledBytes });
    }
    const samples = new Map<string, number[]>(live.map((r) => [r.name, []]));
    for (let round = 0; round < o.rounds; round++) {
      for (const r of live) {
        const b = bound.get(r.name)!;
        const t = await o.timer(r.name, () => b.call(), { ...o.budget, warmupCalls: 0, timeMs: o.budget.timeMs / o.rounds, minSamples: Math.max(1, Math.ceil(o.budget.minSamples / o.rounds)), maxSamples: Math.max(1, Math.ceil(o.budget.maxSamples / o.rounds)) });
        samples.get(r.name)!.push(...t.samples);
      }
    }
    const ref = outputs.get(refName);
    const batchRows: BenchFigure[] = [];
    for (const r of live) {
      const s = summarize(samples.get(r.name)!, B);
      const mem = warm.get(r.name)!;
      const y = outputs.get(r.name)!;
      const row = figureFrom({
        key: key(r), kind: 'model', group: `${model} batch ${B}`, variant: `${r.engine} ${r.backend} ${r.precision}`, engine: r.engine, backend: r.backend, precision: r.precision, size: B, model,
        readback: r.readback, warmupMs: mem.ms, weightBytes: r.weightBytes ?? undefined, peakHeapBytes: mem.heap,
        ...(mem.live !== undefined ? { backendLiveBytes: mem.live, backendPooledBytes: mem.pooled } : {}),
        ...(ref && r.name !== refName ? { maxAbsDiff: maxAbsDiff(y, ref) } : {}),
      }, s, 'samples/s', B);
      batchRows.push(row);
      prev.set(r.name, { B, ms: s.p50Ms });
      o.tick?.(`${model} ${r.name} b${B}`);
    }
    // speed of each forwardpass row against each peer row of the same precision (throughput ratio, > 1: forwardpass faster)
    for (const row of batchRows.filter((x) => String(x.engine).startsWith('forwardpass'))) {
      const peers = batchRows.filter((x) => !String(x.engine).startsWith('forwardpass') && x.precision === row.precision);
      if (peers.length) row.speedVsPeers = Object.fromEntries(peers.map((p) => [`${p.engine} ${p.backend}`, row.throughput! / p.throughput!]));
    }
    out.rows.push(...batchRows);
    for (const b of bound.values()) b.dispose();
  }
  return out;
}

/**
 * Accuracy of each runner against the float32 reference runner on the whole eval set (or on `fallback` inputs,
 * e.g. synthetic token ids, when the folder has none): top-1 agreement of the argmax over the last dimension,
 * max |difference|, cosine of all outputs, and accuracy against the labels when present.
 *
 * @example const acc = await accuracyVsF32('mlp-digits', dir, config, runners, 'forwardpass cpu f32', synthetic);
 */
export async function accuracyVsF32(model: string, dir: string, config: ModelConfig, runners: ModelRunner[], refName: string, fallback: () => Promise<HostInputs>): Promise<AccuracyFigure[]> {
  const ref = runners.find((r) => r.name === refName);
  if (!ref) return [];
  const ev = await evalInputs(dir, config);
  const { labels, ...inputs } = ev ?? { ...(await fallback()), labels: undefined };
  const run = async (r: ModelRunner) => { const b = await r.bind(inputs); try { return await b.call(); } finally { b.dispose(); } };
  const want = await run(ref);
  const rowsN = Object.values(inputs)[0]!.shape[0]!;
  const classes = outputClasses(config, want.length, rowsN);
  const wantTop = argmaxRows(want, classes);
  const out: AccuracyFigure[] = [];
  for (const r of runners) {
    const got = r === ref ? want : await run(r);
    const top = argmaxRows(got, classes);
    let agree = 0;
    for (let i = 0; i < top.length; i++) if (top[i] === wantTop[i]) agree++;
    const fig: AccuracyFigure = { model, precision: r.precision, backend: `${r.engine} ${r.backend}`, n: top.length, top1Agreement: agree / top.length, maxAbsDiff: maxAbsDiff(got, want), cosine: cosine(got, want) };
    if (labels) {
      let hit = 0;
      for (let i = 0; i < top.length; i++) if (top[i] === labels.data[i]) hit++;
      fig.accuracy = hit / top.length;
    }
    out.push(fig);
  }
  return out;
}

/** Size of the output's last dimension: num_classes / vocab_size from the config, else output length / rows. */
function outputClasses(config: ModelConfig, length: number, rowsN: number): number {
  const a = config.architecture as Record<string, unknown>;
  const ev = config.eval as Record<string, unknown> | undefined;
  const c = [ev?.num_classes, a.num_classes, a.vocab_size, config.vocab_size].find((v) => typeof v === 'number' && v > 0 && length % v === 0) as number | undefined;
  return c ?? length / rowsN;
}

/** config.json of a model folder. */
export function readModelConfig(dir: string): ModelConfig {
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as ModelConfig;
}
