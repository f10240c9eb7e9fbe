// Random generators for the ops added for issue 13 (conformance coverage): IsNaN/IsInf (inputs seeded with NaN and
// ±Inf), PRelu, Selu, Celu, ThresholdedRelu, Shrink, Softsign, Mish, Sinh, Cosh, Tan, Mean, GatherElements, GatherND,
// ReduceL1/L2/SumSquare/LogSum/LogSumExp, LayerNormalization's Mean/InvStdDev, RMSNormalization, ArgMax/ArgMin
// select_last_index, Hardmax, Attention, LpNormalization, MeanVarianceNormalization, GroupNormalization, EyeLike
// and the two losses.
import { broadcast, numel, type GraphBuilder, type OpGen, type Val } from './gen.js';
import { floatOr } from './gen-ops-elementwise.js';
import type { AttrValue } from './writer.js';

const isFloat = (x: Val) => x.type === 'float' && x.shape.length >= 1 && x.shape.length <= 4;
const f = (value: number) => ({ type: 'float' as const, value });

/** A fresh float input where a few elements are NaN, +Inf or -Inf. */
function specialInput(g: GraphBuilder): Val {
  const v = g.input('float', g.rng.shape(1, 3, 5));
  const data = g.feeds[v.name]!.data as Float32Array;
  for (let i = 0; i < data.length; i++) if (g.rng.chance(0.3)) data[i] = g.rng.pick([Number.NaN, Infinity, -Infinity]);
  return v;
}

function unary(op: string, o: { attrs?: (g: GraphBuilder) => Record<string, AttrValue | undefined>; minOpset?: number; bool?: boolean; special?: boolean; atol?: number } = {}): OpGen {
  return {
    op,
    minOpset: o.minOpset,
    atol: o.atol,
    accepts: (x) => isFloat(x),
    make(g, x) {
      const v = x ?? (o.special && g.rng.chance(0.7) ? specialInput(g) : floatOr(g, null));
      return g.node(op, [v.name], [{ type: o.bool ? 'bool' : 'float', shape: v.shape }], o.attrs?.(g) ?? {})[0]!;
    },
  };
}

const prelu: OpGen = {
  op: 'PRelu',
  accepts: isFloat,
  make(g, x) {
    const v = floatOr(g, x);
    // slope broadcasts onto x (unidirectional): a suffix of x's shape with some dims set to 1
    const keep = g.rng.int(0, v.shape.length);
    const slope = v.shape.slice(v.shape.length - keep).map((d) => (g.rng.chance(0.4) ? 1 : d));
    return g.node('PRelu', [v.name, g.randInit(slope, -0.5, 0.5)], [{ type: 'float', shape: v.shape }])[0]!;
  },
};

const mean: OpGen = {
  op: 'Mean',
  accepts: isFloat,
  make(g, x) {
    const v = floatOr(g, x);
    const others = Array.from({ length: g.rng.int(0, 2) }, () => g.input('float', v.shape.slice(g.rng.int(0, v.shape.length)).map((d) => (g.rng.chance(0.3) ? 1 : d))));
    const shape = others.reduce((s, o) => broadcast(s, o.shape), v.shape);
    return g.node('Mean', [v.name, ...others.map((o) => o.name)], [{ type: 'float', shape }])[0]!;
  },
};

const gatherElements: OpGen = {
  op: 'GatherElements',
  accepts: isFloat,
  make(g, x) {
    const r = g.rng;
    const v = floatOr(g, x);
    const rank = v.shape.length;
    const axis = r.int(-rank, rank - 1);
    const a = axis < 0 ? axis + rank : axis;
    const shape = v.shape.map((d, i) => (i === a ? r.int(1, 4) : r.int(1, d)));
    const idx = g.input('int64', shape, { lo: -v.shape[a]!, hi: v.shape[a]! - 1 });
    return g.node('GatherElements', [v.name, idx.name], [{ type: 'float', shape }], { axis })[0]!;
  },
};

const gatherND: OpGen = {
  op: 'GatherND',
  accepts: isFloat,
  make(g, x) {
    const r = g.rng;
    const v = floatOr(g, x);
    const rank = v.shape.length;
    const b = r.int(0, rank - 1);
    const k = r.int(1, rank - b);
    const lead = [...v.shape.slice(0, b), ...r.shape(0, 2, 3)];
    const n = numel(lead);
    const name = g.fresh('idx');
    // each index component in [-dim, dim - 1] of its own dim
    const data = BigInt64Array.from({ length: n * k }, (_, i) => { const d = v.shape[b + (i % k)]!; return BigInt(r.int(-d, d - 1)); });
    g.feeds[name] = { type: 'int64', dims: [...lead, k], data };
    g.inputs.push({ name, type: 'int64', shape: [...lead, k] });
    const shape = [...lead, ...v.shape.slice(b + k)];
    return g.node('GatherND', [v.name, name], [{ type: 'float', shape }], b ? { batch_dims: b } : {})[0]!;
  },
};

function reduce(op: string): OpGen {
  const positive = op === 'ReduceLogSum';
  return {
    op,
    atol: 1e-5,
    accepts: (x) => isFloat(x) && (!positive || !!x.positive),
    make(g, x) {
      const r = g.rng;
      const v = x ?? g.input('float', r.shape(1, 4), { positive });
      const rank = v.shape.length;
      const keep = r.chance(0.5) ? 1 : 0;
      const all = r.chance(0.3);
      const axes = all ? [] : r.subset(rank).map((a) => (r.chance(0.4) ? a - rank : a));
      const attrs: Record<string, number | number[]> = {};
      if (keep === 0 || r.chance(0.5)) attrs.keepdims = keep;
      const ins = [v.name];
      if (!all) {
        if (g.opset >= 18) ins.push(g.i64(axes));
        else attrs.axes = axes;
      }
      const red = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
      const shape = v.shape.flatMap((d, i) => (all || red.has(i) ? (keep ? [1] : []) : [d]));
      return g.node(op, ins, [{ type: 'float', shape }], attrs)[0]!;
    },
  };
}

/** LayerNormalization with its Mean and InvStdDev outputs wired (their shape keeps the normalized dims as 1). */
const layerNormStats: OpGen = {
  op: 'LayerNormalization',
  minOpset: 17,
  atol: 1e-4,
  accepts: isFloat,
  make(g, x) {
    const v = floatOr(g, x);
    const rank = v.shape.length;
    const axis = g.rng.int(-rank, rank - 1);
    const a = axis < 0 ? axis + rank : axis;
    const stat = v.shape.map((d, i) => (i < a ? d : 1));
    const outs = g.node('LayerNormalization', [v.name, g.randInit(v.shape.slice(a), 0.5, 1.5), g.randInit(v.shape.slice(a))],
      [{ type: 'float', shape: v.shape }, { type: 'float', shape: stat }, { type: 'float', shape: stat }], { axis, epsilon: f(1e-3) });
    return outs[0]!;
  },
};

const rmsNorm: OpGen = {
  op: 'RMSNormalization',
  minOpset: 23,
  atol: 1e-4,
  accepts: isFloat,
  make(g, x) {
    const v = floatOr(g, x);
    const rank = v.shape.length;
    const axis = g.rng.int(-rank, rank - 1);
    const a = axis < 0 ? axis + rank : axis;
    return g.node('RMSNormalization', [v.name, g.randInit(v.shape.slice(a), 0.5, 1.5)], [{ type: 'float', shape: v.shape }], { axis, epsilon: f(1e-3) })[0]!;
  },
};

function loss(op: 'NegativeLogLikelihoodLoss' | 'SoftmaxCrossEntropyLoss'): OpGen {
  return {
    op,
    atol: 1e-4,
    make(g) {
      const r = g.rng;
      const n = r.int(1, 3), c = r.int(2, 5);
      const extra = r.shape(0, 2, 3);
      const v = g.input('float', [n, c, ...extra], op === 'NegativeLogLikelihoodLoss' ? { lo: -3, hi: -0.05 } : {});
      const ignore = r.chance(0.5) ? r.pick([-1, 0, 1]) : undefined;
      const t = g.input('int64', [n, ...extra], { lo: ignore === -1 ? -1 : 0, hi: c - 1 });
      const ins = [v.name, t.name];
      if (r.chance(0.5)) ins.push(g.randInit([c], 0.2, 2));
      const reduction = r.pick(['none', 'sum', 'mean']);
      // with every target ignored, 'mean' divides 0 by 0: keep one target that is never ignored
      const td = g.feeds[t.name]!.data as BigInt64Array;
      if (ignore !== undefined && td.every((y) => Number(y) === ignore)) td[0] = BigInt(ignore === 1 ? 0 : 1);
      const shape = reduction === 'none' ? [n, ...extra] : [];
      const outs = [{ type: 'float' as const, shape }];
      if (op === 'SoftmaxCrossEntropyLoss' && r.chance(0.5)) outs.push({ type: 'float', shape: v.shape });
      return g.node(op, ins, outs, { reduction, ...(ignore === undefined ? {} : { ignore_index: ignore }) })[0]!;
    },
  };
}

/** ArgMax/ArgMin with select_last_index on whole-number data (ties are frequent), and Hardmax. */
function argLast(op: 'ArgMax' | 'ArgMin'): OpGen {
  return {
    op,
    make(g) {
      const v = g.input('float', g.rng.shape(1, 3, 5), { ints: true, lo: 0, hi: 2 });
      const rank = v.shape.length;
      const axis = g.rng.int(-rank, rank - 1), keep = g.rng.int(0, 1);
      const a = axis < 0 ? axis + rank : axis;
      const shape = v.shape.flatMap((d, i) => (i === a ? (keep ? [1] : []) : [d]));
      return g.node(op, [v.name], [{ type: 'int64', shape }], { axis, keepdims: keep, select_last_index: g.rng.int(0, 1) })[0]!;
    },
  };
}

// never a follower: after another op, near-ties (equal up to rounding) make the pick engine-dependent
const hardmax: OpGen = {
  op: 'Hardmax',
  make(g, x) {
    const v = x ?? g.input('float', g.rng.shape(1, 3, 5), { ints: g.rng.chance(0.5), lo: 0, hi: 2 });
    return g.node('Hardmax', [v.name], [{ type: 'float', shape: v.shape }], { axis: g.rng.int(g.opset >= 13 ? -v.shape.length : 0, v.shape.length - 1) })[0]!;
  },
};

/** Attention (opset 23): 3-D or 4-D, grouped heads, a past cache, bool or float masks, causal, scale, softcap, qk output. */
const attention: OpGen = {
  op: 'Attention',
  minOpset: 23,
  atol: 1e-4,
  make(g) {
    const r = g.rng;
    const b = r.int(1, 2), kvh = r.int(1, 2), qh = kvh * r.int(1, 2), d = r.pick([2, 4]), dv = r.pick([2, 3]);
    const sq = r.int(1, 3), skv = r.int(1, 3), past = r.chance(0.5) ? r.int(1, 2) : 0;
    const four = r.chance(0.5);
    const shapeOf = (h: number, s: number, hd: number) => (four ? [b, h, s, hd] : [b, s, h * hd]);
    const q = g.input('float', shapeOf(qh, sq, d)), k = g.input('float', shapeOf(kvh, skv, d)), v = g.input('float', shapeOf(kvh, skv, dv));
    const total = skv + past;
    const ins = [q.name, k.name, v.name];
    const maskKind = r.pick(['none', 'bool', 'float']);
    if (maskKind === 'bool') {
      const m = g.input('bool', [sq, total]);
      // keep key 0 visible so no row is fully masked
      const data = g.feeds[m.name]!.data as Uint8Array;
      for (let i = 0; i < sq; i++) data[i * total] = 1;
      ins.push(m.name);
    } else if (maskKind === 'float') ins.push(g.input('float', [1, 1, sq, total]).name);
    else if (past) ins.push('');
    const outs: { type: 'float'; shape: number[] }[] = [{ type: 'float', shape: four ? [b, qh, sq, dv] : [b, sq, qh * dv] }];
    if (past) {
      ins.push(g.input('float', [b, kvh, past, d]).name, g.input('float', [b, kvh, past, dv]).name);
      outs.push({ type: 'float', shape: [b, kvh, total, d] }, { type: 'float', shape: [b, kvh, total, dv] });
    }
    const causal = r.chance(0.4) && maskKind !== 'bool', softcap = r.chance(0.3);
    // the qk_matmul output only without causal and softcap: there onnxruntime 1.30 and the ONNX reference (which
    // the conformance suite checks, and forwardpass follows) disagree
    const mode = causal || softcap ? -1 : r.pick([-1, 0, 1, 2, 3]);
    if (mode >= 0) {
      if (!past) outs.push({ type: 'float', shape: [b, kvh, total, d] }, { type: 'float', shape: [b, kvh, total, dv] });
      outs.push({ type: 'float', shape: [b, qh, sq, total] });
    }
    const attrs: Record<string, AttrValue | undefined> = {
      ...(four ? {} : { q_num_heads: qh, kv_num_heads: kvh }),
      ...(causal ? { is_causal: 1 } : {}),
      ...(r.chance(0.3) ? { scale: f(r.float(0.1, 1)) } : {}),
      ...(softcap ? { softcap: f(r.float(1, 4)) } : {}),
      ...(mode > 0 ? { qk_matmul_output_mode: mode } : {}),
    };
    return g.node('Attention', ins, outs, attrs)[0]!;
  },
};

const lpNorm: OpGen = {
  op: 'LpNormalization',
  atol: 1e-4,
  accepts: isFloat,
  make(g, x) {
    const v = floatOr(g, x);
    return g.node('LpNormalization', [v.name], [{ type: 'float', shape: v.shape }], { axis: g.rng.int(-v.shape.length, v.shape.length - 1), p: g.rng.int(1, 2) })[0]!;
  },
};

const mvn: OpGen = {
  op: 'MeanVarianceNormalization',
  atol: 1e-4,
  make(g) {
    const v = g.input('float', [g.rng.int(1, 2), g.rng.int(1, 3), g.rng.int(2, 4), g.rng.int(2, 4)]);
    return g.node('MeanVarianceNormalization', [v.name], [{ type: 'float', shape: v.shape }], g.rng.chance(0.5) ? { axes: [2, 3] } : {})[0]!;
  },
};

const groupNorm: OpGen = {
  op: 'GroupNormalization',
  minOpset: 18,
  atol: 1e-4,
  make(g) {
    const groups = g.rng.int(1, 3), per = g.rng.int(1, 2);
    const v = g.input('float', [g.rng.int(1, 2), groups * per, ...g.rng.shape(1, 2, 4)]);
    const n = g.opset >= 21 ? groups * per : groups;
    return g.node('GroupNormalization', [v.name, g.randInit([n], 0.5, 1.5), g.randInit([n])], [{ type: 'float', shape: v.shape }], { num_groups: groups, epsilon: f(1e-3) })[0]!;
  },
};

const eyeLike: OpGen = {
  op: 'EyeLike',
  make(g) {
    const v = g.input('float', [g.rng.int(1, 4), g.rng.int(1, 4)]);
    return g.node('EyeLike', [v.name], [{ type: 'float', shape: v.shape }], { k: g.rng.int(-2, 2) })[0]!;
  },
};

/** Generators for the issue-13 ops (followers may consume their float outputs). */
export const COVERAGE_GENS: OpGen[] = [
  unary('IsNaN', { bool: true, special: true }),
  unary('IsInf', { bool: true, special: true, attrs: (g) => ({ detect_positive: g.rng.int(0, 1), detect_negative: g.rng.int(0, 1) }) }),
  prelu,
  unary('Selu', { special: true, attrs: (g) => (g.rng.chance(0.5) ? { alpha: f(g.rng.float(0.5, 2)), gamma: f(g.rng.float(0.5, 2)) } : {}) }),
  unary('Celu', { special: true, attrs: (g) => (g.rng.chance(0.5) ? { alpha: f(g.rng.float(0.5, 2)) } : {}) }),
  unary('ThresholdedRelu', { special: true, attrs: (g) => (g.rng.chance(0.5) ? { alpha: f(g.rng.float(-1, 1)) } : {}) }),
  unary('Shrink', { special: true, attrs: (g) => (g.rng.chance(0.7) ? { lambd: f(g.rng.float(0, 1)), bias: f(g.rng.float(-1, 1)) } : {}) }),
  unary('Softsign', { special: true }),
  unary('Mish', { minOpset: 18, special: true }),
  unary('Sinh', { special: true, atol: 1e-4 }),
  unary('Cosh', { special: true, atol: 1e-4 }),
  unary('Tan', { atol: 1e-4 }),
  mean,
  gatherElements,
  gatherND,
  ...['ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp'].map(reduce),
  layerNormStats,
  rmsNorm,
  argLast('ArgMax'),
  argLast('ArgMin'),
  hardmax,
  attention,
  lpNorm,
  mvn,
  groupNorm,
  eyeLike,
  loss('NegativeLogLikelihoodLoss'),
  loss('SoftmaxCrossEntropyLoss'),
];
