// What an ONNX model cannot do is refused by loadOnnx, not at the first run: ops whose refusal depends only on the
// node (attributes, wired outputs) check it in their validate hook. Double (float64) initializers and inputs become
// float32, and a finite value beyond float32's range is an error naming the tensor (NaN and ±Infinity stay).
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import type { OnnxModel } from '../../../src/index.js';
import { makeModel, type NodeSpec } from './session-helpers.js';

const X4 = { x: ['float', [1, 1, 4, 4]] as [string, number[]] };
const load = (m: OnnxModel) => fp.OnnxSession.fromModel(m, { backend: 'cpu' });
const one = (op: string, attrs: NodeSpec['attrs'], extra: Partial<NodeSpec> = {}, opset = 17): OnnxModel =>
  makeModel(opset, [{ op, inputs: ['x'], outputs: ['y'], name: 'n', attrs, ...extra }], X4, ['y']);

describe('ONNX attribute-only refusals happen at load', () => {
  const cases: [string, OnnxModel, RegExp][] = [
    ['Resize mode area', makeModel(13, [{ op: 'Resize', inputs: ['x', '', 's'], outputs: ['y'], name: 'n', attrs: { mode: 'area' } }], X4, ['y'], { s: { const: [1, 1, 2, 2], dims: [4] } }),
      /^forwardpass: onnx: node 'n' \(Resize\): attribute 'mode' must be one of 'nearest', 'linear', 'cubic', found 'area'$/],
    ['Resize exclude_outside=2', makeModel(13, [{ op: 'Resize', inputs: ['x', '', 's'], outputs: ['y'], name: 'n', attrs: { exclude_outside: 2 } }], X4, ['y'], { s: { const: [1, 1, 2, 2], dims: [4] } }),
      /^forwardpass: onnx: node 'n' \(Resize\): attribute 'exclude_outside' must be one of 0, 1, found 2$/],
    ['MaxPool storage_order=2', one('MaxPool', { kernel_shape: [2, 2], storage_order: 2 }),
      /^forwardpass: onnx: node 'n' \(MaxPool\): attribute 'storage_order' must be one of 0, 1, found 2$/],
    ['GridSample mode bicubic at opset 20', one('GridSample', { mode: 'bicubic' }, { inputs: ['x', 'x'] }, 20),
      /^forwardpass: onnx: node 'n' \(GridSample\): attribute 'mode' must be one of 'linear', 'nearest', 'cubic', found 'bicubic'$/],
    ['Mod fmod=2', makeModel(17, [{ op: 'Mod', inputs: ['x', 'x'], outputs: ['y'], name: 'n', attrs: { fmod: 2 } }], X4, ['y']),
      /^forwardpass: onnx: node 'n' \(Mod\): attribute 'fmod' must be one of 0, 1, found 2$/],
    ['ArgMax select_last_index=2', one('ArgMax', { select_last_index: 2 }),
      /^forwardpass: onnx: node 'n' \(ArgMax\): attribute 'select_last_index' must be one of 0, 1, found 2$/],
    ['BatchNormalization running outputs without training_mode', makeModel(15, [{ op: 'BatchNormalization', inputs: ['x', 'g', 'b', 'm', 'v'], outputs: ['y', 'rm', 'rv'], name: 'n' }], X4, ['y', 'rm', 'rv'],
      Object.fromEntries(['g', 'b', 'm', 'v'].map((k) => [k, { const: [1], dims: [1] }]))),
      /^forwardpass: onnx: node 'n' \(BatchNormalization\): the running-statistics outputs need training_mode = 1 \(opset 14 or later\)$/],
    ['QuantizeLinear block_size -1', makeModel(21, [{ op: 'QuantizeLinear', inputs: ['x', 's'], outputs: ['y'], name: 'n', attrs: { block_size: -1 } }], X4, ['y'], { s: { const: [0.1], dims: [] } }),
      /^forwardpass: onnx: node 'n' \(QuantizeLinear\): block_size must be 0 \(per tensor or axis\) or positive \(blocked\), found -1$/],
    ['Pad with an unknown mode', makeModel(17, [{ op: 'Pad', inputs: ['x', 'p'], outputs: ['y'], name: 'n', attrs: { mode: 'mirror' } }], X4, ['y'], { p: { const: [0, 0, 1, 1, 0, 0, 1, 1].map(BigInt), dims: [8], type: 'int64' } }),
      /^forwardpass: onnx: node 'n' \(Pad\): attribute 'mode' must be one of 'constant', 'reflect', 'edge', 'wrap', found 'mirror'$/],
    ['Concat without axis', makeModel(17, [{ op: 'Concat', inputs: ['x', 'x'], outputs: ['y'], name: 'n' }], X4, ['y']),
      /^forwardpass: onnx: node 'n' \(Concat\): attribute 'axis' must be an int, found none \(it is required\)$/],
    ['Dropout with a constant training_mode = true', makeModel(13, [{ op: 'Dropout', inputs: ['x', '', 't'], outputs: ['y'], name: 'n' }], X4, ['y'], { t: { const: [1], dims: [], type: 'bool' } }),
      /^forwardpass: onnx: node 'n' \(Dropout\): training_mode = true with a ratio above 0 is not supported \(forwardpass does not draw random numbers; ratio 0 is the identity\)$/],
    ['Transpose perm not a permutation', one('Transpose', { perm: [0, 1, 1, 3] }),
      /^forwardpass: onnx: node 'n' \(Transpose\): attribute 'perm' must be a permutation of 0\.\.3, found \[0,1,1,3\]$/],
  ];
  for (const [what, model, re] of cases) {
    it(`${what}: loadOnnx rejects with one sentence`, async () => {
      await expect(load(model)).rejects.toThrow(re);
    });
  }

  it('the same ops with supported attributes still load and run', async () => {
    const s = await load(one('MaxPool', { kernel_shape: [2, 2], strides: [2, 2], storage_order: 0 }));
    const { y } = await s.run({ x: fp.arange(16, { dtype: 'float32' }).reshape([1, 1, 4, 4]) });
    expect(Array.from(await y!.data())).toEqual([5, 7, 13, 15]);
    s.dispose();
  });
});

describe('ONNX double (float64) values', () => {
  const doubleInit = (values: number[]) => {
    const m = makeModel(17, [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }], { x: ['float', [values.length]] }, ['y']);
    m.graph.initializers.push({ name: 'w', dataType: 'double', dims: [values.length], data: Float64Array.from(values) });
    return m;
  };

  it('converts double initializers to float32; NaN and ±Infinity stay as they are', async () => {
    const s = await load(doubleInit([1.5, NaN, Infinity, -Infinity, 3.4e38]));
    const { y } = await s.run({ x: fp.zeros([5]) });
    const v = Array.from(await y!.data());
    expect(v.slice(0, 4)).toEqual([1.5, NaN, Infinity, -Infinity]);
    expect(v[4]).toBeCloseTo(3.4e38, -33);
    s.dispose();
  });

  it('a finite double initializer beyond float32 is a load error naming the tensor, value and index', async () => {
    await expect(load(doubleInit([1, 1e300]))).rejects.toThrow(/^forwardpass: onnx: initializer 'w' holds the double value 1e\+300 at index 1, beyond float32's range/);
    await expect(load(doubleInit([-3.5e38]))).rejects.toThrow(/initializer 'w' holds the double value -3\.5e\+38 at index 0, beyond float32's range/);
  });

  it('a double graph input takes a Float64Array whose values fit float32, and names the input otherwise', async () => {
    const m = makeModel(17, [{ op: 'Neg', inputs: ['x'], outputs: ['y'] }], { x: ['double', [3]] }, ['y']);
    const s = await load(m);
    const { y } = await s.run({ x: new Float64Array([-1, 2.5, NaN]) });
    expect(Array.from(await y!.data())).toEqual([1, -2.5, NaN]);
    await expect(s.run({ x: new Float64Array([1, 2, 1e39]) })).rejects.toThrow(/^forwardpass: onnx: run: input 'x' holds the double value 1e\+39 at index 2, beyond float32's range/);
    s.dispose();
  });

  it('a ConstantOfShape double value beyond float32 is refused at load', async () => {
    const m = makeModel(17, [{ op: 'ConstantOfShape', inputs: ['shape'], outputs: ['y'], name: 'c', attrs: { value: { tensor: { name: 'v', dataType: 'double', dims: [1], data: new Float64Array([1e40]) } } } }], {}, ['y'],
      { shape: { const: [2n], dims: [1], type: 'int64' } });
    await expect(load(m)).rejects.toThrow(/^forwardpass: onnx: node 'c' \(ConstantOfShape\): attribute 'value' holds the double value 1e\+40 at index 0, beyond float32's range/);
  });
});
