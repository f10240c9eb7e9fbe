// Load-time graph fusions of an ONNX plan (as onnxruntime's basic/extended fusions): MatMul with a constant 2-D
// weight (+ Add of a constant bias) and Gemm with constant weights become one `linear` (weight transposed once at
// load), the exact-erf and tanh-approximate GELU subgraphs become one Gelu, and a MatMul of operands scaled by
// scalar Mul/Div (attention's q·s and kᵀ·s, as torch.onnx writes scaled_dot_product_attention) becomes one MatMul
// whose result is scaled once, and Conv followed by Relu or Clip(0, 6) becomes one conv with the activation fused
// (applied to each output block while it is still in the kernel's memory). Only single-consumer intermediates that no graph output names are fused; the fused
// node runs under its first node's label (traces keep the names).
import type { Tensor } from '../../tensor/tensor.js';
import { shapeStr } from '../../tensor/shape.js';
import { linear, matmul } from '../../ops/linalg.js';
import { add, mul, ne, relu, relu6, where } from '../../ops/elementwise.js';
import { conv2d } from '../../ops/conv.js';
import { softmax } from '../../ops/reduce.js';
import { scaledDotProductAttention } from '../../ops/attention.js';
import { broadcastShapes, shapesEqual } from '../../tensor/shape.js';
import { zeros } from '../../tensor/creation.js';
import { QuantizedConv2d, QuantizedLinear } from '../../quant/modules.js';
import type { OnnxNode } from './model.js';
import { getOnnxOp, type OnnxOpImpl, type ValueType } from './ops/index.js';
import { quantizedLinear } from './ops/linalg.js';
import { windowOf } from './ops/conv.js';

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

/** Which of the pattern fusions run (all by default); benchmarks and tests switch one off to compare, before loading. */
export const fusions = { attention: true, scaledMatMul: true, convActivation: true };

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

/**
 * The scaled MatMul: matmul(a, b) · scale (attribute `scale`, a float). It replaces MatMul(Mul(a, s1), Mul(b, s2))
 * (either Mul may be missing, or a Div by a scalar): the operands are usually strided views of heads (Reshape then
 * Transpose), where an elementwise scale is a strided pass over each, while the product is contiguous and is
 * scaled in one pass. Rounding differs from the graph's by an ulp or two (one multiply by s1·s2 instead of two).
 */
const scaledMatMul: OnnxOpImpl = {
  infer: (c) => getOnnxOp('MatMul')!.infer!(c),
  run: (c) => {
    const y = matmul(c.input(0), c.input(1));
    try {
      return [mul(y, c.attrs.float('scale', 1))];
    } finally {
      y.dispose();
    }
  },
};

/**
 * The fused attention: inputs q [..., T, D], kᵀ [..., D, S], v [..., S, Dv] and an optional mask; attributes `scale`
 * (float), `mask` ('none', 'bool': true = may attend, 'additive': added to the scores) and `guard` (1 when the
 * graph zeroes NaN probabilities through Where(IsNaN(p), 0, p)). It replaces
 * MatMul(Where(IsNaN(p), 0, p) or p, v) with p = Softmax(MatMul(q, kᵀ)·scale [+ mask], axis -1), the mask either
 * Where(bool, 0, -inf) or any float value. Rank-3/4 operands whose batch and head dims broadcast to the scores'
 * run as one sdpa op (kᵀ read back as k through a transposed view: no copy); others run the graph's ops.
 * sdpa zeroes a query row whose keys are all masked, which is what the guard gives, so a mask is fused only with
 * the guard. Known difference: with the guard, a NaN in q or k (or a +inf score) makes sdpa's row NaN where the
 * graph's guard turns it into 0 (NaN in, NaN out).
 */
const fusedAttention: OnnxOpImpl = {
  infer: (c) => getOnnxOp('MatMul')!.infer!({ ...c, inputs: [c.inputs[0], c.inputs[2]] }),
  run: (c) => {
    const [q, kT, v] = [c.input(0), c.input(1), c.input(2)];
    const mask = c.inputs[3];
    const kind = c.attrs.string('mask', 'none'), scale = c.attrs.float('scale', 1), guard = c.attrs.int('guard', 0) === 1;
    const rank = q.rank;
    // empty operands take the graph's ops too (sdpa's kernels expect at least one query, key and value)
    let fits = (rank === 3 || rank === 4) && kT.rank === rank && v.rank === rank && (!mask || mask.rank <= 4) && q.size > 0 && kT.size > 0 && v.size > 0;
    if (fits) {
      try {
        const lead = broadcastShapes(broadcastShapes(q.shape.slice(0, -2), kT.shape.slice(0, -2)), v.shape.slice(0, -2));
        const scores = [...lead, q.shape[rank - 2]!, kT.shape[rank - 1]!];
        fits = kT.shape[rank - 2] === q.shape[rank - 1] && v.shape[rank - 2] === kT.shape[rank - 1] && (!mask || shapesEqual(broadcastShapes(mask.shape, scores), scores));
      } catch {
        fits = false; // not broadcastable: the graph's ops give the error
      }
    }
    if (fits) {
      const k = kT.transpose(-2, -1);
      try {
        return [scaledDotProductAttention(q, k, v, { scale, mask: mask ?? null })];
      } finally {
        k.dispose();
      }
    }
    // the graph's ops, in its order
    const temps: Tensor[] = [];
    const t = (x: Tensor) => (temps.push(x), x);
    try {
      let sc = t(mul(t(matmul(q, kT)), scale));
      if (mask) sc = t(add(sc, kind === 'bool' ? t(where(mask, t(zeros([], { dtype: sc.dtype, device: sc.device })), -Infinity)) : mask));
      let p = t(softmax(sc, -1));
      if (guard) p = t(where(t(ne(p, p)), 0, p));
      return [matmul(p, v)];
    } finally {
      temps.forEach((x) => x.dispose());
    }
  },
};

/**
 * The fused Conv + activation: the Conv node's inputs and attributes, plus `activation` ('relu' or 'relu6', the latter
 * Clip(0, 6)). A 2-D float conv runs as conv2d with the activation fused; any other (1-D, 3-D, int8-quantized) runs the
 * Conv then the activation as its own op, as the graph does.
 */
const fusedConv = (): OnnxOpImpl => {
  const conv = getOnnxOp('Conv')!;
  return {
    ...conv,
    run: (c) => {
      const activation = c.attrs.string('activation', 'relu') === 'relu6' ? 'relu6' : 'relu';
      const x = c.input(0), w = c.state instanceof QuantizedConv2d ? undefined : c.inputs[1];
      const ks = c.attrs.ints('kernel_shape', w?.shape.slice(2) ?? []);
      if (w && x.rank === 4 && w.rank === 4 && ks.length === 2 && ks[0] === w.shape[2] && ks[1] === w.shape[3]) {
        const win = windowOf(c, x.shape.slice(2), w.shape.slice(2));
        const [[pT, pB], [pL, pR]] = win.pads as [[number, number], [number, number]];
        return [conv2d(x, w, c.inputs[2] ?? null, {
          stride: win.strides as [number, number], dilation: win.dilations as [number, number], padding: [pT, pL, pB, pR], groups: c.attrs.int('group', 1), activation,
        })];
      }
      const [y] = conv.run(c);
      try {
        return [activation === 'relu' ? relu(y!) : relu6(y!)];
      } finally {
        y!.dispose();
      }
    },
  };
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

  /** `v` = Mul(x, s) or Div(x, s) by a finite non-zero scalar s, read only by step `reader`: x, the factor and the step. */
  const scaledOperand = (v: string, reader: number): { x: string; s: number; step: number } | null => {
    const j = producer.get(v);
    if (j === undefined || !fusable(j) || outputs.has(v) || readers.get(v)?.size !== 1 || !readers.get(v)!.has(reader)) return null;
    const n = steps[j]!.node;
    if ((n.opType !== 'Mul' && n.opType !== 'Div') || n.inputs.length !== 2 || n.outputs.length !== 1) return null;
    for (const [xi, si] of n.opType === 'Mul' ? [[0, 1], [1, 0]] : [[0, 1]]) {
      const x = n.inputs[xi!]!, c = scalar(n.inputs[si!]!);
      const t = ctx.types.get(x);
      if (c === undefined || !Number.isFinite(c) || c === 0 || ctx.consts.has(x) || !t || (t.dtype !== 'float32' && t.dtype !== 'float16')) continue;
      return { x, s: n.opType === 'Div' ? 1 / c : c, step: j };
    }
    return null;
  };
  // attention: MatMul(guard(Softmax(scaled MatMul(q, kᵀ) [+ mask])), v) -> one fused attention step
  /** The single step producing `v` when it is fusable, of type `opType`, and read only by steps in `by`. */
  const only = (v: string, opType: string, by: number[]): number | null => {
    const j = producer.get(v);
    if (j === undefined || !fusable(j) || outputs.has(v) || steps[j]!.node.opType !== opType || steps[j]!.node.outputs.length !== 1) return null;
    const rs = readers.get(v) ?? new Set();
    return rs.size === by.length && by.every((r) => rs.has(r)) ? j : null;
  };
  /** q, kᵀ and the scale of scores `v`: MatMul of scalar-scaled operands, or Mul/Div of a MatMul by a scalar. */
  const scoresOf = (v: string, reader: number): { q: string; kT: string; scale: number; nodes: number[] } | null => {
    let scale = 1;
    const nodes: number[] = [];
    let m = only(v, 'MatMul', [reader]);
    if (m === null) {
      const j = only(v, 'Mul', [reader]) ?? only(v, 'Div', [reader]);
      if (j === null) return null;
      const n = steps[j]!.node;
      const orders = n.opType === 'Mul' ? [[0, 1], [1, 0]] : [[0, 1]];
      for (const [xi, si] of orders) {
        const c = scalar(n.inputs[si!]!);
        if (c === undefined || !Number.isFinite(c) || c === 0) continue;
        m = only(n.inputs[xi!]!, 'MatMul', [j]);
        if (m !== null) { scale = n.opType === 'Div' ? 1 / c : c; break; }
      }
      if (m === null) return null;
      nodes.push(j);
    }
    const mm = steps[m]!.node;
    if (mm.inputs.length !== 2 || mm.inputs[0] === mm.inputs[1] || mm.inputs.some((x) => ctx.consts.has(x))) return null;
    const a = scaledOperand(mm.inputs[0]!, m), b = scaledOperand(mm.inputs[1]!, m);
    scale = Math.fround(scale) * Math.fround(a?.s ?? 1) * Math.fround(b?.s ?? 1);
    if (!Number.isFinite(scale) || scale === 0) return null;
    nodes.push(m, ...(a ? [a.step] : []), ...(b ? [b.step] : []));
    return { q: a?.x ?? mm.inputs[0]!, kT: b?.x ?? mm.inputs[1]!, scale, nodes };
  };
  const lastAxis = (n: OnnxNode): boolean => {
    const a = n.attributes['axis'];
    if (a?.type !== 'int') return false; // the default axis changed at opset 13: only an explicit last axis
    const rank = ctx.types.get(n.inputs[0]!)?.shape?.length;
    return a.value === -1 || (rank !== undefined && a.value === rank - 1);
  };
  steps.forEach((s, i) => {
    const n = s.node;
    if (!fusions.attention || !fusable(i) || n.opType !== 'MatMul' || n.inputs.length !== 2 || ctx.consts.has(n.inputs[1]!)) return;
    const xType = ctx.types.get(n.inputs[0]!);
    if (!xType || (xType.dtype !== 'float32' && xType.dtype !== 'float16')) return;
    const nodes = [i];
    // the probabilities: Softmax, or Where(IsNaN(p), 0, p) over it
    let sm = only(n.inputs[0]!, 'Softmax', [i]);
    let guard = false;
    if (sm === null) {
      const w = only(n.inputs[0]!, 'Where', [i]);
      if (w === null) return;
      const wn = steps[w]!.node;
      const isnan = only(wn.inputs[0]!, 'IsNaN', [w]);
      if (isnan === null || scalar(wn.inputs[1]!) !== 0 || steps[isnan]!.node.inputs[0] !== wn.inputs[2]) return;
      sm = only(wn.inputs[2]!, 'Softmax', [isnan, w]);
      if (sm === null) return;
      guard = true;
      nodes.push(w, isnan);
    }
    if (!lastAxis(steps[sm]!.node)) return;
    nodes.push(sm);
    // the scores, with an optional mask added
    const sv = steps[sm]!.node.inputs[0]!;
    let sc = scoresOf(sv, sm);
    let mask: string | undefined;
    let kind: 'none' | 'bool' | 'additive' = 'none';
    if (!sc) {
      const ad = only(sv, 'Add', [sm]);
      if (ad === null || !guard) return; // sdpa zeroes fully masked rows: only the guard makes the graph agree
      const an = steps[ad]!.node;
      for (const [si, mi] of [[0, 1], [1, 0]]) {
        sc = scoresOf(an.inputs[si!]!, ad);
        if (!sc) continue;
        const m = an.inputs[mi!]!;
        const mt = ctx.types.get(m);
        const wj = only(m, 'Where', [ad]);
        const wn = wj === null ? undefined : steps[wj]!.node;
        if (wn && scalar(wn.inputs[1]!) === 0 && scalar(wn.inputs[2]!) === -Infinity && ctx.types.get(wn.inputs[0]!)?.dtype === 'bool') {
          mask = wn.inputs[0]!;
          kind = 'bool';
          nodes.push(wj!);
        } else if (mt && (mt.dtype === 'float32' || mt.dtype === 'float16')) {
          mask = m;
          kind = 'additive';
        } else {
          sc = null;
          continue;
        }
        nodes.push(ad);
        break;
      }
      if (!sc) return;
    }
    nodes.push(...sc.nodes);
    const group = new Set(nodes);
    if (group.size !== nodes.length || nodes.some((j) => used.has(j))) return;
    nodes.forEach((j) => used.add(j));
    const first = Math.min(...nodes);
    const node: OnnxNode = {
      name: steps[first]!.node.name, opType: 'Attention', domain: FUSED_DOMAIN, inputs: [sc.q, sc.kT, n.inputs[1]!, ...(mask ? [mask] : [])], outputs: [n.outputs[0]!],
      attributes: { scale: { type: 'float', value: sc.scale }, mask: { type: 'string', value: kind }, guard: { type: 'int', value: guard ? 1 : 0 } },
    };
    replace.set(i, { node, label: steps[first]!.label, impl: fusedAttention, host: false });
  });

  // MatMul(Mul(a, s1), Mul(b, s2)) with scalar constants s1, s2 (or Div by them; either side may be unscaled) -> MatMul
  // scaled by s1·s2 once. Only float operands; the scale must be finite and non-zero (0·inf would differ).
  steps.forEach((s, i) => {
    const n = s.node;
    if (!fusions.scaledMatMul || !fusable(i) || n.opType !== 'MatMul' || n.inputs.length !== 2 || ctx.consts.has(n.inputs[1]!)) return;
    const a = scaledOperand(n.inputs[0]!, i), b = n.inputs[0] === n.inputs[1] ? null : scaledOperand(n.inputs[1]!, i);
    if (!a && !b) return;
    const scale = Math.fround(a?.s ?? 1) * Math.fround(b?.s ?? 1);
    if (!Number.isFinite(scale) || scale === 0) return;
    for (const o of [a, b]) if (o) used.add(o.step);
    used.add(i);
    const first = Math.min(i, a?.step ?? i, b?.step ?? i);
    const node: OnnxNode = {
      name: n.name, opType: 'ScaledMatMul', domain: FUSED_DOMAIN, inputs: [a?.x ?? n.inputs[0]!, b?.x ?? n.inputs[1]!], outputs: [n.outputs[0]!],
      attributes: { scale: { type: 'float', value: scale } },
    };
    replace.set(i, { node, label: steps[first]!.label, impl: scaledMatMul, host: false });
  });

  // Conv -> Relu, or Clip with constant bounds exactly 0 and 6 (ReLU6; inputs from opset 11, attributes before) -> one
  // conv with the activation fused. The conv's output must be read by the activation alone and not be a graph output.
  const clipBounds = (n: OnnxNode): [number | undefined, number | undefined] => {
    if (n.inputs.length === 1) {
      const a = n.attributes;
      const f = (k: string) => (a[k]?.type === 'float' || a[k]?.type === 'int' ? (a[k]!.value as number) : undefined);
      return [f('min'), f('max')];
    }
    return [n.inputs[1] ? scalar(n.inputs[1]) : undefined, n.inputs[2] ? scalar(n.inputs[2]) : undefined];
  };
  let convImpl: OnnxOpImpl | undefined;
  steps.forEach((s, i) => {
    const n = s.node;
    if (!fusions.convActivation || !fusable(i) || (n.opType !== 'Relu' && n.opType !== 'Clip') || n.outputs.length !== 1) return;
    const v = n.inputs[0]!;
    const j = producer.get(v);
    if (j === undefined || !fusable(j) || outputs.has(v) || readers.get(v)?.size !== 1) return;
    const cn = steps[j]!.node;
    if (cn.opType !== 'Conv' || cn.outputs.length !== 1) return;
    const t = ctx.types.get(v);
    if (!t || (t.dtype !== 'float32' && t.dtype !== 'float16')) return;
    let activation = 'relu';
    if (n.opType === 'Clip') {
      const [lo, hi] = clipBounds(n);
      if (lo !== 0 || hi !== 6 || n.inputs.length > 3) return;
      activation = 'relu6';
    } else if (n.inputs.length !== 1) return;
    used.add(i);
    used.add(j);
    const node: OnnxNode = {
      name: cn.name, opType: `Conv+${n.opType}`, domain: FUSED_DOMAIN, inputs: cn.inputs, outputs: [n.outputs[0]!],
      attributes: { ...cn.attributes, activation: { type: 'string', value: activation } },
    };
    replace.set(i, { node, label: steps[j]!.label, impl: (convImpl ??= fusedConv()), host: false });
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
