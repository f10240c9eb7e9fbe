// ONNX reader tests: hand-built protobuf bytes for each wire type and packed/unpacked fields, the real fixture
// models against their config.json `onnx` sections, and seeded fuzzing (byte flips, truncations) of those files.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';
import { PbReader } from '../../src/io/onnx/protobuf.js';
import { fixturePath } from '../helpers.js';

// A tiny independent protobuf encoder (bigint varints, so 64-bit values are exact).
const enc = new TextEncoder();
function varint(v: number | bigint): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x ? b | 0x80 : b);
  } while (x);
  return out;
}
const key = (field: number, wire: number) => varint(field * 8 + wire);
const vField = (field: number, v: number | bigint) => [...key(field, 0), ...varint(v)];
const lenField = (field: number, body: number[] | Uint8Array) => [...key(field, 2), ...varint(body.length), ...body];
const strField = (field: number, s: string) => lenField(field, [...enc.encode(s)]);
const f32 = (x: number) => [...new Uint8Array(new Float32Array([x]).buffer)];
const f64 = (x: number) => [...new Uint8Array(new Float64Array([x]).buffer)];
const bytes = (...parts: number[][]) => new Uint8Array(parts.flat());

function modelWith(graphBody: number[]): Uint8Array {
  return bytes(vField(1, 8), strField(2, 'test'), lenField(8, [...strField(1, ''), ...vField(2, 17)]), lenField(7, graphBody));
}
const tensorMsg = (name: string, dataType: number, dims: number[], data: number[][]) =>
  lenField(5, [...dims.flatMap((d) => vField(1, d)), ...vField(2, dataType), ...strField(8, name), ...data.flat()]);
const initializer = (t: ReturnType<typeof tensorMsg>) => fp.parseOnnx(modelWith(t)).graph.initializers[0]!;

describe('protobuf reader', () => {
  it('reads varints including 64-bit values exactly, and refuses unsafe numbers', () => {
    const vals = [0n, 1n, 150n, 2n ** 31n, 2n ** 53n - 1n, 2n ** 63n - 1n, -1n, -(2n ** 63n), -300n];
    const r = new PbReader(new Uint8Array(vals.flatMap(varint)), 'onnx: t', 'Test');
    for (const v of vals) expect(r.int64()).toBe(v);
    expect(r.done()).toBe(true);
    const safe = new PbReader(new Uint8Array([...varint(2n ** 53n - 1n), ...varint(-5), ...varint(2n ** 53n)]), 'onnx: t', 'Test');
    expect(safe.int()).toBe(2 ** 53 - 1);
    expect(safe.int()).toBe(-5);
    expect(() => safe.int()).toThrow(/forwardpass: onnx: t: Test: expected an integer within \+-2\^53, found 9007199254740992/);
  });

  it('reads each wire type and skips unknown fields of every wire type', () => {
    const buf = bytes(vField(1, 150), [...key(2, 1), ...f64(2.5)], lenField(3, [1, 2, 3]), [...key(4, 5), ...f32(-1.5)], vField(99, 7), [...key(98, 1), ...f64(1)], lenField(97, [9, 9]), [...key(96, 5), ...f32(0)]);
    const r = new PbReader(buf, 'onnx: t', 'Test');
    expect(r.tag()).toEqual({ field: 1, wire: 0 });
    expect(r.uint()).toBe(150);
    expect(r.tag()).toEqual({ field: 2, wire: 1 });
    expect(r.float64()).toBe(2.5);
    expect(r.tag()).toEqual({ field: 3, wire: 2 });
    expect([...r.bytes()]).toEqual([1, 2, 3]);
    expect(r.tag()).toEqual({ field: 4, wire: 5 });
    expect(r.float32()).toBe(-1.5);
    for (let i = 0; i < 4; i++) r.skip(r.tag().wire);
    expect(r.done()).toBe(true);
  });

  it('reads packed and unpacked repeated fields alike', () => {
    const packed = bytes(lenField(8, [...varint(3), ...varint(-2), ...varint(300)]));
    const unpacked = bytes(vField(8, 3), vField(8, -2), vField(8, 300));
    for (const b of [packed, unpacked]) {
      const r = new PbReader(b, 'onnx: t', 'Test');
      const out: number[] = [];
      while (!r.done()) r.repeatedVarint(8, 'ints', r.tag().wire, out, (s) => s.int());
      expect(out).toEqual([3, -2, 300]);
    }
    const pf = new PbReader(bytes(lenField(7, [...f32(1), ...f32(0.5)]), [...key(7, 5), ...f32(-2)]), 'onnx: t', 'Test');
    const fl: number[] = [];
    while (!pf.done()) pf.repeatedFloat(7, 'floats', pf.tag().wire, fl, 4);
    expect(fl).toEqual([1, 0.5, -2]);
  });

  it('refuses lying lengths, bad wire types, truncated varints and deep nesting with one clear error', () => {
    const lie = bytes(key(3, 2), varint(2n ** 40n), [1, 2]);
    const r = new PbReader(lie, 'onnx: t', 'Test');
    r.tag();
    expect(() => r.bytes('raw_data')).toThrow(/^forwardpass: onnx: t: Test: raw_data says 1099511627776 bytes but only 2 remain/);
    expect(() => new PbReader(bytes(key(1, 3)), 'onnx: t', 'Test').tag()).toThrow(/expected wire type 0, 1, 2 or 5 for field 1, found 3/);
    expect(() => new PbReader(new Uint8Array([0x08, 0x80]), 'onnx: t', 'Test').skip(new PbReader(new Uint8Array([0x08, 0x80]), 'onnx: t', 'T').tag().wire)).not.toThrow();
    const trunc = new PbReader(new Uint8Array([0x80, 0x80]), 'onnx: t', 'Test');
    expect(() => trunc.uint()).toThrow(/expected a varint, found the end of the message \(truncated\)/);
    // Graph -> node -> attribute -> graph -> ... 40 levels deep (3 messages per level): refused, not a stack overflow.
    let graph: number[] = [];
    for (let i = 0; i < 40; i++) graph = lenField(1, [...strField(4, 'If'), ...lenField(5, [...strField(1, 'g'), ...vField(20, 5), ...lenField(6, graph)])]);
    expect(() => fp.parseOnnx(modelWith(graph), { name: 'deep.onnx' })).toThrow(/^forwardpass: onnx: deep.onnx: .*nested at most 64 deep/);
    let shallow: number[] = [];
    for (let i = 0; i < 3; i++) shallow = lenField(1, [...strField(4, 'If'), ...lenField(5, [...strField(1, 'g'), ...vField(20, 5), ...lenField(6, shallow)])]);
    const m = fp.parseOnnx(modelWith(shallow));
    const inner = m.graph.nodes[0]!.attributes.g!;
    expect(inner.type === 'graph' && inner.value.nodes[0]!.opType).toBe('If');
  });
});

describe('parseOnnx on hand-built models', () => {
  it('decodes nodes, attributes of every kind, and value infos', () => {
    const attr = (body: number[]) => lenField(5, body);
    const node = lenField(1, [
      ...strField(1, 'x'), ...strField(1, 'w'), ...strField(2, 'y'), ...strField(3, 'n0'), ...strField(4, 'Gemm'),
      ...attr([...strField(1, 'alpha'), ...key(2, 5), ...f32(0.5), ...vField(20, 1)]),
      ...attr([...strField(1, 'transB'), ...vField(3, 1), ...vField(20, 2)]),
      ...attr([...strField(1, 'mode'), ...strField(4, 'edge'), ...vField(20, 3)]),
      ...attr([...strField(1, 'pads'), ...lenField(8, [...varint(1), ...varint(-1)]), ...vField(20, 7)]),
      ...attr([...strField(1, 'scales'), ...key(7, 5), ...f32(2), ...key(7, 5), ...f32(3), ...vField(20, 6)]),
      ...attr([...strField(1, 'names'), ...strField(9, 'a'), ...strField(9, 'b'), ...vField(20, 8)]),
      ...attr([...strField(1, 'old'), ...vField(3, 4)]),
    ]);
    const dim = (body: number[]) => lenField(1, body);
    const vi = (field: number, name: string) => lenField(field, [...strField(1, name), ...lenField(2, lenField(1, [...vField(1, 1), ...lenField(2, [...dim(strField(2, 'batch')), ...dim(vField(1, 4)), ...dim([])])]))]);
    const m = fp.parseOnnx(modelWith([...node, ...strField(2, 'g'), ...vi(11, 'x'), ...vi(12, 'y')]));
    expect(m.irVersion).toBe(8);
    expect(m.producerName).toBe('test');
    expect(m.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(m.graph.name).toBe('g');
    const n = m.graph.nodes[0]!;
    expect([n.opType, n.name, n.inputs, n.outputs]).toEqual(['Gemm', 'n0', ['x', 'w'], ['y']]);
    expect(n.attributes).toEqual({
      alpha: { type: 'float', value: 0.5 }, transB: { type: 'int', value: 1 }, mode: { type: 'string', value: 'edge' },
      pads: { type: 'ints', value: [1, -1] }, scales: { type: 'floats', value: [2, 3] }, names: { type: 'strings', value: ['a', 'b'] },
      old: { type: 'int', value: 4 },
    });
    expect(m.graph.inputs).toEqual([{ name: 'x', elemType: 'float', shape: ['batch', 4, null] }]);
    expect(m.graph.outputs[0]!.name).toBe('y');
  });

  it('decodes initializers from raw_data and from every typed field', () => {
    const raw = (arr: ArrayBufferView) => lenField(9, new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    expect(initializer(tensorMsg('a', 1, [2, 2], [raw(new Float32Array([1, -2, 3.5, 0]))])).data).toEqual(new Float32Array([1, -2, 3.5, 0]));
    expect(initializer(tensorMsg('b', 11, [2], [raw(new Float64Array([0.1, -7]))])).data).toEqual(new Float64Array([0.1, -7]));
    expect(initializer(tensorMsg('c', 7, [3], [raw(new BigInt64Array([2n ** 62n, -1n, 5n]))])).data).toEqual(new BigInt64Array([2n ** 62n, -1n, 5n]));
    expect(initializer(tensorMsg('d', 10, [1], [raw(new Uint16Array([0x3c00]))])).data).toEqual(new Uint16Array([0x3c00]));
    expect(initializer(tensorMsg('e', 3, [2], [raw(new Int8Array([-128, 127]))])).data).toEqual(new Int8Array([-128, 127]));
    const t = initializer(tensorMsg('f', 1, [3], [lenField(4, [...f32(1), ...f32(2), ...f32(-3)])]));
    expect([t.name, t.dataType, t.dims, t.data]).toEqual(['f', 'float', [3], new Float32Array([1, 2, -3])]);
    expect(initializer(tensorMsg('g', 6, [2], [vField(5, -4), vField(5, 9)])).data).toEqual(new Int32Array([-4, 9]));
    expect(initializer(tensorMsg('h', 9, [2], [lenField(5, [1, 0])])).data).toEqual(new Uint8Array([1, 0]));
    expect(initializer(tensorMsg('i', 7, [2], [lenField(7, [...varint(2n ** 63n - 1n), ...varint(-3)])])).data).toEqual(new BigInt64Array([2n ** 63n - 1n, -3n]));
    expect(initializer(tensorMsg('j', 11, [1], [[...key(10, 1), ...f64(1e-300)]])).data).toEqual(new Float64Array([1e-300]));
    expect(initializer(tensorMsg('k', 2, [], [vField(5, 200)])).data).toEqual(new Uint8Array([200]));
    // An odd offset inside the file: the copy is aligned anyway.
    const odd = new Uint8Array([0, ...modelWith(tensorMsg('a', 1, [1], [raw(new Float32Array([7]))]))]).subarray(1);
    expect(fp.parseOnnx(odd).graph.initializers[0]!.data).toEqual(new Float32Array([7]));
  });

  it('refuses bad tensors, external data and non-models with one clear error', () => {
    const p = (t: number[]) => () => fp.parseOnnx(modelWith(t), { name: 'x.onnx' });
    expect(p(tensorMsg('w', 1, [2, 3], [lenField(9, new Uint8Array(20))]))).toThrow(/^forwardpass: onnx: x.onnx: TensorProto: expected 24 bytes of raw_data for tensor 'w' \(float \[2, 3\]\), found 20/);
    expect(p(tensorMsg('w', 1, [2], [lenField(4, f32(1))]))).toThrow(/expected 2 values in float_data for tensor 'w'/);
    expect(p(tensorMsg('u', 2, [2], [vField(5, 3), vField(5, 300)]))).toThrow(/expected int32_data values of tensor 'u' \(uint8\) within \[0, 255\], found 300 at index 1/);
    expect(p(tensorMsg('i', 6, [1], [vField(5, 2 ** 31)]))).toThrow(/within the int32 range, found 2147483648/);
    expect(p(tensorMsg('s', 8, [1], []))).toThrow(/expected tensor 's' of type float, .* found string/);
    expect(p(tensorMsg('e', 1, [1], [vField(14, 1)]))).toThrow(/tensor 'e' stores its data in an external file/);
    expect(p(tensorMsg('e', 1, [1], [lenField(13, strField(1, 'location'))]))).toThrow(/external file/);
    expect(p(tensorMsg('n', 1, [-1], []))).toThrow(/expected non-negative dims for tensor 'n', found \[-1\]/);
    expect(() => fp.parseOnnx(new Uint8Array([]), { name: 'e.onnx' })).toThrow(/^forwardpass: onnx: e.onnx: ModelProto: expected a graph/);
    expect(() => fp.parseOnnx(enc.encode('{"not": "onnx"}'))).toThrow(/^forwardpass: onnx: <bytes>: /);
  });
});

const FIXTURES = ['cnn-digits', 'cnn-mnist', 'mlp-digits', 'tiny-bert-cls', 'tiny-gpt'];
const load = (f: string) => new Uint8Array(readFileSync(fixturePath(f, 'model.onnx')));

describe('parseOnnx on the fixture models', () => {
  for (const f of FIXTURES) {
    it(`${f}: op types, node count, initializers and graph inputs/outputs match config.json`, () => {
      const want = JSON.parse(readFileSync(fixturePath(f, 'config.json'), 'utf8')).onnx;
      const m = fp.parseOnnx(load(f), { name: `${f}/model.onnx` });
      expect(m.irVersion).toBe(want.ir_version);
      expect(m.opsetImport.find((o) => o.domain === '')?.version).toBe(want.opset);
      expect(want.producer.startsWith(m.producerName)).toBe(true);
      expect([...new Set(m.graph.nodes.map((n) => n.opType))].sort()).toEqual(want.op_types);
      expect(m.graph.nodes.length).toBe(want.num_nodes);
      expect(m.graph.initializers.length).toBe(want.num_initializers);
      const io = (vs: fp.OnnxValueInfo[]) => vs.map((v) => ({ name: v.name, elem_type: v.elemType, shape: v.shape }));
      expect(io(m.graph.inputs)).toEqual(want.inputs);
      expect(io(m.graph.outputs)).toEqual(want.outputs);
      for (const t of m.graph.initializers) expect(t.data.length).toBe(t.dims.reduce((a, b) => a * b, 1));
    });
  }

  it('mlp-digits initializers equal the safetensors weights of the same model', () => {
    const m = fp.parseOnnx(load('mlp-digits'));
    const st = fp.loadSafetensors(new Uint8Array(readFileSync(fixturePath('mlp-digits', 'model.safetensors'))));
    let compared = 0;
    for (const t of m.graph.initializers) {
      const ref = st.tensors.get(t.name);
      if (!ref) continue;
      expect(t.dims).toEqual(ref.shape);
      expect(Array.from(t.data as Float32Array)).toEqual(Array.from(ref.dataSync() as ArrayLike<number>));
      compared++;
    }
    expect(compared).toBe(6);
  });
});

describe('parseOnnx fuzzing', () => {
  function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('thousands of seeded byte flips and truncations either parse or throw a forwardpass onnx error', () => {
    const rand = rng(1234);
    let parsed = 0;
    let refused = 0;
    const files = FIXTURES.map((f) => [f, load(f)] as const);
    for (let i = 0; i < 3000; i++) {
      const [f, orig] = files[i % 5 === 0 ? Math.floor(rand() * files.length) : i % 3]!;
      let buf = orig.slice();
      const kind = Math.floor(rand() * 3);
      if (kind === 0 || kind === 2) {
        for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) {
          // Flips favour the structural head of the file (tags and lengths) as well as anywhere.
          const at = rand() < 0.5 ? Math.floor(rand() * Math.min(buf.length, 2048)) : Math.floor(rand() * buf.length);
          buf[at] = rand() < 0.5 ? buf[at]! ^ (1 << Math.floor(rand() * 8)) : Math.floor(rand() * 256);
        }
      }
      if (kind === 1 || kind === 2) buf = buf.subarray(0, Math.floor(rand() * buf.length));
      try {
        const m = fp.parseOnnx(buf, { name: f });
        expect(Array.isArray(m.graph.nodes)).toBe(true);
        parsed++;
      } catch (e) {
        expect((e as Error).message).toMatch(new RegExp(`^forwardpass: onnx: ${f}: `));
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(500);
    expect(parsed).toBeGreaterThan(50);
  });
});
