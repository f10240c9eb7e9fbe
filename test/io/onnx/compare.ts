// Oracle comparison for random ONNX graphs: runs one GraphBuilder's model with onnxruntime-node and with
// forwardpass's loadOnnx, then compares every node output in graph order (dtype, shape, values within the
// producing op's tolerance) and reports the first op that differs.
import * as fp from '../../../src/index.js';
import { buildChain, type GraphBuilder, type OpGen } from './gen.js';
import { runOrt, type OrtValue } from './ort.js';

/** The dtype forwardpass holds each ONNX element type in. */
const FP_DTYPE: Record<string, fp.DType> = { float: 'float32', float16: 'float16', double: 'float32', int64: 'int32', int32: 'int32', int8: 'int8', uint8: 'uint8', bool: 'bool' };

/** Feeds as forwardpass tensors (int64 as int32, as the runtime holds them). */
export function toFeeds(feeds: Record<string, OrtValue>, backend = 'cpu'): Record<string, fp.Tensor> {
  return Object.fromEntries(Object.entries(feeds).map(([k, v]) => {
    const data = v.data instanceof BigInt64Array ? Int32Array.from(v.data, Number) : (v.data as ArrayLike<number>);
    return [k, fp.tensor(Array.from(data), { shape: v.dims, dtype: FP_DTYPE[v.type]!, device: backend })];
  }));
}

/** Plain numbers of an onnxruntime output (float16 decoded, int64 and bool as numbers). */
export function ortNumbers(v: OrtValue): number[] {
  if (v.type === 'float16') return Array.from(fp.f16ArrayToF32(v.data as Uint16Array));
  return Array.from(v.data as ArrayLike<number | bigint>, Number);
}

export interface Tolerance {
  atol: number;
  rtol: number;
  /** Integer outputs may differ by this much (QLinear* requantization); default 0 (exact). */
  intTol?: number;
}

/** Index and size of the worst violation of |a - b| <= atol + rtol·|b| (NaN must meet NaN, ±Inf must be equal), or null. */
export function worst(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): { i: number; ours: number; ort: number } | null {
  let bad: { i: number; ours: number; ort: number; excess: number } | null = null;
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      return { i, ours: x, ort: y };
    }
    if (x === y) continue;
    const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (!(excess <= 0) && (!bad || excess > bad.excess)) bad = { i, ours: x, ort: y, excess };
  }
  return bad && { i: bad.i, ours: bad.ours, ort: bad.ort };
}

/**
 * Run one built graph both ways and return the first difference (a sentence naming op, value, shapes and
 * numbers), or null when every node output agrees.
 */
export async function compareGraph(g: GraphBuilder, tolOf: (op: string, depth: number) => Tolerance, backend = 'cpu', precision: fp.OnnxPrecision = 'f32'): Promise<string | null> {
  const bytes = g.model();
  const ort = await runOrt(bytes, g.feeds);
  let session: fp.OnnxSession;
  try {
    session = await fp.loadOnnx(bytes, { backend, precision });
  } catch (e) {
    return `load failed: ${(e as Error).message}`;
  }
  const feeds = toFeeds(g.feeds, backend);
  let ours: Record<string, fp.Tensor>;
  try {
    ours = await session.run(feeds);
  } catch (e) {
    session.dispose();
    Object.values(feeds).forEach((t) => t.dispose());
    return `run failed: ${(e as Error).message}`;
  }
  try {
    for (const [depth, v] of g.values.entries()) {
      const o = ort[v.name]!, t = ours[v.name];
      const where = `${v.op} output '${v.name}'`;
      if (!t) return `${where}: forwardpass returned no such output`;
      if (t.dtype !== FP_DTYPE[o.type]) return `${where}: dtype ${t.dtype}, onnxruntime ${o.type}`;
      if (JSON.stringify([...t.shape]) !== JSON.stringify(o.dims)) return `${where}: shape [${t.shape.join(', ')}], onnxruntime [${o.dims.join(', ')}]`;
      const got = Array.from((await t.data()) as ArrayLike<number>);
      const want = ortNumbers(o);
      const tol = tolOf(v.op, depth);
      const isFloat = t.dtype === 'float32' || t.dtype === 'float16';
      const bad = isFloat ? worst(got, want, tol.atol, tol.rtol) : worst(got, want, tol.intTol ?? 0, 0);
      if (bad) return `${where} [${o.dims.join(', ')}] ${t.dtype}: element ${bad.i} is ${bad.ours}, onnxruntime ${bad.ort} (tolerance atol ${isFloat ? tol.atol : tol.intTol ?? 0}, rtol ${isFloat ? tol.rtol : 0})`;
    }
    return null;
  } finally {
    Object.values(ours).forEach((t) => t.dispose());
    Object.values(feeds).forEach((t) => t.dispose());
    session.dispose();
  }
}

/** Graph description for failure messages. */
export const describeGraph = (g: GraphBuilder, opset: number, seed: number) =>
  `opset ${opset}, seed ${seed}, ops ${g.nodes.map((n) => n.op).join(' > ')}, inputs ${g.inputs.map((i) => `${i.name}: ${i.type}[${(i.shape ?? []).join(', ')}]`).join('; ')}`;

/**
 * For each opset the op exists in, `seeds` random chains starting with `first` (session on `backend` at
 * `precision`); resolves to the failures
 * (empty when every graph agrees) and the number of graphs run.
 */
export async function fuzzOp(first: OpGen, followers: readonly OpGen[], opsets: readonly number[], seeds: number, tolOf: (op: string, depth: number) => Tolerance, backend = 'cpu', precision: fp.OnnxPrecision = 'f32'): Promise<{ failures: string[]; graphs: number }> {
  const failures: string[] = [];
  let graphs = 0;
  for (const opset of opsets) {
    if ((first.minOpset ?? 13) > opset) continue;
    for (let s = 0; s < seeds; s++) {
      const seed = 1000 * opset + 31 * s + first.op.length;
      const g = buildChain(followers, first, seed, opset);
      graphs++;
      const diff = await compareGraph(g, tolOf, backend, precision);
      if (diff) failures.push(`${diff} (${describeGraph(g, opset, seed)})`);
    }
  }
  return { failures, graphs };
}
