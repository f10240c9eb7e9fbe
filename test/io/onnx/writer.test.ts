// The test-only ONNX writer: its bytes read back through parseOnnx field for field (every attribute kind, raw and
// typed initializers, exact int64, symbolic dims), and onnxruntime-node accepts and runs what it writes.
import { describe, expect, it } from 'vitest';
import * as fp from '../../../src/index.js';
import { encodeTensor, irVersionFor, onnxModel, type TensorSpec } from './writer.js';
import { runOrt } from './ort.js';

const graphAttr = { nodes: [{ op: 'Identity', inputs: ['a'], outputs: ['b'] }], inputs: [{ name: 'a', type: 'float' as const, shape: [1] }], outputs: [{ name: 'b', type: 'float' as const, shape: [1] }] };

describe('onnx writer -> parseOnnx', () => {
  it('writes the model header, opsets, nodes and attributes of every kind', () => {
    const bytes = onnxModel({
      opset: [{ domain: '', version: 21 }, { domain: 'com.microsoft', version: 1 }],
      nodes: [{
        op: 'Foo', name: 'n0', domain: 'com.example', inputs: ['x', '', 'w'], outputs: ['y'],
        attrs: {
          i: 3, f: 0.25, fint: { type: 'float', value: 2 }, s: 'edge', ints: [1, -2, 2 ** 40], floats: [0.5, -1.5],
          emptyFloats: { type: 'floats', value: [] }, strs: ['a', 'bc'], big: -(2n ** 50n),
          t: { type: 'tensor', value: { name: 'tv', type: 'int64', dims: [2], data: [7n, -8n] } },
          g: { type: 'graph', value: graphAttr },
        },
      }],
      inputs: [{ name: 'x', type: 'float', shape: ['batch', 3, null] }, { name: 'w', type: 'int64' }],
      outputs: [{ name: 'y', type: 'float16', shape: [] }],
    });
    const m = fp.parseOnnx(bytes);
    expect(m.irVersion).toBe(10);
    expect(m.opsetImport).toEqual([{ domain: '', version: 21 }, { domain: 'com.microsoft', version: 1 }]);
    const n = m.graph.nodes[0]!;
    expect([n.opType, n.name, n.domain, n.inputs, n.outputs]).toEqual(['Foo', 'n0', 'com.example', ['x', '', 'w'], ['y']]);
    const a = n.attributes;
    expect(a.i).toEqual({ type: 'int', value: 3 });
    expect(a.f).toEqual({ type: 'float', value: 0.25 });
    expect(a.fint).toEqual({ type: 'float', value: 2 });
    expect(a.s).toEqual({ type: 'string', value: 'edge' });
    expect(a.ints).toEqual({ type: 'ints', value: [1, -2, 2 ** 40] });
    expect(a.floats).toEqual({ type: 'floats', value: [0.5, -1.5] });
    expect(a.emptyFloats).toEqual({ type: 'floats', value: [] });
    expect(a.strs).toEqual({ type: 'strings', value: ['a', 'bc'] });
    expect(a.big).toEqual({ type: 'int', value: -(2 ** 50) });
    expect(a.t).toEqual({ type: 'tensor', value: { name: 'tv', dataType: 'int64', dims: [2], data: new BigInt64Array([7n, -8n]) } });
    const g = a.g!.type === 'graph' ? a.g!.value : undefined;
    expect(g?.nodes.map((x) => x.opType)).toEqual(['Identity']);
    expect(g?.inputs).toEqual([{ name: 'a', elemType: 'float', shape: [1] }]);
    expect(m.graph.inputs).toEqual([{ name: 'x', elemType: 'float', shape: ['batch', 3, null] }, { name: 'w', elemType: 'int64' }]);
    expect(m.graph.outputs).toEqual([{ name: 'y', elemType: 'float16', shape: [] }]);
  });

  it('writes initializers as raw_data and as typed fields, int64 exact, with the same decoded values', () => {
    const specs: TensorSpec[] = [
      { name: 'f', type: 'float', dims: [2, 2], data: [1, -2.5, 3e-8, 0] },
      { name: 'd', type: 'double', dims: [2], data: [0.1, -1e300] },
      { name: 'h', type: 'float16', dims: [2], data: [0x3c00, 0xc000] },
      { name: 'i8', type: 'int8', dims: [3], data: [-128, 0, 127] },
      { name: 'u8', type: 'uint8', dims: [2], data: [0, 255] },
      { name: 'i32', type: 'int32', dims: [3], data: [-(2 ** 31), 5, 2 ** 31 - 1] },
      { name: 'i64', type: 'int64', dims: [4], data: [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, -1n] },
      { name: 'b', type: 'bool', dims: [3], data: [1, 0, 1] },
      { name: 's', type: 'float', dims: [], data: [42] },
      { name: 'e', type: 'float', dims: [0, 3], data: [] },
    ];
    for (const typed of [false, true]) {
      const m = fp.parseOnnx(onnxModel({ nodes: [], initializers: specs.map((s) => ({ ...s, typed })) }));
      const got = m.graph.initializers;
      expect(got.map((t) => [t.name, t.dataType, t.dims])).toEqual(specs.map((s) => [s.name, s.type, s.dims]));
      for (let k = 0; k < specs.length; k++) {
        const want = specs[k]!.data as ArrayLike<number | bigint>;
        const data = got[k]!.data;
        expect(data.length).toBe(want.length);
        for (let i = 0; i < want.length; i++) {
          // float32 storage rounds 0.1-like values; compare through the decoded array type
          const w = specs[k]!.type === 'float' ? Math.fround(Number(want[i])) : want[i];
          expect(data[i]).toBe(w);
        }
      }
    }
    // raw and typed encodings are different bytes for the same tensor
    const t: TensorSpec = { type: 'int64', dims: [1], data: [5n] };
    expect(encodeTensor(t)).not.toEqual(encodeTensor({ ...t, typed: true }));
  });

  it('refuses data that does not match the dims, and picks the IR version from the opset', () => {
    expect(() => encodeTensor({ type: 'float', dims: [2, 2], data: [1] })).toThrow(/has 1 values for dims \[2, 2\]/);
    expect([13, 17, 18, 19, 21, 23].map(irVersionFor)).toEqual([7, 8, 8, 9, 10, 11]);
  });
});

describe('onnx writer -> onnxruntime-node', () => {
  it('runs a Gemm + Relu model with raw and typed initializers', async () => {
    const w = [1, -1, 0.5, 2, 0, -3];
    for (const typed of [false, true]) {
      const bytes = onnxModel({
        opset: 17,
        nodes: [
          { op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['h'], attrs: { transB: 1, alpha: { type: 'float', value: 1 } } },
          { op: 'Relu', inputs: ['h'], outputs: ['y'] },
        ],
        initializers: [{ name: 'w', type: 'float', dims: [2, 3], data: w, typed }, { name: 'b', type: 'float', dims: [2], data: [0.5, -10], typed }],
        inputs: [{ name: 'x', type: 'float', shape: ['n', 3] }],
        outputs: [{ name: 'y', type: 'float', shape: ['n', 2] }],
      });
      const x = new Float32Array([1, 2, 3, -1, 0, 1]);
      const out = await runOrt(bytes, { x: { type: 'float', dims: [2, 3], data: x } });
      const want = [0, 0, 0, 0];
      for (let r = 0; r < 2; r++) for (let o = 0; o < 2; o++) {
        let s = [0.5, -10][o]!;
        for (let k = 0; k < 3; k++) s += x[r * 3 + k]! * w[o * 3 + k]!;
        want[r * 2 + o] = Math.max(0, s);
      }
      expect(out.y!.dims).toEqual([2, 2]);
      expect(Array.from(out.y!.data as Float32Array)).toEqual(want.map(Math.fround));
    }
  });

  it('runs int64 shape tensors, tensor attributes (Constant, ConstantOfShape) and a graph attribute (If)', async () => {
    const branch = (v: number) => ({ nodes: [{ op: 'Constant', inputs: [], outputs: [`c${v}`], attrs: { value: { type: 'tensor' as const, value: { type: 'float' as const, dims: [1], data: [v] } } } }], outputs: [{ name: `c${v}`, type: 'float' as const, shape: [1] }] });
    const bytes = onnxModel({
      opset: 18,
      nodes: [
        { op: 'Constant', inputs: [], outputs: ['shape'], attrs: { value: { type: 'tensor', value: { type: 'int64', dims: [2], data: [2n, 3n], typed: true } } } },
        { op: 'ConstantOfShape', inputs: ['shape'], outputs: ['z'], attrs: { value: { type: 'tensor', value: { type: 'float', dims: [1], data: [1.5] } } } },
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['xr'] },
        { op: 'Add', inputs: ['xr', 'z'], outputs: ['y'] },
        { op: 'If', inputs: ['cond'], outputs: ['picked'], attrs: { then_branch: { type: 'graph', value: branch(1) }, else_branch: { type: 'graph', value: branch(-1) } } },
      ],
      inputs: [{ name: 'x', type: 'float', shape: [6] }, { name: 'cond', type: 'bool', shape: [] }],
      outputs: [{ name: 'y', type: 'float', shape: [2, 3] }, { name: 'picked', type: 'float', shape: [1] }],
    });
    for (const c of [1, 0]) {
      const out = await runOrt(bytes, { x: { type: 'float', dims: [6], data: new Float32Array([0, 1, 2, 3, 4, 5]) }, cond: { type: 'bool', dims: [], data: new Uint8Array([c]) } });
      expect(out.y!.dims).toEqual([2, 3]);
      expect(Array.from(out.y!.data as Float32Array)).toEqual([1.5, 2.5, 3.5, 4.5, 5.5, 6.5]);
      expect(Array.from(out.picked!.data as Float32Array)).toEqual([c ? 1 : -1]);
    }
  });
});
