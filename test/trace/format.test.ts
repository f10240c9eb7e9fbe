// The terminal view: sparklines and short numbers by hand, one line per op with its fields, PyTorch-style values,
// the timing header and compare lines.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { formatCompareRow, pathWidthOf, shortNum, timingText } from '../../src/trace/format.js';
import { fixturePath } from '../helpers.js';

const record = (over: Partial<fp.TraceRecord> = {}): fp.TraceRecord => {
  const output = { shape: [2, 3], dtype: 'float32' as const, stats: fp.tensorStats(new Float32Array([0, 1, 1, 2, 2, 2]), 4), values: new Float32Array([0, 1, 1, 2, 2, 2]) };
  return { index: 7, op: 'relu', attrs: {}, path: 'blocks.0.mlp', marks: [], backend: 'cpu', inputs: [{ shape: [2, 3], dtype: 'float32' }], outputs: [output], output, ms: 0.25, timing: 'cpu', ...over };
};

describe('sparkline and numbers', () => {
  it('scales bins to block heights, blanks empty bins, merges to the width', () => {
    expect(fp.sparkline([0, 1, 4, 2])).toBe(' ▂█▄');
    expect(fp.sparkline([8, 8, 0, 8], 2)).toBe('█▄');
    expect(fp.sparkline([0, 0])).toBe('  ');
    expect(fp.sparkline([])).toBe('');
  });

  it('prints numbers in 4 significant digits, exponents when far from 1', () => {
    expect([shortNum(0), shortNum(1.23456), shortNum(-1234.56), shortNum(123456), shortNum(0.000123), shortNum(NaN), shortNum(-Infinity)])
      .toEqual(['0', '1.235', '-1235', '1.23e5', '1.23e-4', 'nan', '-inf']);
  });
});

describe('formatRecord', () => {
  it('shows index, path, op, shape, stats, sparkline and time in one line', () => {
    const line = fp.formatRecord(record(), { pathWidth: 14, sparkWidth: 4 });
    expect(line).toBe(`   7  blocks.0.mlp    relu          [2, 3]          min         0  mean     1.333  max         2  std    0.7454  ▃ ▆█     0.250 ms`);
    expect(line.includes('\n')).toBe(false);
  });

  it('flags NaN/Inf counts, a non-float32 dtype and marks; shortens long paths from the left', () => {
    const stats = fp.tensorStats(new Float32Array([NaN, Infinity, 1]), 2);
    const out = { shape: [3], dtype: 'float16' as const, stats };
    const line = fp.formatRecord(record({ path: 'encoder.layers.11.attention.output', output: out, outputs: [out], marks: ['encoder.layers.11'] }), { pathWidth: 10 });
    expect(line).toMatch(/^ {3}7 {2}…on\.output {2}relu/);
    expect(line).toMatch(/NaN×1 {2}Inf×1 {2}float16 {2}= encoder\.layers\.11$/);
    expect(fp.formatRecord(record({ path: '' }), { pathWidth: 8 })).toMatch(/^ {3}7 {2}\(model\) {3}relu/);
  });

  it('prints values like PyTorch and says when there are none', () => {
    expect(fp.formatValues(record())).toBe('tensor([[0., 1., 1.],\n        [2., 2., 2.]])');
    const out = { shape: [2], dtype: 'float32' as const };
    expect(fp.formatValues(record({ output: out, outputs: [out] }))).toMatch(/no values: trace with \{ values: 'full' \}/);
  });
});

describe('formatTrace and formatComparison', () => {
  it('a header naming what ms covers, then one line per op of a real trace', async () => {
    const model = await fp.loadModel(fixturePath('mlp-digits'));
    const t = await fp.trace(model, fp.zeros([1, 64]), { values: 'full' });
    const lines = fp.formatTrace(t).split('\n');
    expect(lines[0]).toMatch(/^trace: 5 ops on cpu, [\d.]+ ms in all \(ms = CPU kernel wall time\)$/);
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual(['0 fc1 linear', '1 relu1 relu', '2 fc2 linear', '3 relu2 relu', '4 fc3 linear']);
    const withValues = fp.formatTrace(t, { values: true }).split('\n');
    expect(withValues.length).toBe(1 + 5 + t.records.reduce((n, r) => n + fp.formatValues(r).split('\n').length, 0));
    expect(timingText('gpu-encode')).toMatch(/sync: true/);
    expect(pathWidthOf([{ path: 'a' }, { path: 'a.b.c.d.e.f.g.h.i' }])).toBe(17);
  });

  it('compare lines mark the divergent ops and name the first one', async () => {
    const a = await fp.loadModel(fixturePath('mlp-digits'));
    const b = await fp.loadModel(fixturePath('mlp-digits'));
    b.loadStateDict(new Map([['fc3.bias', fp.add(b.stateDict().get('fc3.bias')!, 1)]]), { strict: false });
    const x = fp.zeros([1, 64]);
    const c = fp.compareTraces(await fp.trace(a, x, { values: 'full' }), await fp.trace(b, x, { values: 'full' }));
    const lines = fp.formatComparison(c).split('\n');
    expect(lines.length).toBe(6);
    expect(lines.slice(0, 4).every((l) => !l.includes('diverges'))).toBe(true);
    expect(lines[4]).toMatch(/^ {3}4 {2}fc3 +linear +max\|Δ\| +1 +rel .* cos [\d.]+ {2}◀ diverges$/);
    expect(lines[5]).toMatch(/^first divergence \(rel > 0\.01\): op 4 linear at 'fc3' \(max\|Δ\| 1, rel /);
    expect(formatCompareRow({ ...c.rows[0]!, other: { ...c.rows[0]!.other, op: 'linearInt8' } }, 4)).toMatch(/^ {3}0 {2}fc1 {3}linear→linearInt8/);
  });
});
