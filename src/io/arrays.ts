// Fixture array descriptors (io.json / trace.json / eval.json): `nbytes` little-endian bytes at `offset` of
// `file`, C order, float32 or int32. Reads always copy, so the file's alignment never matters.
import type { Tensor } from '../tensor/tensor.js';
import { shapeStr } from '../tensor/shape.js';
import { asBytes, brief, copyHostOrder, ioFail, isIndexArray, prod } from './errors.js';
import { wrapStorage } from './wrap.js';

/** Where an array lies in a fixture's binary file. */
export interface ArrayDescriptor {
  /** File name relative to the fixture folder (e.g. 'inputs.bin'). */
  file: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  /** Byte offset in the file. */
  offset: number;
  /** Byte length: 4 x prod(shape). */
  nbytes: number;
  /** For ids/masks: the dtype model.onnx expects ('int64'); the bytes are int32 regardless. */
  onnx_dtype?: string;
}

export interface ReadArrayOptions {
  /** Backend to create the tensor on; default: the default device. */
  device?: string;
  /** What the array is (e.g. "io.json case 'batch8' input 'input'"), for error messages. */
  name?: string;
}

/**
 * Check a descriptor's fields (not its fit in a file) and return it typed; `where` prefixes errors.
 *
 * @example const d = checkArrayDescriptor(JSON.parse(text).layers[0], 'trace.json');
 */
export function checkArrayDescriptor(desc: unknown, where: string): ArrayDescriptor {
  if (desc === null || typeof desc !== 'object' || Array.isArray(desc)) ioFail(where, `expected an array descriptor {file, dtype, shape, offset, nbytes}, found ${brief(desc)}`);
  const d = desc as Record<string, unknown>;
  if (typeof d.file !== 'string' || d.file === '') ioFail(where, `file must be a non-empty string, found ${brief(d.file)}`);
  if (d.dtype !== 'float32' && d.dtype !== 'int32') ioFail(where, `dtype must be 'float32' or 'int32', found ${brief(d.dtype)}`);
  if (!isIndexArray(d.shape)) ioFail(where, `shape must be an array of non-negative integers, found ${brief(d.shape)}`);
  if (!Number.isSafeInteger(d.offset) || (d.offset as number) < 0) ioFail(where, `offset must be a non-negative integer, found ${brief(d.offset)}`);
  if (!Number.isSafeInteger(d.nbytes) || (d.nbytes as number) < 0) ioFail(where, `nbytes must be a non-negative integer, found ${brief(d.nbytes)}`);
  const need = 4 * prod(d.shape);
  if (need !== d.nbytes) ioFail(where, `${d.dtype} ${shapeStr(d.shape)} needs ${need} bytes, but nbytes is ${d.nbytes}`);
  return d as unknown as ArrayDescriptor;
}

/**
 * Read the array a descriptor points at from the bytes of its file (a copy, little-endian to host order).
 *
 * @example const x = readArray(io.cases[0].inputs.input, inputsBin);
 */
export function readArray(desc: ArrayDescriptor, fileBytes: Uint8Array | ArrayBuffer, opts: ReadArrayOptions = {}): Tensor {
  const where = opts.name ? `array ${opts.name}` : 'array';
  const d = checkArrayDescriptor(desc, where);
  const bytes = asBytes(fileBytes, where);
  if (d.offset + d.nbytes > bytes.length) {
    ioFail(where, `bytes [${d.offset}, ${d.offset + d.nbytes}) run past the end of '${d.file}' (${bytes.length} bytes)`);
  }
  const buf = copyHostOrder(bytes, d.offset, d.nbytes, 4, true);
  const store = d.dtype === 'float32' ? new Float32Array(buf) : new Int32Array(buf);
  return wrapStorage(store, d.shape, d.dtype, { device: opts.device });
}
