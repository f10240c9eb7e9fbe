// safetensors reader and writer over bytes (runs in browsers): 8-byte header length, JSON header, raw data.
// Every malformed file gets one clear error naming the file and tensor; CPU tensors view the file bytes when aligned.
import { type DType, dtypeBytes, f16ArrayToF32, type StorageArray } from '../tensor/dtype.js';
import { shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { asBytes, brief, copyHostOrder, HOST_LE, int64ToInt32, ioFail, isIndexArray, prod, swapBytes, whereOf } from './errors.js';
import { readStorage, wrapStorage } from './wrap.js';

/** Element types a safetensors file may hold (that this reader understands). */
export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I8' | 'U8' | 'I16' | 'U16' | 'I32' | 'I64' | 'BOOL';

/** Bytes per element, and the forwardpass dtype each file dtype loads as. */
const ST: Record<SafetensorsDType, { size: number; dtype: DType }> = {
  F32: { size: 4, dtype: 'float32' },
  F16: { size: 2, dtype: 'float16' },
  BF16: { size: 2, dtype: 'float32' },
  F64: { size: 8, dtype: 'float32' },
  I8: { size: 1, dtype: 'int8' },
  U8: { size: 1, dtype: 'uint8' },
  I16: { size: 2, dtype: 'int32' },
  U16: { size: 2, dtype: 'int32' },
  I32: { size: 4, dtype: 'int32' },
  I64: { size: 8, dtype: 'int32' },
  BOOL: { size: 1, dtype: 'bool' },
};
const KNOWN = Object.keys(ST).join(', ');

/** Headers longer than this are refused as corrupt (the reference implementation's limit). */
const MAX_HEADER = 100_000_000;

/** One tensor's entry: file dtype, shape, and where its bytes lie (`byteOffset` counts from the start of the file). */
export interface SafetensorsEntry {
  dtype: SafetensorsDType;
  shape: number[];
  byteOffset: number;
  byteLength: number;
}

/** A parsed header: metadata strings, the tensors in header order, and where the data section starts. */
export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsEntry>;
  /** Byte offset of the data section (8 + header length). */
  dataOffset: number;
}

export interface SafetensorsReadOptions {
  /** File name used in error messages. */
  name?: string;
}

export interface SafetensorsLoadOptions extends SafetensorsReadOptions {
  /** Backend to create the tensors on; default: the default device. */
  device?: string;
  /**
   * Keep float16 tensors as float16 (default true). With `false`, F16 tensors are widened to float32 so that every
   * floating tensor loads as float32.
   */
  keepDtype?: boolean;
}

/**
 * Parse and validate a safetensors header without touching the tensor data.
 *
 * @example const { tensors, metadata } = parseSafetensors(bytes, { name: 'model.safetensors' }); tensors.get('fc1.weight')?.shape
 */
export function parseSafetensors(input: Uint8Array | ArrayBuffer, opts: SafetensorsReadOptions = {}): SafetensorsFile {
  const where = whereOf('safetensors', opts.name);
  const bytes = asBytes(input, where);
  if (bytes.length < 8) ioFail(where, `the file has ${bytes.length} bytes; a safetensors file starts with an 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (hi !== 0 || n > MAX_HEADER) ioFail(where, `header length ${hi ? `${hi}*2^32+${lo}` : n} bytes is absurd (limit ${MAX_HEADER}); the file is corrupt or not safetensors`);
  if (8 + n > bytes.length) ioFail(where, `header length ${n} runs past the end of the file (${bytes.length} bytes, so at most ${bytes.length - 8})`);
  const header = decodeHeader(bytes.subarray(8, 8 + n), where);
  const dataOffset = 8 + n;
  const dataLength = bytes.length - dataOffset;
  let metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsEntry>();
  for (const [key, value] of Object.entries(header)) {
    if (key === '__metadata__') {
      metadata = checkMetadata(value, where);
      continue;
    }
    tensors.set(key, checkEntry(key, value, dataOffset, dataLength, where));
  }
  checkOverlaps(tensors, dataOffset, where);
  return { metadata, tensors, dataOffset };
}

function decodeHeader(raw: Uint8Array, where: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return ioFail(where, `the ${raw.length}-byte header is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return ioFail(where, `the header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    return ioFail(where, `the header must be a JSON object, found ${Array.isArray(header) ? 'an array' : brief(header)}`);
  }
  return header as Record<string, unknown>;
}

function checkMetadata(value: unknown, where: string): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return ioFail(where, `__metadata__ must be an object of strings, found ${brief(value)}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') ioFail(where, `__metadata__ value '${k}' must be a string, found ${brief(v)}`);
    out[k] = v;
  }
  return out;
}

function checkEntry(name: string, value: unknown, dataOffset: number, dataLength: number, where: string): SafetensorsEntry {
  const at = `tensor '${name}'`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) ioFail(where, `${at}: expected an object with dtype, shape and data_offsets, found ${brief(value)}`);
  const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (e.dtype === undefined || e.shape === undefined || e.data_offsets === undefined) {
    const missing = ['dtype', 'shape', 'data_offsets'].filter((k) => (e as Record<string, unknown>)[k] === undefined);
    ioFail(where, `${at}: missing ${missing.join(', ')}`);
  }
  if (typeof e.dtype !== 'string') ioFail(where, `${at}: dtype must be a string, found ${brief(e.dtype)}`);
  if (!Object.hasOwn(ST, e.dtype)) ioFail(where, `${at}: unknown dtype ${brief(e.dtype)}; known dtypes: ${KNOWN}`);
  const dtype = e.dtype as SafetensorsDType;
  if (!isIndexArray(e.shape)) ioFail(where, `${at}: shape must be an array of non-negative integers, found ${brief(e.shape)}`);
  const offs = e.data_offsets;
  if (!isIndexArray(offs) || offs.length !== 2) ioFail(where, `${at}: data_offsets must be two non-negative integers [begin, end], found ${brief(offs)}`);
  const [begin, end] = offs as [number, number];
  if (begin > end) ioFail(where, `${at}: data_offsets [${begin}, ${end}] begin after they end`);
  if (end > dataLength) ioFail(where, `${at}: data_offsets [${begin}, ${end}] run past the data section (${dataLength} bytes)`);
  const need = prod(e.shape) * ST[dtype].size;
  if (need !== end - begin) {
    ioFail(where, `${at}: ${dtype} ${shapeStr(e.shape)} needs ${need} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  return { dtype, shape: [...e.shape], byteOffset: dataOffset + begin, byteLength: end - begin };
}

function checkOverlaps(tensors: Map<string, SafetensorsEntry>, dataOffset: number, where: string): void {
  const list = [...tensors].filter(([, e]) => e.byteLength > 0).sort((a, b) => a[1].byteOffset - b[1].byteOffset);
  for (let i = 1; i < list.length; i++) {
    const [pn, p] = list[i - 1]!;
    const [cn, c] = list[i]!;
    if (c.byteOffset < p.byteOffset + p.byteLength) {
      const span = (e: SafetensorsEntry) => `[${e.byteOffset - dataOffset}, ${e.byteOffset - dataOffset + e.byteLength}]`;
      ioFail(where, `tensors '${pn}' ${span(p)} and '${cn}' ${span(c)} overlap in the data section`);
    }
  }
}

/**
 * Load every tensor of a safetensors file. F32/F16/I8/U8/I32/BOOL keep their type (float32, float16, int8, uint8,
 * int32, bool); BF16 and F64 become float32; I16/U16 and I64 become int32 (I64 values must fit int32).
 * On the CPU backend, F32/F16/I8/U8/I32 tensors are views into `bytes` when aligned (no copy: keep the bytes
 * unchanged while the tensors live); other dtypes, unaligned data and other devices copy.
 *
 * @example const { tensors } = loadSafetensors(bytes); const w = tensors.get('fc1.weight')!;
 */
export function loadSafetensors(input: Uint8Array | ArrayBuffer, opts: SafetensorsLoadOptions = {}): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const where = whereOf('safetensors', opts.name);
  const bytes = asBytes(input, where);
  const file = parseSafetensors(bytes, opts);
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, e] of file.tensors) {
      let { store, dtype } = decode(bytes, name, e, where);
      if (dtype === 'float16' && opts.keepDtype === false) {
        store = f16ArrayToF32(store as Uint16Array);
        dtype = 'float32';
      }
      tensors.set(name, wrapStorage(store, e.shape, dtype, { device: opts.device }));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata: file.metadata };
}

/** One entry's elements as the storage array of its forwardpass dtype (a view when possible). */
function decode(bytes: Uint8Array, name: string, e: SafetensorsEntry, where: string): { store: StorageArray; dtype: DType } {
  const n = e.byteLength / ST[e.dtype].size;
  const abs = bytes.byteOffset + e.byteOffset;
  const view = <T>(Ctor: new (buf: ArrayBufferLike, off?: number, len?: number) => T, size: number): T =>
    HOST_LE && abs % size === 0 ? new Ctor(bytes.buffer, abs, n) : new Ctor(copyHostOrder(bytes, e.byteOffset, e.byteLength, size, true));
  const dv = new DataView(bytes.buffer, abs, e.byteLength);
  switch (e.dtype) {
    case 'F32': return { store: view(Float32Array, 4), dtype: 'float32' };
    case 'F16': return { store: view(Uint16Array, 2), dtype: 'float16' };
    case 'I32': return { store: view(Int32Array, 4), dtype: 'int32' };
    case 'I8': return { store: new Int8Array(bytes.buffer, abs, n), dtype: 'int8' };
    case 'U8': return { store: new Uint8Array(bytes.buffer, abs, n), dtype: 'uint8' };
    case 'BOOL': {
      const u = new Uint8Array(bytes.buffer, abs, n);
      if (u.every((v) => v <= 1)) return { store: u, dtype: 'bool' };
      return { store: u.map((v) => (v ? 1 : 0)), dtype: 'bool' }; // copy with any non-zero byte as true
    }
    case 'BF16': {
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return { store: new Float32Array(bits.buffer), dtype: 'float32' };
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return { store: out, dtype: 'float32' };
    }
    case 'I16': case 'U16': {
      const out = new Int32Array(n);
      const signed = e.dtype === 'I16';
      for (let i = 0; i < n; i++) out[i] = signed ? dv.getInt16(2 * i, true) : dv.getUint16(2 * i, true);
      return { store: out, dtype: 'int32' };
    }
    case 'I64': return { store: int64ToInt32(dv, n, (i) => `${where}: tensor '${name}' (I64) holds ${dv.getBigInt64(8 * i, true)} at element ${i}, which does not fit int32 (-2147483648..2147483647)`), dtype: 'int32' };
  }
}

const SAVE_DTYPE: Record<DType, SafetensorsDType> = { float32: 'F32', float16: 'F16', int32: 'I32', int8: 'I8', uint8: 'U8', bool: 'BOOL' };

/**
 * Serialize tensors to safetensors bytes. The header lists tensors in insertion order, is padded with spaces to a
 * multiple of 8 bytes, and starts with `__metadata__` when metadata is given. The data section has no gaps and
 * places tensors by decreasing element size (in insertion order within a size), so every tensor is aligned to
 * its element size; for files of one dtype that is insertion order.
 *
 * @example const bytes = await saveSafetensors({ 'fc.weight': w, 'fc.bias': b }, { format: 'pt' });
 */
export async function saveSafetensors(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  const where = 'saveSafetensors';
  if (tensors === null || typeof tensors !== 'object') ioFail(where, `expected a Map or object of tensors, got ${brief(tensors)}`);
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) ioFail(where, `metadata must be an object of strings, got ${brief(metadata)}`);
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') ioFail(where, `metadata value '${k}' must be a string, got ${brief(v)}`);
  }
  const seen = new Set<string>();
  for (const [name] of list) {
    if (typeof name !== 'string' || name === '' || name === '__metadata__') ioFail(where, `tensor name ${brief(name)} is not allowed (names are non-empty strings other than __metadata__)`);
    if (seen.has(name)) ioFail(where, `tensor name '${name}' appears twice`);
    seen.add(name);
  }
  const raws: Uint8Array[] = [];
  for (const [name, t] of list) {
    const store = await readStorage(t, `saveSafetensors: tensor '${name}'`);
    const u8 = new Uint8Array(store.buffer, store.byteOffset, store.byteLength); // a copy read from the device
    if (!HOST_LE) swapBytes(u8, store.BYTES_PER_ELEMENT);
    raws.push(u8);
  }
  // data layout: larger elements first (stable), so each tensor starts at a multiple of its element size
  const sizeOf = (i: number) => dtypeBytes(list[i]![1].dtype);
  const order = list.map((_, i) => i).sort((a, b) => sizeOf(b) - sizeOf(a) || a - b);
  const begins = new Array<number>(list.length);
  let pos = 0;
  for (const i of order) {
    begins[i] = pos;
    pos += raws[i]!.length;
  }
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  list.forEach(([name, t], i) => {
    const entry = { dtype: SAVE_DTYPE[t.dtype], shape: t.shape, data_offsets: [begins[i], begins[i]! + raws[i]!.length] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
  });
  let header = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(header.length / 8) * 8;
  if (padded !== header.length) {
    const h = new Uint8Array(padded).fill(0x20);
    h.set(header);
    header = h;
  }
  const out = new Uint8Array(8 + header.length + pos);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, header.length, true);
  dv.setUint32(4, 0, true);
  out.set(header, 8);
  const dataStart = 8 + header.length;
  for (let i = 0; i < list.length; i++) out.set(raws[i]!, dataStart + begins[i]!);
  return out;
}
