// ONNX ScatterElements, Scatter (its opset 9-10 name), ScatterND and TensorScatter as typed-array kernels
// (cpuOnly): the output is a copy of `data` with the picked elements replaced by, or reduced ('add', 'mul', 'max',
// 'min') with, the updates. Negative indices count from the end of their dim; an index outside the dim is an error
// naming it. Updates apply in index order, so with reduction 'none' a repeated index keeps the last update.
import type { Tensor } from '../../../tensor/tensor.js';
import { contiguousStrides, numel, shapeStr } from '../../../tensor/shape.js';
import { registerOnnxOp, type InferContext, type NodeContext, type RunContext } from './registry.js';
import { hostOut, requireDType, valuesOf } from './host.js';
import { axisOf, sameShape } from './util.js';

type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';
const REDUCTIONS = ['none', 'add', 'mul', 'max', 'min'] as const;

/** How an update combines with the element already there. */
const COMBINE: Record<Reduction, (old: number, u: number) => number> = {
  none: (_, u) => u, add: (o, u) => o + u, mul: (o, u) => o * u,
  // NaN on either side gives NaN (Math.max/min propagate it)
  max: (o, u) => Math.max(o, u), min: (o, u) => Math.min(o, u),
};

/** The reduction attribute (since opset 16 for ScatterElements/ScatterND; 'none' before). */
function reductionOf(c: NodeContext): Reduction {
  return c.attrs.stringOf('reduction', REDUCTIONS, 'none');
}

/** An index resolved against a dim of size n (negative counts from the end); out of range fails naming it. */
function resolveIndex(c: NodeContext, i: number, n: number, dim: number): number {
  const r = i < 0 ? i + n : i;
  if (!(r >= 0 && r < n)) c.fail(`index ${i} is out of range for dim ${dim} of size ${n} (expected ${-n}..${n - 1})`);
  return r;
}

/** A copy of `data`'s values as float64 (exact for every held dtype). */
const copyOf = (x: Tensor) => Float64Array.from(valuesOf(x));

function scatterElements(c: RunContext): Tensor {
  const data = c.input(0), idx = c.input(1), upd = c.input(2);
  const axis = axisOf(c, c.attrs.int('axis', 0), data.rank);
  if (idx.rank !== data.rank || upd.rank !== data.rank || idx.shape.some((d, k) => d !== upd.shape[k])) {
    c.fail(`indices ${shapeStr(idx.shape)} and updates ${shapeStr(upd.shape)} must have one shape, of the rank of data ${shapeStr(data.shape)}`);
  }
  for (let d = 0; d < data.rank; d++) if (d !== axis && idx.shape[d]! > data.shape[d]!) c.fail(`indices ${shapeStr(idx.shape)} exceed data ${shapeStr(data.shape)} on dim ${d}`);
  const combine = COMBINE[reductionOf(c)];
  const out = copyOf(data), iv = valuesOf(idx), uv = valuesOf(upd);
  const ds = contiguousStrides(data.shape), is = contiguousStrides(idx.shape);
  for (let p = 0; p < iv.length; p++) {
    let o = 0;
    for (let d = 0; d < data.rank; d++) {
      const coord = Math.floor(p / is[d]!) % idx.shape[d]!;
      o += (d === axis ? resolveIndex(c, iv[p]!, data.shape[axis]!, axis) : coord) * ds[d]!;
    }
    out[o] = combine(out[o]!, uv[p]!);
  }
  return hostOut(c, out, data.shape, data.dtype);
}

const validateReduction = (c: NodeContext) => { reductionOf(c); };
const indexInfer = (c: InferContext) => {
  requireDType(c, 1, ['int32'], 'indices');
  return sameShape(c);
};

registerOnnxOp('ScatterElements', { cpuOnly: true, validate: validateReduction, infer: indexInfer, run: (c) => [scatterElements(c)] });
registerOnnxOp('Scatter', { cpuOnly: true, infer: indexInfer, run: (c) => [scatterElements(c)] });

registerOnnxOp('ScatterND', {
  cpuOnly: true,
  validate: validateReduction,
  infer: indexInfer,
  run: (c) => {
    const data = c.input(0), idx = c.input(1), upd = c.input(2);
    const k = idx.shape[idx.rank - 1] ?? 0;
    const lead = idx.shape.slice(0, -1);
    const want = [...lead, ...data.shape.slice(k)];
    if (idx.rank < 1 || k > data.rank || upd.rank !== want.length || upd.shape.some((d, i) => d !== want[i])) {
      c.fail(`indices ${shapeStr(idx.shape)} and updates ${shapeStr(upd.shape)} do not fit data ${shapeStr(data.shape)} (updates must be ${shapeStr(want)})`);
    }
    const combine = COMBINE[reductionOf(c)];
    const out = copyOf(data), iv = valuesOf(idx), uv = valuesOf(upd);
    const ds = contiguousStrides(data.shape);
    const slice = numel(data.shape.slice(k));
    for (let r = 0; r < numel(lead); r++) {
      let o = 0;
      for (let j = 0; j < k; j++) o += resolveIndex(c, iv[r * k + j]!, data.shape[j]!, j) * ds[j]!;
      for (let q = 0; q < slice; q++) out[o + q] = combine(out[o + q]!, uv[r * slice + q]!);
    }
    return [hostOut(c, out, data.shape, data.dtype)];
  },
});

registerOnnxOp('TensorScatter', {
  // KV-cache update (opset 24): present = past with update written along `axis` from each batch's write index
  cpuOnly: true,
  validate: (c) => { c.attrs.stringOf('mode', ['linear', 'circular'] as const, 'linear'); },
  infer: (c) => (requireDType(c, 2, ['int32'], 'write_indices'), sameShape(c)),
  run: (c) => {
    const past = c.input(0), upd = c.input(1), wi = c.inputs[2];
    const axis = axisOf(c, c.attrs.int('axis', -2), past.rank);
    if (axis === 0) c.fail('axis must not be the batch dim 0');
    const circular = c.attrs.stringOf('mode', ['linear', 'circular'] as const, 'linear') === 'circular';
    if (upd.rank !== past.rank || upd.shape.some((d, i) => i !== axis && d !== past.shape[i]) || upd.shape[axis]! > past.shape[axis]!) {
      c.fail(`update ${shapeStr(upd.shape)} must match past_cache ${shapeStr(past.shape)} except on axis ${axis}, with at most ${past.shape[axis]} there`);
    }
    const batch = past.shape[0]!, maxSeq = past.shape[axis]!, seq = upd.shape[axis]!;
    const w = wi ? valuesOf(wi) : new Int32Array(batch);
    if (w.length !== batch) c.fail(`write_indices must hold one index per batch (${batch}), found ${w.length}`);
    const out = copyOf(past), uv = valuesOf(upd);
    const prefix = numel(past.shape.slice(0, axis)), perBatch = prefix / batch, inner = numel(past.shape.slice(axis + 1));
    for (let p = 0; p < prefix; p++) {
      const start = w[Math.floor(p / perBatch)]!;
      for (let s = 0; s < seq; s++) {
        let t = start + s;
        if (circular) t = ((t % maxSeq) + maxSeq) % maxSeq;
        else if (t < 0 || t >= maxSeq) c.fail(`write index ${start} + ${s} is outside the cache's ${maxSeq} positions (mode 'linear')`);
        for (let q = 0; q < inner; q++) out[(p * maxSeq + t) * inner + q] = uv[(p * seq + s) * inner + q]!;
      }
    }
    return [hostOut(c, out, past.shape, past.dtype)];
  },
});
