// If, Loop and Scan against onnxruntime-node: bodies that read values of the enclosing graphs (graph inputs,
// initializers, values computed before the node, from two levels up), loop-carried values and scan outputs, early
// exit on the body's condition, scan axes and directions. Refusals at load: an unsupported op inside a body is
// named with the node holding it; a body whose signature does not fit its node is refused with both counts.
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { expectLikeOrt, floats } from './ort-check.js';
import { onnxModel, type GraphSpec, type NodeSpec } from './writer.js';

const graph = (value: GraphSpec) => ({ type: 'graph' as const, value });
const scalarOut = (name: string, type: 'float' | 'bool' = 'float') => ({ name, type, shape: [] as number[] });

describe('If', () => {
  // then: x + w (an initializer of the main graph); else: h · 2 (h computed by a node before the If)
  const bytes = onnxModel({
    opset: 17,
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['h'] },
      { op: 'If', inputs: ['cond'], outputs: ['y'], name: 'n', attrs: {
        then_branch: graph({ nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['t'] }], outputs: [{ name: 't', type: 'float' }] }),
        else_branch: graph({ nodes: [{ op: 'Mul', inputs: ['h', 'two'], outputs: ['e'] }], outputs: [{ name: 'e', type: 'float' }], initializers: [{ name: 'two', type: 'float', dims: [], data: [2] }] }),
      } },
    ],
    initializers: [{ name: 'w', type: 'float', dims: [3], data: [1, 2, 3] }],
    inputs: [{ name: 'x', type: 'float', shape: [2, 3] }, { name: 'cond', type: 'bool', shape: [] }],
    outputs: [{ name: 'y', type: 'float', shape: [2, 3] }],
  });
  it('picks a branch by the condition; branches read outer values', async () => {
    for (const c of [1, 0]) {
      const feeds = { x: floats([2, 3], 1), cond: { type: 'bool', dims: [], data: new Uint8Array([c]) } };
      await expectLikeOrt(bytes, feeds, undefined, `cond ${c}`);
      const nan = Float32Array.from(feeds.x.data as Float32Array);
      nan[4] = NaN;
      const out = await expectLikeOrt(bytes, { ...feeds, x: { ...feeds.x, data: nan } }, undefined, `NaN, cond ${c}`);
      expect(out.y!.map(Number.isNaN)).toEqual([false, false, false, false, true, false]);
    }
  });
  it('a constant condition folds at load (the plan keeps no If)', async () => {
    const folded = onnxModel({
      opset: 17,
      nodes: [{ op: 'If', inputs: ['c'], outputs: ['y'], attrs: {
        then_branch: graph({ nodes: [{ op: 'Neg', inputs: ['x'], outputs: ['t'] }], outputs: [{ name: 't', type: 'float' }] }),
        else_branch: graph({ nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['e'] }], outputs: [{ name: 'e', type: 'float' }] }),
      } }, { op: 'Relu', inputs: ['y'], outputs: ['z'] }],
      initializers: [{ name: 'c', type: 'bool', dims: [], data: [1] }, { name: 'x', type: 'float', dims: [2], data: [-1, 2] }],
      inputs: [{ name: 'u', type: 'float', shape: [1] }],
      outputs: [{ name: 'z', type: 'float', shape: [2] }],
    });
    const s = await fp.loadOnnx(folded, { backend: 'cpu' });
    expect(s.planSize).toBe(0);
    const { z } = await s.run({ u: fp.tensor([0]) });
    expect(Array.from(await z!.data())).toEqual([1, 0]);
    z!.dispose();
    s.dispose();
  });
});

/** A Loop summing `x` (an outer value) into a carried value, with a scan output per step and an early exit once sum > limit. */
function loopModel(trips: number, limit: number, nested = false): Uint8Array {
  // body: (i, cond, acc) -> (acc2 <= limit, acc2 = acc + x·i, acc2 as a scan output)
  const step: NodeSpec[] = [
    { op: 'Cast', inputs: ['i'], outputs: ['fi'], attrs: { to: 1 } },
    { op: 'Mul', inputs: ['x', 'fi'], outputs: ['xi'] },
  ];
  if (nested) {
    // the product goes through an If inside the body, which reads `x` two levels up
    step[1] = { op: 'If', inputs: ['cin'], outputs: ['xi'], attrs: {
      then_branch: graph({ nodes: [{ op: 'Mul', inputs: ['x', 'fi'], outputs: ['p'] }], outputs: [{ name: 'p', type: 'float' }] }),
      else_branch: graph({ nodes: [{ op: 'Sub', inputs: ['x', 'x'], outputs: ['q'] }], outputs: [{ name: 'q', type: 'float' }] }),
    } };
  }
  const body: GraphSpec = {
    nodes: [...step,
      { op: 'Add', inputs: ['acc', 'xi'], outputs: ['acc2'] },
      { op: 'ReduceSum', inputs: ['acc2'], outputs: ['total'], attrs: { keepdims: 0 } },
      { op: 'LessOrEqual', inputs: ['total', 'limit'], outputs: ['cout'] },
      { op: 'Identity', inputs: ['acc2'], outputs: ['scan'] }],
    inputs: [{ name: 'i', type: 'int64', shape: [] }, { name: 'cin', type: 'bool', shape: [] }, { name: 'acc', type: 'float', shape: [3] }],
    outputs: [scalarOut('cout', 'bool'), { name: 'acc2', type: 'float', shape: [3] }, { name: 'scan', type: 'float', shape: [3] }],
  };
  return onnxModel({
    opset: 17,
    nodes: [{ op: 'Loop', inputs: ['m', 'c', 'a0'], outputs: ['final', 'steps'], name: 'n', attrs: { body: graph(body) } }],
    initializers: [{ name: 'm', type: 'int64', dims: [], data: [BigInt(trips)] }, { name: 'limit', type: 'float', dims: [], data: [limit] }],
    inputs: [{ name: 'x', type: 'float', shape: [3] }, { name: 'c', type: 'bool', shape: [] }, { name: 'a0', type: 'float', shape: [3] }],
    outputs: [{ name: 'final', type: 'float', shape: [3] }, { name: 'steps', type: 'float', shape: [null, 3] }],
  });
}

describe('Loop', () => {
  const feeds = (c: number) => ({ x: floats([3], 2, 0, 1), c: { type: 'bool', dims: [], data: new Uint8Array([c]) }, a0: floats([3], 3, 0, 1) });
  it('runs to the trip count, or stops early on the body condition; scan outputs stacked', async () => {
    const all = await expectLikeOrt(loopModel(5, 1e9), feeds(1), undefined, 'all trips');
    expect(all.steps!.length).toBe(5 * 3);
    const early = await expectLikeOrt(loopModel(50, 12), feeds(1), undefined, 'early exit');
    expect(early.steps!.length).toBeLessThan(50 * 3);
    await expectLikeOrt(loopModel(5, 1e9, true), feeds(1), undefined, 'If inside the body');
  });
  it('a false initial condition runs no iteration (the carried value passes through)', async () => {
    const none = await expectLikeOrt(loopModel(5, 1e9), feeds(0), undefined, 'cond false');
    expect(none.final).toEqual(Array.from(feeds(0).a0.data as Float32Array));
  });
  it('a body whose inputs do not fit the loop is refused at load', async () => {
    const bad = onnxModel({
      opset: 17,
      nodes: [{ op: 'Loop', inputs: ['m', '', 'a0'], outputs: ['final'], name: 'n', attrs: { body: graph({ nodes: [{ op: 'Identity', inputs: ['acc'], outputs: ['o'] }], inputs: [{ name: 'acc', type: 'float', shape: [3] }], outputs: [{ name: 'o', type: 'float' }] }) } }],
      initializers: [{ name: 'm', type: 'int64', dims: [], data: [2n] }],
      inputs: [{ name: 'a0', type: 'float', shape: [3] }],
      outputs: [{ name: 'final', type: 'float', shape: [3] }],
    });
    await expect(fp.loadOnnx(bad, { backend: 'cpu' })).rejects.toThrow(/^forwardpass: onnx: node 'n' \(Loop\): body takes 1 inputs; a loop with 1 loop-carried values needs 3$/);
  });
});

describe('Scan', () => {
  it('opset 16: states, scan axes and directions, scan output axes and directions, an outer value', async () => {
    // body: (s [2], a_t [2], b_t [2]) -> (s + a_t · k, (s + b_t) as a scan output)
    const body: GraphSpec = {
      nodes: [
        { op: 'Mul', inputs: ['a_t', 'k'], outputs: ['ak'] },
        { op: 'Add', inputs: ['s', 'ak'], outputs: ['s2'] },
        { op: 'Add', inputs: ['s', 'b_t'], outputs: ['o'] },
      ],
      inputs: [{ name: 's', type: 'float', shape: [2] }, { name: 'a_t', type: 'float', shape: [2] }, { name: 'b_t', type: 'float', shape: [2] }],
      outputs: [{ name: 's2', type: 'float', shape: [2] }, { name: 'o', type: 'float', shape: [2] }],
    };
    const bytes = onnxModel({
      opset: 16,
      nodes: [{ op: 'Scan', inputs: ['s0', 'a', 'b'], outputs: ['sN', 'os'], attrs: { body: graph(body), num_scan_inputs: 2, scan_input_axes: [0, 1], scan_input_directions: [0, 1], scan_output_axes: [1], scan_output_directions: [1] } }],
      inputs: [{ name: 's0', type: 'float', shape: [2] }, { name: 'a', type: 'float', shape: [4, 2] }, { name: 'b', type: 'float', shape: [2, 4] }, { name: 'k', type: 'float', shape: [2] }],
      outputs: [{ name: 'sN', type: 'float', shape: [2] }, { name: 'os', type: 'float', shape: [2, 4] }],
    });
    await expectLikeOrt(bytes, { s0: floats([2], 4), a: floats([4, 2], 5), b: floats([2, 4], 6), k: floats([2], 7) });
  });
  it('an unsupported op inside a body is named at load with the node that holds it', async () => {
    const bytes = onnxModel({
      opset: 17,
      nodes: [{ op: 'If', inputs: ['c'], outputs: ['y'], name: 'n', attrs: {
        then_branch: graph({ nodes: [{ op: 'NoSuchOp', inputs: ['x'], outputs: ['t'], name: 'bad' }], outputs: [{ name: 't', type: 'float' }] }),
        else_branch: graph({ nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['e'] }], outputs: [{ name: 'e', type: 'float' }] }),
      } }],
      inputs: [{ name: 'x', type: 'float', shape: [2] }, { name: 'c', type: 'bool', shape: [] }],
      outputs: [{ name: 'y', type: 'float', shape: [2] }],
    });
    await expect(fp.loadOnnx(bytes, { backend: 'cpu' })).rejects.toThrow(/^forwardpass: onnx: unsupported ops \(opset 17\): NoSuchOp \(node 'n\.then_branch\/bad'\)$/);
  });
});
