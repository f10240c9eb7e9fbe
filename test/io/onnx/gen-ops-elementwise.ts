// Random generators for the elementwise ONNX ops: unary math and activations, binary arithmetic with
// broadcasting, comparisons, Where, Not, Cast, Clip, Softmax/LogSoftmax, Identity, Dropout, Constant.
import { broadcast, type GraphBuilder, type OpGen, type Val } from './gen.js';
import type { AttrValue, ElemName } from './writer.js';

const isFloat = (x: Val) => x.type === 'float';
const anyFloat = (x: Val) => isFloat(x) && x.shape.length <= 5;
const ranked = (x: Val) => anyFloat(x) && x.shape.length >= 1;

/** A float input of random shape (rank 1-4, small dims) when there is no x to consume. */
export function floatOr(g: GraphBuilder, x: Val | null, positive = false): Val {
  return x ?? g.input('float', g.rng.shape(1, 4), { positive });
}

/** A shape that broadcasts with `s` (dims kept, set to 1, or growing a 1 of `s`; possibly fewer or one more leading dims). */
export function broadcastPartner(g: GraphBuilder, s: readonly number[]): number[] {
  const r = g.rng;
  const keep = r.int(0, s.length);
  const tail = s.slice(s.length - keep).map((d) => (d === 1 && r.chance(0.3) ? r.int(2, 3) : r.chance(0.3) ? 1 : d));
  if (keep === s.length && s.length < 4 && r.chance(0.2)) tail.unshift(r.int(1, 3));
  return tail;
}

function unary(op: string, o: { positiveIn?: boolean; positiveOut?: boolean; attrs?: (g: GraphBuilder) => Record<string, AttrValue | undefined>; minOpset?: number; atol?: number; rtol?: number } = {}): OpGen {
  return {
    op,
    minOpset: o.minOpset,
    atol: o.atol,
    rtol: o.rtol,
    accepts: (x) => anyFloat(x) && (!o.positiveIn || !!x.positive),
    make(g, x) {
      const v = floatOr(g, x, o.positiveIn);
      return g.node(op, [v.name], [{ type: 'float', shape: v.shape, positive: o.positiveOut }], o.attrs?.(g))[0]!;
    },
  };
}

const f = (value: number) => ({ type: 'float' as const, value });

function binary(op: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow'): OpGen {
  return {
    op,
    rtol: op === 'Pow' ? 1e-4 : undefined,
    accepts: (x) => anyFloat(x) && (op !== 'Pow' || !!x.positive),
    make(g, x) {
      const r = g.rng;
      // Integer arithmetic (as in shape computations) on fresh int64 inputs, now and then.
      if (!x && op !== 'Pow' && r.chance(0.25)) {
        const a = g.input('int64', r.shape(1, 3), { lo: op === 'Div' ? 1 : -9, hi: 9 });
        const b = g.input('int64', broadcastPartner(g, a.shape), { lo: 1, hi: 5 });
        return g.node(op, [a.name, b.name], [{ type: 'int64', shape: broadcast(a.shape, b.shape) }])[0]!;
      }
      const a = floatOr(g, x, op === 'Pow');
      const bs = broadcastPartner(g, a.shape);
      // Div: divisors kept away from zero; Pow: exponents in [-2, 2], sometimes whole.
      const opts = op === 'Div' ? { lo: 0.5, hi: 2 } : op === 'Pow' ? { lo: -2, hi: 2, ints: r.chance(0.3) } : {};
      let b: string;
      if (r.chance(0.4)) {
        const vals = Array.from({ length: bs.reduce((p, q) => p * q, 1) }, () => (opts.ints ? r.int(-2, 2) : r.float(opts.lo ?? -1, opts.hi ?? 1)) * (op === 'Div' && r.chance(0.5) ? -1 : 1));
        b = g.init('float', bs, vals);
      } else b = g.input('float', bs, opts).name;
      const swap = op !== 'Div' && op !== 'Pow' && r.chance(0.5);
      return g.node(op, swap ? [b, a.name] : [a.name, b], [{ type: 'float', shape: broadcast(a.shape, bs) }])[0]!;
    },
  };
}

function compare(op: 'Equal' | 'Less' | 'Greater'): OpGen {
  return {
    op,
    make(g) {
      const r = g.rng;
      const type: ElemName = r.pick(['float', 'int64', 'int32'] as const);
      // Whole numbers in a small range, so Equal finds equal pairs and no comparison sits on a rounding edge.
      const a = g.input(type, r.shape(1, 3), { lo: -2, hi: 2, ints: true });
      const b = g.input(type, broadcastPartner(g, a.shape), { lo: -2, hi: 2, ints: true });
      return g.node(op, [a.name, b.name], [{ type: 'bool', shape: broadcast(a.shape, b.shape) }])[0]!;
    },
  };
}

function boolOr(g: GraphBuilder, x: Val | null): Val {
  return x && x.type === 'bool' ? x : g.input('bool', g.rng.shape(1, 3));
}

const where: OpGen = {
  op: 'Where',
  accepts: (x) => x.type === 'bool' || anyFloat(x),
  make(g, x) {
    const r = g.rng;
    if (x && x.type === 'float') {
      const c = g.input('bool', broadcastPartner(g, x.shape));
      const cx = broadcast(c.shape, x.shape);
      const y = g.input('float', broadcastPartner(g, cx));
      const ins = r.chance(0.5) ? [x.name, y.name] : [y.name, x.name];
      return g.node('Where', [c.name, ...ins], [{ type: 'float', shape: broadcast(cx, y.shape) }])[0]!;
    }
    const c = boolOr(g, x);
    const a = g.input('float', broadcastPartner(g, c.shape));
    const ca = broadcast(c.shape, a.shape);
    const b = r.chance(0.5) ? g.input('float', broadcastPartner(g, ca)) : { name: g.init('float', [], [-1e4]), shape: [] as number[] };
    return g.node('Where', [c.name, a.name, b.name], [{ type: 'float', shape: broadcast(ca, b.shape) }])[0]!;
  },
};

const not: OpGen = {
  op: 'Not',
  accepts: (x) => x.type === 'bool',
  make(g, x) {
    const c = boolOr(g, x);
    return g.node('Not', [c.name], [{ type: 'bool', shape: c.shape }])[0]!;
  },
};

const CAST_CODE: Record<string, number> = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10 };

const cast: OpGen = {
  op: 'Cast',
  // From a chained value only to float16 / float (no rounding edge that small errors could cross).
  accepts: (x) => anyFloat(x) || x.type === 'bool' || x.type === 'int64',
  rtol: 1e-3,
  make(g, x) {
    const r = g.rng;
    let v: Val;
    let to: ElemName;
    if (x && x.type === 'float') {
      v = x;
      to = r.pick(['float16', 'float'] as const);
    } else if (x) {
      v = x;
      to = r.pick(['float', 'int32', 'int64'] as const);
    } else {
      const from = r.pick(['float', 'int64', 'int32', 'bool', 'uint8'] as const);
      // float sources sit between whole numbers (never at .0 or .5): truncation toward zero is unambiguous
      const shape = r.shape(1, 3);
      v = from === 'float' ? g.input('float', shape, { lo: -300, hi: 300, ints: true }) : g.input(from, shape, from === 'uint8' ? { lo: 0, hi: 255 } : { lo: -200, hi: 200 });
      if (from === 'float') {
        const d = g.feeds[v.name]!.data as Float32Array;
        for (let i = 0; i < d.length; i++) d[i] = d[i]! + r.pick([0.25, -0.25, 0.75, -0.75, 0]);
      }
      const targets: ElemName[] = from === 'float' ? ['int32', 'int64', 'bool', 'float16', 'float'] : ['float', 'int64', 'int32', 'bool', 'float16'];
      to = r.pick(targets);
    }
    const attrs: Record<string, number> = { to: CAST_CODE[to]! };
    if (g.opset >= 19 && r.chance(0.3)) attrs.saturate = 1;
    return g.node('Cast', [v.name], [{ type: to, shape: v.shape }], attrs)[0]!;
  },
};

const clip: OpGen = {
  op: 'Clip',
  accepts: anyFloat,
  make(g, x) {
    const r = g.rng;
    const v = floatOr(g, x);
    const lo = r.chance(0.7) ? g.init('float', [], [r.float(-1.5, 0)]) : '';
    const hi = r.chance(0.7) ? g.init('float', [], [r.float(0, 1.5)]) : '';
    const ins = hi ? [v.name, lo, hi] : lo ? [v.name, lo] : [v.name];
    return g.node('Clip', ins, [{ type: 'float', shape: v.shape }])[0]!;
  },
};

function softmax(op: 'Softmax' | 'LogSoftmax'): OpGen {
  return {
    op,
    accepts: ranked,
    make(g, x) {
      const v = floatOr(g, x);
      const rank = v.shape.length;
      const attrs = g.rng.chance(0.2) ? {} : { axis: g.rng.int(-rank, rank - 1) };
      return g.node(op, [v.name], [{ type: 'float', shape: v.shape, positive: op === 'Softmax' }], attrs)[0]!;
    },
  };
}

const dropout: OpGen = {
  op: 'Dropout',
  accepts: anyFloat,
  make(g, x) {
    const r = g.rng;
    const v = floatOr(g, x);
    const ins = [v.name];
    if (r.chance(0.5)) ins.push(g.init('float', [], [r.float(0.1, 0.9)]));
    if (ins.length === 2 && r.chance(0.5)) ins.push(g.init('bool', [], [0]));
    const outs: { type: ElemName; shape: number[]; positive?: boolean }[] = [{ type: 'float', shape: v.shape, positive: v.positive }];
    if (r.chance(0.4)) outs.push({ type: 'bool', shape: v.shape });
    return g.node('Dropout', ins, outs, r.chance(0.3) ? { seed: r.int(0, 99) } : {})[0]!;
  },
};

const constant: OpGen = {
  op: 'Constant',
  accepts: ranked,
  make(g, x) {
    const r = g.rng;
    const v = floatOr(g, x);
    // A Constant in one of its attribute forms, broadcast into x by a Mul.
    const kind = r.pick(['value', 'value_float', 'value_floats', 'value_int', 'value_ints'] as const);
    const last = v.shape[v.shape.length - 1]!;
    let shape: number[], type: ElemName, attr: Record<string, unknown>;
    if (kind === 'value') {
      shape = broadcastPartner(g, v.shape);
      const data = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.float(-2, 2));
      [type, attr] = ['float', { value: { type: 'tensor', value: { type: 'float', dims: shape, data } } }];
    } else if (kind === 'value_float') [shape, type, attr] = [[], 'float', { value_float: f(r.float(-2, 2)) }];
    else if (kind === 'value_floats') [shape, type, attr] = [[last], 'float', { value_floats: { type: 'floats', value: Array.from({ length: last }, () => r.float(-2, 2)) } }];
    else if (kind === 'value_int') [shape, type, attr] = [[], 'int64', { value_int: r.int(-3, 3) }];
    else [shape, type, attr] = [[last], 'int64', { value_ints: { type: 'ints', value: Array.from({ length: last }, () => r.int(-3, 3)) } }];
    let c = g.node('Constant', [], [{ type, shape }], attr as never)[0]!;
    if (type === 'int64') c = g.node('Cast', [c.name], [{ type: 'float', shape }], { to: 1 })[0]!;
    return g.node('Mul', [v.name, c.name], [{ type: 'float', shape: broadcast(v.shape, shape) }])[0]!;
  },
};

/** Generators for the elementwise ops. */
export const ELEMENTWISE_GENS: OpGen[] = [
  ...(['Add', 'Sub', 'Mul', 'Div', 'Pow'] as const).map(binary),
  unary('Sqrt', { positiveIn: true, positiveOut: true }),
  unary('Reciprocal', { positiveIn: true, positiveOut: true }),
  unary('Exp', { positiveOut: true, rtol: 1e-4 }),
  unary('Log', { positiveIn: true, atol: 1e-5 }),
  unary('Neg'),
  unary('Abs'),
  unary('Erf'),
  unary('Tanh'),
  unary('Sigmoid', { positiveOut: true }),
  unary('Relu'),
  unary('LeakyRelu', { attrs: (g) => (g.rng.chance(0.3) ? {} : { alpha: f(g.rng.float(0.01, 0.5)) }) }),
  unary('Elu', { attrs: (g) => (g.rng.chance(0.3) ? {} : { alpha: f(g.rng.float(0.1, 2)) }) }),
  unary('Gelu', { minOpset: 20, attrs: (g) => (g.rng.chance(0.5) ? { approximate: g.rng.pick(['none', 'tanh']) } : {}) }),
  unary('HardSigmoid', { attrs: (g) => (g.rng.chance(0.3) ? {} : { alpha: f(g.rng.float(0.1, 0.5)), beta: f(g.rng.float(0.2, 0.8)) }) }),
  unary('HardSwish', { minOpset: 14 }),
  unary('Sin'),
  unary('Cos'),
  unary('Identity'),
  clip,
  softmax('Softmax'),
  softmax('LogSoftmax'),
  compare('Equal'),
  compare('Less'),
  compare('Greater'),
  where,
  not,
  cast,
  dropout,
  constant,
];
