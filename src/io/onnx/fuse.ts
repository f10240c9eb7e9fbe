// Load-time graph fusions of an ONNX plan (as onnxruntime's basic/extended fusions): MatMul with a constant 2-D
// weight (+ Add of a constant bias) and Gemm with constant weights become one `linear` (weight transposed once at
// load), and the exact-erf and tanh-approximate GELU subgraphs become one Gelu. Only single-consumer intermediates
// that no graph output names are fused; the fused node runs under its first node's label (traces keep the names).
import type { Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { linear } from '../../ops/linalg.js';
import { QuantizedLinear } from '../../quant/modules.js';
import type { OnnxNode } from './model.js';
import { getOnnxOp, type OnnxOpImpl, type ValueType } from './ops/index.js';
import { quantizedLinear } from './ops/linalg.js';

/** What the pass needs of a plan step (session.ts's Step has more). */
export interface FusableStep {
  node: OnnxNode;
  label: string;
  impl: OnnxOpImpl;
  /** Runs on the host (small integer values): never fused. */
  host: boolean;
}

/** The plan's constants and value types; `addConst` registers a new load-time constant (a transposed weight). */
export interface FuseContext {
  consts: ReadonlyMap<string, Tensor>;
  types: ReadonlyMap<string, ValueType>;
  outputs: readonly string[];
  addConst(name: string, t: Tensor): void;
}

/** The domain of the fused linear node (not an ONNX op a file may use: the pass makes it). */
export const FUSED_DOMAIN = 'forwardpass.fused';

const isFloat = (t: Tensor | undefined): t is Tensor => !!t && (t.dtype === 'float32' || t.dtype === 'float16');

/**
 * The fused linear: inputs x [..., K], weight [N, K] (constant, nn.Linear layout), optional bias [N] (constant);
 * attribute `gemm` = 1 when it replaces a Gemm (x must then be 2-D). With precision 'int8' the constant weight
 * becomes a QuantizedLinear holding the bias, as MatMul and Gemm do.
 */
const fusedLinear: OnnxOpImpl = {
  infer: (c) => {
    const x = c.inputs[0], w = c.inputs[1];
    const N = w?.shape?.[0] ?? null;
    return [{ dtype: x?.dtype ?? 'float32', ...(x?.shape ? { shape: [...x.shape.slice(0, -1), N] } : {}) }];
  },
  prepare: async (c) => {
    const w = c.constant(1);
    if (c.precision !== 'int8' || !isFloat(w)) return undefined;
    const bias = c.constant(2);
    c.dropInput(1);
    if (bias) c.dropInput(2);
    return quantizedLinear(w, bias, c.backend, c.label);
  },
  run: (c) => {
    const x = c.input(0);
    if (c.attrs.int('gemm', 0) === 1 && x.rank !== 2) c.fail(`A must be 2-D, found ${shapeStr(x.shape)}`);
    if (c.state instanceof QuantizedLinear) return [c.state.forward(x)];
    const w = c.input(1), b = c.inputs[2];
    const bias = b && b.rank !== 1 ? b.reshape([b.size]) : b; // a Gemm's [1, N] bias
    try {
      return [linear(x, w, bias ?? null)];
    } finally {
      if (bias !== b) bias?.dispose();
    }
  },
};

/** A pattern over the graph: an op with argument patterns, the matched value `x`, or a scalar constant. */
type Pat = { op: string; args: Pat[] } | { x: true } | { k: number };
const X: Pat = { x: true };
const k = (v: number): Pat => ({ k: v });
const op = (o: string, ...args: Pat[]): Pat => ({ op: o, args });
const COMMUTATIVE = new Set(['Add', 'Mul']);

/** 0.5·x·(1 + erf(x/√2)): Div by √2 or Mul by 1/√2, the 0.5 applied last or to x first. */
function erfGelu(): Pat[] {
  const inner = [op('Div', X, k(Math.SQRT2)), op('Mul', X, k(Math.SQRT1_2))];
  return inner.flatMap((i) => {
    const onePlus = op('Add', op('Erf', i), k(1));
    return [op('Mul', op('Mul', X, onePlus), k(0.5)), op('Mul', op('Mul', X, k(0.5)), onePlus)];
  });
}

/** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), with x³ as x·(x·x), (x·x)·x or Pow(x, 3). */
function tanhGelu(): Pat[] {
  const cubes = [op('Mul', X, op('Mul', X, X)), op('Pow', X, k(3))];
  return cubes.flatMap((cube) => {
    const onePlus = op('Add', op('Tanh', op('Mul', op('Add', X, op('Mul', cube, k(0.044715))), k(Math.sqrt(2 / Math.PI)))), k(1));
    return [op('Mul', op('Mul', X, onePlus), k(0.5)), op('Mul', op('Mul', X, k(0.5)), onePlus)];
  });
}

const GELU: [Pat[], 'none' | 'tanh'][] = [[erfGelu(), 'none'], [tanhGelu(), 'tanh']];

/**
 * Fuse the patterns of `steps` (in plan order). Returns the new plan; steps not fused are returned as they are.
 *
 * @example const plan = fuseSteps(steps, { consts, types, outputs: ['logits'], addConst })
 */
export function fuseSteps<S extends FusableStep>(steps: readonly S[], ctx: FuseContext, make: (s: FusableStep) => S): S[] {
  const producer = new Map<string, number>();
  const readers = new Map<string, Set<number>>();
  steps.forEach((s, i) => {
    s.node.outputs.forEach((o) => { if (o) producer.set(o, i); });
    s.node.inputs.forEach((x) => { if (x) (readers.get(x) ?? readers.set(x, new Set()).get(x)!).add(i); });
  });
  const outputs = new Set(ctx.outputs);
  const used = new Set<number>();
  /** Replacement step by the index of the step it replaces (the pattern's last node). */
  const replace = new Map<number, FusableStep>();

  const scalar = (name: string): number | undefined => {
    const t = ctx.consts.get(name);
    return isFloat(t) && t.size === 1 ? Number(t.dataSync()[0]) : undefined;
  };
  /** Whether the step's outputs are read only by steps of `group` and are not graph outputs. */
  const internal = (i: number, group: Set<number>) => steps[i]!.node.outputs.every((o) => !o || (!outputs.has(o) && [...(readers.get(o) ?? [])].every((r) => group.has(r))));
  const fusable = (i: number) => !used.has(i) && !steps[i]!.host && steps[i]!.node.domain === '';

  /** Match `p` against value `v`; fills `bind.x` and `nodes`. */
  const match = (p: Pat, v: string, bind: { x?: string }, nodes: number[]): boolean => {
    if ('x' in p) {
      if (ctx.consts.has(v)) return false;
      if (bind.x === undefined) bind.x = v;
      return bind.x === v;
    }
    if ('k' in p) {
      const c = scalar(v);
      return c !== undefined && Math.abs(c - p.k) <= 1e-5 * Math.abs(p.k);
    }
    const i = producer.get(v);
    if (i === undefined || !fusable(i)) return false;
    const n = steps[i]!.node;
    if (n.opType !== p.op || n.outputs.length !== 1 || n.inputs.length !== p.args.length) return false;
    const orders = COMMUTATIVE.has(p.op) ? [[0, 1], [1, 0]] : [p.args.map((_, j) => j)];
    for (const order of orders) {
      const b = { ...bind };
      const ns: number[] = [];
      if (order.every((j, a) => match(p.args[a]!, n.inputs[j]!, b, ns))) {
        bind.x = b.x;
        nodes.push(i, ...ns);
        return true;
      }
    }
    return false;
  };

  // GELU subgraphs -> Gelu (matched from their last Mul)
  steps.forEach((s, i) => {
    if (s.node.opType !== 'Mul' || !fusable(i)) return;
    for (const [pats, approximate] of GELU) {
      for (const p of pats) {
        const bind: { x?: string } = {};
        const nodes: number[] = [];
        if (!match(p, s.node.outputs[0]!, bind, nodes)) continue;
        const group = new Set(nodes);
        if (group.size !== nodes.length || nodes.some((j) => j !== i && !internal(j, group))) continue;
        const xType = ctx.types.get(bind.x!);
        if (xType && xType.dtype !== 'float32' && xType.dtype !== 'float16') continue;
        const first = Math.min(...nodes);
        nodes.forEach((j) => used.add(j));
        const node: OnnxNode = {
          name: steps[first]!.node.name, opType: 'Gelu', domain: '', inputs: [bind.x!], outputs: [s.node.outputs[0]!],
          attributes: { approximate: { type: 'string', value: approximate } },
        };
        replace.set(i, { node, label: steps[first]!.label, impl: getOnnxOp('Gelu')!, host: false });
        return;
      }
    }
  });

  // MatMul(x, W) [+ Add(bias)] and Gemm(x, W, C) with constant weights -> linear
  const transposed = new Map<string, string>();
  const weightNK = (name: string, transpose: boolean): string => {
    if (!transpose) return name;
    let t = transposed.get(name);
    if (!t) {
      t = `${name}::transposed`;
      for (let n = 1; ctx.consts.has(t) || producer.has(t); n++) t = `${name}::transposed${n}`;
      const view = ctx.consts.get(name)!.transpose(0, 1);
      ctx.addConst(t, view.contiguous());
      view.dispose();
      transposed.set(name, t);
    }
    return t;
  };
  /** The bias name when constant `name` is a float vector of N values shaped [N] (or [1, N] when the output is 2-D or more). */
  const biasOf = (name: string, N: number, outRank: number | undefined): boolean => {
    const b = ctx.consts.get(name);
    if (!isFloat(b) || b.size !== N || b.shape[b.rank - 1] !== N) return false;
    return b.rank === 1 || (b.rank === 2 && outRank !== undefined && outRank >= 2);
  };
  steps.forEach((s, i) => {
    const n = s.node;
    if (!fusable(i) || (n.opType !== 'MatMul' && n.opType !== 'Gemm')) return;
    const w = ctx.consts.get(n.inputs[1] ?? '');
    if (!isFloat(w) || w.rank !== 2 || ctx.consts.has(n.inputs[0]!)) return;
    const xRank = ctx.types.get(n.inputs[0]!)?.shape?.length;
    let nodes = [i];
    let bias: string | undefined;
    let transB = false;
    let out = n.outputs[0]!;
    if (n.opType === 'Gemm') {
      const a = n.attributes;
      const num = (k: string, d: number) => (a[k]?.type === 'int' || a[k]?.type === 'float' ? (a[k]!.value as number) : a[k] ? NaN : d);
      if (num('alpha', 1) !== 1 || num('beta', 1) !== 1 || num('transA', 0) !== 0 || ![0, 1].includes(num('transB', 0))) return;
      transB = num('transB', 0) === 1;
      const N = w.shape[transB ? 0 : 1]!;
      if (n.inputs[2]) {
        if (!biasOf(n.inputs[2], N, 2)) return;
        bias = n.inputs[2];
      }
    } else {
      if (xRank !== undefined && xRank < 2) return; // a 1-D x gives a 1-D result that a [1, N] bias would broadcast
      const N = w.shape[1]!;
      const rs = [...(readers.get(out) ?? [])];
      const add = rs.length === 1 ? rs[0]! : -1;
      const an = add >= 0 ? steps[add]!.node : undefined;
      if (an && an.opType === 'Add' && fusable(add) && !outputs.has(out) && an.inputs.length === 2) {
        const other = an.inputs[0] === out ? an.inputs[1]! : an.inputs[0]!;
        if (other !== out && biasOf(other, N, xRank)) {
          bias = other;
          nodes = [i, add];
          out = an.outputs[0]!;
        }
      }
    }
    nodes.forEach((j) => used.add(j));
    const node: OnnxNode = {
      name: n.name, opType: nodes.length > 1 ? 'MatMul+Add' : `${n.opType}->linear`, domain: FUSED_DOMAIN,
      inputs: [n.inputs[0]!, weightNK(n.inputs[1]!, !transB), ...(bias ? [bias] : [])], outputs: [out],
      attributes: { gemm: { type: 'int', value: n.opType === 'Gemm' ? 1 : 0 } },
    };
    replace.set(nodes[nodes.length - 1]!, { node, label: s.label, impl: fusedLinear, host: false });
  });

  const plan: S[] = [];
  steps.forEach((s, i) => {
    const r = replace.get(i);
    if (r) plan.push(make(r));
    else if (!used.has(i)) plan.push(s);
  });
  return plan;
}
