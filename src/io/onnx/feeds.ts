// Run-time inputs of an ONNX session: a Tensor or a typed array per graph input, checked against the declared
// element type (int64 inputs take int32 data or BigInt64Array values that fit int32) and shape, and placed on the
// backend. A float16 input takes a Float32Array (converted) or a Uint16Array of raw half bits; a double input takes a
// Float32Array or a Float64Array (converted; a finite value beyond float32's range is an error). int16, uint16,
// uint32 and uint64 inputs (held as int32, see values.ts) take an Int32Array or their own typed array (a uint32 or
// uint64 value beyond int32 is an error).
import { fromData } from '../../tensor/creation.js';
import { getBackend } from '../../tensor/device.js';
import { numel, shapeStr } from '../../tensor/shape.js';
import { isTensor, type Tensor } from '../../tensor/tensor.js';
import { float64ToFloat32, int64ToInt32, unsignedToInt32 } from './values.js';
import type { OnnxIO } from './session.js';

/**
 * One input value: a Tensor, or a flat typed array shaped from the input's declared shape (a Uint16Array holds the
 * raw half bits of a float16 input).
 */
export type OnnxFeed = Tensor | Float32Array | Float64Array | Uint16Array | Int32Array | BigInt64Array | Int8Array | Uint8Array | Int16Array | Uint32Array | BigUint64Array;

/** The typed array of each ONNX integer type held in int32 besides int64 (an Int32Array is taken too). */
const OWN_ARRAY: Record<string, { name: string; is: (a: ArrayBufferView) => boolean }> = {
  int16: { name: 'Int16Array', is: (a) => a instanceof Int16Array },
  uint16: { name: 'Uint16Array', is: (a) => a instanceof Uint16Array },
  uint32: { name: 'Uint32Array', is: (a) => a instanceof Uint32Array },
  uint64: { name: 'BigUint64Array', is: (a) => a instanceof BigUint64Array },
};

/** What a typed array for `io` must be, for error messages. */
function wanted(io: OnnxIO): string {
  if (io.onnxType === 'int64') return 'int32 (ONNX int64; forwardpass holds int64 as int32)';
  const own = OWN_ARRAY[io.onnxType];
  if (own) return `int32 (ONNX ${io.onnxType}; an Int32Array or a ${own.name})`;
  if (io.onnxType === 'bfloat16') return 'float32 (ONNX bfloat16, held as float32: a Float32Array)';
  if (io.onnxType === 'double') return 'float32 (ONNX double: a Float32Array, or a Float64Array whose values fit float32)';
  if (io.dtype === 'float16') return 'float16 (a Float32Array, or a Uint16Array of raw half bits)';
  return io.dtype;
}

/** Whether a typed array (not a BigInt64Array) can feed an input of `io.dtype`. */
function arrayFits(feed: ArrayBufferView, io: OnnxIO): boolean {
  switch (io.dtype) {
    case 'float32': return feed instanceof Float32Array;
    case 'float16': return feed instanceof Float32Array || feed instanceof Uint16Array;
    case 'int32': return feed instanceof Int32Array;
    case 'int8': return feed instanceof Int8Array;
    default: return feed instanceof Uint8Array; // uint8, bool
  }
}

/** The tensor for `io` on `backend`; `created` is false when it is the caller's own tensor (never disposed). */
export async function feedToTensor(feed: OnnxFeed, io: OnnxIO, backend: string): Promise<{ tensor: Tensor; created: boolean; shape: readonly number[] }> {
  const what = `forwardpass: onnx: run: input '${io.name}'`;
  if (isTensor(feed)) {
    if (feed.dtype !== io.dtype) throw new TypeError(`${what} must be ${io.onnxType === 'int64' || OWN_ARRAY[io.onnxType] ? wanted(io) : io.dtype}, got a ${feed.dtype} tensor`);
    if (feed.device === backend) return { tensor: feed, created: false, shape: feed.shape };
    const t = await feed.to(backend);
    return { tensor: t, created: true, shape: t.shape };
  }
  const { data, shape } = feedArray(feed, io);
  // fromData reads a Uint16Array as raw half bits and converts other arrays value by value
  return { tensor: fromData(data, shape, io.dtype, getBackend(backend)), created: true, shape };
}

/**
 * A typed-array feed for `io` as values fromData takes (converted from int64, uint32, double... where needed) and
 * its shape, from the declared shape (every dim known, or one unknown dim taken from the length). Throws the run's
 * errors for a feed that is not a typed array of a type `io` takes, or that the declared shape cannot shape.
 */
export function feedArray(feed: Exclude<OnnxFeed, Tensor>, io: OnnxIO): { data: ArrayLike<number>; shape: number[] } {
  const what = `forwardpass: onnx: run: input '${io.name}'`;
  if (!ArrayBuffer.isView(feed)) throw new TypeError(`${what} must be a Tensor or a typed array, got ${feed === null ? 'null' : Array.isArray(feed) ? 'a plain array (make it a Tensor: tensor(values, { dtype }))' : typeof feed}`);
  let data: ArrayLike<number>;
  const own = OWN_ARRAY[io.onnxType];
  if (own?.is(feed)) {
    data = io.onnxType === 'uint32' || io.onnxType === 'uint64' ? unsignedToInt32(feed as Uint32Array | BigUint64Array, `input '${io.name}'`, io.onnxType) : Int32Array.from(feed as Int16Array | Uint16Array);
  } else if (feed instanceof BigInt64Array) {
    if (io.onnxType !== 'int64') throw new TypeError(`${what} must be ${wanted(io)}, got a BigInt64Array`);
    data = int64ToInt32(feed, `input '${io.name}'`, false);
  } else if (feed instanceof Float64Array && io.onnxType === 'double') {
    data = float64ToFloat32(feed, `run: input '${io.name}'`);
  } else {
    if (!arrayFits(feed, io)) throw new TypeError(`${what} must be ${wanted(io)}, got a ${feed.constructor.name}`);
    data = feed as ArrayLike<number>;
  }
  if (!io.shapeKnown) throw new RangeError(`${what}: the model declares no shape for it, so a typed array cannot be shaped; pass a Tensor`);
  const dims = io.shape.map((d) => (typeof d === 'number' ? d : -1));
  const unknown = dims.filter((d) => d === -1).length;
  const known = numel(dims.filter((d) => d !== -1));
  if (unknown > 1 || (unknown === 1 && (known === 0 || data.length % known !== 0)) || (unknown === 0 && known !== data.length)) {
    throw new RangeError(`${what}: a typed array of ${data.length} values cannot be shaped as [${io.shape.map((d) => d ?? '?').join(', ')}]; pass a Tensor with its shape`);
  }
  return { data, shape: dims.map((d) => (d === -1 ? data.length / known : d)) };
}

/** `float32 [batch, 3]`, `int64 as int32 [?]`, `float32 (any shape)`: an input's type and shape for messages. */
export function describeIO(v: OnnxIO): string {
  const t = v.onnxType === 'int64' ? 'int64 as int32' : v.dtype;
  return v.shapeKnown ? `${t} [${v.shape.map((d) => d ?? '?').join(', ')}]` : `${t} (any shape)`;
}

const shapeText = (v: OnnxIO) => shapeStr(v.shape.map((d) => d ?? '?') as unknown as number[]);

/**
 * Check names, dtypes and shapes of the feeds (rank, fixed dims, symbolic dims agreeing across inputs; an input
 * declared without a shape takes any), then place them in `env`; the caller's own tensors go in `userTensors`.
 */
export async function bindFeeds(inputs: readonly OnnxIO[], feeds: Record<string, OnnxFeed>, backend: string, env: Map<string, Tensor>, userTensors: Set<Tensor>): Promise<void> {
  const expected = inputs.map((v) => `${v.name} (${describeIO(v)})`).join(', ');
  if (feeds === null || typeof feeds !== 'object') throw new TypeError(`forwardpass: onnx: run: expected an object of inputs by name (${expected}), got ${feeds === null ? 'null' : typeof feeds}`);
  for (const k of Object.keys(feeds)) {
    if (!inputs.some((v) => v.name === k)) throw new Error(`forwardpass: onnx: run: unknown input '${k}'; the model's inputs are ${expected}`);
  }
  const dims = new Map<string, [number, string]>();
  for (const v of inputs) {
    if (!(v.name in feeds) || feeds[v.name] === undefined) throw new Error(`forwardpass: onnx: run: missing input '${v.name}'; the model's inputs are ${expected}`);
    const t = await feedToTensor(feeds[v.name]!, v, backend);
    const refuse = (e: Error): never => {
      if (t.created) t.tensor.dispose();
      throw e;
    };
    if (v.shapeKnown && t.shape.length !== v.shape.length) {
      refuse(new RangeError(`forwardpass: onnx: run: input '${v.name}' must have rank ${v.shape.length} ${shapeText(v)}, got shape ${shapeStr(t.shape)}`));
    }
    if (v.shapeKnown) {
      v.shape.forEach((d, i) => {
        const got = t.shape[i]!;
        if (typeof d === 'number' && d !== got) {
          refuse(new RangeError(`forwardpass: onnx: run: input '${v.name}' must have shape ${shapeText(v)}, got ${shapeStr(t.shape)} (dim ${i} is ${got}, expected ${d})`));
        }
        if (typeof d === 'string') {
          const seen = dims.get(d);
          if (seen && seen[0] !== got) refuse(new RangeError(`forwardpass: onnx: run: dim '${d}' is ${seen[0]} in input '${seen[1]}' but ${got} in input '${v.name}' (dim ${i} of ${shapeStr(t.shape)})`));
          dims.set(d, [got, v.name]);
        }
      });
    }
    env.set(v.name, t.tensor);
    if (!t.created) userTensors.add(t.tensor);
  }
}
