// Random generators for Resize (nearest and linear, scales or sizes, opset 13 and 18 forms), Pad (constant,
// reflect, edge, wrap; negative pads; axes input), Tile, Trilu and CumSum.
import { numel, type OpGen, type Val } from './gen.js';
import { floatOr } from './gen-ops-elementwise.js';

const data = (x: Val) => x.type === 'float' || x.type === 'int64';

const resize: OpGen = {
  op: 'Resize',
  accepts: (x) => x.type === 'float' && x.shape.length === 4 && numel(x.shape) <= 128,
  atol: 1e-5,
  make(g, x) {
    const r = g.rng;
    const v = x ?? g.input('float', [r.int(1, 2), r.int(1, 3), r.int(1, 5), r.int(1, 5)]);
    const mode = r.pick(['nearest', 'linear'] as const);
    // Scales whose coordinate maps are computed exactly in float32 and float64 alike, so nearest-mode
    // rounding ties fall the same way in every correct implementation.
    const scales = v.shape.map((d, i) => (i < 2 ? 1 : r.pick(d >= 2 ? [0.5, 1, 1.5, 2, 3] : [1, 1.5, 2, 3])));
    const useAxes = g.opset >= 18 && r.chance(0.4);
    if (mode === 'nearest' && !useAxes && r.chance(0.2)) scales[1] = 2;
    const out = v.shape.map((d, i) => Math.floor(d * scales[i]!));
    const coords = ['half_pixel', 'asymmetric', 'pytorch_half_pixel', ...(mode === 'linear' ? ['align_corners'] : [])];
    const attrs: Record<string, string | number[]> = { mode };
    const ctm = r.pick(coords);
    if (ctm !== 'half_pixel' || r.chance(0.5)) attrs.coordinate_transformation_mode = ctm;
    if (mode === 'nearest' && r.chance(0.7)) attrs.nearest_mode = r.pick(['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']);
    const bySizes = r.chance(0.4);
    const pick = (a: number[]) => (useAxes ? a.slice(2) : a);
    if (useAxes) attrs.axes = [2, 3];
    const sc = bySizes ? '' : g.init('float', [pick(scales).length], pick(scales));
    const ins = [v.name, g.opset >= 18 && r.chance(0.5) ? '' : g.init('float', [0], []), sc];
    if (bySizes) ins.push(g.i64(pick(out)));
    while (ins[ins.length - 1] === '') ins.pop();
    return g.node('Resize', ins, [{ type: 'float', shape: out, positive: v.positive }], attrs)[0]!;
  },
};

const pad: OpGen = {
  op: 'Pad',
  accepts: (x) => data(x) && x.shape.length >= 1 && x.shape.length <= 4 && numel(x.shape) <= 128,
  make(g, x) {
    const r = g.rng;
    const v = x ?? g.input('float', g.rng.shape(1, 4, 4));
    const rank = v.shape.length;
    const mode = r.pick(['constant', 'constant', 'reflect', 'edge', ...(g.opset >= 19 ? ['wrap'] : [])]);
    const axes = g.opset >= 18 && r.chance(0.4) ? r.subset(rank) : null;
    const padAxes = axes ?? Array.from({ length: rank }, (_, i) => i);
    const lim = (d: number) => (mode === 'reflect' ? d - 1 : mode === 'wrap' ? d : 2);
    const before = padAxes.map((a) => r.int(mode === 'constant' ? -Math.min(1, v.shape[a]! - 1) : 0, Math.max(0, lim(v.shape[a]!))));
    const after = padAxes.map((a) => r.int(mode === 'constant' ? -Math.min(1, v.shape[a]! - 1 - Math.max(0, -before[padAxes.indexOf(a)]!)) : 0, Math.max(0, lim(v.shape[a]!))));
    const out = [...v.shape];
    padAxes.forEach((a, i) => (out[a] = out[a]! + before[i]! + after[i]!));
    const ins = [v.name, g.i64([...before, ...after])];
    if (mode === 'constant' && r.chance(0.5)) ins.push(v.type === 'int64' ? g.init('int64', [], [BigInt(r.int(-3, 3))]) : g.init('float', [], [r.float(-2, 2)]));
    if (axes) {
      if (ins.length === 2) ins.push('');
      ins.push(g.i64(axes.map((a) => (r.chance(0.4) ? a - rank : a))));
    }
    return g.node('Pad', ins, [{ type: v.type, shape: out }], mode === 'constant' && r.chance(0.5) ? {} : { mode })[0]!;
  },
};

const tile: OpGen = {
  op: 'Tile',
  accepts: (x) => data(x) && x.shape.length >= 1 && numel(x.shape) <= 64,
  make(g, x) {
    const v = x ?? g.input('float', g.rng.shape(1, 3, 3));
    const reps = v.shape.map(() => g.rng.int(1, 3));
    return g.node('Tile', [v.name, g.i64(reps)], [{ type: v.type, shape: v.shape.map((d, i) => d * reps[i]!), positive: v.positive }])[0]!;
  },
};

const trilu: OpGen = {
  op: 'Trilu',
  minOpset: 14,
  accepts: (x) => data(x) && x.shape.length >= 2,
  make(g, x) {
    const r = g.rng;
    const v = x ?? g.input('float', [...g.rng.shape(0, 2, 3), r.int(1, 5), r.int(1, 5)]);
    const ins = [v.name];
    if (r.chance(0.6)) ins.push(g.i64([r.int(-3, 3)], true));
    return g.node('Trilu', ins, [{ type: v.type, shape: v.shape }], r.chance(0.3) ? {} : { upper: r.int(0, 1) })[0]!;
  },
};

const cumsum: OpGen = {
  op: 'CumSum',
  accepts: (x) => (x.type === 'float' || x.type === 'int64') && x.shape.length >= 1,
  make(g, x) {
    const r = g.rng;
    const v = floatOr(g, x);
    const rank = v.shape.length;
    const a = r.int(-rank, rank - 1);
    const axis = r.chance(0.5) ? g.i64([a], true) : g.init('int32', [], [a]);
    const attrs: Record<string, number> = {};
    if (r.chance(0.4)) attrs.exclusive = 1;
    if (r.chance(0.4)) attrs.reverse = 1;
    return g.node('CumSum', [v.name, axis], [{ type: v.type, shape: v.shape }], attrs)[0]!;
  },
};

/** Generators for Resize, Pad, Tile, Trilu, CumSum. */
export const RESIZE_GENS: OpGen[] = [resize, pad, tile, trilu, cumsum];
