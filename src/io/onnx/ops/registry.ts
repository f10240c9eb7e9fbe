// The ONNX op registry: opType -> implementation, with typed attribute readers and the contexts handed to each
// implementation at load (infer, prepare) and at run time (run).
//
// CONTRACT for op files (src/io/onnx/ops/*.ts; each registers itself with `registerOnnxOp` when imported, and
// ops/index.ts imports every op file — a new file such as quantized.ts adds one import line there):
// - `registerOnnxOp(opType, impl, domain = '')` — one implementation per (domain, opType); registering twice throws.
// - `impl.run(c)` executes one node synchronously: `c.inputs[i]` are Tensors (undefined for an omitted optional
//   input), it returns one Tensor per node output (return `undefined` for an optional output it does not make;
//   the runtime refuses a graph that reads such an output). Ops may return views, or an input itself (the
//   runtime wraps it in a new view). Never dispose inputs; dispose your own temporaries.
//   New tensors go on `c.device` (the node's placement: the session backend or 'cpu' for host nodes).
// - `impl.hostInputs` lists inputs read as small host lists (shapes, axes, pads, starts, scalars): the runtime
//   hands them over as CPU tensors; read them with `c.ints(i)` / `c.floats(i)`. Every other input arrives on
//   `c.device`. int64 ONNX values arrive as int32 (see session.ts).
// - `impl.exactInputs` lists float inputs whose constant values precision 'f16' must not round (comparison
//   thresholds, values to quantize); host inputs are never rounded either. Every other float constant input with
//   more than one element is stored as float16 in an 'f16' session (unless float16 cannot hold its values).
// - `impl.infer(c)` (optional) gives output dtypes, shapes (number | symbolic name | null) and, for small host
//   integer values, their known contents (`values`, for Shape -> Gather -> Concat -> Reshape chains). Without it
//   an output takes input 0's dtype and an unknown shape.
// - `impl.cpuOnly` (optional): the op is a typed-array kernel (it reads its inputs with dataSync). true, or a function
//   of the node and its inferred input types saying whether this node needs the kernel. In a session on another
//   backend such a node runs on the host (inputs read back, outputs uploaded by the next device reader, visibly in
//   traces), and onnxOpSupport reports it as not running on that backend.
// - `impl.validate(c)` (optional) runs at load for every node of the plan, before inference and folding: it refuses
//   what depends only on the node itself (attribute values and types, which outputs are wired), so that a model
//   forwardpass cannot run fails in `loadOnnx`, never at the first `run`. Keep such checks out of `run`.
// - `impl.prepare(c)` (optional) runs once at load after constant folding: validate attributes, precompute from
//   constant inputs (`c.constant(i)`: a CPU tensor or undefined), e.g. quantize a constant weight when
//   `c.precision === 'int8'`. What it returns is handed to every run as `c.state`. Disposable state (Modules,
//   Tensors) is disposed with the session when it has a `dispose()` method.
// - Attributes are read through `c.attrs` (`int`, `float`, `string`, `ints`, `floats`, `tensor`), which raise
//   `forwardpass: onnx: node '<name>' (<opType>): attribute '<a>' must be <expected>, found <found>`.
// - Errors an op raises itself go through `c.fail(msg)` (same prefix).
import type { DType } from '../../../tensor/dtype.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { OnnxAttribute, OnnxNode, OnnxTensor } from '../model.js';

/** A dimension: a number, a symbolic name (dim_param such as 'batch') or null (unknown). */
export type Dim = number | string | null;

/** What load-time inference knows about a value. `values`: contents of a small host integer value, when known. */
export interface ValueType {
  dtype: DType;
  shape?: Dim[];
  values?: Dim[];
}

/** Precision of a session: float32, float16 storage of float initializers, or int8 MatMul/Gemm/Conv weights. */
export type OnnxPrecision = 'f32' | 'f16' | 'int8';

/** What every context has: the node, its label (for errors and traces), the opset, the attribute readers. */
export interface NodeContext {
  node: OnnxNode;
  /** node.name, or `${opType}_${index}` when the node has no name. */
  label: string;
  /** Version of the default ONNX domain imported by the model. */
  opset: number;
  attrs: AttrReader;
  /** Throws `forwardpass: onnx: node '<label>' (<opType>): <msg>`. */
  fail(msg: string): never;
}

export interface InferContext extends NodeContext {
  inputs: (ValueType | undefined)[];
}

export interface PrepareContext extends NodeContext {
  precision: OnnxPrecision;
  /** The constant value of input i (a CPU tensor, int64 already as int32), or undefined when it is computed at run time. */
  constant(i: number): Tensor | undefined;
  inputs: (ValueType | undefined)[];
  /** Backend the session runs on. */
  backend: string;
  /** The graph input's name when input i is a graph input (fed by the caller at run), else undefined. */
  graphInput(i: number): string | undefined;
  /** Say that run() will not read constant input i (it then arrives undefined): the session keeps no device copy. */
  dropInput(i: number): void;
}

export interface RunContext extends NodeContext {
  inputs: (Tensor | undefined)[];
  /** Backend new tensors of this node go on ('cpu' for host nodes). */
  device: string;
  /** What prepare() returned. */
  state: unknown;
  /** Input i, required: throws naming the input when it is missing. */
  input(i: number): Tensor;
  /** The integer contents of a host input (undefined when omitted). */
  ints(i: number): number[] | undefined;
  /** The numeric contents of a host input (undefined when omitted). */
  floats(i: number): number[] | undefined;
}

export interface OnnxOpImpl {
  /** Inputs read on the host (shapes, axes, pads, scalars). */
  hostInputs?: readonly number[];
  /** Float inputs whose constant values precision 'f16' keeps as float32 (thresholds, values to quantize). */
  exactInputs?: readonly number[];
  /** A typed-array (host) kernel: always, or for the nodes where the function says so (see the contract above). */
  cpuOnly?: boolean | ((c: InferContext) => boolean);
  /** Refuse at load what depends only on the node (attributes, wired outputs); see the contract above. */
  validate?(c: NodeContext): void;
  infer?(c: InferContext): ValueType[];
  prepare?(c: PrepareContext): unknown | Promise<unknown>;
  run(c: RunContext): (Tensor | undefined)[];
}

const registry = new Map<string, OnnxOpImpl>();
const keyOf = (domain: string, opType: string) => `${domain === 'ai.onnx' ? '' : domain}::${opType}`;

/** Register the implementation of an ONNX op (default domain ''). @example registerOnnxOp('Relu', { run: (c) => [relu(c.input(0))] }) */
export function registerOnnxOp(opType: string, impl: OnnxOpImpl, domain = ''): void {
  const k = keyOf(domain, opType);
  if (registry.has(k)) throw new Error(`forwardpass: onnx: op '${opType}'${domain ? ` (domain '${domain}')` : ''} is registered twice`);
  registry.set(k, impl);
}

/** The implementation of an op, or undefined. @example getOnnxOp('Gemm') */
export function getOnnxOp(opType: string, domain = ''): OnnxOpImpl | undefined {
  return registry.get(keyOf(domain, opType));
}

/** Every registered op type of a domain, sorted. @example registeredOnnxOps().includes('Conv') */
export function registeredOnnxOps(domain = ''): string[] {
  const pre = `${domain}::`;
  return [...registry.keys()].filter((k) => k.startsWith(pre)).map((k) => k.slice(pre.length)).sort();
}

type AttrValue<T extends OnnxAttribute['type']> = Extract<OnnxAttribute, { type: T }>['value'];

/** Typed attribute accessors: each returns the default when the attribute is absent (or throws when no default is given). */
export class AttrReader {
  constructor(private readonly node: OnnxNode, private readonly label: string) {}

  fail(name: string, expected: string, found: string): never {
    throw new Error(`forwardpass: onnx: node '${this.label}' (${this.node.opType}): attribute '${name}' must be ${expected}, found ${found}`);
  }

  has(name: string): boolean {
    return name in this.node.attributes;
  }

  private get<T extends OnnxAttribute['type']>(name: string, type: T, expected: string, dflt: unknown): AttrValue<T> | undefined {
    return this.lookup(name, type, expected, dflt) as AttrValue<T> | undefined;
  }

  private lookup(name: string, type: string, expected: string, dflt: unknown): unknown {
    const a = this.node.attributes[name];
    if (!a) {
      if (dflt === undefined) this.fail(name, expected, 'none (it is required)');
      return undefined;
    }
    if (a.type !== type) this.fail(name, expected, `${a.type === 'ints' || a.type === 'floats' || a.type === 'strings' ? 'a list of ' : 'a '}${a.type} attribute`);
    return a.value;
  }

  int(name: string, dflt?: number): number {
    return this.get(name, 'int', 'an int', dflt) ?? dflt!;
  }
  /** An int restricted to `allowed` values. */
  intOf(name: string, allowed: readonly number[], dflt?: number): number {
    const v = this.int(name, dflt);
    if (!allowed.includes(v)) this.fail(name, `one of ${allowed.join(', ')}`, String(v));
    return v;
  }
  float(name: string, dflt?: number): number {
    return this.get(name, 'float', 'a float', dflt) ?? dflt!;
  }
  string(name: string, dflt?: string): string {
    return this.get(name, 'string', 'a string', dflt) ?? dflt!;
  }
  /** A string restricted to `allowed` values. */
  stringOf<S extends string>(name: string, allowed: readonly S[], dflt?: S): S {
    const v = this.string(name, dflt);
    if (!(allowed as readonly string[]).includes(v)) this.fail(name, `one of ${allowed.map((s) => `'${s}'`).join(', ')}`, `'${v}'`);
    return v as S;
  }
  ints(name: string, dflt?: number[]): number[] {
    return this.get(name, 'ints', 'a list of ints', dflt) ?? dflt!;
  }
  floats(name: string, dflt?: number[]): number[] {
    return this.get(name, 'floats', 'a list of floats', dflt) ?? dflt!;
  }
  tensor(name: string, dflt?: OnnxTensor | null): OnnxTensor | undefined {
    return this.get(name, 'tensor', 'a tensor', dflt === null ? 0 : dflt) ?? undefined;
  }
}
