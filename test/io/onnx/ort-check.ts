// One-node (or small) ONNX models written with the test writer, run by onnxruntime-node and by forwardpass on the
// CPU, every output compared (shape, then values within atol + rtol·|expected|, NaN where onnxruntime has NaN).
import { expect } from 'vitest';
import * as fp from '../../../src/index.js';
import { randomArray } from '../../helpers.js';
import { ortNumbers, toFeeds, worst } from './compare.js';
import { runOrt, type OrtValue } from './ort.js';
import { onnxModel, type AttrValue, type ElemName, type ModelSpec, type TensorSpec } from './writer.js';

/** A float feed of seeded values in [lo, hi). */
export const floats = (dims: number[], seed: number, lo = -1, hi = 1): OrtValue => ({ type: 'float', dims, data: randomArray(dims.reduce((a, b) => a * b, 1), seed, lo, hi) });
/** An int64 feed. */
export const int64s = (dims: number[], v: number[]): OrtValue => ({ type: 'int64', dims, data: BigInt64Array.from(v, (x) => BigInt(x)) });

export interface OneNode {
  op: string;
  opset: number;
  /** Feeds by input name, in input order; '' entries in `inputs` mark omitted optional inputs. */
  feeds: Record<string, OrtValue>;
  inputs?: string[];
  attrs?: Record<string, AttrValue | undefined>;
  /** Output names and element types (default one float output 'y'). */
  outputs?: [string, ElemName][];
  initializers?: TensorSpec[];
}

/** The model of one node. */
export function oneNodeModel(n: OneNode): Uint8Array {
  const spec: ModelSpec = {
    opset: n.opset,
    nodes: [{ op: n.op, inputs: n.inputs ?? Object.keys(n.feeds), outputs: (n.outputs ?? [['y', 'float']]).map(([o]) => o), attrs: n.attrs, name: 'n' }],
    inputs: Object.entries(n.feeds).map(([name, v]) => ({ name, type: v.type as ElemName, shape: v.dims })),
    outputs: (n.outputs ?? [['y', 'float']]).map(([name, type]) => ({ name, type })),
    initializers: n.initializers,
  };
  return onnxModel(spec);
}

/** Run model bytes both ways and expect every output to agree; resolves to forwardpass's outputs as numbers. */
export async function expectLikeOrt(bytes: Uint8Array, feeds: Record<string, OrtValue>, tol = { atol: 1e-4, rtol: 1e-4 }, what = ''): Promise<Record<string, number[]>> {
  const want = await runOrt(bytes, feeds);
  const s = await fp.loadOnnx(bytes, { backend: 'cpu' });
  const ins = toFeeds(feeds);
  const got = await s.run(ins);
  const out: Record<string, number[]> = {};
  try {
    for (const [name, w] of Object.entries(want)) {
      const t = got[name];
      expect(t, `${what} output ${name}`).toBeDefined();
      expect([...t!.shape], `${what} output ${name} shape`).toEqual(w.dims);
      out[name] = Array.from(await t!.data(), Number);
      const bad = worst(out[name]!, ortNumbers(w), tol.atol, tol.rtol);
      expect(bad, `${what} output ${name}`).toBeNull();
    }
  } finally {
    Object.values(got).forEach((t) => t.dispose());
    Object.values(ins).forEach((t) => t.dispose());
    s.dispose();
  }
  return out;
}

/** One node both ways (see expectLikeOrt). */
export function expectNodeLikeOrt(n: OneNode, tol?: { atol: number; rtol: number }, what = n.op): Promise<Record<string, number[]>> {
  return expectLikeOrt(oneNodeModel(n), n.feeds, tol, what);
}

/** forwardpass's outputs of one node (no onnxruntime), as numbers. */
export async function runOurs(n: OneNode): Promise<Record<string, number[]>> {
  const s = await fp.loadOnnx(oneNodeModel(n), { backend: 'cpu' });
  const ins = toFeeds(n.feeds);
  try {
    const got = await s.run(ins);
    const out: Record<string, number[]> = {};
    for (const [k, t] of Object.entries(got)) { out[k] = Array.from(await t.data(), Number); t.dispose(); }
    return out;
  } finally {
    Object.values(ins).forEach((t) => t.dispose());
    s.dispose();
  }
}

/** The same feeds with NaN at flat index `at` of input `name`. */
export function withNaN(feeds: Record<string, OrtValue>, name: string, at = 0): Record<string, OrtValue> {
  const v = feeds[name]!;
  const data = Float32Array.from(v.data as Float32Array);
  data[at] = NaN;
  return { ...feeds, [name]: { ...v, data } };
}
