// Compare mode: diff metrics against a naive computation, an injected corruption found at the right op (mlp-digits,
// tiny-gpt), f32 vs f16 and vs int8 (matched by module output where the ops differ), and traceCompare's errors.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { diffMetrics } from '../../src/trace/compare.js';
import { fixturePath, randomArray } from '../helpers.js';
import { traceInputs } from '../models/helpers.js';

const load = (name: string) => fp.loadModel(fixturePath(name));

/** Scale one weight tensor of `model` in place by `factor` (a corrupted layer). */
function corrupt(model: fp.nn.Module, key: string, factor: number): void {
  const w = model.stateDict().get(key)!;
  const bad = fp.mul(w, factor);
  model.loadStateDict(new Map([[key, bad]]), { strict: false });
}

describe('diffMetrics', () => {
  it('matches a naive max abs / relative / cosine on random data', () => {
    const a = randomArray(200, 1), b = randomArray(200, 2);
    let m = 0, s = 0, dot = 0, na = 0, nb = 0;
    for (let i = 0; i < 200; i++) {
      m = Math.max(m, Math.abs(a[i]! - b[i]!));
      s = Math.max(s, Math.abs(a[i]!));
      dot += a[i]! * b[i]!; na += a[i]! ** 2; nb += b[i]! ** 2;
    }
    const d = diffMetrics(a, b);
    expect(d.maxAbs).toBe(m);
    expect(d.rel).toBeCloseTo(m / s, 12);
    expect(d.cosine).toBeCloseTo(dot / Math.sqrt(na * nb), 12);
    expect(diffMetrics(new Float32Array([1, NaN]), new Float32Array([1, 2]))).toMatchObject({ maxAbs: Infinity, oneSided: true });
    expect(diffMetrics(new Float32Array([-Infinity, 2]), new Float32Array([-Infinity, 2]))).toMatchObject({ maxAbs: 0, oneSided: false, cosine: 1 });
    expect(diffMetrics(new Float32Array(2), new Float32Array(3)).maxAbs).toBeNaN();
  });
});

describe('compareTraces', () => {
  it('finds a corrupted layer of mlp-digits at its op, with exact zeros before it', async () => {
    const good = await load('mlp-digits');
    const bad = await load('mlp-digits');
    corrupt(bad, 'fc2.weight', 1.5);
    const x = (await traceInputs('mlp-digits', good)).input!;
    const c = fp.compareTraces(await fp.trace(good, x, { values: 'full' }), await fp.trace(bad, x, { values: 'full' }));
    expect(c.rows.length).toBe(5);
    expect(c.rows.every((r) => r.matchedBy === 'op')).toBe(true);
    expect(c.rows.slice(0, 2).map((r) => r.maxAbs)).toEqual([0, 0]);
    expect(c.firstDivergence?.ref.path).toBe('fc2');
    expect(c.firstDivergence?.ref.op).toBe('linear');
    expect(c.firstDivergence!.rel).toBeGreaterThan(0.1);
    expect(c.unmatched).toEqual({ ref: [], other: [] });
  });

  it('finds a corrupted MLP of tiny-gpt block 1 and nothing before it', async () => {
    const good = await load('tiny-gpt');
    const bad = await load('tiny-gpt');
    corrupt(bad, 'h.1.mlp.c_fc.bias', -1);
    const inputs = await traceInputs('tiny-gpt', good);
    const { comparison: c } = await fp.traceCompare(good, inputs, { against: { model: bad } });
    expect(c.firstDivergence?.ref.path).toBe('h.1.mlp.c_fc');
    const before = c.rows.filter((r) => r.ref.index < c.firstDivergence!.ref.index);
    expect(before.length).toBeGreaterThan(40);
    expect(Math.max(...before.map((r) => r.maxAbs))).toBe(0);
  });

  it('f32 against f16: the same ops, small differences, none past 1%', async () => {
    const model = await load('mlp-digits');
    const inputs = await traceInputs('mlp-digits', model);
    const { ref, other, comparison: c } = await fp.traceCompare(model, inputs, { against: { precision: 'f16' } });
    expect(other.records.every((r) => r.output.dtype === 'float16')).toBe(true);
    expect(ref.records.every((r) => r.output.dtype === 'float32')).toBe(true);
    expect(c.rows.map((r) => r.matchedBy)).toEqual(['op', 'op', 'op', 'op', 'op']);
    expect(c.firstDivergence).toBeUndefined();
    const last = c.rows[c.rows.length - 1]!;
    expect(last.maxAbs).toBeGreaterThan(0);
    expect(last.rel).toBeLessThan(5e-3);
    expect(last.cosine).toBeGreaterThan(0.9999);
    expect(model.namedParameters().every(([, t]) => t.dtype === 'float32')).toBe(true); // the reference is untouched
  });

  it('f32 against int8: Linear layers matched by module output across different ops', async () => {
    const model = await load('mlp-digits');
    const inputs = await traceInputs('mlp-digits', model);
    const { other, comparison: c } = await fp.traceCompare(model, inputs, { against: { precision: 'int8' }, threshold: 0.05 });
    expect(other.records.some((r) => r.op === 'linearInt8')).toBe(true);
    const byPath = Object.fromEntries(c.rows.map((r) => [r.ref.path, r]));
    expect(Object.keys(byPath)).toEqual(['fc1', 'relu1', 'fc2', 'relu2', 'fc3']);
    expect(byPath.fc1!.matchedBy).toBe('mark');
    expect(byPath.fc1!.other.op).toBe('linearInt8');
    expect(byPath.relu1!.matchedBy).toBe('op');
    expect(c.unmatched.other.map((r) => r.op)).toContain('quantizeRows');
    expect(byPath.fc3!.cosine).toBeGreaterThan(0.999);
    expect(c.firstDivergence).toBeUndefined();
    const strict = fp.compareTraces(await fp.trace(model, inputs, { values: 'full' }), other, { threshold: 1e-6 });
    expect(strict.firstDivergence?.ref.path).toBe('fc1');
  });

  it('flags outputs of different sizes as diverged (shapeMismatch), and firstDivergence finds them', async () => {
    const model = { forward: (t: fp.Tensor) => fp.sum(fp.relu(t)) };
    const ref = await fp.trace(model, fp.tensor([1, 2]), { values: 'full' });
    const other = await fp.trace(model, fp.tensor([1, 2, -5]), { values: 'full' });
    const c = fp.compareTraces(ref, other);
    expect(c.rows.map((r) => [r.ref.op, r.shapeMismatch, r.diverged])).toEqual([['relu', true, true], ['sum', false, false]]);
    expect(c.rows[0]!.maxAbs).toBeNaN();
    expect(c.rows[1]!.maxAbs).toBe(0); // both sums are 3
    expect(c.firstDivergence).toBe(c.rows[0]);
    expect(fp.formatComparison(c).split('\n')[0]).toMatch(/^ {3}0 {2}\(model\) +relu +sizes differ: \[2\] vs \[3\] {2}◀ diverges$/);
    const same = fp.compareTraces(ref, ref);
    expect(same.rows.every((r) => !r.shapeMismatch && !r.diverged)).toBe(true);
  });

  it('frees the variant and the moved inputs when building or moving fails', async () => {
    const model = await load('mlp-digits');
    const x = (await traceInputs('mlp-digits', model)).input!;
    const gone = fp.zeros([1, 64]);
    gone.dispose();
    // buffers held: live ones plus those the collector released meanwhile (earlier tests leave tensors to it)
    const held = () => { const m = fp.cpuBackend.memory(); return m.liveBuffers + m.leaked!; };
    const before = held();
    await expect(fp.traceCompare(model, x, { against: { backend: 'nosuch' } })).rejects.toThrow(/nosuch/);
    expect(held()).toBe(before);
    await expect(fp.traceCompare(model, [x, gone], { against: { precision: 'f16' } })).rejects.toThrow(/disposed/);
    expect(held()).toBe(before);
  });

  it('needs values and names what is missing', async () => {
    const model = await load('mlp-digits');
    const x = (await traceInputs('mlp-digits', model)).input!;
    const a = await fp.trace(model, x);
    expect(() => fp.compareTraces(a, a)).toThrow(/^forwardpass: compareTraces: the reference trace has no values for op 0 \(linear at 'fc1'\); trace both with \{ values: 'full' \}$/);
    expect(() => fp.compareTraces(a, a, { threshold: -1 })).toThrow(/threshold must be a number >= 0, got -1/);
    await expect(fp.traceCompare({ forward: (t: fp.Tensor) => t }, x, { against: { precision: 'f16' } })).rejects.toThrow(/only a model built from a config/);
    await expect(fp.traceCompare(model, x, { against: { precision: 'f8' as never } })).rejects.toThrow(/precision must be 'f32', 'f16' or 'int8', got 'f8'/);
  });
});
