// Run-time inputs of an ONNX session: a Tensor or a typed array per graph input, checked against the declared
// element type (int64 inputs take int32 data or BigInt64Array values that fit int32) and placed on the backend.
import { fromData } from '../../tensor/creation.js';
import { getBackend } from '../../tensor/device.js';
import { numel } from '../../tensor/shape.js';
import { isTensor, type Tensor } from '../../tensor/tensor.js';
import { int64ToInt32 } from './values.js';
import type { OnnxIO } from './session.js';

/** One input value: a Tensor, or a flat typed array shaped from the input's declared shape. */
export type OnnxFeed = Tensor | Float32Array | Int32Array | BigInt64Array | Int8Array | Uint8Array;

/** The tensor for `io` on `backend`; `created` is false when it is the caller's own tensor (never disposed). */
export async function feedToTensor(feed: OnnxFeed, io: OnnxIO, backend: string): Promise<{ tensor: Tensor; created: boolean; shape: readonly number[] }> {
  const what = `forwardpass: onnx: run: input '${io.name}'`;
  const want = io.onnxType === 'int64' ? 'int32 (ONNX int64; forwardpass holds int64 as int32)' : io.dtype;
  if (isTensor(feed)) {
    if (feed.dtype !== io.dtype) throw new TypeError(`${what} must be ${want}, got a ${feed.dtype} tensor`);
    if (feed.device === backend) return { tensor: feed, created: false, shape: feed.shape };
    const t = await feed.to(backend);
    return { tensor: t, created: true, shape: t.shape };
  }
  if (!ArrayBuffer.isView(feed)) throw new TypeError(`${what} must be a Tensor or a typed array, got ${feed === null ? 'null' : typeof feed}`);
  let data: ArrayLike<number>;
  if (feed instanceof BigInt64Array) {
    if (io.onnxType !== 'int64') throw new TypeError(`${what} must be ${want}, got a BigInt64Array`);
    data = int64ToInt32(feed, `input '${io.name}'`, false);
  } else {
    const ok = io.dtype === 'float32' ? feed instanceof Float32Array : io.dtype === 'int32' ? feed instanceof Int32Array : io.dtype === 'int8' ? feed instanceof Int8Array : feed instanceof Uint8Array;
    if (!ok) throw new TypeError(`${what} must be ${want}, got a ${feed.constructor.name}`);
    data = feed as ArrayLike<number>;
  }
  // shape from the declaration: every dim known, or one unknown dim taken from the length
  const dims = io.shape.map((d) => (typeof d === 'number' ? d : -1));
  const unknown = dims.filter((d) => d === -1).length;
  const known = numel(dims.filter((d) => d !== -1));
  if (unknown > 1 || (unknown === 1 && (known === 0 || data.length % known !== 0)) || (unknown === 0 && known !== data.length)) {
    throw new RangeError(`${what}: a typed array of ${data.length} values cannot be shaped as [${io.shape.map((d) => d ?? '?').join(', ')}]; pass a Tensor with its shape`);
  }
  const shape = dims.map((d) => (d === -1 ? data.length / known : d));
  return { tensor: fromData(data, shape, io.dtype, getBackend(backend)), created: true, shape };
}
