// ONNX model reader: decodes ModelProto bytes into plain objects (graph, nodes, attributes, value infos) with
// initializers decoded to typed arrays. No execution plan here; corrupt files get one clear `forwardpass: onnx:` error.
import { asBytes, ioFail } from '../errors.js';
import { PbReader, type WireType } from './protobuf.js';

/** TensorProto.DataType names by enum value (lower case, as ONNX spells them). */
const ELEM_TYPES: Record<number, string> = {
  1: 'float', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'double', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};

/** Initializer element types this reader decodes. */
export type OnnxDataType = 'float' | 'float16' | 'bfloat16' | 'double' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';

/** Decoded tensor data: float16 and bfloat16 stay as raw uint16 bits, bool as 0/1 bytes, int64/uint64 exact as BigInt64Array/BigUint64Array. */
export type OnnxTensorData = Float32Array | Uint16Array | Float64Array | Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

const DECODED: Record<string, { size: number; make: (n: number) => OnnxTensorData; view: (b: ArrayBuffer) => OnnxTensorData }> = {
  float: { size: 4, make: (n) => new Float32Array(n), view: (b) => new Float32Array(b) },
  float16: { size: 2, make: (n) => new Uint16Array(n), view: (b) => new Uint16Array(b) },
  bfloat16: { size: 2, make: (n) => new Uint16Array(n), view: (b) => new Uint16Array(b) },
  double: { size: 8, make: (n) => new Float64Array(n), view: (b) => new Float64Array(b) },
  int8: { size: 1, make: (n) => new Int8Array(n), view: (b) => new Int8Array(b) },
  uint8: { size: 1, make: (n) => new Uint8Array(n), view: (b) => new Uint8Array(b) },
  int16: { size: 2, make: (n) => new Int16Array(n), view: (b) => new Int16Array(b) },
  uint16: { size: 2, make: (n) => new Uint16Array(n), view: (b) => new Uint16Array(b) },
  int32: { size: 4, make: (n) => new Int32Array(n), view: (b) => new Int32Array(b) },
  uint32: { size: 4, make: (n) => new Uint32Array(n), view: (b) => new Uint32Array(b) },
  int64: { size: 8, make: (n) => new BigInt64Array(n), view: (b) => new BigInt64Array(b) },
  uint64: { size: 8, make: (n) => new BigUint64Array(n), view: (b) => new BigUint64Array(b) },
  bool: { size: 1, make: (n) => new Uint8Array(n), view: (b) => new Uint8Array(b) },
};

/** A decoded TensorProto (initializer or tensor attribute): `data.length` equals the product of `dims`. */
export interface OnnxTensor {
  name: string;
  dataType: OnnxDataType;
  dims: number[];
  data: OnnxTensorData;
}

/** A node attribute, tagged by its ONNX attribute type; ints are plain numbers (values beyond 2^53 are refused). */
export type OnnxAttribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: OnnxTensor }
  | { type: 'graph'; value: OnnxGraph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] };

/** One NodeProto: op type, named inputs/outputs ('' marks an omitted optional input), attributes by name. */
export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
}

/** A graph input/output: element type name (undefined when absent) and dims (number, symbolic name, or null = unknown). */
export interface OnnxValueInfo {
  name: string;
  elemType?: string;
  shape?: (number | string | null)[];
}

/** A GraphProto: nodes in file order (ONNX requires topological order), initializers and graph signature. */
export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
}

/** A parsed ModelProto. `opsetImport` lists (domain, version) pairs; '' is the default ONNX domain. */
export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsetImport: { domain: string; version: number }[];
  graph: OnnxGraph;
}

export interface OnnxParseOptions {
  /** File name used in error messages. */
  name?: string;
}

const i64 = (r: PbReader) => r.int();

/**
 * Parses ONNX model bytes (a serialized ModelProto) into plain objects.
 * @example
 * const model = parseOnnx(bytes, { name: 'model.onnx' });
 * model.graph.nodes.map((n) => n.opType); // ['Gemm', 'Relu', ...]
 */
export function parseOnnx(bytes: Uint8Array | ArrayBuffer, options: OnnxParseOptions = {}): OnnxModel {
  const where = `onnx: ${options.name ?? '<bytes>'}`;
  const buf = asBytes(bytes, where);
  const r = new PbReader(buf, where, 'ModelProto');
  const model: OnnxModel = { irVersion: 0, producerName: '', producerVersion: '', opsetImport: [], graph: emptyGraph() };
  let sawGraph = false;
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 0) model.irVersion = r.int();
    else if (field === 2 && wire === 2) model.producerName = r.string();
    else if (field === 3 && wire === 2) model.producerVersion = r.string();
    else if (field === 7 && wire === 2) {
      model.graph = readGraph(r.message('GraphProto'));
      sawGraph = true;
    } else if (field === 8 && wire === 2) model.opsetImport.push(readOpset(r.message('OperatorSetIdProto')));
    else if ([1, 2, 3, 7, 8].includes(field)) r.expectWire(field, 'known ModelProto field', wire, field === 1 ? 0 : 2);
    else r.skip(wire);
  }
  if (!sawGraph) ioFail(where, 'ModelProto: expected a graph (field 7), found none (not an ONNX model?)');
  return model;
}

/**
 * Parses one serialized TensorProto (a `.pb` file of the ONNX test data, or an initializer's bytes) into a decoded
 * tensor, with the same rules as initializers (float, float16, bfloat16, double, int8, uint8, int16, uint16, int32, uint32,
 * int64, uint64, bool).
 * @example parseOnnxTensor(readFileSync('test_data_set_0/input_0.pb'), { name: 'input_0.pb' }).dims
 */
export function parseOnnxTensor(bytes: Uint8Array | ArrayBuffer, options: OnnxParseOptions = {}): OnnxTensor {
  const where = `onnx: ${options.name ?? '<bytes>'}`;
  return readTensor(new PbReader(asBytes(bytes, where), where, 'TensorProto'));
}

function emptyGraph(): OnnxGraph {
  return { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
}

function readOpset(r: PbReader): { domain: string; version: number } {
  const out = { domain: '', version: 0 };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) out.domain = r.string();
    else if (field === 2 && wire === 0) out.version = r.int();
    else if (field === 1 || field === 2) r.expectWire(field, 'OperatorSetIdProto field', wire, field === 1 ? 2 : 0);
    else r.skip(wire);
  }
  return out;
}

function readGraph(r: PbReader): OnnxGraph {
  const g = emptyGraph();
  while (!r.done()) {
    const { field, wire } = r.tag();
    const known = [1, 2, 5, 11, 12, 13].includes(field);
    if (known) r.expectWire(field, 'GraphProto field', wire, 2);
    if (field === 1) g.nodes.push(readNode(r.message('NodeProto')));
    else if (field === 2) g.name = r.string();
    else if (field === 5) g.initializers.push(readTensor(r.message('TensorProto')));
    else if (field === 11) g.inputs.push(readValueInfo(r.message('ValueInfoProto')));
    else if (field === 12) g.outputs.push(readValueInfo(r.message('ValueInfoProto')));
    else if (field === 13) g.valueInfo.push(readValueInfo(r.message('ValueInfoProto')));
    else r.skip(wire);
  }
  return g;
}

function readNode(r: PbReader): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: {} };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if ([1, 2, 3, 4, 5, 7].includes(field)) r.expectWire(field, 'NodeProto field', wire, 2);
    if (field === 1) n.inputs.push(r.string());
    else if (field === 2) n.outputs.push(r.string());
    else if (field === 3) n.name = r.string();
    else if (field === 4) n.opType = r.string();
    else if (field === 5) {
      const [name, attr] = readAttribute(r.message('AttributeProto'));
      n.attributes[name] = attr;
    } else if (field === 7) n.domain = r.string();
    else r.skip(wire);
  }
  if (!n.opType) r.fail(`expected an op_type (field 4) in node '${n.name}', found none`);
  return n;
}

/** AttributeProto.AttributeType values this reader understands. */
const ATTR_TYPES: Record<number, OnnxAttribute['type']> = { 1: 'float', 2: 'int', 3: 'string', 4: 'tensor', 5: 'graph', 6: 'floats', 7: 'ints', 8: 'strings' };

function readAttribute(r: PbReader): [string, OnnxAttribute] {
  let name = '';
  let typeCode = 0;
  let f: number | undefined, i: number | undefined, s: string | undefined, t: OnnxTensor | undefined, g: OnnxGraph | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  const dec = new TextDecoder();
  while (!r.done()) {
    const { field, wire } = r.tag();
    const w = (want: WireType) => r.expectWire(field, 'AttributeProto field', wire, want);
    if (field === 1) (w(2), (name = r.string()));
    else if (field === 2) (w(5), (f = r.float32()));
    else if (field === 3) (w(0), (i = r.int()));
    else if (field === 4) (w(2), (s = dec.decode(r.bytes('string attribute'))));
    else if (field === 5) (w(2), (t = readTensor(r.message('TensorProto'))));
    else if (field === 6) (w(2), (g = readGraph(r.message('GraphProto'))));
    else if (field === 7) r.repeatedFloat(field, 'floats', wire, floats, 4);
    else if (field === 8) r.repeatedVarint(field, 'ints', wire, ints, i64);
    else if (field === 9) (w(2), strings.push(dec.decode(r.bytes('strings attribute'))));
    else if (field === 20) (w(0), (typeCode = r.uint('attribute type')));
    else r.skip(wire);
  }
  let type: OnnxAttribute['type'] | undefined = ATTR_TYPES[typeCode];
  if (typeCode === 0) {
    // Old files may omit `type`: infer it from the single field that is set.
    type = f !== undefined ? 'float' : i !== undefined ? 'int' : s !== undefined ? 'string' : t ? 'tensor' : g ? 'graph'
      : floats.length ? 'floats' : ints.length ? 'ints' : strings.length ? 'strings' : undefined;
  }
  if (!type) return r.fail(`expected attribute '${name}' of type float, int, string, tensor, graph, floats, ints or strings, found type ${typeCode}`);
  const missing = (): never => r.fail(`expected attribute '${name}' of type ${type} to carry a value, found none`);
  switch (type) {
    case 'float': return [name, { type, value: f ?? missing() }];
    case 'int': return [name, { type, value: i ?? missing() }];
    case 'string': return [name, { type, value: s ?? missing() }];
    case 'tensor': return [name, { type, value: t ?? missing() }];
    case 'graph': return [name, { type, value: g ?? missing() }];
    case 'floats': return [name, { type, value: floats }];
    case 'ints': return [name, { type, value: ints }];
    case 'strings': return [name, { type, value: strings }];
  }
}

function readValueInfo(r: PbReader): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '' };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 2) v.name = r.string();
    else if (field === 2 && wire === 2) {
      // TypeProto: only tensor_type (field 1) is read; other kinds (sequence, map, ...) are left undescribed.
      const tp = r.message('TypeProto');
      while (!tp.done()) {
        const t = tp.tag();
        if (t.field === 1 && t.wire === 2) readTensorType(tp.message('TypeProto.Tensor'), v);
        else tp.skip(t.wire);
      }
    } else if (field === 1 || field === 2) r.expectWire(field, 'ValueInfoProto field', wire, 2);
    else r.skip(wire);
  }
  return v;
}

function readTensorType(r: PbReader, v: OnnxValueInfo): void {
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === 0) {
      const code = r.uint('elem_type');
      v.elemType = ELEM_TYPES[code] ?? `type${code}`;
    } else if (field === 2 && wire === 2) {
      const shape: (number | string | null)[] = [];
      const sr = r.message('TensorShapeProto');
      while (!sr.done()) {
        const t = sr.tag();
        if (t.field !== 1) {
          sr.skip(t.wire);
          continue;
        }
        sr.expectWire(1, 'dim', t.wire, 2);
        const dr = sr.message('TensorShapeProto.Dimension');
        let dim: number | string | null = null;
        while (!dr.done()) {
          const d = dr.tag();
          if (d.field === 1 && d.wire === 0) dim = dr.int();
          else if (d.field === 2 && d.wire === 2) dim = dr.string();
          else if (d.field === 1 || d.field === 2) dr.expectWire(d.field, 'Dimension field', d.wire, d.field === 1 ? 0 : 2);
          else dr.skip(d.wire);
        }
        shape.push(dim);
      }
      v.shape = shape;
    } else if (field === 1 || field === 2) r.expectWire(field, 'TypeProto.Tensor field', wire, field === 1 ? 0 : 2);
    else r.skip(wire);
  }
}

/** Value range each narrower type may take in TensorProto.int32_data (float16 and bfloat16 travel as their 16 bits). */
const INT32_FIELD_RANGE: Record<string, [number, number]> = { int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535], bool: [0, 1], float16: [0, 65535], bfloat16: [0, 65535] };

function readTensor(r: PbReader): OnnxTensor {
  const dims: number[] = [];
  let code = 1;
  let name = '';
  let raw: Uint8Array | undefined;
  let external = false;
  const floats: number[] = [];
  const doubles: number[] = [];
  const int32s: number[] = [];
  const int64s: bigint[] = [];
  const uint64s: bigint[] = []; // uint64_data: carries uint32 and uint64
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1) r.repeatedVarint(field, 'dims', wire, dims, i64);
    else if (field === 2) (r.expectWire(field, 'data_type', wire, 0), (code = r.uint('data_type')));
    else if (field === 4) r.repeatedFloat(field, 'float_data', wire, floats, 4);
    else if (field === 5) r.repeatedVarint(field, 'int32_data', wire, int32s, i64);
    else if (field === 7) r.repeatedVarint(field, 'int64_data', wire, int64s, (s) => s.int64());
    else if (field === 8) (r.expectWire(field, 'name', wire, 2), (name = r.string()));
    else if (field === 9) (r.expectWire(field, 'raw_data', wire, 2), (raw = r.bytes('raw_data')));
    else if (field === 10) r.repeatedFloat(field, 'double_data', wire, doubles, 8);
    else if (field === 11) r.repeatedVarint(field, 'uint64_data', wire, uint64s, (s) => BigInt.asUintN(64, s.int64()));
    else if (field === 13) (r.skip(wire), (external = true));
    else if (field === 14 && wire === 0) external = r.uint('data_location') === 1 || external;
    else r.skip(wire);
  }
  const label = `tensor '${name}'`;
  if (external) r.fail(`${label} stores its data in an external file, which this reader does not support (expected the data inside the .onnx file)`);
  const typeName = ELEM_TYPES[code] ?? `type ${code}`;
  const spec = DECODED[typeName];
  if (!spec) r.fail(`expected ${label} of type float, float16, bfloat16, double, int8, uint8, int16, uint16, int32, uint32, int64, uint64 or bool, found ${typeName}`);
  for (const d of dims) if (d < 0) r.fail(`expected non-negative dims for ${label}, found [${dims.join(', ')}]`);
  let n = 1;
  for (const d of dims) n *= d;
  const dataType = typeName as OnnxDataType;
  let data: OnnxTensorData;
  if (raw) {
    if (raw.length !== n * spec.size) r.fail(`expected ${n * spec.size} bytes of raw_data for ${label} (${typeName} [${dims.join(', ')}]), found ${raw.length}`);
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    if (spec.size > 1 && new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
      for (let i = 0; i < copy.length; i += spec.size) copy.subarray(i, i + spec.size).reverse();
    }
    data = spec.view(copy.buffer);
  } else {
    const inU64 = dataType === 'uint32' || dataType === 'uint64';
    const src: ArrayLike<number | bigint> = dataType === 'float' ? floats : dataType === 'double' ? doubles : dataType === 'int64' ? int64s : inU64 ? uint64s : int32s;
    const field = dataType === 'float' ? 'float_data' : dataType === 'double' ? 'double_data' : dataType === 'int64' ? 'int64_data' : inU64 ? 'uint64_data' : 'int32_data';
    if (src.length !== n) r.fail(`expected ${n} values in ${field} for ${label} (${typeName} [${dims.join(', ')}]), found ${src.length}`);
    data = spec.make(n);
    if (src === int32s && dataType !== 'int32') {
      // int32_data carries narrower types (and float16 bits); a value that does not fit would wrap silently.
      const [lo, hi] = INT32_FIELD_RANGE[dataType]!;
      const bad = int32s.findIndex((x) => x < lo || x > hi);
      if (bad >= 0) r.fail(`expected int32_data values of ${label} (${typeName}) within [${lo}, ${hi}], found ${int32s[bad]} at index ${bad}`);
    } else if (src === int32s) {
      const bad = int32s.findIndex((x) => x !== (x | 0));
      if (bad >= 0) r.fail(`expected int32_data values of ${label} within the int32 range, found ${int32s[bad]} at index ${bad}`);
    }
    if (dataType === 'int64') (data as BigInt64Array).set(int64s);
    else if (dataType === 'uint64') (data as BigUint64Array).set(uint64s);
    else if (dataType === 'uint32') {
      const bad = uint64s.findIndex((x) => x > 0xffffffffn);
      if (bad >= 0) r.fail(`expected uint64_data values of ${label} (uint32) within [0, 4294967295], found ${uint64s[bad]} at index ${bad}`);
      (data as Uint32Array).set(uint64s.map(Number));
    } else (data as Exclude<OnnxTensorData, BigInt64Array | BigUint64Array>).set(src as ArrayLike<number>);
  }
  return { name, dataType, dims, data };
}
