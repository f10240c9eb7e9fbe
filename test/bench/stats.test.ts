// Benchmark statistics: percentiles on hand-checked samples and against a naive order-statistic implementation,
// the row summary (spread, throughput, time per item), the CLI timing loop's sample counts, and budget scaling.
import { describe, expect, it } from 'vitest';
import { percentile, scaleBudget, summarize, timeCalls } from '../../src/cli/bench-stats.js';
import { randomArray } from '../helpers.js';

/** Naive linear-interpolation quantile: rank (n - 1)·p between the sorted neighbours. */
function naiveQuantile(xs: number[], p: number): number {
  const s = xs.slice();
  // insertion sort, independent of Array.prototype.sort
  for (let i = 1; i < s.length; i++) for (let j = i; j > 0 && s[j - 1]! > s[j]!; j--) [s[j - 1], s[j]] = [s[j]!, s[j - 1]!];
  const r = (s.length - 1) * p;
  const i = Math.floor(r);
  return i + 1 < s.length ? s[i]! * (1 - (r - i)) + s[i + 1]! * (r - i) : s[i]!;
}

describe('percentile', () => {
  it('matches hand-checked values (numpy linear interpolation)', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([3, 1, 2], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBeCloseTo(9.55, 12);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBeCloseTo(9.91, 12);
    expect(percentile([10, 20], 0)).toBe(10);
    expect(percentile([10, 20], 1)).toBe(20);
    expect(percentile([7], 0.99)).toBe(7);
  });

  it('agrees with a naive order statistic on random samples', () => {
    for (const n of [2, 5, 17, 100]) {
      const xs = Array.from(randomArray(n, n, 0, 50));
      for (const p of [0, 0.25, 0.5, 0.75, 0.95, 0.99, 1]) expect(percentile(xs, p)).toBeCloseTo(naiveQuantile(xs, p), 9);
    }
  });

  it('does not reorder its input and rejects empty samples and p outside [0, 1]', () => {
    const xs = [3, 1, 2];
    percentile(xs, 0.5);
    expect(xs).toEqual([3, 1, 2]);
    expect(() => percentile([], 0.5)).toThrow(/forwardpass: bench: percentile of no samples/);
    expect(() => percentile([1], 1.5)).toThrow(/within \[0, 1\], got 1.5/);
  });
});

describe('summarize', () => {
  it('gives p50/p95/p99, min/max/mean, spread, throughput and time per item', () => {
    const s = summarize([4, 1, 3, 2, 5], 10);
    expect(s).toMatchObject({ samples: 5, p50Ms: 3, minMs: 1, maxMs: 5, meanMs: 3 });
    expect(s.p95Ms).toBeCloseTo(4.8, 12);
    expect(s.p99Ms).toBeCloseTo(4.96, 12);
    // p25 = 2, p75 = 4: (4 - 2) / 3
    expect(s.spread).toBeCloseTo(2 / 3, 12);
    expect(s.throughput).toBeCloseTo(10_000 / 3, 9);
    expect(s.msPerItem).toBeCloseTo(0.3, 12);
  });

  it('has zero spread for identical samples', () => {
    expect(summarize([2, 2, 2]).spread).toBe(0);
  });
});

describe('timeCalls', () => {
  it('makes the warm-up calls apart from the samples and stops at maxSamples', async () => {
    let calls = 0;
    const t = await timeCalls(() => { calls++; }, { warmupCalls: 2, timeMs: 1e9, minSamples: 1, maxSamples: 7 });
    expect(t.warmupMs).toHaveLength(2);
    expect(t.samples).toHaveLength(7);
    expect(calls).toBe(9);
  });

  it('takes at least minSamples even with no time, and awaits asynchronous calls', async () => {
    let done = 0;
    const t = await timeCalls(async () => { await Promise.resolve(); done++; }, { warmupCalls: 0, timeMs: 0, minSamples: 3, maxSamples: 100 });
    expect(t.samples).toHaveLength(3);
    expect(done).toBe(3);
    expect(t.samples.every((x) => x >= 0)).toBe(true);
  });
});

describe('scaleBudget', () => {
  it('scales the time and, below 1, the sample counts, keeping at least one', () => {
    const b = { warmupCalls: 3, timeMs: 400, minSamples: 4, maxSamples: 1000 };
    expect(scaleBudget(b, 2)).toEqual({ ...b, timeMs: 800 });
    expect(scaleBudget(b, 0.1)).toEqual({ warmupCalls: 1, timeMs: 40, minSamples: 1, maxSamples: 100 });
    expect(() => scaleBudget(b, 0)).toThrow(/time scale must be a positive number, got 0/);
  });
});
