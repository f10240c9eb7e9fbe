// `bench compare`: the regression rule (beyond max(5%, 3 x the larger relative spread)) on synthetic result
// files, added and removed rows, accuracy drops, the text report, and one-sentence errors for bad files.
import { describe, expect, it } from 'vitest';
import { changeThreshold, compareResults, formatBenchComparison } from '../../src/cli/bench-compare.js';
import type { AccuracyFigure, BenchFigure } from '../../src/cli/bench-result.js';

const row = (variant: string, medianMs: number, spread?: number): BenchFigure => ({ group: 'g', variant, medianMs, minMs: medianMs, samples: 10, value: 1 / medianMs, best: 1 / medianMs, unit: 'x/s', ...(spread === undefined ? {} : { spread }) });
const acc = (precision: string, top1Agreement: number, cosine: number): AccuracyFigure => ({ model: 'm', precision, backend: 'forwardpass cpu', n: 100, top1Agreement, maxAbsDiff: 0.1, cosine });
const file = (rows: BenchFigure[], accuracy: AccuracyFigure[] = [], cpu = 'A') => ({ rows, accuracy, machine: { cpu, cores: 2 } });

describe('changeThreshold', () => {
  it('is 5% for quiet runs and 3 x the larger spread for noisy ones', () => {
    expect(changeThreshold()).toBe(0.05);
    expect(changeThreshold(0.01, 0.005)).toBe(0.05);
    expect(changeThreshold(0.01, 0.04)).toBeCloseTo(0.12, 12);
  });
});

describe('compareResults', () => {
  it('flags a slowdown beyond 5% on quiet rows and leaves a 4% one alone', () => {
    const c = compareResults(file([row('a', 10, 0), row('b', 10, 0)]), file([row('a', 10.4, 0), row('b', 10.6, 0)]));
    expect(c.rows.find((r) => r.key === 'g | a')!.verdict).toBe('same');
    const b = c.rows.find((r) => r.key === 'g | b')!;
    expect(b.verdict).toBe('regression');
    expect(b.change).toBeCloseTo(0.06, 12);
    expect(c.regressions).toBe(1);
  });

  it('needs more on noisy rows: 10% slower is noise with a 5% spread (threshold 15%), 20% is not', () => {
    const c = compareResults(file([row('a', 10, 0.05), row('b', 10, 0.05)]), file([row('a', 11, 0.01), row('b', 12, 0.01)]));
    expect(c.rows.map((r) => r.verdict)).toEqual(['same', 'regression']);
    expect(c.rows[1]!.threshold).toBeCloseTo(0.15, 12);
  });

  it('calls a speed-up beyond the threshold an improvement, symmetric in ratio', () => {
    const c = compareResults(file([row('a', 10), row('b', 10)]), file([row('a', 9.6), row('b', 9)]));
    expect(c.rows.map((r) => r.verdict)).toEqual(['same', 'improvement']);
    expect(c.improvements).toBe(1);
    expect(c.regressions).toBe(0);
  });

  it('matches rows by key, reporting rows only in one file', () => {
    const k = { ...row('x', 5), key: 'custom key' };
    const c = compareResults(file([row('a', 1), k]), file([{ ...row('y', 6), key: 'custom key' }, row('c', 1)]));
    expect(Object.fromEntries(c.rows.map((r) => [r.key, r.verdict]))).toEqual({ 'g | a': 'removed', 'custom key': 'regression', 'g | c': 'added' });
  });

  it('flags a drop in top-1 agreement or cosine as an accuracy regression', () => {
    const c = compareResults(file([], [acc('int8', 0.99, 0.9999), acc('f16', 1, 0.99999)]), file([], [acc('int8', 0.985, 0.9999), acc('f16', 1, 0.99998)]));
    expect(c.accuracy.map((a) => a.verdict)).toEqual(['regression', 'same']);
    expect(c.regressions).toBe(1);
    const c2 = compareResults(file([], [acc('int8', 0.99, 0.9999)]), file([], [acc('int8', 0.99, 0.9997)]));
    expect(c2.accuracy[0]!.verdict).toBe('regression');
  });

  it('warns when the machines differ', () => {
    expect(compareResults(file([row('a', 1)], [], 'A'), file([row('a', 1)], [], 'B')).machineDiffers).toEqual(['cpu']);
  });

  it('rejects files that are not results with one sentence', () => {
    expect(() => compareResults({ foo: 1 }, file([]))).toThrow(/^forwardpass: bench compare: the first file must be a benchmark result \(a JSON object with a 'rows' array\), got an object with keys foo$/);
    expect(() => compareResults(file([]), [1])).toThrow(/the second file must be a benchmark result .* got an array/);
    expect(() => compareResults(file([{ group: 'g' } as BenchFigure]), file([]))).toThrow(/the first file row 0 needs a string group and variant and a numeric medianMs/);
  });
});

describe('formatBenchComparison', () => {
  it('lists regressions first, states the rule and counts the rows within noise', () => {
    const text = formatBenchComparison(compareResults(file([row('a', 10), row('b', 10), row('c', 10)]), file([row('a', 5), row('b', 20), row('c', 10)])));
    const lines = text.split('\n');
    expect(lines[1]).toMatch(/^REGRESSION\s+g \| b\s+10.00\s+20.00\s+\+100.0%\s+±5.0%$/);
    expect(lines[2]).toMatch(/^IMPROVEMENT\s+g \| a/);
    expect(text).toContain('1 regression(s), 1 improvement(s), 1 row(s) within noise');
    expect(text).toContain('max(5%, 3 x the larger relative spread');
  });
});
