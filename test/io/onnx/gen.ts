// Random ONNX graph builder for the oracle tests: seeded random data and shapes, a GraphBuilder that records
// nodes, graph inputs (with their feeds), initializers and the predicted type/shape of every value, and chains
// of 1-4 ops where each op consumes the previous op's output. Op generators live in gen-ops*.ts.
import { makeRng } from '../../../src/index.js';
import type { OrtValue } from './ort.js';
import { onnxModel, type AttrValue, type ElemName, type NodeSpec, type TensorSpec, type ValueSpec } from './writer.js';

/** Seeded random helpers. */
export class Rand {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = makeRng(seed);
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  float(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
  /** A random non-empty (unless allowEmpty) subset of 0..n-1, sorted. */
  subset(n: number, allowEmpty = false): number[] {
    for (;;) {
      const s = Array.from({ length: n }, (_, i) => i).filter(() => this.chance(0.5));
      if (s.length || allowEmpty || n === 0) return s;
    }
  }
  /** A shape of rank in [rmin, rmax] with dims in [1, dmax]. */
  shape(rmin: number, rmax: number, dmax = 4): number[] {
    return Array.from({ length: this.int(rmin, rmax) }, () => this.int(1, dmax));
  }
}

/** A value in the graph with its element type and (predicted) concrete shape. */
export interface Val {
  name: string;
  type: ElemName;
  shape: number[];
  /** Every element is known to be > 0 (safe for Log, Sqrt, Reciprocal, Pow bases). */
  positive?: boolean;
}

export const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Numpy-style broadcast of two shapes (throws if they do not broadcast: a generator bug). */
export function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`gen: shapes [${a}] and [${b}] do not broadcast`);
    return x === 1 ? y : x;
  });
}

/** Typed array for an element type, filled from `f(i)`. */
export function typedData(type: ElemName, n: number, f: (i: number) => number): OrtValue['data'] {
  switch (type) {
    case 'float': return Float32Array.from({ length: n }, (_, i) => f(i));
    case 'double': return Float64Array.from({ length: n }, (_, i) => f(i));
    case 'int64': return BigInt64Array.from({ length: n }, (_, i) => BigInt(Math.round(f(i))));
    case 'int32': return Int32Array.from({ length: n }, (_, i) => f(i));
    case 'int8': return Int8Array.from({ length: n }, (_, i) => f(i));
    case 'uint8': case 'bool': return Uint8Array.from({ length: n }, (_, i) => f(i));
    default: throw new Error(`gen: no data for type ${type}`);
  }
}

export interface InputOptions {
  lo?: number;
  hi?: number;
  /** Whole numbers only (in [lo, hi]). */
  ints?: boolean;
  /** Declare dim 0 symbolic (a per-input name) instead of its number. */
  symbolic?: boolean;
  positive?: boolean;
}

/** Collects one random graph: nodes, graph inputs with their feeds, initializers, and every value's type/shape. */
export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly inits: TensorSpec[] = [];
  readonly inputs: ValueSpec[] = [];
  readonly feeds: Record<string, OrtValue> = {};
  /** Node outputs in order, each with the op that made it (for op-by-op reports). */
  readonly values: (Val & { op: string })[] = [];
  /** Known values of int64 outputs (Shape results), so ConstantOfShape can consume them. */
  readonly known = new Map<string, number[]>();
  private count = 0;

  constructor(readonly rng: Rand, readonly opset: number) {}

  fresh(prefix: string): string {
    return `${prefix}${this.count++}`;
  }

  /** A new graph input with seeded random data. */
  input(type: ElemName, shape: number[], o: InputOptions = {}): Val {
    const name = this.fresh('in');
    const lo = o.lo ?? (o.positive ? 0.1 : -2), hi = o.hi ?? (o.positive ? 3 : 2);
    const f = type === 'bool' ? () => this.rng.int(0, 1) : o.ints || !['float', 'double'].includes(type) ? () => this.rng.int(lo, hi) : () => this.rng.float(lo, hi);
    this.feeds[name] = { type, dims: shape, data: typedData(type, numel(shape), f) };
    const symbolic = (o.symbolic ?? this.rng.chance(0.3)) && shape.length > 0;
    this.inputs.push({ name, type, shape: shape.map((d, i) => (i === 0 && symbolic ? `${name}_n` : d)) });
    return { name, type, shape, positive: o.positive || (lo > 0 && type === 'float') };
  }

  /** A new initializer; returns its name. */
  init(type: ElemName, dims: number[], data: ArrayLike<number> | ArrayLike<bigint>): string {
    const name = this.fresh('w');
    this.inits.push({ name, type, dims, data, typed: this.rng.chance(0.25) });
    return name;
  }

  /** A 1-D int64 initializer (shape arguments). */
  i64(values: number[], scalar = false): string {
    return this.init('int64', scalar ? [] : [values.length], values.map(BigInt));
  }

  /** A float initializer with random data in [lo, hi]. */
  randInit(dims: number[], lo = -1, hi = 1): string {
    return this.init('float', dims, Array.from({ length: numel(dims) }, () => this.rng.float(lo, hi)));
  }

  /** Appends a node; `outs` gives each output's type and predicted shape. */
  node(op: string, inputs: string[], outs: { type: ElemName; shape: number[]; positive?: boolean }[], attrs: Record<string, AttrValue | undefined> = {}): Val[] {
    const vals = outs.map((o) => ({ ...o, name: this.fresh(op.toLowerCase()) }));
    this.nodes.push({ op, inputs, outputs: vals.map((v) => v.name), attrs, name: this.fresh(`${op}_`) });
    for (const v of vals) this.values.push({ ...v, op });
    return vals;
  }

  /** The known value of an int64 shape tensor, if tracked. */
  shapeValue(v: Val): number[] | undefined {
    return this.known.get(v.name);
  }

  /** Model bytes with every node output declared as a graph output (so each op can be compared). */
  model(): Uint8Array {
    return onnxModel({
      opset: this.opset,
      nodes: this.nodes,
      inputs: this.inputs,
      outputs: this.values.map((v) => ({ name: v.name, type: v.type })),
      initializers: this.inits,
    });
  }
}

/** One op's generator: `make` adds the op (consuming `x` when given, else fresh inputs) and returns its main output. */
export interface OpGen {
  op: string;
  /** Lowest opset the generated form is valid in (default 13). */
  minOpset?: number;
  /** Whether the op can consume `x` as its first input (chains); absent: it always starts from fresh inputs. */
  accepts?(x: Val, opset: number): boolean;
  make(g: GraphBuilder, x: Val | null): Val;
  /** Allowed error |ours - ort| <= atol + rtol·|ort| for float outputs (default 1e-5, 1e-4); integer outputs are exact. */
  atol?: number;
  rtol?: number;
}

/** Opsets the random graphs use (forms differ between them for Reduce*, Split, Pad, Resize, Gelu, Shape...). */
export const OPSETS = [13, 17, 18, 21] as const;

/** Builds one graph: `first` then up to `maxChain - 1` random followers that accept the previous output. */
export function buildChain(gens: readonly OpGen[], first: OpGen, seed: number, opset: number, maxChain = 4): GraphBuilder {
  const rng = new Rand(seed);
  const g = new GraphBuilder(rng, opset);
  let x = first.make(g, null);
  const extra = rng.int(0, maxChain - 1);
  for (let i = 0; i < extra; i++) {
    const next = gens.filter((o) => (o.minOpset ?? 13) <= opset && o.accepts?.(x, opset) && numel(x.shape) >= 1 && numel(x.shape) <= 512);
    if (!next.length) break;
    x = rng.pick(next).make(g, x);
  }
  return g;
}
