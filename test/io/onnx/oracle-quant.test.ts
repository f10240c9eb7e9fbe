// onnxruntime-node as the oracle for the quantized ONNX ops: seeded random graphs (QuantizeLinear,
// DequantizeLinear, DynamicQuantizeLinear, MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv, chained with
// each other and with float ops) compared op by op with exact equality for every integer output.
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { GraphBuilder, OPSETS, Rand, type OpGen } from './gen.js';
import { ELEMENTWISE_GENS } from './gen-ops-elementwise.js';
import { NN_GENS } from './gen-ops-nn.js';
import { SHAPE_GENS } from './gen-ops-shape.js';
import { RESIZE_GENS } from './gen-ops-resize.js';
import { QUANT_GENS } from './gen-ops-quant.js';
import { compareGraph, fuzzOp, type Tolerance } from './compare.js';
import { webgpu } from '../../webgpu.js';

const QUANT_OPS = ['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'MatMulInteger', 'QLinearMatMul', 'ConvInteger', 'QLinearConv'];
const SEEDS = 6;

const registered = new Set(fp.registeredOnnxOps());
const FLOAT_GENS: OpGen[] = [...ELEMENTWISE_GENS, ...NN_GENS, ...SHAPE_GENS, ...RESIZE_GENS];
const followers = [...QUANT_GENS, ...FLOAT_GENS].filter((g) => registered.has(g.op));
// Integer outputs exact; floats (DequantizeLinear, the scale of DynamicQuantizeLinear, float followers) as in oracle.test.ts.
const tolOf = (op: string, depth: number): Tolerance => {
  const gen = FLOAT_GENS.find((g) => g.op === op);
  const grow = 1 + 2 * depth;
  return { atol: (gen?.atol ?? 1e-6) * grow, rtol: (gen?.rtol ?? 1e-5) * grow, intTol: 0 };
};

describe('quantized op coverage', () => {
  it('the runtime registers every quantized op of issue 5, and a generator exists for each', () => {
    expect(QUANT_OPS.filter((op) => !registered.has(op))).toEqual([]);
    expect(QUANT_GENS.map((g) => g.op)).toEqual(QUANT_OPS);
  });
});

describe('random quantized graphs: forwardpass (cpu) vs onnxruntime-node, integer outputs exact', () => {
  for (const gen of QUANT_GENS) {
    it(`${gen.op} (opsets ${OPSETS.join(', ')})`, async () => {
      const { failures, graphs } = await fuzzOp(gen, followers, OPSETS, SEEDS, tolOf);
      expect(graphs).toBe(OPSETS.length * SEEDS);
      expect(failures).toEqual([]);
    });
  }
});

describe('quantized graphs in f16 and int8 sessions: still exact (scales and zero points are never rounded)', () => {
  for (const precision of ['f16', 'int8'] as const) {
    it(`precision ${precision}`, async () => {
      const quantOnly = QUANT_GENS.filter((g) => registered.has(g.op));
      for (const gen of QUANT_GENS) {
        const { failures } = await fuzzOp(gen, quantOnly, [17], 3, tolOf, 'cpu', precision);
        expect(failures, gen.op).toEqual([]);
      }
    });
  }
});

/** A one-node graph with given inputs (feeds or initializers) for the hand-picked edge cases below. */
function single(build: (g: GraphBuilder) => void, opset = 17): GraphBuilder {
  const g = new GraphBuilder(new Rand(1), opset);
  build(g);
  return g;
}

describe('quantized edge cases against onnxruntime-node', () => {
  const tol = () => ({ atol: 0, rtol: 0, intTol: 0 });

  it('MatMulInteger with K = 2500 (split into exact chunks) and extreme zero points', async () => {
    const g = single((g) => {
      const a = g.input('uint8', [3, 2500], { lo: 0, hi: 255 });
      const b = g.init('uint8', [2500, 4], Array.from({ length: 10000 }, (_, i) => (i * 37) % 256));
      g.node('MatMulInteger', [a.name, b, g.init('uint8', [], [255]), g.init('uint8', [4], [0, 255, 128, 7])], [{ type: 'int32', shape: [3, 4] }]);
    });
    expect(await compareGraph(g, tol)).toBeNull();
  });

  it('ConvInteger with 3x3 windows over 300 channels (split) and padding filled with the zero point', async () => {
    const g = single((g) => {
      const x = g.input('uint8', [1, 300, 4, 4], { lo: 0, hi: 255 });
      const w = g.init('uint8', [2, 300, 3, 3], Array.from({ length: 5400 }, (_, i) => (i * 91) % 256));
      g.node('ConvInteger', [x.name, w, g.init('uint8', [], [200]), g.init('uint8', [], [3])], [{ type: 'int32', shape: [1, 2, 4, 4] }], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] });
    });
    expect(await compareGraph(g, tol)).toBeNull();
  });

  it('DynamicQuantizeLinear on all-zero, all-positive and all-negative inputs', async () => {
    for (const [lo, hi] of [[0, 0], [0.5, 3], [-4, -1]] as const) {
      const g = single((g) => {
        const x = g.input('float', [2, 5], { lo, hi });
        g.node('DynamicQuantizeLinear', [x.name], [{ type: 'uint8', shape: [2, 5] }, { type: 'float', shape: [] }, { type: 'uint8', shape: [] }]);
      });
      expect(await compareGraph(g, tol)).toBeNull();
    }
  });

  it('QuantizeLinear rounds halves to even and saturates, for uint8 and int8', async () => {
    const g = single((g) => {
      const x = g.input('float', [12], { lo: 0, hi: 0 });
      const d = g.feeds[x.name]!.data as Float32Array;
      d.set([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 300, -300, 127.5, -128.5, 3.49, 0]);
      g.node('QuantizeLinear', [x.name, g.init('float', [], [1]), g.init('uint8', [], [10])], [{ type: 'uint8', shape: [12] }]);
      g.node('QuantizeLinear', [x.name, g.init('float', [], [1]), g.init('int8', [], [-3])], [{ type: 'int8', shape: [12] }]);
    });
    expect(await compareGraph(g, tol)).toBeNull();
  });
});

describe.skipIf(!webgpu.gpu)('random quantized graphs on webgpu vs onnxruntime-node', () => {
  for (const gen of QUANT_GENS) {
    it(`${gen.op} (opset 17)`, async () => {
      const { failures } = await fuzzOp(gen, QUANT_GENS.filter((g) => registered.has(g.op)), [17], 3, (op, d) => ({ ...tolOf(op, d), intTol: 0 }), 'webgpu');
      expect(failures).toEqual([]);
    });
  }
});
