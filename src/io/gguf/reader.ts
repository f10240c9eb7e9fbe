// GGUF container reader over bytes (runs in browsers): header (v2, v3), typed metadata key-values (arrays too),
// tensor infos and zero-copy views of each tensor's data. Every count and length is checked against the bytes left,
// so a truncated, corrupt or lying file is one `forwardpass: gguf ...` error, never a huge allocation or a hang.
import { asBytes, ioFail, whereOf } from '../errors.js';
import { GGML_TYPES, type GgmlTypeName, typeByName, typeById } from './types.js';

/** Metadata value types, by GGUF's numbering. */
export const GGUF_VALUE_TYPES = ['UINT8', 'INT8', 'UINT16', 'INT16', 'UINT32', 'INT32', 'FLOAT32', 'BOOL', 'STRING', 'ARRAY', 'UINT64', 'INT64', 'FLOAT64'] as const;
export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];

/** A metadata value: numbers (64-bit integers beyond 2^53 stay bigint), booleans, strings, or arrays of them. */
export type GgufValue = number | bigint | boolean | string | GgufValue[];

/** One metadata entry: its value and the GGUF type it was stored as (for arrays, also the element type). */
export interface GgufKv {
  type: GgufValueType;
  itemType?: GgufValueType;
  value: GgufValue;
}

/** One tensor: name, ggml type, `ne` (fastest dimension first, as ggml lists them), and where its bytes lie. */
export interface GgufTensorInfo {
  name: string;
  type: GgmlTypeName;
  /** ggml's dimensions, fastest-varying first: [cols, rows] for a matrix. */
  ne: number[];
  /** NumPy/PyTorch shape: ne reversed. */
  shape: number[];
  /** Offset from the start of the file. */
  byteOffset: number;
  byteLength: number;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, GgufKv>;
  tensors: Map<string, GgufTensorInfo>;
  alignment: number;
  /** Offset of the data section from the start of the file. */
  dataOffset: number;
  /** The file bytes the tensor views point into. */
  bytes: Uint8Array;
}

/** Caps that keep a lying file from asking for absurd work: names and dimensions of real files are far below. */
const MAX_DIMS = 4;
const MAX_STRING = 1 << 26;
/** ignoreBOM: a string that starts with U+FEFF keeps it (a vocabulary may have that token). */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Cursor {
  pos = 0;
  readonly dv: DataView;
  constructor(readonly bytes: Uint8Array, readonly where: string) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number, what: string): void {
    if (n > this.bytes.length - this.pos) ioFail(this.where, `${what} needs ${n} bytes at offset ${this.pos}, but the file has ${this.bytes.length} bytes (truncated or corrupt)`);
  }
  u8(w: string) { this.need(1, w); return this.dv.getUint8(this.pos++); }
  u32(w: string) { this.need(4, w); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  u64(w: string): bigint { this.need(8, w); const v = this.dv.getBigUint64(this.pos, true); this.pos += 8; return v; }
  /** A u64 count or size that must be at most `max` (derived from the bytes left). */
  count(w: string, max: number): number {
    const v = this.u64(w);
    if (v > BigInt(max)) ioFail(this.where, `${w} is ${v}, more than the ${max} the rest of the file could hold (corrupt)`);
    return Number(v);
  }
  str(w: string): string {
    const n = this.count(`${w} length`, Math.min(MAX_STRING, this.bytes.length - this.pos - 8));
    this.need(n, w);
    const s = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return UTF8.decode(s);
    } catch {
      return ioFail(this.where, `${w} is not valid UTF-8`);
    }
  }
}

/** Smallest size in bytes of one value of each type (strings: the 8-byte length). */
const MIN_SIZE: Record<GgufValueType, number> = { UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, UINT32: 4, INT32: 4, FLOAT32: 4, BOOL: 1, STRING: 8, ARRAY: 12, UINT64: 8, INT64: 8, FLOAT64: 8 };

function valueType(c: Cursor, w: string): GgufValueType {
  const t = c.u32(`${w} type`);
  const name = GGUF_VALUE_TYPES[t];
  if (name === undefined) ioFail(c.where, `${w} has value type ${t}; known types are 0-12 (${GGUF_VALUE_TYPES.join(', ')})`);
  return name;
}

function scalar(c: Cursor, t: GgufValueType, w: string): GgufValue {
  const dv = c.dv;
  const size = MIN_SIZE[t];
  if (t === 'STRING') return c.str(w);
  c.need(size, w);
  const p = c.pos;
  c.pos += size;
  switch (t) {
    case 'UINT8': return dv.getUint8(p);
    case 'INT8': return dv.getInt8(p);
    case 'UINT16': return dv.getUint16(p, true);
    case 'INT16': return dv.getInt16(p, true);
    case 'UINT32': return dv.getUint32(p, true);
    case 'INT32': return dv.getInt32(p, true);
    case 'FLOAT32': return dv.getFloat32(p, true);
    case 'FLOAT64': return dv.getFloat64(p, true);
    case 'BOOL': {
      const b = dv.getUint8(p);
      if (b > 1) ioFail(c.where, `${w} is a BOOL holding ${b} (expected 0 or 1)`);
      return b === 1;
    }
    case 'UINT64': case 'INT64': {
      const v = t === 'UINT64' ? dv.getBigUint64(p, true) : dv.getBigInt64(p, true);
      return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
    }
    default: return ioFail(c.where, `${w}: unexpected type ${t}`);
  }
}

function readKv(c: Cursor, index: number): [string, GgufKv] {
  const key = c.str(`metadata key ${index}`);
  const w = `metadata '${key}'`;
  const type = valueType(c, w);
  if (type !== 'ARRAY') return [key, { type, value: scalar(c, type, w) }];
  const itemType = valueType(c, `${w} array element`);
  if (itemType === 'ARRAY') ioFail(c.where, `${w} is an array of arrays, which GGUF readers do not accept`);
  const n = c.count(`${w} array length`, Math.floor((c.bytes.length - c.pos - 8) / MIN_SIZE[itemType]));
  const out: GgufValue[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = scalar(c, itemType, `${w}[${i}]`);
  return [key, { type, itemType, value: out }];
}

/**
 * Parse a GGUF file: header, metadata, tensor infos. Tensor data is not copied (see `ggufTensorBytes`).
 *
 * @example const f = readGguf(bytes, { name: 'model.gguf' }); f.metadata.get('general.architecture')?.value
 */
export function readGguf(input: Uint8Array | ArrayBuffer, opts: { name?: string } = {}): GgufFile {
  const where = whereOf('gguf', opts.name);
  const bytes = asBytes(input, where);
  const c = new Cursor(bytes, where);
  if (bytes.length < 4 || bytes[0] !== 0x47 || bytes[1] !== 0x47 || bytes[2] !== 0x55 || bytes[3] !== 0x46) {
    ioFail(where, `expected the magic bytes 'GGUF' at the start, found ${JSON.stringify(String.fromCharCode(...bytes.subarray(0, 4)))} (not a GGUF file)`);
  }
  c.pos = 4;
  const version = c.u32('the version');
  if (version !== 2 && version !== 3) ioFail(where, `version ${version} is not supported (GGUF v2 and v3 are; v1 files predate 64-bit counts: reconvert them)`);
  // every tensor info takes at least 8 + 4 + 4 + 8 bytes, every key-value at least 8 + 4 + 1
  const nTensors = c.count('the tensor count', Math.floor((bytes.length - c.pos) / 24));
  const nKv = c.count('the metadata count', Math.floor((bytes.length - c.pos) / 13));
  const metadata = new Map<string, GgufKv>();
  for (let i = 0; i < nKv; i++) {
    const [k, v] = readKv(c, i);
    if (metadata.has(k)) ioFail(where, `metadata key '${k}' appears twice`);
    metadata.set(k, v);
  }
  let alignment = 32;
  const al = metadata.get('general.alignment');
  if (al) {
    const v = al.value;
    if (al.type !== 'UINT32' || typeof v !== 'number' || v < 1 || (v & (v - 1)) !== 0 || v > 1 << 20) ioFail(where, `general.alignment must be a UINT32 power of two, found ${al.type} ${String(v)}`);
    alignment = v;
  }
  const infos: { name: string; type: GgmlTypeName; ne: number[]; offset: bigint }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = c.str(`tensor ${i} name`);
    const w = `tensor '${name}'`;
    if (names.has(name)) ioFail(where, `${w} appears twice`);
    names.add(name);
    const nd = c.u32(`${w} dimension count`);
    if (nd < 1 || nd > MAX_DIMS) ioFail(where, `${w} has ${nd} dimensions; ggml tensors have 1 to ${MAX_DIMS}`);
    const ne: number[] = [];
    for (let d = 0; d < nd; d++) ne.push(c.count(`${w} dimension ${d}`, bytes.length * 256));
    const tid = c.u32(`${w} type`);
    const t = typeById(tid);
    if (!t) ioFail(where, `${w} has ggml type ${tid}, which this reader does not know; known: ${Object.values(GGML_TYPES).map((x) => `${x.name} (${x.id})`).join(', ')}`);
    infos.push({ name, type: t.name, ne, offset: c.u64(`${w} offset`) });
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  if (nTensors > 0 && dataOffset > bytes.length) ioFail(where, `the data section would start at ${dataOffset}, past the end of the file (${bytes.length} bytes)`);
  const dataLength = bytes.length - dataOffset;
  const tensors = new Map<string, GgufTensorInfo>();
  for (const { name, type, ne, offset } of infos) {
    const w = `tensor '${name}'`;
    const t = typeByName(type);
    const n = ne.reduce((a, b) => a * b, 1);
    if (ne[0]! % t.blockSize !== 0) ioFail(where, `${w} (${type}) has ${ne[0]} values per row, not a multiple of its block of ${t.blockSize}`);
    const len = (n / t.blockSize) * t.typeSize;
    if (offset % BigInt(alignment) !== 0n) ioFail(where, `${w} starts at data offset ${offset}, not a multiple of the alignment ${alignment}`);
    if (offset > BigInt(dataLength) || len > dataLength - Number(offset)) ioFail(where, `${w} (${type} ne [${ne.join(', ')}], ${len} bytes at data offset ${offset}) runs past the end of the file (data section ${dataLength} bytes)`);
    tensors.set(name, { name, type, ne, shape: [...ne].reverse(), byteOffset: dataOffset + Number(offset), byteLength: len });
  }
  const spans = [...tensors.values()].filter((e) => e.byteLength > 0).sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < spans.length; i++) {
    const p = spans[i - 1]!, q = spans[i]!;
    if (q.byteOffset < p.byteOffset + p.byteLength) ioFail(where, `tensors '${p.name}' and '${q.name}' overlap in the data section`);
  }
  return { version, metadata, tensors, alignment, dataOffset, bytes };
}

/**
 * The bytes of one tensor (a view into the file, no copy).
 *
 * @example const raw = ggufTensorBytes(file, 'blk.0.attn_q.weight');
 */
export function ggufTensorBytes(file: GgufFile, name: string): Uint8Array {
  const e = file.tensors.get(name);
  if (!e) throw new Error(`forwardpass: gguf: no tensor '${name}' in the file (it has ${file.tensors.size}: ${[...file.tensors.keys()].slice(0, 8).join(', ')}${file.tensors.size > 8 ? ', ...' : ''})`);
  return file.bytes.subarray(e.byteOffset, e.byteOffset + e.byteLength);
}

/** A metadata value by key, or undefined. @example ggufValue(f, 'llama.block_count') */
export function ggufValue(file: GgufFile, key: string): GgufValue | undefined {
  return file.metadata.get(key)?.value;
}
