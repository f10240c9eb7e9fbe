// NumPy .npy reader and writer over bytes (format 1.0 written; 1.0, 2.0 and 3.0 read): magic, a Python-dict
// header giving descr / fortran_order / shape, then raw data. Big-endian and Fortran-order arrays are converted.
import { type DType, dtypeBytes, type StorageArray } from '../tensor/dtype.js';
import { forEachStrided, shapeStr } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { asBytes, brief, copyHostOrder, HOST_LE, int64ToInt32, ioFail, isIndexArray, prod, swapBytes, whereOf } from './errors.js';
import { parsePyLiteral } from './pyliteral.js';
import { readStorage, wrapStorage } from './wrap.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Headers longer than this are refused as corrupt (NumPy itself refuses 10000+ bytes by default). */
const MAX_HEADER = 1_000_000;

/** Element kinds this reader understands: NumPy kind letter + byte size -> the forwardpass dtype it loads as. */
const KINDS: Record<string, DType> = {
  f4: 'float32', f2: 'float16', f8: 'float32',
  i1: 'int8', i2: 'int32', i4: 'int32', i8: 'int32',
  u1: 'uint8', u2: 'int32', u4: 'int32',
  b1: 'bool',
};
/** Kinds whose bytes are already the forwardpass storage (a view is possible). */
const DIRECT = new Set(['f4', 'f2', 'i1', 'i4', 'u1', 'b1']);

/** A parsed .npy file: data in C (row-major) order whatever the file's order, in host byte order. */
export interface NpyArray {
  /** The forwardpass dtype the data holds. */
  dtype: DType;
  /** The file's NumPy type string, e.g. '<f4'. */
  descr: string;
  shape: number[];
  /** Row-major elements as the dtype's storage array; a view into the file bytes when no conversion was needed. */
  data: StorageArray;
  /** Whether the file stored the array in Fortran (column-major) order (`data` is row-major either way). */
  fortranOrder: boolean;
  /** Format version [major, minor]. */
  version: [number, number];
}

export interface NpyReadOptions {
  /** File name used in error messages. */
  name?: string;
}

/**
 * Parse a .npy file. float32/float16/int32/int8/uint8/bool load as such; float64 becomes float32; int16, uint16
 * and (range-checked) int64/uint32 become int32. Big-endian data is byte-swapped, Fortran order is transposed.
 *
 * @example const { dtype, shape, data } = parseNpy(bytes, { name: 'x.npy' });
 */
export function parseNpy(input: Uint8Array | ArrayBuffer, opts: NpyReadOptions = {}): NpyArray {
  const where = whereOf('npy', opts.name);
  const bytes = asBytes(input, where);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    ioFail(where, `not a .npy file: expected the magic bytes \\x93NUMPY at the start, found ${brief(Array.from(bytes.subarray(0, 6)))}`);
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3) ioFail(where, `unsupported format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major > 1 && bytes.length < 12) ioFail(where, `the file has ${bytes.length} bytes, too short for a version ${major}.${minor} header length`);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  if (hlen > MAX_HEADER) ioFail(where, `header length ${hlen} bytes is absurd (limit ${MAX_HEADER})`);
  if (hstart + hlen > bytes.length) ioFail(where, `header length ${hlen} runs past the end of the file (${bytes.length} bytes)`);
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(bytes.subarray(hstart, hstart + hlen));
  } catch {
    return ioFail(where, `the header is not valid ${major === 3 ? 'UTF-8' : 'latin-1'} text`);
  }
  const header = parsePyLiteral(text, where);
  if (!(header instanceof Map)) ioFail(where, `the header must be a Python dict, found ${brief(text.trim())}`);
  const descr = header.get('descr');
  const fortran = header.get('fortran_order');
  const shapeV = header.get('shape');
  const missing = ['descr', 'fortran_order', 'shape'].filter((k) => !header.has(k));
  if (missing.length) ioFail(where, `the header dict lacks ${missing.join(', ')}`);
  if (typeof descr !== 'string') ioFail(where, `descr ${brief(descr)} is not a simple type string (structured dtypes are not supported)`);
  if (typeof fortran !== 'boolean') ioFail(where, `fortran_order must be True or False, found ${brief(fortran)}`);
  const shape = shapeV;
  if (!isIndexArray(shape)) ioFail(where, `shape must be a tuple of non-negative integers, found ${brief(shapeV)}`);

  const m = /^([<>|=])([a-z?])(\d+)$/.exec(descr);
  const kind = m ? (m[2] === '?' ? 'b' : m[2]!) + m[3]! : '';
  const dtype = KINDS[kind];
  if (!m || !dtype) ioFail(where, `unsupported dtype '${descr}'; supported: float32 '<f4', float16 '<f2', float64 '<f8', int8 '|i1', int16 '<i2', int32 '<i4', int64 '<i8', uint8 '|u1', uint16 '<u2', uint32 '<u4', bool '|b1' (either byte order)`);
  const size = Number(m[3]);
  const little = m[1] === '<' || (m[1] === '=' && HOST_LE) || size === 1;
  const n = prod(shape);
  const start = hstart + hlen;
  const have = bytes.length - start;
  if (n * size !== have) ioFail(where, `${descr} ${shapeStr(shape)} needs ${n * size} data bytes, but the file has ${have} after the header`);

  let data: StorageArray;
  const abs = bytes.byteOffset + start;
  if (DIRECT.has(kind) && little === HOST_LE && abs % size === 0 && !(kind === 'b1' && bytes.subarray(start).some((v) => v > 1))) {
    data = makeView(dtype, bytes.buffer, abs, n); // zero copy
  } else {
    data = convert(kind, dtype, bytes, start, n, little, where);
  }
  if (fortran && shape.length > 1) data = fromFortran(data, shape);
  return { dtype, descr, shape: [...shape], data, fortranOrder: fortran, version: [major, minor] };
}

function makeView(dtype: DType, buf: ArrayBufferLike, off: number, n: number): StorageArray {
  switch (dtype) {
    case 'float32': return new Float32Array(buf, off, n);
    case 'float16': return new Uint16Array(buf, off, n);
    case 'int32': return new Int32Array(buf, off, n);
    case 'int8': return new Int8Array(buf, off, n);
    case 'uint8': case 'bool': return new Uint8Array(buf, off, n);
  }
}

/** `n` elements of `kind` at `start` of `bytes` (stored `little`-endian or not) -> a new storage array of `dtype`. */
function convert(kind: string, dtype: DType, bytes: Uint8Array, start: number, n: number, little: boolean, where: string): StorageArray {
  const size = Number(kind.slice(1));
  if (DIRECT.has(kind)) {
    const arr = makeView(dtype, copyHostOrder(bytes, start, n * size, size, little), 0, n);
    if (kind === 'b1') for (let i = 0; i < n; i++) arr[i] = arr[i] ? 1 : 0;
    return arr;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset + start, n * size);
  const range = (v: number | bigint, i: number) => `${where}: value ${v} at element ${i} does not fit int32 (-2147483648..2147483647)`;
  switch (kind) {
    case 'f8': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, little);
      return out;
    }
    case 'i2': case 'u2': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = kind === 'i2' ? dv.getInt16(2 * i, little) : dv.getUint16(2 * i, little);
      return out;
    }
    case 'u4': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = dv.getUint32(4 * i, little);
        if (v > 0x7fffffff) throw new RangeError(`forwardpass: ${range(v, i)}`);
        out[i] = v;
      }
      return out;
    }
    default: // i8
      return int64ToInt32(dv, n, (i) => range(dv.getBigInt64(8 * i, little), i), little);
  }
}

/** Column-major elements of `shape` -> a new row-major array. */
function fromFortran(data: StorageArray, shape: number[]): StorageArray {
  const fstrides: number[] = [];
  let acc = 1;
  for (const d of shape) {
    fstrides.push(acc);
    acc *= d;
  }
  const out = new (data.constructor as new (n: number) => StorageArray)(data.length);
  forEachStrided(shape, fstrides, 0, (i, src) => {
    out[i] = data[src]!;
  });
  return out;
}

export interface NpyLoadOptions extends NpyReadOptions {
  /** Backend to create the tensor on; default: the default device. */
  device?: string;
}

/**
 * Load a .npy file as a tensor (see `parseNpy` for dtypes). On the CPU backend the tensor views the file bytes
 * when no conversion was needed and the data is aligned (keep the bytes unchanged while it lives).
 *
 * @example const x = loadNpy(bytes); x.shape
 */
export function loadNpy(input: Uint8Array | ArrayBuffer, opts: NpyLoadOptions = {}): Tensor {
  const a = parseNpy(input, opts);
  return wrapStorage(a.data, a.shape, a.dtype, { device: opts.device });
}

export interface NpySaveOptions {
  /** Write integer tensors (int32, int8, uint8) as int64 '<i8', as NumPy and PyTorch index arrays expect. */
  dtype?: 'int64';
}

const DESCR: Record<DType, string> = { float32: '<f4', float16: '<f2', int32: '<i4', int8: '|i1', uint8: '|u1', bool: '|b1' };

/**
 * Serialize a tensor as a version 1.0 .npy file (little-endian, C order).
 *
 * @example const bytes = await saveNpy(t); const ids = await saveNpy(tokens, { dtype: 'int64' });
 */
export async function saveNpy(t: Tensor, opts: NpySaveOptions = {}): Promise<Uint8Array> {
  const store = await readStorage(t, 'saveNpy');
  const wide = opts.dtype !== undefined;
  if (wide && opts.dtype !== 'int64') ioFail('saveNpy', `option dtype must be 'int64' or left out, got ${brief(opts.dtype)}`);
  if (wide && !['int32', 'int8', 'uint8'].includes(t.dtype)) ioFail('saveNpy', `dtype 'int64' needs an int32, int8 or uint8 tensor, got ${t.dtype}`);
  const descr = wide ? '<i8' : DESCR[t.dtype];
  const shapeTxt = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeTxt}, }`;
  let major = 1;
  let prefix = 10;
  if (Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix > 0xffff) { major = 2; prefix = 12; }
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - prefix - 1, ' ') + '\n';
  const elem = wide ? 8 : dtypeBytes(t.dtype);
  const out = new Uint8Array(total + store.length * elem);
  out.set(MAGIC);
  out[6] = major;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, total - prefix, true);
  else dv.setUint32(8, total - prefix, true);
  for (let i = 0; i < dict.length; i++) out[prefix + i] = dict.charCodeAt(i);
  if (wide) {
    for (let i = 0; i < store.length; i++) {
      const v = store[i]!;
      dv.setInt32(total + 8 * i, v, true);
      dv.setInt32(total + 8 * i + 4, v < 0 ? -1 : 0, true);
    }
  } else {
    out.set(new Uint8Array(store.buffer, store.byteOffset, store.byteLength), total);
    if (!HOST_LE) swapBytes(out.subarray(total), elem);
  }
  return out;
}
