// OnnxSession.stepwise: one plan node per next(), outputs equal to run(), intermediates freed on early stop, and
// steps() over a session really pausing between nodes (the next node runs only when the next step is asked for).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/node.js';
import { fixturePath, maxAbsDiff } from '../../helpers.js';
import { makeModel } from './session-helpers.js';

const chain = () => makeModel(17, [
  { op: 'Relu', inputs: ['x'], outputs: ['a'], name: 'first' },
  { op: 'Neg', inputs: ['a'], outputs: ['b'], name: 'second' },
  { op: 'Relu', inputs: ['b'], outputs: ['y'], name: 'third' },
], { x: ['float', ['batch', 4]] }, ['y']);

describe('OnnxSession.stepwise', () => {
  it('yields once per plan node with its label and op type, then returns what run() returns', async () => {
    const s = await fp.OnnxSession.fromModel(chain(), { backend: 'cpu' });
    const x = fp.tensor([[1, -2, 3, -4]]);
    const it = s.stepwise({ x });
    const seen: string[] = [];
    let r = await it.next();
    while (!r.done) {
      seen.push(`${r.value.index}:${r.value.label}:${r.value.opType}`);
      r = await it.next();
    }
    expect(seen).toEqual(['0:first:Relu', '1:second:Neg', '2:third:Relu']);
    // relu(-relu(x)) is 0 everywhere but -0 where x > 0; compare magnitudes to the hand-computed result
    expect(Array.from(await r.value.y!.data(), Math.abs)).toEqual([0, 0, 0, 0]);
    const ran = await s.run({ x });
    expect(ran.y!.shape).toEqual(r.value.y!.shape);
    for (const t of [x, ran.y!, r.value.y!]) t.dispose();
    s.dispose();
  });

  it('stopping after the first node frees the intermediates; a bad feed fails at the first next()', async () => {
    const s = await fp.OnnxSession.fromModel(chain(), { backend: 'cpu' });
    const x = fp.tensor([[1, 2, 3, 4]]);
    const before = fp.cpuBackend.memory().liveBuffers;
    const it = s.stepwise({ x });
    await it.next();
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before + 1);
    await it.return(undefined as never);
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before);
    await expect(s.stepwise({ nope: x } as never).next()).rejects.toThrow("forwardpass: onnx: run: unknown input 'nope'");
    x.dispose();
    s.dispose();
  });

  it('disposing the session between steps fails the next step with a clear error and frees the intermediates', async () => {
    const m = makeModel(17, [
      { op: 'Relu', inputs: ['x'], outputs: ['a'], name: 'first' },
      { op: 'Add', inputs: ['a', 'w'], outputs: ['y'], name: 'second' },
    ], { x: ['float', [1, 2]] }, ['y'], { w: { const: Float32Array.from([1, 2]), dims: [2], type: 'float' } });
    const s = await fp.OnnxSession.fromModel(m, { backend: 'cpu' });
    const x = fp.tensor([[1, -1]]);
    const before = fp.cpuBackend.memory().liveBuffers;
    const it = s.stepwise({ x });
    await it.next();
    s.dispose();
    await expect(it.next()).rejects.toThrow(/^forwardpass: onnx: run: the session was disposed$/);
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before - 1); // the constant w went with the session
    x.dispose();
  });

  it('steps() over tiny-gpt.onnx runs each node only when its step is asked for, and leaks nothing', async () => {
    const s = await fp.loadOnnx(readFileSync(fixturePath('tiny-gpt', 'model.onnx')), { backend: 'cpu' });
    const inputs = (await fp.loadFixtureCases(fixturePath('tiny-gpt')))[0]!.inputs;
    const ref = await fp.trace(s, inputs, { values: 'full' });
    let opsRun = 0;
    const off = fp.addOpHook(() => { opsRun++; });
    const before = fp.cpuBackend.memory().liveBuffers;
    const gen = fp.steps(s, inputs, { values: 'full' });
    const first = await gen.next();
    expect(first.done).toBe(false);
    // only the first node's ops have run: far fewer than the whole graph
    expect(opsRun).toBeLessThan(ref.length / 4);
    let n = 1;
    for (let r = await gen.next(); !r.done; r = await gen.next()) {
      expect(maxAbsDiff(r.value.output.values!, ref.records[n]!.output.values!), r.value.path).toBeLessThan(1e-6);
      n++;
    }
    off();
    expect(n).toBe(ref.length);
    expect(fp.cpuBackend.memory().liveBuffers).toBe(before);
    s.dispose();
  });
});
