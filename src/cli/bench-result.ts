// The benchmark result format shared by `forwardpass bench` and `npm run bench`: one row per timed figure
// (latency percentiles, throughput, memory, accuracy) plus the machine it was measured on, written as JSON.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { LatencySummary } from './bench-stats.js';

/**
 * One measured figure: a variant timed on one problem (group). The first fields are what every suite writes;
 * the optional ones are filled where they apply (models: batch, precision, memory; kernels: GB/s).
 */
export interface BenchFigure {
  /** The problem, e.g. 'matmul 512x512x512' or 'mlp-digits batch 8'. */
  group: string;
  variant: string;
  /** Median milliseconds per call and the fastest call. */
  medianMs: number;
  minMs: number;
  samples: number;
  /** Headline figure at the median (samples/s, GFLOP/s), its unit, and the same figure at the fastest call. */
  value: number;
  best: number;
  unit: string;
  /** Unique within a file; `bench compare` matches rows by it (default `${group} | ${variant}`). */
  key?: string;
  kind?: 'model' | 'kernel';
  /** forwardpass or the peer ('onnxruntime-node', 'onnxruntime-web', 'tfjs-cpu', 'tfjs-webgpu'). */
  engine?: string;
  /** Where it ran: cpu, webgpu, wasm. */
  backend?: string;
  precision?: string;
  /** Batch (models) or problem size (kernels). */
  size?: number;
  p95Ms?: number;
  p99Ms?: number;
  meanMs?: number;
  maxMs?: number;
  /** (p75 - p25) / p50 of the samples. */
  spread?: number;
  /** Items per second at the median and milliseconds per item (models: samples of the batch). */
  throughput?: number;
  msPerItem?: number;
  /** Kernels: bytes moved at least once (inputs + output) per second at the median, in GB/s. */
  gbps?: number;
  /** The untimed warm-up calls' durations. */
  warmupMs?: number[];
  /** GPU figures: whether a call's time includes reading the result back to the host (null: not a GPU figure). */
  readback?: boolean | null;
  /** Bytes of the weights as stored (int8 quants + scales, halves, floats). */
  weightBytes?: number;
  /**
   * Peak growth of (V8 heap + array buffers) during the warm-up call over a garbage-collected start, sampled after
   * every forwardpass op and when the output has been read (peers: after the call); approximate (src/cli/bench-heap.ts).
   */
  peakHeapBytes?: number;
  /** The backend's own accounting (backend.memory()) at that point: growth of live bytes, and pooled bytes. */
  backendLiveBytes?: number;
  backendPooledBytes?: number;
  /** Largest |difference| of the result from the reference (f32 CPU or the naive kernel). */
  maxAbsDiff?: number;
  /** forwardpass throughput divided by each peer's on the same work (> 1: forwardpass faster), by peer name. */
  speedVsPeers?: Record<string, number>;
  /** 1-minute load average when the figure was recorded. */
  loadavg1?: number;
  /** Set when the adapter is a software one (CPU speed). */
  note?: string;
  [extra: string]: unknown;
}

/** Accuracy of one precision against the float32 outputs on an eval set. */
export interface AccuracyFigure {
  model: string;
  precision: string;
  backend: string;
  /** Rows (or positions, for language models) compared. */
  n: number;
  /** Share of rows whose argmax equals the float32 argmax. */
  top1Agreement: number;
  maxAbsDiff: number;
  /** Cosine similarity of all outputs, flattened, with the float32 ones. */
  cosine: number;
  /** Accuracy against the labels, when the eval set has them. */
  accuracy?: number;
}

/** Cold start: building the model from its folder, converting it to the precision, and the first call. */
export interface ColdStartFigure {
  model: string;
  precision: string;
  backend: string;
  loadMs: number;
  firstRunMs: number;
  totalMs: number;
  weightBytes: number;
}

/** A results file. */
export interface BenchFile {
  format: 'forwardpass-bench-v1';
  suite: string;
  description: string;
  machine: MachineInfo;
  settings: Record<string, unknown>;
  rows: BenchFigure[];
  accuracy?: AccuracyFigure[];
  coldStart?: ColdStartFigure[];
  /** Figures not measured, and why ('skipped: ...', 'unavailable: ...', 'failed: ...'). */
  skipped?: { key: string; reason: string }[];
  notes?: string[];
  [extra: string]: unknown;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  os: string;
  node: string;
  v8: string;
  date: string;
  commit: string;
  loadavg1AtStart: number;
  /** The WebGPU adapter in one line, when one was used. */
  adapter?: string;
  [extra: string]: unknown;
}

/**
 * What the figures are measured on: CPU model, cores, OS, Node and V8 versions, date, git commit, load.
 *
 * @example machineInfo().cpu // 'AMD EPYC ...'
 */
export function machineInfo(): MachineInfo {
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
    loadavg1AtStart: loadavg1(),
  };
}

/** The 1-minute load average, two decimals. @example loadavg1() // 1.37 */
export function loadavg1(): number {
  return Number(os.loadavg()[0]!.toFixed(2));
}

/** Linux CPU time counters (all cores, in ticks): total and stolen by the hypervisor; null elsewhere. */
export function cpuTicks(): { total: number; steal: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { total: f.reduce((x, y) => x + y, 0), steal: f[7] ?? 0 };
  } catch {
    return null;
  }
}

/**
 * A row from a latency summary: value = items/s (or work/s with `perSecond`, e.g. GFLOP/s when work is FLOPs/1e9).
 *
 * @example figureFrom({ group: 'mlp b8', variant: 'f32' }, summarize(samples, 8), 'samples/s', 8)
 */
export function figureFrom(base: Partial<BenchFigure> & { group: string; variant: string }, s: LatencySummary, unit: string, work: number): BenchFigure {
  return {
    ...base,
    medianMs: s.p50Ms,
    minMs: s.minMs,
    samples: s.samples,
    value: (work * 1000) / s.p50Ms,
    best: (work * 1000) / s.minMs,
    unit,
    p95Ms: s.p95Ms,
    p99Ms: s.p99Ms,
    meanMs: s.meanMs,
    maxMs: s.maxMs,
    spread: s.spread,
    throughput: s.throughput,
    msPerItem: s.msPerItem,
    loadavg1: loadavg1(),
  };
}

/** The key `bench compare` matches a row by. @example rowKey({ group: 'g', variant: 'v' } as BenchFigure) // 'g | v' */
export function rowKey(r: Pick<BenchFigure, 'group' | 'variant' | 'key'>): string {
  return r.key ?? `${r.group} | ${r.variant}`;
}
