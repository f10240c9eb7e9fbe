// Benchmark statistics and the dependency-free timing loop of `forwardpass bench`: percentiles of latency
// samples, the summary every benchmark row carries (p50/p95/p99, spread, throughput), and warm-up kept apart.

/** What one timed figure reports, in milliseconds per call unless named otherwise. */
export interface LatencySummary {
  samples: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  /** Relative spread: (p75 - p25) / p50, the noise figure `bench compare` uses. */
  spread: number;
  /** Items per second at the median call (batch / p50), and milliseconds per item at the median. */
  throughput: number;
  msPerItem: number;
}

/**
 * The p-quantile (0 <= p <= 1) of samples, interpolating linearly between the neighbouring order statistics
 * (numpy's default). Sorts a copy.
 *
 * @example percentile([1, 2, 3, 4], 0.5) // 2.5
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError('forwardpass: bench: percentile of no samples (expected at least one)');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`forwardpass: bench: percentile p must be within [0, 1], got ${p}`);
  const s = [...samples].sort((a, b) => a - b);
  const i = (s.length - 1) * p;
  const lo = Math.floor(i), hi = Math.ceil(i);
  return s[lo]! + (s[hi]! - s[lo]!) * (i - lo);
}

/**
 * Summarize latency samples (ms per call) of calls that each process `items` items (the batch).
 *
 * @example summarize([2, 2, 4], 8).throughput // 4000 (8 items / 2 ms)
 */
export function summarize(samples: readonly number[], items = 1): LatencySummary {
  const p50 = percentile(samples, 0.5);
  const sum = samples.reduce((a, b) => a + b, 0);
  return {
    samples: samples.length,
    p50Ms: p50,
    p95Ms: percentile(samples, 0.95),
    p99Ms: percentile(samples, 0.99),
    meanMs: sum / samples.length,
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
    spread: p50 > 0 ? (percentile(samples, 0.75) - percentile(samples, 0.25)) / p50 : 0,
    throughput: p50 > 0 ? (items * 1000) / p50 : Infinity,
    msPerItem: p50 / items,
  };
}

/** How long to time one task. */
export interface TimeBudget {
  /** Untimed calls before measuring (at least 1 is recommended: it compiles and allocates). */
  warmupCalls: number;
  /** Timed milliseconds to spend after the warm-up (a call is started only while the total stays within it). */
  timeMs: number;
  minSamples: number;
  maxSamples: number;
}

/** Samples of a timed task, with the warm-up calls' own durations kept apart. */
export interface TimedSamples {
  samples: number[];
  warmupMs: number[];
}

/**
 * Time an (optionally asynchronous) call with performance.now(): `warmupCalls` untimed calls first, then calls
 * while the timed total plus the median so far stays within `timeMs`, between minSamples and maxSamples.
 *
 * @example const t = await timeCalls(() => model.run(x), { warmupCalls: 1, timeMs: 200, minSamples: 5, maxSamples: 1000 });
 */
export async function timeCalls(fn: () => unknown, budget: TimeBudget): Promise<TimedSamples> {
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const r = fn();
    if (r && typeof (r as Promise<unknown>).then === 'function') await r;
    return performance.now() - t0;
  };
  const warmupMs: number[] = [];
  for (let i = 0; i < budget.warmupCalls; i++) warmupMs.push(await once());
  const samples: number[] = [];
  let spent = 0;
  while (samples.length < budget.maxSamples) {
    if (samples.length >= budget.minSamples && spent + percentile(samples, 0.5) > budget.timeMs) break;
    const ms = await once();
    samples.push(ms);
    spent += ms;
  }
  return { samples, warmupMs };
}

/**
 * Scale a budget by a factor (FORWARDPASS_BENCH_SCALE / --time-scale), keeping at least one sample and
 * one warm-up call when the original had one.
 *
 * @example scaleBudget({ warmupCalls: 1, timeMs: 500, minSamples: 5, maxSamples: 500 }, 0.1).timeMs // 50
 */
export function scaleBudget(b: TimeBudget, factor: number): TimeBudget {
  if (!(factor > 0)) throw new RangeError(`forwardpass: bench: the time scale must be a positive number, got ${factor}`);
  if (factor >= 1) return { ...b, timeMs: b.timeMs * factor };
  return { warmupCalls: Math.min(b.warmupCalls, 1), timeMs: b.timeMs * factor, minSamples: Math.max(1, Math.round(b.minSamples * factor)), maxSamples: Math.max(1, Math.round(b.maxSamples * factor)) };
}
