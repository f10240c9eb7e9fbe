// Tracing ONNX sessions: node names as paths, values equal to the nn model's trace, and compare mode matching an
// int8 session's nodes to the f32 session's by node output where the nodes run other ops.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { fixturePath, maxAbsDiff } from '../helpers.js';
import { traceInputs } from '../models/helpers.js';

const session = (name: string, precision: 'f32' | 'int8' = 'f32') => fp.loadOnnx(readFileSync(fixturePath(name, 'model.onnx')), { backend: 'cpu', precision });

describe('trace on ONNX sessions', () => {
  it('mlp-digits: one record per Gemm/Relu node, named by the node, values equal to the nn model', async () => {
    const s = await session('mlp-digits');
    const model = await fp.loadModel(fixturePath('mlp-digits'));
    const inputs = await traceInputs('mlp-digits', model);
    const t = await fp.trace(s, inputs, { values: 'full' });
    expect(t.records.map((r) => [r.path, r.node, r.op])).toEqual([
      ['/fc1/Gemm', '/fc1/Gemm', 'linear'], ['/Relu', '/Relu', 'relu'], ['/fc2/Gemm', '/fc2/Gemm', 'linear'], ['/Relu_1', '/Relu_1', 'relu'], ['/fc3/Gemm', '/fc3/Gemm', 'linear'],
    ]);
    const ref = await fp.trace(model, inputs, { values: 'full' });
    for (const [i, r] of t.records.entries()) expect(maxAbsDiff(r.output.values!, ref.records[i]!.output.values!), r.path).toBeLessThan(1e-5);
    s.dispose();
  });

  it('steps over a session hands out every node op in order', async () => {
    const s = await session('tiny-gpt');
    const inputs = (await fp.loadFixtureCases(fixturePath('tiny-gpt')))[0]!.inputs;
    const t = await fp.trace(s, inputs);
    const seen: string[] = [];
    for await (const r of fp.steps(s, inputs)) seen.push(`${r.path}:${r.op}`);
    expect(seen).toEqual(t.records.map((r) => `${r.path}:${r.op}`));
    // the same through the session's own methods
    expect((await s.trace(inputs)).records.map((r) => `${r.path}:${r.op}`)).toEqual(seen);
    const viaMethod: string[] = [];
    for await (const r of s.steps(inputs)) viaMethod.push(`${r.path}:${r.op}`);
    expect(viaMethod).toEqual(seen);
    expect(seen).toContain('/h.0/attn/Softmax:softmax');
    s.dispose();
  });

  it('compare: the int8 session against the f32 one, MatMul nodes matched by their output', async () => {
    const f32 = await session('tiny-gpt');
    const int8 = await session('tiny-gpt', 'int8');
    const inputs = (await fp.loadFixtureCases(fixturePath('tiny-gpt')))[0]!.inputs;
    const c = fp.compareTraces(await fp.trace(f32, inputs, { values: 'full' }), await fp.trace(int8, inputs, { values: 'full' }), { threshold: 0.1 });
    const row = c.rows.find((r) => r.ref.path === '/h.0/attn/c_attn/MatMul')!;
    expect(row.matchedBy).toBe('path');
    expect(row.other.op).toBe('linearInt8');
    expect(row.cosine).toBeGreaterThan(0.999);
    expect(c.unmatched.ref).toEqual([]);
    expect(c.firstDivergence).toBeUndefined();
    const logits = c.rows[c.rows.length - 1]!;
    expect(logits.ref.path).toBe('/lm_head/MatMul');
    expect(logits.cosine).toBeGreaterThan(0.999);
    f32.dispose();
    int8.dispose();
  });
});
