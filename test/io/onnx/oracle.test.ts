// onnxruntime-node as the oracle: seeded random graphs (chains of 1-4 ops over issue 5's op set, opsets 13, 17,
// 18 and 21, random shapes, attributes and broadcasting) run by onnxruntime and by loadOnnx on the CPU and are
// compared op by op (every node output is a graph output); and every fixture model.onnx on its io cases.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { loadFixtureCases } from '../../../src/node.js';
import { fixturePath } from '../../helpers.js';
import { OPSETS, type OpGen } from './gen.js';
import { ELEMENTWISE_GENS } from './gen-ops-elementwise.js';
import { NN_GENS } from './gen-ops-nn.js';
import { SHAPE_GENS } from './gen-ops-shape.js';
import { RESIZE_GENS } from './gen-ops-resize.js';
import { fuzzOp, ortNumbers, worst, type Tolerance } from './compare.js';
import { runOrt } from './ort.js';
import { webgpu } from '../../webgpu.js';

/** The op set of issue 5 (float and shape ops; the quantized forms are in oracle-quant.test.ts). */
const ISSUE_OPS = `Add Sub Mul Div Pow Sqrt Reciprocal Exp Log Neg Abs Erf Tanh Sigmoid Relu LeakyRelu Elu Gelu HardSigmoid
  HardSwish Clip Softmax LogSoftmax MatMul Gemm Conv MaxPool AveragePool GlobalAveragePool BatchNormalization LayerNormalization
  InstanceNormalization ReduceMean ReduceSum ReduceMax Reshape Transpose Flatten Squeeze Unsqueeze Concat Split Slice Gather Shape
  Expand Where Equal Less Greater Not Cast Constant ConstantOfShape Range Pad Identity Dropout Resize Tile Trilu CumSum Sin Cos`.split(/\s+/);

const GENS: OpGen[] = [...ELEMENTWISE_GENS, ...NN_GENS, ...SHAPE_GENS, ...RESIZE_GENS];
/** Random graphs per (op, opset). */
const SEEDS = 5;

const registered = new Set(fp.registeredOnnxOps());
// Followers come from the registered ops only, so a missing op fails its own test and nobody else's.
const followers = GENS.filter((g) => registered.has(g.op));
const tolOf = (op: string, depth: number): Tolerance => {
  const gen = GENS.find((g) => g.op === op);
  // errors grow along a chain: each further op may amplify the ones before it
  const grow = 1 + 2 * depth;
  return { atol: (gen?.atol ?? 1e-5) * grow, rtol: (gen?.rtol ?? 1e-4) * grow };
};

describe('op coverage', () => {
  it('the runtime registers every op of issue 5', () => {
    expect(ISSUE_OPS.filter((op) => !registered.has(op))).toEqual([]);
  });

  it('there is a random generator for every op of issue 5, and for nothing else', () => {
    expect(GENS.map((g) => g.op).sort()).toEqual([...ISSUE_OPS].sort());
  });
});

describe('random graphs: forwardpass (cpu) vs onnxruntime-node, op by op', () => {
  for (const gen of GENS) {
    const opsets = OPSETS.filter((o) => (gen.minOpset ?? 13) <= o);
    it(`${gen.op} (opsets ${opsets.join(', ')})`, async () => {
      const { failures, graphs } = await fuzzOp(gen, followers, OPSETS, SEEDS, tolOf);
      expect(graphs).toBe(opsets.length * SEEDS);
      expect(failures).toEqual([]);
    });
  }
});

const FIXTURE_BACKENDS = webgpu.gpu ? (['cpu', 'webgpu'] as const) : (['cpu'] as const);

describe('fixture models: forwardpass vs onnxruntime-node (cpu within 1e-4, webgpu within 1e-3)', () => {
  for (const [name, backend] of ['mlp-digits', 'cnn-digits', 'cnn-mnist', 'tiny-gpt', 'tiny-bert-cls'].flatMap((n) => FIXTURE_BACKENDS.map((b) => [n, b] as const))) {
    const tol = backend === 'cpu' ? 1e-4 : 1e-3;
    it(`${name} on ${backend}: every io case within ${tol}`, async () => {
      const bytes = new Uint8Array(readFileSync(fixturePath(name, 'model.onnx')));
      const session = await fp.loadOnnx(bytes, { backend, name });
      try {
        const cases = await loadFixtureCases(fixturePath(name));
        for (const c of cases) {
          const feeds = Object.fromEntries(Object.entries(c.inputs).map(([k, t]) => {
            const int = t.dtype === 'int32';
            const data = t.dataSync() as ArrayLike<number>;
            return [k, { type: int ? 'int64' : 'float', dims: [...t.shape], data: int ? BigInt64Array.from(Array.from(data), BigInt) : Float32Array.from(data) }];
          }));
          const want = await runOrt(bytes, feeds);
          const got = await session.run(c.inputs);
          for (const [k, o] of Object.entries(want)) {
            expect(got[k]!.shape, `${c.name} ${k}`).toEqual(o.dims);
            const diff = worst((await got[k]!.data()) as Float32Array, ortNumbers(o), tol, 0);
            expect(diff, `${c.name} ${k}`).toBeNull();
            got[k]!.dispose();
          }
        }
      } finally {
        session.dispose();
      }
    });
  }
});

describe.skipIf(!webgpu.gpu)('random graphs on webgpu vs onnxruntime-node (fewer graphs, looser tolerance)', () => {
  // WebGPU's transcendental and division built-ins are not correctly rounded: 10x the CPU tolerance
  const gpuTol = (op: string, depth: number): Tolerance => {
    const t = tolOf(op, depth);
    return { atol: t.atol * 10, rtol: t.rtol * 10 };
  };
  for (const gen of GENS) {
    const opset = gen.minOpset && gen.minOpset > 17 ? 21 : 17;
    it(`${gen.op} (opset ${opset})`, async () => {
      const { failures } = await fuzzOp(gen, followers, [opset], 2, gpuTol, 'webgpu');
      expect(failures).toEqual([]);
    });
  }
});
