// Random generators for the ONNX shape and data-movement ops: Reshape, Transpose, Flatten, Squeeze, Unsqueeze,
// Concat, Split, Slice, Gather, Shape, Expand, ConstantOfShape, Range, Pad, Tile, Trilu, CumSum (and Resize in
// gen-ops-resize.ts). Shape arguments are int64 initializers, in the input or attribute form the opset asks for.
import { broadcast, numel, type OpGen, type Val } from './gen.js';
import { floatOr } from './gen-ops-elementwise.js';
import type { ElemName } from './writer.js';

const data = (x: Val) => (x.type === 'float' || x.type === 'int64' || x.type === 'bool') && x.shape.length >= 1;
const norm = (a: number, r: number) => (a < 0 ? a + r : a);

const reshape: OpGen = {
  op: 'Reshape',
  accepts: data,
  make(g, x) {
    const r = g.rng;
    const v = floatOr(g, x);
    // target: the factors of numel regrouped, with one -1 and/or 0s (copy the input dim at that position)
    const n = numel(v.shape);
    const dims: number[] = [];
    let left = n;
    while (left > 1 && dims.length < 4) {
      const divs = Array.from({ length: left }, (_, i) => i + 1).filter((d) => left % d === 0 && d > 1);
      const d = r.chance(0.3) ? left : r.pick(divs);
      dims.push(d);
      left /= d;
    }
    if (!dims.length || r.chance(0.3)) dims.push(1);
    const spec = dims.map((d, i) => (v.shape[i] === d && r.chance(0.4) ? 0 : d));
    const free = spec.findIndex((d) => d !== 0);
    if (free >= 0 && r.chance(0.5)) spec[free] = -1;
    return g.node('Reshape', [v.name, g.i64(spec)], [{ type: v.type, shape: dims, positive: v.positive }])[0]!;
  },
};

const transpose: OpGen = {
  op: 'Transpose',
  accepts: data,
  make(g, x) {
    const v = floatOr(g, x);
    const rank = v.shape.length;
    const perm = g.rng.chance(0.2) ? undefined : g.rng.shuffle(Array.from({ length: rank }, (_, i) => i));
    const p = perm ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    return g.node('Transpose', [v.name], [{ type: v.type, shape: p.map((i) => v.shape[i]!), positive: v.positive }], perm ? { perm } : {})[0]!;
  },
};

const flatten: OpGen = {
  op: 'Flatten',
  accepts: data,
  make(g, x) {
    const v = floatOr(g, x);
    const rank = v.shape.length;
    const axis = g.rng.chance(0.2) ? 1 : g.rng.int(-rank, rank);
    const a = norm(axis, rank);
    return g.node('Flatten', [v.name], [{ type: v.type, shape: [numel(v.shape.slice(0, a)), numel(v.shape.slice(a))], positive: v.positive }], { axis })[0]!;
  },
};

const squeeze: OpGen = {
  op: 'Squeeze',
  accepts: (x) => data(x) && x.shape.includes(1),
  make(g, x) {
    const r = g.rng;
    const v = x ?? g.input('float', r.shape(1, 4).map((d) => (r.chance(0.5) ? 1 : d)));
    const rank = v.shape.length;
    const ones = v.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
    const axes = ones.length && r.chance(0.7) ? r.shuffle(ones).slice(0, r.int(1, ones.length)).map((a) => (r.chance(0.4) ? a - rank : a)) : null;
    const drop = new Set(axes ? axes.map((a) => norm(a, rank)) : ones);
    const out = v.shape.filter((_, i) => !drop.has(i));
    return g.node('Squeeze', axes ? [v.name, g.i64(axes)] : [v.name], [{ type: v.type, shape: out, positive: v.positive }])[0]!;
  },
};

const unsqueeze: OpGen = {
  op: 'Unsqueeze',
  accepts: (x) => data(x) && x.shape.length <= 4,
  make(g, x) {
    const r = g.rng;
    const v = x ?? g.input('float', r.shape(0, 3));
    const k = r.int(1, 2);
    const outRank = v.shape.length + k;
    const pos = r.shuffle(Array.from({ length: outRank }, (_, i) => i)).slice(0, k);
    const out: number[] = [];
    let j = 0;
    for (let i = 0; i < outRank; i++) out.push(pos.includes(i) ? 1 : v.shape[j++]!);
    const axes = pos.map((a) => (r.chance(0.4) ? a - outRank : a));
    return g.node('Unsqueeze', [v.name, g.i64(axes)], [{ type: v.type, shape: out, positive: v.positive }])[0]!;
  },
};

const concat: OpGen = {
  op: 'Concat',
  accepts: (x) => (x.type === 'float' || x.type === 'int64') && x.shape.length >= 1,
  make(g, x) {
    const r = g.rng;
    const v = floatOr(g, x);
    const rank = v.shape.length;
    const axis = r.int(-rank, rank - 1);
    const a = norm(axis, rank);
    const parts = [v];
    for (let i = r.int(1, 2); i > 0; i--) {
      const s = [...v.shape];
      s[a] = r.int(v.type === 'int64' ? 1 : 0, 3);
      parts.push(v.type === 'int64' ? { name: g.init('int64', s, Array.from({ length: numel(s) }, () => BigInt(r.int(1, 4)))), type: 'int64', shape: s } : g.input('float', s, { symbolic: false }));
    }
    const order = r.shuffle(parts);
    const out = [...v.shape];
    out[a] = parts.reduce((t, p) => t + p.shape[a]!, 0);
    return g.node('Concat', order.map((p) => p.name), [{ type: v.type, shape: out }], { axis })[0]!;
  },
};

const split: OpGen = {
  op: 'Split',
  accepts: (x) => data(x) && x.shape.length >= 1 && Math.max(...x.shape) >= 2,
  make(g, x) {
    const r = g.rng;
    const v = x ?? g.input('float', r.shape(1, 3, 6).map((d) => d + 1));
    const rank = v.shape.length;
    const cands = v.shape.map((d, i) => (d >= 2 ? i : -1)).filter((i) => i >= 0);
    const a = r.pick(cands);
    const dim = v.shape[a]!;
    const attrs: Record<string, number> = {};
    if (a !== 0 || r.chance(0.5)) attrs.axis = r.chance(0.5) ? a - rank : a;
    const ins = [v.name];
    let sizes: number[];
    const form = r.pick(g.opset >= 18 ? ['sizes', 'num'] : ['sizes', 'equal']);
    if (form === 'sizes') {
      sizes = [];
      let left = dim;
      while (left > 0) {
        const s = r.int(left === dim ? 1 : 0, left);
        sizes.push(s);
        left -= s;
      }
      ins.push(g.i64(sizes));
    } else if (form === 'num') {
      // chunks of ceil(dim / num), the last one smaller; counts that would leave an empty chunk are avoided
      const nums = [2, 3, 4].filter((k) => k <= dim && (k - 1) * Math.ceil(dim / k) < dim);
      const num = r.pick(nums);
      attrs.num_outputs = num;
      const each = Math.ceil(dim / num);
      sizes = Array.from({ length: num }, (_, i) => Math.max(0, Math.min(each, dim - i * each)));
    } else {
      const divs = [2, 3, 4].filter((k) => dim % k === 0);
      const k = divs.length ? r.pick(divs) : 1;
      sizes = new Array(k).fill(dim / k);
    }
    const outs = sizes.map((s) => ({ type: v.type, shape: v.shape.map((d, i) => (i === a ? s : d)), positive: v.positive }));
    const vals = g.node('Split', ins, outs, attrs);
    return vals.reduce((best, o) => (numel(o.shape) > numel(best.shape) ? o : best));
  },
};

const slice: OpGen = {
  op: 'Slice',
  accepts: (x) => data(x) && x.shape.length >= 1,
  make(g, x) {
    const r = g.rng;
    const v = x ?? g.input('float', r.shape(1, 3, 6));
    const rank = v.shape.length;
    const axes = r.shuffle(r.subset(rank));
    const starts: number[] = [], ends: number[] = [], steps: number[] = [];
    const out = [...v.shape];
    for (const a of axes) {
      const d = v.shape[a]!;
      const step = r.pick([1, 1, 2, -1, -2]);
      // starts/ends anywhere in [-d-2, d+2] plus the 'to the end' sentinels; the output size follows the clamping rules
      const big = step > 0 ? 2 ** 31 - 1 : -(2 ** 31);
      const st = r.int(-d - 1, d + 1);
      const en = r.chance(0.2) ? big : r.int(-d - 2, d + 2);
      const clamp = (i: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, i < 0 ? i + d : i));
      const s0 = step > 0 ? clamp(st, 0, d) : clamp(st, 0, d - 1);
      const e0 = step > 0 ? clamp(en, 0, d) : clamp(en, -1, d - 1);
      out[a] = Math.max(0, Math.ceil((e0 - s0) / step));
      starts.push(st);
      ends.push(en);
      steps.push(step);
    }
    const ins = [v.name, g.i64(starts), g.i64(ends)];
    const signed = axes.map((a) => (r.chance(0.3) ? a - rank : a));
    const withSteps = steps.some((s) => s !== 1) || r.chance(0.3);
    const allAxes = axes.length === rank && axes.every((a, i) => a === i);
    if (withSteps || !allAxes || r.chance(0.5)) ins.push(g.i64(signed));
    if (withSteps) ins.push(g.i64(steps));
    return g.node('Slice', ins, [{ type: v.type, shape: out, positive: v.positive }])[0]!;
  },
};

const gather: OpGen = {
  op: 'Gather',
  accepts: (x) => data(x) && x.shape.length >= 1,
  make(g, x) {
    const r = g.rng;
    const v = x ?? g.input('float', r.shape(1, 3, 5));
    const rank = v.shape.length;
    const a = r.int(0, rank - 1);
    const d = v.shape[a]!;
    const ishape = r.shape(0, 2, 3);
    const idx = Array.from({ length: numel(ishape) }, () => r.int(-d, d - 1));
    const type: ElemName = r.pick(['int64', 'int32'] as const);
    const indices = r.chance(0.5) ? g.init(type, ishape, type === 'int64' ? idx.map(BigInt) : idx) : g.input(type, ishape, { lo: -d, hi: d - 1 }).name;
    const attrs = a === 0 && r.chance(0.5) ? {} : { axis: r.chance(0.4) ? a - rank : a };
    const out = [...v.shape.slice(0, a), ...ishape, ...v.shape.slice(a + 1)];
    return g.node('Gather', [v.name, indices], [{ type: v.type, shape: out, positive: v.positive }], attrs)[0]!;
  },
};

const shapeOp: OpGen = {
  op: 'Shape',
  accepts: (x) => x.shape.length >= 1,
  make(g, x) {
    const r = g.rng;
    const v = floatOr(g, x);
    const rank = v.shape.length;
    const attrs: Record<string, number> = {};
    let dims = v.shape;
    if (g.opset >= 15 && r.chance(0.5)) {
      const start = r.int(-rank - 1, rank), end = r.int(-rank - 1, rank + 1);
      if (r.chance(0.7)) attrs.start = start;
      if (r.chance(0.7)) attrs.end = end;
      const c = (i: number) => Math.min(rank, Math.max(0, i < 0 ? i + rank : i));
      dims = v.shape.slice(c(attrs.start ?? 0), c(attrs.end ?? rank));
    }
    const out = g.node('Shape', [v.name], [{ type: 'int64', shape: [dims.length] }], attrs)[0]!;
    if (numel(dims) <= 256) g.known.set(out.name, dims);
    return out;
  },
};

const expand: OpGen = {
  op: 'Expand',
  accepts: (x) => data(x) && x.shape.length <= 4 && numel(x.shape) <= 64,
  make(g, x) {
    const r = g.rng;
    const v = x ?? g.input('float', r.shape(1, 3, 3).map((d) => (r.chance(0.5) ? 1 : d)));
    // shape: each dim of x kept, or grown from 1, or given as 1 (bidirectional); maybe one more leading dim
    const s = v.shape.map((d) => (d === 1 && r.chance(0.6) ? r.int(2, 3) : r.chance(0.3) ? 1 : d));
    if (v.shape.length < 4 && r.chance(0.4)) s.unshift(r.int(1, 3));
    return g.node('Expand', [v.name, g.i64(s)], [{ type: v.type, shape: broadcast(v.shape, s), positive: v.positive }])[0]!;
  },
};

const constantOfShape: OpGen = {
  op: 'ConstantOfShape',
  accepts: (x) => x.type === 'int64' && x.shape.length === 1 && x.shape[0]! <= 4,
  make(g, x) {
    const r = g.rng;
    // Chained after Shape the input values are x's dims: known here only through the producing op, so
    // ConstantOfShape reads a fresh int64 initializer unless x is a Shape output whose value we track.
    const dims = r.shape(0, 3);
    const src = x && g.shapeValue(x) ? x : null;
    const shape = src ? g.shapeValue(src)! : dims;
    const input = src ? src.name : g.i64(dims);
    const kind = r.pick(['none', 'float', 'int64', 'bool'] as const);
    const type: ElemName = kind === 'none' ? 'float' : kind;
    const attrs = kind === 'none' ? {} : { value: { type: 'tensor' as const, value: { type, dims: [1], data: kind === 'int64' ? [BigInt(r.int(-5, 5))] : kind === 'bool' ? [1] : [r.float(-2, 2)] } } };
    return g.node('ConstantOfShape', [input], [{ type, shape }], attrs)[0]!;
  },
};

const range: OpGen = {
  op: 'Range',
  make(g) {
    const r = g.rng;
    const type: ElemName = r.pick(['float', 'int64', 'int32'] as const);
    const isF = type === 'float';
    const start = isF ? r.int(-8, 8) + 0.25 : r.int(-8, 8);
    const delta = isF ? r.pick([0.5, 1.5, -0.75, 2, -1]) : r.pick([1, 2, 3, -1, -2]);
    // limit a third of the way between grid points, so the count is unambiguous
    const n = r.int(0, 8);
    const limit = start + delta * (n - (isF ? 1 / 3 : 0)) + (isF ? 0 : 0);
    const count = Math.max(0, Math.ceil((limit - start) / delta));
    const sc = (vv: number) => g.init(type, [], type === 'int64' ? [BigInt(vv)] : [vv]);
    return g.node('Range', [sc(start), sc(isF ? limit : Math.round(limit)), sc(delta)], [{ type, shape: [count] }])[0]!;
  },
};

/** Generators for shape and data-movement ops (Pad, Tile, Trilu, CumSum, Resize are in gen-ops-resize.ts). */
export const SHAPE_GENS: OpGen[] = [reshape, transpose, flatten, squeeze, unsqueeze, concat, split, slice, gather, shapeOp, expand, constantOfShape, range];
