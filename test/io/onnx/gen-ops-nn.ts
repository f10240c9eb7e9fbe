// Random generators for the ONNX ops with weights or windows: MatMul, Gemm, Conv, MaxPool, AveragePool,
// GlobalAveragePool, the three normalizations and ReduceMean/ReduceSum/ReduceMax (attribute and input forms).
import { type GraphBuilder, type OpGen, type Val } from './gen.js';
import { floatOr } from './gen-ops-elementwise.js';

const isFloat = (x: Val) => x.type === 'float';
const f = (value: number) => ({ type: 'float' as const, value });

const matmul: OpGen = {
  op: 'MatMul',
  atol: 1e-4,
  accepts: (x) => isFloat(x) && x.shape.length >= 1 && x.shape.length <= 4,
  make(g, x) {
    const r = g.rng;
    const a = floatOr(g, x);
    const K = a.shape[a.shape.length - 1]!;
    const N = r.int(1, 5);
    // b: [K] (vector), [K, N], or batched [B.., K, N] broadcasting against a's batch dims
    const batch = a.shape.slice(0, -2);
    const kind = r.int(0, 3);
    const bShape = kind === 0 ? [K] : kind === 1 || !batch.length ? [K, N] : [...batch.slice(r.int(0, batch.length - 1)).map((d) => (r.chance(0.3) ? 1 : d)), K, N];
    const b = r.chance(0.5) ? g.randInit(bShape) : g.input('float', bShape, { symbolic: false }).name;
    const aBatch = a.shape.length >= 2 ? a.shape.slice(0, -2) : [];
    const bBatch = bShape.length >= 2 ? bShape.slice(0, -2) : [];
    const rank = Math.max(aBatch.length, bBatch.length);
    const outBatch = Array.from({ length: rank }, (_, i) => Math.max(aBatch[aBatch.length - rank + i] ?? 1, bBatch[bBatch.length - rank + i] ?? 1));
    const M = a.shape.length >= 2 ? [a.shape[a.shape.length - 2]!] : [];
    const out = [...outBatch, ...M, ...(bShape.length >= 2 ? [N] : [])];
    return g.node('MatMul', [a.name, b], [{ type: 'float', shape: out }])[0]!;
  },
};

const gemm: OpGen = {
  op: 'Gemm',
  atol: 1e-4,
  accepts: (x) => isFloat(x) && x.shape.length === 2,
  make(g, x) {
    const r = g.rng;
    const transA = r.chance(0.3) ? 1 : 0, transB = r.chance(0.5) ? 1 : 0;
    const a = x ?? g.input('float', [r.int(1, 5), r.int(1, 6)]);
    const [M, K] = transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const N = r.int(1, 6);
    const b = g.randInit(transB ? [N, K] : [K, N]);
    const ins = [a.name, b];
    const attrs: Record<string, unknown> = {};
    if (transA) attrs.transA = 1;
    if (transB) attrs.transB = 1;
    if (r.chance(0.3)) attrs.alpha = f(r.float(0.5, 2));
    if (r.chance(0.7)) {
      ins.push(g.randInit(r.pick([[N], [1, N], [M, 1], [M, N], []])));
      if (r.chance(0.3)) attrs.beta = f(r.float(0.5, 2));
    }
    return g.node('Gemm', ins, [{ type: 'float', shape: [M, N] }], attrs as never)[0]!;
  },
};

/** Output size of one spatial dim of a window op. */
function windowOut(inp: number, k: number, s: number, d: number, p0: number, p1: number, ceil: boolean): number {
  const span = inp + p0 + p1 - d * (k - 1) - 1;
  const o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // ceil mode where the last window would start inside the end padding: onnxruntime drops that window, ONNX
  // shape inference keeps it. Ambiguous, so such draws are rejected (NaN) and rerolled.
  if (ceil && (o - 1) * s >= inp + p0) return NaN;
  return o;
}

interface Window { kernel: number[]; strides: number[]; dilations: number[]; pads: number[]; autoPad: string; ceil: boolean; out: number[] }

/** Random window attributes for spatial dims `sp`, valid (output >= 1). */
function randomWindow(g: GraphBuilder, sp: number[], o: { dilation: boolean; ceil: boolean; kmax?: number }): Window {
  const r = g.rng;
  for (;;) {
    const n = sp.length;
    const kernel = sp.map((d) => r.int(1, Math.min(o.kmax ?? 3, d + 1)));
    const strides = sp.map(() => r.int(1, 2));
    const autoPad = r.chance(0.2) ? r.pick(['SAME_UPPER', 'SAME_LOWER', 'VALID']) : 'NOTSET';
    // onnxruntime refuses dilations with SAME_* padding
    const dilations = sp.map(() => (o.dilation && !autoPad.startsWith('SAME') && r.chance(0.3) ? 2 : 1));
    let pads = Array.from({ length: 2 * n }, (_, i) => (r.chance(0.5) ? r.int(0, Math.floor((kernel[i % n]! - 1) / 1)) : 0));
    const ceil = autoPad === 'NOTSET' && o.ceil && r.chance(0.3);
    let out: number[];
    if (autoPad === 'VALID') {
      pads = pads.map(() => 0);
      out = sp.map((d, i) => Math.floor((d - dilations[i]! * (kernel[i]! - 1) - 1) / strides[i]!) + 1);
    } else if (autoPad !== 'NOTSET') {
      out = sp.map((d, i) => Math.ceil(d / strides[i]!));
      pads = new Array(2 * n).fill(0);
      // onnxruntime's pools refuse SAME padding whose total would be negative: such draws are rerolled
      if (sp.some((d, i) => (out[i]! - 1) * strides[i]! + kernel[i]! - d < 0)) continue;
      sp.forEach((d, i) => {
        const total = Math.max(0, (out[i]! - 1) * strides[i]! + dilations[i]! * (kernel[i]! - 1) + 1 - d);
        const small = Math.floor(total / 2);
        pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
        pads[i + n] = total - pads[i]!;
      });
    } else out = sp.map((d, i) => windowOut(d, kernel[i]!, strides[i]!, dilations[i]!, pads[i]!, pads[i + n]!, ceil));
    // pads must stay below the kernel extent for pooling; outputs must be non-empty
    if (out.every((v) => v >= 1) && pads.every((p, i) => p < dilations[i % n]! * (kernel[i % n]! - 1) + 1)) return { kernel, strides, dilations, pads, autoPad, ceil, out };
  }
}

function windowAttrs(w: Window, g: GraphBuilder, withDil: boolean): Record<string, unknown> {
  const r = g.rng;
  const a: Record<string, unknown> = { kernel_shape: w.kernel };
  if (w.strides.some((s) => s !== 1) || r.chance(0.5)) a.strides = w.strides;
  if (withDil && (w.dilations.some((d) => d !== 1) || r.chance(0.3))) a.dilations = w.dilations;
  if (w.autoPad !== 'NOTSET') a.auto_pad = w.autoPad;
  else if (w.pads.some((p) => p) || r.chance(0.3)) a.pads = w.pads;
  if (w.ceil) a.ceil_mode = 1;
  return a;
}

const spatialInput = (g: GraphBuilder, x: Val | null): Val => x ?? g.input('float', [g.rng.int(1, 2), g.rng.int(1, 4), ...g.rng.shape(g.rng.chance(0.8) ? 2 : 1, 2, 7).map((d) => d + 1)]);
const spatial = (x: Val) => isFloat(x) && (x.shape.length === 3 || x.shape.length === 4) && x.shape.slice(2).every((d) => d >= 2);

const conv: OpGen = {
  op: 'Conv',
  atol: 1e-4,
  accepts: spatial,
  make(g, x) {
    const r = g.rng;
    const v = spatialInput(g, x);
    const [N, C] = v.shape as [number, number];
    const groups = C > 1 && C % 2 === 0 && r.chance(0.3) ? r.pick(C % 4 === 0 ? [2, 4, C] : [2, C]) : 1;
    const M = groups * r.int(1, 3);
    const w = randomWindow(g, v.shape.slice(2), { dilation: true, ceil: false, kmax: 3 });
    const ins = [v.name, g.randInit([M, C / groups, ...w.kernel])];
    if (r.chance(0.6)) ins.push(g.randInit([M]));
    const attrs = windowAttrs(w, g, true);
    if (r.chance(0.3)) delete attrs.kernel_shape; // inferred from the weight
    if (groups > 1) attrs.group = groups;
    return g.node('Conv', ins, [{ type: 'float', shape: [N, M, ...w.out] }], attrs as never)[0]!;
  },
};

function pool(op: 'MaxPool' | 'AveragePool'): OpGen {
  return {
    op,
    accepts: spatial,
    make(g, x) {
      const r = g.rng;
      const v = spatialInput(g, x);
      const dil = op === 'MaxPool' || g.opset >= 19;
      const w = randomWindow(g, v.shape.slice(2), { dilation: dil, ceil: true, kmax: 3 });
      const attrs = windowAttrs(w, g, dil);
      if (op === 'AveragePool' && r.chance(0.5)) attrs.count_include_pad = 1;
      return g.node(op, [v.name], [{ type: 'float', shape: [...v.shape.slice(0, 2), ...w.out] }], attrs as never)[0]!;
    },
  };
}

const globalAvg: OpGen = {
  op: 'GlobalAveragePool',
  accepts: (x) => isFloat(x) && x.shape.length >= 3 && x.shape.length <= 5,
  make(g, x) {
    const v = x ?? g.input('float', [g.rng.int(1, 2), g.rng.int(1, 4), ...g.rng.shape(1, 3, 5)]);
    return g.node('GlobalAveragePool', [v.name], [{ type: 'float', shape: [...v.shape.slice(0, 2), ...v.shape.slice(2).map(() => 1)] }])[0]!;
  },
};

const eps = (g: GraphBuilder) => (g.rng.chance(0.5) ? { epsilon: f(g.rng.pick([1e-5, 1e-3, 1e-12])) } : {});

const batchNorm: OpGen = {
  op: 'BatchNormalization',
  atol: 1e-4,
  accepts: (x) => isFloat(x) && x.shape.length >= 2,
  make(g, x) {
    const v = x ?? g.input('float', [g.rng.int(1, 3), ...g.rng.shape(1, 3)]);
    const C = v.shape[1]!;
    const ins = [v.name, g.randInit([C], 0.5, 1.5), g.randInit([C]), g.randInit([C]), g.randInit([C], 0.2, 2)];
    return g.node('BatchNormalization', ins, [{ type: 'float', shape: v.shape }], eps(g))[0]!;
  },
};

const layerNorm: OpGen = {
  op: 'LayerNormalization',
  minOpset: 17,
  atol: 1e-4,
  accepts: (x) => isFloat(x) && x.shape.length >= 1,
  make(g, x) {
    const r = g.rng;
    const v = floatOr(g, x);
    const rank = v.shape.length;
    const axis = r.chance(0.3) ? undefined : r.int(-rank, rank - 1);
    const norm = v.shape.slice(axis === undefined ? rank - 1 : axis < 0 ? rank + axis : axis);
    const ins = [v.name, g.randInit(norm, 0.5, 1.5)];
    if (r.chance(0.6)) ins.push(g.randInit(norm));
    return g.node('LayerNormalization', ins, [{ type: 'float', shape: v.shape }], { ...(axis === undefined ? {} : { axis }), ...eps(g) })[0]!;
  },
};

const instanceNorm: OpGen = {
  op: 'InstanceNormalization',
  atol: 1e-4,
  accepts: (x) => isFloat(x) && x.shape.length >= 3,
  make(g, x) {
    const v = x ?? g.input('float', [g.rng.int(1, 2), g.rng.int(1, 3), ...g.rng.shape(1, 2, 5).map((d) => d + 1)]);
    const C = v.shape[1]!;
    return g.node('InstanceNormalization', [v.name, g.randInit([C], 0.5, 1.5), g.randInit([C])], [{ type: 'float', shape: v.shape }], eps(g))[0]!;
  },
};

function reduce(op: 'ReduceMean' | 'ReduceSum' | 'ReduceMax'): OpGen {
  return {
    op,
    atol: 1e-5,
    accepts: (x) => isFloat(x) && x.shape.length >= 1,
    make(g, x) {
      const r = g.rng;
      const v = floatOr(g, x);
      const rank = v.shape.length;
      const keep = r.chance(0.5) ? 1 : 0;
      // axes: absent (all), a subset (some negative), or empty with noop_with_empty_axes (opset 18+ / ReduceSum 13+)
      const asInput = op === 'ReduceSum' || g.opset >= 18;
      const mode = r.pick(asInput ? ['all', 'some', 'some', 'noop'] : ['all', 'some', 'some']);
      const axes = mode === 'some' ? r.shuffle(r.subset(rank)).map((a) => (r.chance(0.4) ? a - rank : a)) : [];
      const attrs: Record<string, number | number[]> = {};
      if (keep === 0 || r.chance(0.5)) attrs.keepdims = keep;
      const ins = [v.name];
      if (mode === 'noop') attrs.noop_with_empty_axes = 1;
      if (mode === 'some') {
        if (asInput) ins.push(g.i64(axes));
        else attrs.axes = axes;
      }
      const red = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
      const all = mode === 'all';
      const shape = mode === 'noop' ? v.shape : v.shape.flatMap((d, i) => (all || red.has(i) ? (keep ? [1] : []) : [d]));
      return g.node(op, ins, [{ type: 'float', shape, positive: v.positive && op !== 'ReduceSum' ? true : undefined }], attrs)[0]!;
    },
  };
}

/** Generators for the weight and window ops. */
export const NN_GENS: OpGen[] = [matmul, gemm, conv, pool('MaxPool'), pool('AveragePool'), globalAvg, batchNorm, layerNorm, instanceNorm, reduce('ReduceMean'), reduce('ReduceSum'), reduce('ReduceMax')];
