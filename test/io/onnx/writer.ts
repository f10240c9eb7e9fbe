// Test-only ONNX writer: a small protobuf encoder for ModelProto (graph, nodes, attributes of every kind, value
// infos, initializers as raw_data or typed fields) so tests can build models that onnxruntime and our reader load.
// Written from the onnx.proto field numbers; int64 values travel as bigint varints (exact).

/** Element types by name, as TensorProto.DataType numbers. */
export const ELEM: Record<string, number> = {
  float: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, string: 8, bool: 9, float16: 10, double: 11,
  uint32: 12, uint64: 13, bfloat16: 16,
};
export type ElemName = 'float' | 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'int64' | 'bool' | 'float16' | 'double' | 'uint32' | 'uint64';

/** A tensor to write. float16 data are the 16-bit patterns; bool data 0/1. `typed` writes the typed fields instead of raw_data. */
export interface TensorSpec {
  name?: string;
  type: ElemName;
  dims: readonly number[];
  data: ArrayLike<number> | ArrayLike<bigint>;
  typed?: boolean;
}

/** A graph to write (also the body of a graph attribute). */
export interface GraphSpec {
  name?: string;
  nodes: NodeSpec[];
  inputs?: ValueSpec[];
  outputs?: ValueSpec[];
  initializers?: TensorSpec[];
  valueInfo?: ValueSpec[];
}

/** A graph input/output: element type and dims (number, symbolic name, or null = unknown); no `shape`: unranked. */
export interface ValueSpec {
  name: string;
  type: ElemName;
  shape?: readonly (number | string | null)[];
}

/**
 * An attribute value. Plain numbers write as int when integral, else float; number arrays as ints when all are
 * integral, else floats (use the tagged forms to force a kind: `{ type: 'float', value: 1 }`, `{ type: 'floats', value: [] }`).
 */
export type AttrValue =
  | number | string | number[] | string[] | bigint | bigint[]
  | { type: 'float' | 'int'; value: number | bigint }
  | { type: 'string'; value: string }
  | { type: 'floats' | 'ints'; value: (number | bigint)[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: TensorSpec }
  | { type: 'graph'; value: GraphSpec };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Attributes; undefined values are left out. */
  attrs?: Record<string, AttrValue | undefined>;
  name?: string;
  domain?: string;
}

export interface ModelSpec extends GraphSpec {
  /** Default-domain opset version (default 17), or the full list of (domain, version) imports. */
  opset?: number | { domain: string; version: number }[];
  /** IR version (default: the lowest that the default-domain opset needs). */
  irVersion?: number;
  producer?: string;
}

// ---------------------------------------------------------------- wire format

/** Growable byte buffer with protobuf field writers. */
class Out {
  private buf = new Uint8Array(256);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  varint(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v < 2 ** 31) {
      let x = v;
      while (x >= 0x80) {
        this.byte((x & 0x7f) | 0x80);
        x >>>= 7;
      }
      this.byte(x);
      return;
    }
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      const b = Number(x & 0x7fn);
      x >>= 7n;
      this.byte(x ? b | 0x80 : b);
    } while (x);
  }
  key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }
  vfield(field: number, v: number | bigint): void {
    this.key(field, 0);
    this.varint(v);
  }
  lfield(field: number, body: Uint8Array): void {
    this.key(field, 2);
    this.varint(body.length);
    this.bytes(body);
  }
  sfield(field: number, s: string): void {
    this.lfield(field, new TextEncoder().encode(s));
  }
  f32field(field: number, x: number): void {
    this.key(field, 5);
    this.bytes(new Uint8Array(new Float32Array([x]).buffer));
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const msg = (fill: (o: Out) => void): Uint8Array => {
  const o = new Out();
  fill(o);
  return o.done();
};

const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of a typed array. */
function leBytes(a: ArrayBufferView & { BYTES_PER_ELEMENT: number }): Uint8Array {
  const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
  if (!LITTLE && a.BYTES_PER_ELEMENT > 1) for (let i = 0; i < b.length; i += a.BYTES_PER_ELEMENT) b.subarray(i, i + a.BYTES_PER_ELEMENT).reverse();
  return b;
}

const RAW: Record<ElemName, (n: number) => ArrayBufferView & { BYTES_PER_ELEMENT: number; [i: number]: number | bigint }> = {
  float: (n) => new Float32Array(n), double: (n) => new Float64Array(n), float16: (n) => new Uint16Array(n),
  int8: (n) => new Int8Array(n), uint8: (n) => new Uint8Array(n), bool: (n) => new Uint8Array(n),
  int16: (n) => new Int16Array(n), uint16: (n) => new Uint16Array(n), int32: (n) => new Int32Array(n),
  uint32: (n) => new Uint32Array(n), int64: (n) => new BigInt64Array(n), uint64: (n) => new BigUint64Array(n),
};
const BIG = new Set<ElemName>(['int64', 'uint64']);

/** TensorProto bytes. */
export function encodeTensor(t: TensorSpec): Uint8Array {
  const code = ELEM[t.type];
  if (!code) throw new Error(`onnx writer: unknown element type '${t.type}'`);
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw new Error(`onnx writer: tensor '${t.name ?? ''}' has ${t.data.length} values for dims [${t.dims.join(', ')}]`);
  return msg((o) => {
    for (const d of t.dims) o.vfield(1, d);
    o.vfield(2, code);
    if (t.name !== undefined) o.sfield(8, t.name);
    const big = BIG.has(t.type);
    if (!t.typed) {
      const arr = RAW[t.type](n);
      for (let i = 0; i < n; i++) arr[i] = big ? BigInt(t.data[i]!) : Number(t.data[i]!);
      o.lfield(9, leBytes(arr));
      return;
    }
    // Typed fields, packed: float_data 4, int32_data 5 (also int8/uint8/int16/uint16/bool/float16), int64_data 7,
    // double_data 10, uint64_data 11 (also uint32).
    if (t.type === 'float' || t.type === 'double') {
      const arr = t.type === 'float' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) arr[i] = Number(t.data[i]!);
      o.lfield(t.type === 'float' ? 4 : 10, leBytes(arr));
    } else {
      const field = t.type === 'int64' ? 7 : t.type === 'uint64' || t.type === 'uint32' ? 11 : 5;
      o.lfield(field, msg((p) => {
        for (let i = 0; i < n; i++) p.varint(big ? BigInt(t.data[i]!) : Number(t.data[i]!));
      }));
    }
  });
}

function encodeValueInfo(v: ValueSpec): Uint8Array {
  const code = ELEM[v.type];
  if (!code) throw new Error(`onnx writer: unknown element type '${v.type}' for '${v.name}'`);
  return msg((o) => {
    o.sfield(1, v.name);
    const tensorType = msg((t) => {
      t.vfield(1, code);
      if (v.shape) {
        t.lfield(2, msg((s) => {
          for (const d of v.shape!) {
            s.lfield(1, msg((dm) => {
              if (typeof d === 'number') dm.vfield(1, d);
              else if (typeof d === 'string') dm.sfield(2, d);
            }));
          }
        }));
      }
    });
    o.lfield(2, msg((tp) => tp.lfield(1, tensorType)));
  });
}

const isInt = (x: number | bigint) => typeof x === 'bigint' || Number.isInteger(x);

/** The tagged form of a (possibly plain) attribute value. */
function tagAttr(name: string, v: AttrValue): Exclude<AttrValue, number | string | number[] | string[] | bigint | bigint[]> {
  if (typeof v === 'number' || typeof v === 'bigint') return { type: isInt(v) ? 'int' : 'float', value: v };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (Array.isArray(v)) {
    if (v.length && typeof v[0] === 'string') return { type: 'strings', value: v as string[] };
    const nums = v as (number | bigint)[];
    return { type: nums.every(isInt) ? 'ints' : 'floats', value: nums };
  }
  if (typeof v === 'object' && v && 'type' in v) return v;
  throw new Error(`onnx writer: attribute '${name}' has an unsupported value ${String(v)}`);
}

const ATTR_CODE = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, floats: 6, ints: 7, strings: 8 } as const;

function encodeAttr(name: string, value: AttrValue): Uint8Array {
  const a = tagAttr(name, value);
  return msg((o) => {
    o.sfield(1, name);
    o.vfield(20, ATTR_CODE[a.type]);
    switch (a.type) {
      case 'float': o.f32field(2, Number(a.value)); break;
      case 'int': o.vfield(3, a.value); break;
      case 'string': o.sfield(4, a.value); break;
      case 'tensor': o.lfield(5, encodeTensor(a.value)); break;
      case 'graph': o.lfield(6, encodeGraph(a.value)); break;
      case 'floats': o.lfield(7, leBytes(Float32Array.from(a.value, Number))); break;
      case 'ints': o.lfield(8, msg((p) => a.value.forEach((x) => p.varint(x)))); break;
      case 'strings': for (const s of a.value) o.sfield(9, s); break;
    }
  });
}

function encodeNode(n: NodeSpec): Uint8Array {
  return msg((o) => {
    for (const i of n.inputs) o.sfield(1, i);
    for (const x of n.outputs) o.sfield(2, x);
    if (n.name !== undefined) o.sfield(3, n.name);
    o.sfield(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) if (v !== undefined) o.lfield(5, encodeAttr(k, v));
    if (n.domain) o.sfield(7, n.domain);
  });
}

/** GraphProto bytes. */
export function encodeGraph(g: GraphSpec): Uint8Array {
  return msg((o) => {
    for (const n of g.nodes) o.lfield(1, encodeNode(n));
    o.sfield(2, g.name ?? 'g');
    for (const t of g.initializers ?? []) o.lfield(5, encodeTensor(t));
    for (const v of g.inputs ?? []) o.lfield(11, encodeValueInfo(v));
    for (const v of g.outputs ?? []) o.lfield(12, encodeValueInfo(v));
    for (const v of g.valueInfo ?? []) o.lfield(13, encodeValueInfo(v));
  });
}

/** Lowest IR version that carries a default-domain opset (13 -> 7, 15 -> 8, 19 -> 9, 21 -> 10, 23 -> 11). */
export function irVersionFor(opset: number): number {
  return opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : opset <= 22 ? 10 : 11;
}

/**
 * Serialized ModelProto for a graph.
 * @example
 * const bytes = onnxModel({ opset: 17, nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
 *   inputs: [{ name: 'x', type: 'float', shape: ['n', 3] }], outputs: [{ name: 'y', type: 'float' }] });
 */
export function onnxModel(spec: ModelSpec): Uint8Array {
  const opsets = typeof spec.opset === 'object' ? spec.opset : [{ domain: '', version: spec.opset ?? 17 }];
  const main = opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 17;
  return msg((o) => {
    o.vfield(1, spec.irVersion ?? irVersionFor(main));
    o.sfield(2, spec.producer ?? 'forwardpass-tests');
    o.lfield(7, encodeGraph(spec));
    for (const op of opsets) o.lfield(8, msg((p) => {
      p.sfield(1, op.domain);
      p.vfield(2, op.version);
    }));
  });
}
