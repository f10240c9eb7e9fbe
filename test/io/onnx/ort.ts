// Test oracle: runs ONNX model bytes with onnxruntime-node (CPU) and returns plain typed arrays with their dims.
// Dev dependency only; never imported from src/.
import * as ort from 'onnxruntime-node';

/** An input or output: ONNX element type name, dims and data (int64 as BigInt64Array, bool as Uint8Array 0/1). */
export interface OrtValue {
  type: string;
  dims: number[];
  data: Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;
}

const TYPE_OF: Record<string, string> = { float32: 'float', float64: 'double', bool: 'bool' };
const ORT_TYPE: Record<string, ort.Tensor.Type> = {
  float: 'float32', double: 'float64', int8: 'int8', uint8: 'uint8', int16: 'int16', uint16: 'uint16', int32: 'int32',
  int64: 'int64', bool: 'bool', float16: 'float16', uint32: 'uint32', uint64: 'uint64',
};

function toOrt(v: OrtValue): ort.Tensor {
  const t = ORT_TYPE[v.type];
  if (!t) throw new Error(`ort oracle: unsupported input type '${v.type}'`);
  if (t === 'bool') return new ort.Tensor('bool', Uint8Array.from(v.data as Uint8Array, (x) => (x ? 1 : 0)), v.dims);
  return new ort.Tensor(t, v.data as never, v.dims);
}

/** Create an onnxruntime session (throws ORT's own message when it refuses the model). */
export async function ortSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled', executionProviders: ['cpu'], intraOpNumThreads: 1 });
}

/**
 * Run `bytes` with onnxruntime-node on `inputs`; resolves to every graph output (or the named ones).
 * @example
 * const out = await runOrt(bytes, { x: { type: 'float', dims: [2], data: new Float32Array([1, -1]) } });
 * out.y.data; // Float32Array [...]
 */
export async function runOrt(bytes: Uint8Array | ort.InferenceSession, inputs: Record<string, OrtValue>, outputs?: string[]): Promise<Record<string, OrtValue>> {
  const session = bytes instanceof Uint8Array ? await ortSession(bytes) : bytes;
  const feeds = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, toOrt(v)]));
  const res = await session.run(feeds, outputs ?? session.outputNames);
  const out: Record<string, OrtValue> = {};
  for (const [k, t] of Object.entries(res)) {
    const type = TYPE_OF[t.type] ?? t.type;
    let data = t.data as OrtValue['data'];
    if (t.type === 'bool') data = Uint8Array.from(data as Uint8Array, (x) => (x ? 1 : 0));
    out[k] = { type, dims: t.dims.map(Number), data };
  }
  if (bytes instanceof Uint8Array) await session.release();
  return out;
}
