// The KServe / Triton v2 (Open Inference Protocol) REST JSON shapes: inference request tensors into host tensors,
// host tensors into response outputs, and model metadata. Bad input is a RequestError naming the tensor.
import { RequestError, shapeText, type HostTensor, type ServableModel, type TensorSpec } from './servable.js';

const FLOAT_TYPES = new Set(['FP32', 'FP16', 'FP64']);
const INT_TYPES = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'BOOL']);

/** The v2 datatype a spec is announced as: FP32, or INT64 for ids (what exporters declare; INT32 is taken too). */
export const v2DType = (s: TensorSpec): string => (s.dtype === 'float32' ? 'FP32' : 'INT64');

/** The model metadata object (`GET /v2/models/{name}`): variable dims are -1. */
export function modelMetadata(name: string, m: ServableModel, platform: string): object {
  const meta = (s: TensorSpec) => ({ name: s.name, datatype: v2DType(s), shape: s.shape.map((d) => (typeof d === 'number' ? d : -1)) });
  return { name, versions: ['1'], platform, inputs: m.inputs.map(meta), outputs: m.outputs.map((s) => ({ ...meta(s), datatype: s.dtype === 'float32' ? 'FP32' : 'INT32' })) };
}

function flatten(data: unknown, out: unknown[]): void {
  if (Array.isArray(data)) for (const d of data) flatten(d, out);
  else out.push(data);
}

/** One request input (`{name, shape, datatype, data}`) as a host tensor of the spec's dtype. */
function toHostTensor(x: Record<string, unknown>, spec: TensorSpec): HostTensor {
  const name = spec.name;
  const want = `${v2DType(spec)}${spec.dtype === 'int32' ? ' (or INT32)' : ''} ${shapeText(spec.shape)}`;
  const shape = x.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new RequestError(`forwardpass: serve: input '${name}': expected "shape" to be a list of non-negative integers (${want}), found ${JSON.stringify(shape)}`, name);
  const dt = x.datatype;
  if (typeof dt !== 'string' || !(FLOAT_TYPES.has(dt) || INT_TYPES.has(dt))) throw new RequestError(`forwardpass: serve: input '${name}': expected "datatype" ${want}, found ${JSON.stringify(dt)}`, name);
  const isFloat = FLOAT_TYPES.has(dt);
  if (isFloat !== (spec.dtype === 'float32') || (!isFloat && dt !== 'INT32' && dt !== 'INT64')) {
    throw new RequestError(`forwardpass: serve: input '${name}': expected ${want}, found ${dt} ${shapeText(shape as number[])}`, name);
  }
  const flat: unknown[] = [];
  flatten(x.data, flat);
  const n = (shape as number[]).reduce((a, b) => a * b, 1);
  if (x.data === undefined || flat.length !== n) throw new RequestError(`forwardpass: serve: input '${name}': shape ${shapeText(shape as number[])} needs ${n} values in "data", found ${x.data === undefined ? 'no "data"' : flat.length}`, name);
  const data = isFloat ? new Float32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    const ok = typeof v === 'number' && (isFloat || (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31));
    if (!ok) throw new RequestError(`forwardpass: serve: input '${name}': data[${i}] must be ${isFloat ? 'a number' : 'an integer that fits int32'}, found ${JSON.stringify(v)}`, name);
    data[i] = v as number;
  }
  return { dtype: spec.dtype, shape: shape as number[], data };
}

/** What an inference request asks for: its id, its inputs, and which outputs to send back (all when undefined). */
export interface V2Request {
  id?: string;
  inputs: Record<string, HostTensor>;
  outputs?: string[];
}

/** Parse an inference request body (already JSON-parsed) against the model's inputs. */
export function parseInferRequest(body: unknown, m: ServableModel): V2Request {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new RequestError(`forwardpass: serve: expected an inference request object {"inputs": [...]}, found ${Array.isArray(body) ? 'an array' : JSON.stringify(body)}`);
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.inputs) || b.inputs.length === 0) throw new RequestError(`forwardpass: serve: expected "inputs" to be a non-empty list of tensors {name, shape, datatype, data}, found ${JSON.stringify(b.inputs) ?? 'nothing'}`);
  if (b.id !== undefined && typeof b.id !== 'string') throw new RequestError(`forwardpass: serve: expected "id" to be a string, found ${JSON.stringify(b.id)}`);
  const inputs: Record<string, HostTensor> = {};
  for (const x of b.inputs as unknown[]) {
    const t = x as Record<string, unknown> | null;
    const name = t && typeof t === 'object' ? t.name : undefined;
    if (typeof name !== 'string') throw new RequestError(`forwardpass: serve: expected every input to be an object with a string "name", found ${JSON.stringify(x)?.slice(0, 80)}`);
    const spec = m.inputs.find((s) => s.name === name);
    if (!spec) throw new RequestError(`forwardpass: serve: unknown input '${name}'; the model takes ${m.inputs.map((s) => `'${s.name}'`).join(', ')}`, name);
    if (inputs[name]) throw new RequestError(`forwardpass: serve: input '${name}' was given twice`, name);
    inputs[name] = toHostTensor(t!, spec);
  }
  let outputs: string[] | undefined;
  if (b.outputs !== undefined) {
    if (!Array.isArray(b.outputs)) throw new RequestError(`forwardpass: serve: expected "outputs" to be a list of {name}, found ${JSON.stringify(b.outputs)}`);
    outputs = (b.outputs as { name?: unknown }[]).map((o) => {
      const n = o?.name;
      if (typeof n !== 'string' || !m.outputs.some((s) => s.name === n)) throw new RequestError(`forwardpass: serve: unknown output ${JSON.stringify(n)}; the model gives ${m.outputs.map((s) => `'${s.name}'`).join(', ')}`);
      return n;
    });
  }
  return { id: b.id as string | undefined, inputs, outputs };
}

/** The inference response object for `outs`. */
export function inferResponse(modelName: string, req: V2Request, outs: Record<string, HostTensor>): object {
  const names = req.outputs ?? Object.keys(outs);
  return {
    model_name: modelName,
    model_version: '1',
    ...(req.id !== undefined ? { id: req.id } : {}),
    outputs: names.map((name) => {
      const t = outs[name]!;
      return { name, datatype: t.dtype === 'float32' ? 'FP32' : 'INT32', shape: t.shape, data: Array.from(t.data) };
    }),
  };
}
