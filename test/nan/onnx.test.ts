// The ONNX ops fed NaN and ±Inf: one-node models run by onnxruntime-node and by loadOnnx (CPU and WebGPU), every
// output compared value by value (NaN must meet NaN, an infinity the same infinity). Where onnxruntime departs from
// PyTorch's semantics, which forwardpass follows, the case says so and checks PyTorch's value instead.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { worst } from '../io/onnx/compare.js';
import { runOrt, type OrtValue } from '../io/onnx/ort.js';
import { onnxModel, type AttrValue, type ElemName } from '../io/onnx/writer.js';
import { webgpu } from '../webgpu.js';
import { caseNamed, expectedOf, inputData } from './cases.js';

const NaN_ = NaN, inf = Infinity;
const X = { dims: [3, 4], data: [NaN_, inf, -inf, -3, -0.5, 0, 0.5, 3, 25, -25, 1, 2] };
const Y = { dims: [3, 4], data: [1, NaN_, 2, inf, -inf, NaN_, 0.5, 3, -1, -inf, inf, 0] };
/** gen.py's rows for reductions and its pooling input, so that PyTorch's values there can stand in for onnxruntime's. */
const R = inputData(caseNamed('max axis -1'));
const P = inputData(caseNamed('maxPool2d k2'));
const W = { dims: [4, 3], data: [0.5, -1, 2, 1, 0, -0.5, 0.25, 1, 1, -2, 0.5, 0] };

interface In { dims: number[]; data: number[]; type?: ElemName; init?: boolean }
interface Case { op: string; inputs: In[]; attrs?: Record<string, AttrValue>; opset?: number; outType?: ElemName }

const CASES: Case[] = [
  ...['Relu', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Sqrt', 'Abs', 'Neg', 'Erf', 'HardSwish', 'Softplus', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos', 'Reciprocal']
    .map((op) => ({ op, inputs: [X] })),
  { op: 'LeakyRelu', inputs: [X], attrs: { alpha: 0.1 } },
  { op: 'Elu', inputs: [X], attrs: { alpha: { type: 'float', value: 1 } } },
  { op: 'HardSigmoid', inputs: [X], attrs: { alpha: 0.2, beta: 0.5 } },
  { op: 'Gelu', inputs: [X], opset: 20 },
  { op: 'Clip', inputs: [X, { dims: [], data: [-1], init: true }, { dims: [], data: [1], init: true }] },
  { op: 'Clip', inputs: [X, { dims: [], data: [0], init: true }] },
  ...['Max', 'Min', 'Sum', 'Add', 'Sub', 'Mul', 'Div', 'Pow'].map((op) => ({ op, inputs: [X, Y] })),
  { op: 'Max', inputs: [X, { dims: [4], data: [NaN_, 0, 1, -inf] }] },
  ...['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual'].map((op) => ({ op, inputs: [X, Y], outType: 'bool' as const })),
  { op: 'Softmax', inputs: [R], attrs: { axis: -1 } },
  { op: 'LogSoftmax', inputs: [R], attrs: { axis: -1 } },
  { op: 'Softmax', inputs: [R], attrs: { axis: 0 } },
  ...['ReduceMax', 'ReduceMin'].flatMap((op) => [0, 1].map((a) => ({ op, inputs: [R], attrs: { axes: [a], keepdims: 0 } }))),
  ...['ReduceMean', 'ReduceProd'].map((op) => ({ op, inputs: [R], attrs: { axes: [1], keepdims: 0 } })),
  { op: 'ReduceSum', inputs: [R, { dims: [1], data: [1], type: 'int64', init: true }], attrs: { keepdims: 0 } },
  ...['ArgMax', 'ArgMin'].flatMap((op) => [0, 1].map((axis) => ({ op, inputs: [R], attrs: { axis, keepdims: 0 }, outType: 'int64' as const }))),
  { op: 'MaxPool', inputs: [P], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
  { op: 'MaxPool', inputs: [P], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { op: 'AveragePool', inputs: [P], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
  { op: 'GlobalAveragePool', inputs: [P] },
  { op: 'GlobalMaxPool', inputs: [P] },
  { op: 'MatMul', inputs: [X, W] },
  { op: 'Gemm', inputs: [X, { ...W, init: true }, { dims: [3], data: [0, 1, -1], init: true }] },
  { op: 'Conv', inputs: [P, { dims: [3, 2, 3, 3], data: Array.from({ length: 54 }, (_, i) => ((i % 5) - 2) / 4), init: true }], attrs: { pads: [1, 1, 1, 1] } },
  { op: 'LayerNormalization', inputs: [R, { dims: [5], data: [1, 2, 1, 0.5, 1], init: true }, { dims: [5], data: [0, 0, 1, 0, 0], init: true }], attrs: { axis: -1 } },
  { op: 'BatchNormalization', inputs: [P, ...[[1, 2], [0, NaN_], [1, 1], [1, inf]].map((d) => ({ dims: [2], data: d, init: true }))] },
  { op: 'InstanceNormalization', inputs: [P, { dims: [2], data: [1, 2], init: true }, { dims: [2], data: [0, 1], init: true }] },
];

/**
 * Where onnxruntime-node departs from PyTorch (forwardpass follows PyTorch), by case label: the expected.json case
 * whose PyTorch values are checked instead. onnxruntime's max/min reductions, ArgMax/ArgMin and max pools compare
 * with `>` / `<` and so skip a NaN unless it comes first (ReduceMax of [1, NaN, 2, 3, 4] is 4, ArgMax 4); PyTorch
 * propagates NaN and its argmax/argmin pick the first NaN.
 */
const ORT_DEPARTS: Record<string, string> = {
  'ReduceMax {"axes":[1],"keepdims":0}': 'max axis -1', 'ReduceMax {"axes":[0],"keepdims":0}': 'max axis 0',
  'ReduceMin {"axes":[1],"keepdims":0}': 'min axis -1', 'ReduceMin {"axes":[0],"keepdims":0}': 'min axis 0',
  'ArgMax {"axis":1,"keepdims":0}': 'argmax axis -1', 'ArgMax {"axis":0,"keepdims":0}': 'argmax axis 0',
  'ArgMin {"axis":1,"keepdims":0}': 'argmin axis -1', 'ArgMin {"axis":0,"keepdims":0}': 'argmin axis 0',
  'MaxPool {"kernel_shape":[2,2],"strides":[2,2]}': 'maxPool2d k2',
  'MaxPool {"kernel_shape":[3,3],"strides":[2,2],"pads":[1,1,1,1]}': 'maxPool2d k3 s2 p1',
  GlobalMaxPool: 'globalMaxPool2d',
};

const label = (c: Case) => `${c.op}${c.attrs ? ' ' + JSON.stringify(c.attrs) : ''}${c.inputs.length > 1 && !c.inputs[1]!.init ? ` (${c.inputs.length} inputs)` : ''}`;

function model(c: Case): { bytes: Uint8Array; feeds: Record<string, OrtValue> } {
  const names = c.inputs.map((_, i) => `in${i}`);
  const feeds: Record<string, OrtValue> = {};
  const inputs = [];
  const initializers = [];
  for (const [i, v] of c.inputs.entries()) {
    if (v.init) initializers.push({ name: names[i]!, type: v.type ?? 'float', dims: v.dims, data: v.type === 'int64' ? BigInt64Array.from(v.data, BigInt) : Float32Array.from(v.data) });
    else {
      inputs.push({ name: names[i]!, type: 'float' as const, shape: v.dims });
      feeds[names[i]!] = { type: 'float', dims: v.dims, data: Float32Array.from(v.data) };
    }
  }
  const bytes = onnxModel({
    opset: c.opset ?? 17, inputs, initializers,
    nodes: [{ op: c.op, inputs: names, outputs: ['y'], attrs: c.attrs }],
    outputs: [{ name: 'y', type: c.outType ?? 'float' }],
  });
  return { bytes, feeds };
}

const BACKENDS = webgpu.gpu ? ['cpu', 'webgpu'] : ['cpu'];

describe('ONNX ops on NaN and ±Inf: forwardpass vs onnxruntime-node', () => {
  for (const backend of BACKENDS) {
    it(`every case (${backend})`, async () => {
      const bad: string[] = [];
      for (const c of CASES) {
        const { bytes, feeds } = model(c);
        const ort = Array.from((await runOrt(bytes, feeds)).y!.data as ArrayLike<number | bigint>, Number);
        const s = await fp.loadOnnx(bytes, { backend });
        const ins = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, fp.tensor(v.data as Float32Array, { shape: v.dims, device: backend })]));
        const ours = Array.from(await (await s.run(ins)).y!.data(), Number);
        s.dispose();
        const dep = ORT_DEPARTS[label(c)];
        const want = dep ? expectedOf(caseNamed(dep)) : ort;
        if (dep && !worst(ort, want, 1e-5, 1e-4)) bad.push(`${label(c)}: onnxruntime agrees with PyTorch now; drop it from ORT_DEPARTS`);
        const w = worst(ours, want, backend === 'cpu' ? 1e-5 : 5e-4, 1e-4);
        if (ours.length !== want.length || w) bad.push(`${label(c)}: ${w ? `[${w.i}] ours ${w.ours}, ${dep ? 'torch' : 'ort'} ${w.ort}` : 'length'} (ort ${JSON.stringify(ort)})`);
      }
      expect(bad).toEqual([]);
    }, 120_000);
  }
});
