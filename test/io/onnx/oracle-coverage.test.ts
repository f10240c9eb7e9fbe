// onnxruntime-node as the oracle for the ops added for issue 13 (conformance coverage): seeded random chains of
// 1-4 of those ops (inputs with NaN and ±Inf for the elementwise ones) compared op by op on the CPU, and on WebGPU
// (fewer graphs, 10x tolerance) when an adapter is present: the ops are composed from kernels both backends have.
// No CPU buffer may outlive a graph (every temporary of the composed ops is disposed).
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { fuzzOp, type Tolerance } from './compare.js';
import { COVERAGE_GENS } from './gen-ops-coverage.js';
import { onnxModel } from './writer.js';
import { webgpu } from '../../webgpu.js';

const SEEDS = 6;
const OPSETS = [13, 18, 21, 23] as const;
const tolOf = (op: string, depth: number): Tolerance => {
  const gen = COVERAGE_GENS.find((g) => g.op === op);
  const grow = 1 + 2 * depth;
  return { atol: (gen?.atol ?? 1e-5) * grow, rtol: 1e-4 * grow };
};

describe('issue-13 ops: forwardpass (cpu) vs onnxruntime-node, op by op', () => {
  it('every generated op is registered', () => {
    const registered = new Set(fp.registeredOnnxOps());
    expect(COVERAGE_GENS.map((g) => g.op).filter((op) => !registered.has(op))).toEqual([]);
  });
  it('onnxOpSupport lists each of them as running on the CPU and on WebGPU', () => {
    const ops = [...new Set(COVERAGE_GENS.map((g) => g.op))];
    const model = fp.parseOnnx(onnxModel({ opset: 23, nodes: ops.map((op, i) => ({ op, inputs: ['x'], outputs: [`y${i}`] })), inputs: [{ name: 'x', type: 'float', shape: [1] }], outputs: ops.map((_, i) => ({ name: `y${i}`, type: 'float' as const })) }));
    const support = fp.onnxOpSupport(model);
    expect(support.map((e) => e.opType)).toEqual([...ops].sort((a, b) => a.localeCompare(b)));
    expect(support.filter((e) => !e.cpu || !e.webgpu)).toEqual([]);
  });
  for (const gen of COVERAGE_GENS) {
    const opsets = OPSETS.filter((o) => (gen.minOpset ?? 13) <= o);
    it(`${gen.op} (opsets ${opsets.join(', ')})`, async () => {
      const before = fp.cpuBackend.memory().liveBuffers;
      const { failures, graphs } = await fuzzOp(gen, COVERAGE_GENS, opsets, SEEDS, tolOf);
      expect(graphs).toBe(opsets.length * SEEDS);
      expect(failures).toEqual([]);
      expect(fp.cpuBackend.memory().liveBuffers, 'CPU buffers left alive').toBe(before); // no temporaries leak
    });
  }
});

describe.skipIf(!webgpu.gpu)('issue-13 ops on webgpu vs onnxruntime-node', () => {
  const gpuTol = (op: string, depth: number): Tolerance => {
    const t = tolOf(op, depth);
    return { atol: t.atol * 10, rtol: t.rtol * 10 };
  };
  for (const gen of COVERAGE_GENS) {
    const opset = (gen.minOpset ?? 13) > 21 ? 23 : 21;
    it(`${gen.op} (opset ${opset})`, async () => {
      const { failures } = await fuzzOp(gen, COVERAGE_GENS, [opset], 2, gpuTol, 'webgpu');
      expect(failures).toEqual([]);
    });
  }
});
