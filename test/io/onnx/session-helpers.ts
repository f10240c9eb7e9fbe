// Helpers for the ONNX runtime tests: one-node (or small) models written as plain OnnxModel objects, run through
// OnnxSession.fromModel, plus naive reference loops (strided index helpers) shared by the op tables.
import * as fp from '../../../src/index.js';
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor } from '../../../src/index.js';

export type Attr = number | string | number[] | { float: number } | { floats: number[] } | { tensor: OnnxTensor } | OnnxAttribute;

/** Plain values as attributes: integers -> int, number arrays -> ints, strings -> string; { float }, { floats } force floats. */
export function attr(v: Attr): OnnxAttribute {
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'int', value: v } : { type: 'float', value: v };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (Array.isArray(v)) return { type: 'ints', value: v };
  if ('float' in v) return { type: 'float', value: v.float };
  if ('floats' in v) return { type: 'floats', value: v.floats };
  if ('tensor' in v) return { type: 'tensor', value: v.tensor };
  return v;
}

/** A constant input: an initializer. int64 values are given as numbers or bigints. */
export interface Const { const: number[] | bigint[] | Float32Array; dims: number[]; type?: 'float' | 'int64' | 'int32' | 'bool' }
export const i64 = (v: (number | bigint)[], dims = [v.length]): Const => ({ const: v.map((x) => BigInt(x)) as bigint[], dims, type: 'int64' });
export const f32c = (v: number[] | Float32Array, dims = [v.length]): Const => ({ const: Float32Array.from(v), dims, type: 'float' });

export function onnxTensor(name: string, c: Const): OnnxTensor {
  const type = c.type ?? 'float';
  const data = type === 'int64' ? BigInt64Array.from(c.const as bigint[], (x) => BigInt(x)) : type === 'int32' ? Int32Array.from(c.const as number[]) : type === 'bool' ? Uint8Array.from(c.const as number[]) : Float32Array.from(c.const as number[]);
  return { name, dataType: type, dims: c.dims, data };
}

const ONNX_TYPE: Record<string, string> = { float32: 'float', int32: 'int32', bool: 'bool', float16: 'float16', int8: 'int8', uint8: 'uint8' };

export interface NodeSpec { op: string; inputs: string[]; outputs: string[]; attrs?: Record<string, Attr>; name?: string }

/** A model from nodes, graph inputs (name -> [elem type, shape]), initializers and output names. */
export function makeModel(opset: number, nodes: NodeSpec[], inputs: Record<string, [string, (number | string | null)[]]>, outputs: string[], inits: Record<string, Const> = {}): OnnxModel {
  const graphNodes: OnnxNode[] = nodes.map((n, i) => ({
    name: n.name ?? `n${i}`, opType: n.op, domain: '', inputs: n.inputs, outputs: n.outputs,
    attributes: Object.fromEntries(Object.entries(n.attrs ?? {}).map(([k, v]) => [k, attr(v)])),
  }));
  return {
    irVersion: 8, producerName: 'test', producerVersion: '', opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'g', nodes: graphNodes, valueInfo: [],
      initializers: Object.entries(inits).map(([k, c]) => onnxTensor(k, c)),
      inputs: Object.entries(inputs).map(([name, [elemType, shape]]) => ({ name, elemType, shape })),
      outputs: outputs.map((name) => ({ name })),
    },
  };
}

/**
 * Run one node: each input is a Tensor (fed), a Const (initializer) or null (omitted); returns its outputs.
 * `host: true` also makes the tensor inputs initializers (so the node is constant-folded at load).
 */
export async function runNode(opset: number, op: string, ins: (fp.Tensor | Const | null)[], attrs: Record<string, Attr> = {}, opts: { outputs?: number; backend?: string; precision?: 'f32' | 'f16' | 'int8' } = {}): Promise<fp.Tensor[]> {
  const inputs: Record<string, [string, (number | string | null)[]]> = {};
  const inits: Record<string, Const> = {};
  const feeds: Record<string, fp.Tensor> = {};
  const names = ins.map((x, i) => {
    if (x === null) return '';
    const name = `in${i}`;
    if (fp.isTensor(x)) { inputs[name] = [ONNX_TYPE[x.dtype]!, [...x.shape]]; feeds[name] = x; }
    else inits[name] = x;
    return name;
  });
  const outs = Array.from({ length: opts.outputs ?? 1 }, (_, k) => `out${k}`);
  const model = makeModel(opset, [{ op, inputs: names, outputs: outs, attrs }], inputs, outs, inits);
  const s = await fp.OnnxSession.fromModel(model, { backend: opts.backend ?? 'cpu', precision: opts.precision });
  try {
    const r = await s.run(feeds);
    return outs.map((o) => r[o]!);
  } finally {
    s.dispose();
  }
}

/** Row-major multi-index of flat index i. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) { idx[d] = i % shape[d]!; i = Math.floor(i / shape[d]!); }
  return idx;
}

/** Flat index of a multi-index. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let f = 0;
  for (let d = 0; d < shape.length; d++) f = f * shape[d]! + idx[d]!;
  return f;
}

export const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
