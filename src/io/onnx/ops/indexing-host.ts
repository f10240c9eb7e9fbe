// ONNX OneHot, Compress, ReverseSequence and Unique as typed-array kernels (cpuOnly): their output shapes (Compress,
// Unique) or indices depend on the values, so they are computed on the host. Index outputs are int32 (ONNX int64).
import { contiguousStrides, numel, shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { registerOnnxOp, type RunContext } from './registry.js';
import { hostOut, requireDType, valuesOf } from './host.js';
import { axisOf } from './util.js';

registerOnnxOp('OneHot', {
  // out has indices' shape with a dim of `depth` inserted at `axis`; an index outside [-depth, depth - 1] gives a row
  // of off_value only
  cpuOnly: true,
  hostInputs: [1],
  run: (c) => {
    const idx = c.input(0), values = c.input(2);
    const depthV = c.floats(1) ?? [];
    if (depthV.length !== 1 || !(depthV[0]! >= 1)) c.fail(`depth must be one positive value, found ${JSON.stringify(depthV)}`);
    const depth = Math.floor(depthV[0]!);
    if (values.size !== 2) c.fail(`values must hold [off_value, on_value], found ${values.size} values`);
    const axis = axisOf(c, c.attrs.int('axis', -1), idx.rank + 1);
    const vv = valuesOf(values), off = vv[0]!, on = vv[1]!;
    const outer = numel(idx.shape.slice(0, axis)), inner = numel(idx.shape.slice(axis));
    const iv = valuesOf(idx);
    const out = new Float64Array(outer * depth * inner).fill(off);
    for (let o = 0; o < outer; o++) {
      for (let q = 0; q < inner; q++) {
        const raw = Math.trunc(iv[o * inner + q]!);
        const k = raw < 0 ? raw + depth : raw;
        if (k >= 0 && k < depth) out[(o * depth + k) * inner + q] = on;
      }
    }
    const shape = idx.shape.slice();
    shape.splice(axis, 0, depth);
    return [hostOut(c, out, shape, values.dtype)];
  },
});

/** The slices `picks` of x along `axis`, in that order, as a new tensor. */
function takeSlices(c: RunContext, x: Tensor, axis: number, picks: number[]): Tensor {
  const outer = numel(x.shape.slice(0, axis)), n = x.shape[axis]!, inner = numel(x.shape.slice(axis + 1));
  const v = valuesOf(x);
  const out = new Float64Array(outer * picks.length * inner);
  for (let o = 0; o < outer; o++) {
    picks.forEach((j, k) => {
      for (let q = 0; q < inner; q++) out[(o * picks.length + k) * inner + q] = v[(o * n + j) * inner + q]!;
    });
  }
  const shape = x.shape.slice();
  shape[axis] = picks.length;
  return hostOut(c, out, shape, x.dtype);
}

registerOnnxOp('Compress', {
  cpuOnly: true,
  infer: (c) => (requireDType(c, 1, ['bool'], 'condition'), [{ dtype: c.inputs[0]?.dtype ?? 'float32' }]),
  run: (c) => {
    const x0 = c.input(0), cond = valuesOf(c.input(1));
    const flat = !c.attrs.has('axis');
    const x = flat ? x0.reshape([x0.size]) : x0;
    const axis = flat ? 0 : axisOf(c, c.attrs.int('axis'), x.rank);
    if (cond.length > x.shape[axis]!) c.fail(`condition holds ${cond.length} values for ${x.shape[axis]} slices of ${shapeStr(x0.shape)} on axis ${axis}`);
    const picks: number[] = [];
    for (let j = 0; j < cond.length; j++) if (cond[j]) picks.push(j);
    return [takeSlices(c, x, axis, picks)];
  },
});

registerOnnxOp('ReverseSequence', {
  cpuOnly: true,
  validate: (c) => { c.attrs.intOf('batch_axis', [0, 1], 1); c.attrs.intOf('time_axis', [0, 1], 0); },
  run: (c) => {
    const x = c.input(0), lens = valuesOf(c.input(1));
    const batchAxis = c.attrs.intOf('batch_axis', [0, 1], 1), timeAxis = c.attrs.intOf('time_axis', [0, 1], 0);
    if (batchAxis === timeAxis) c.fail('batch_axis and time_axis must differ');
    if (x.rank < 2) c.fail(`input must have rank 2 or more, found ${shapeStr(x.shape)}`);
    const [batch, time] = [x.shape[batchAxis]!, x.shape[timeAxis]!];
    if (lens.length !== batch) c.fail(`sequence_lens must hold ${batch} values (one per batch), found ${lens.length}`);
    const strides = contiguousStrides(x.shape), inner = numel(x.shape.slice(2));
    const v = valuesOf(x);
    const out = Float64Array.from(v);
    for (let b = 0; b < batch; b++) {
      const len = lens[b]!;
      if (!(len >= 0 && len <= time)) c.fail(`sequence_lens[${b}] = ${len} must be within 0..${time}`);
      for (let t = 0; t < len; t++) {
        const from = b * strides[batchAxis]! + t * strides[timeAxis]!, to = b * strides[batchAxis]! + (len - 1 - t) * strides[timeAxis]!;
        for (let q = 0; q < inner; q++) out[to + q] = v[from + q]!;
      }
    }
    return [hostOut(c, out, x.shape, x.dtype)];
  },
});

/** Compare two equal-length lists: ascending numbers, NaN after every number and equal to NaN. */
function compareLists(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    const nx = Number.isNaN(x), ny = Number.isNaN(y);
    if (nx || ny) {
      if (nx && ny) continue;
      return nx ? 1 : -1;
    }
    if (x !== y) return x - y;
  }
  return 0;
}

registerOnnxOp('Unique', {
  // outputs Y, indices (first occurrence), inverse_indices, counts; NaNs count as one value (as NumPy's unique)
  cpuOnly: true,
  validate: (c) => { c.attrs.intOf('sorted', [0, 1], 1); },
  infer: (c) => [{ dtype: c.inputs[0]?.dtype ?? 'float32' }, { dtype: 'int32' }, { dtype: 'int32' }, { dtype: 'int32' }],
  run: (c) => {
    const x0 = c.input(0);
    const flat = !c.attrs.has('axis');
    const x = flat ? x0.reshape([x0.size]) : x0;
    const axis = flat ? 0 : axisOf(c, c.attrs.int('axis'), x.rank);
    const n = x.shape[axis]!, outer = numel(x.shape.slice(0, axis)), inner = numel(x.shape.slice(axis + 1));
    const v = valuesOf(x);
    const slice = (j: number) => {
      const s = new Float64Array(outer * inner);
      for (let o = 0; o < outer; o++) for (let q = 0; q < inner; q++) s[o * inner + q] = v[(o * n + j) * inner + q]!;
      return s;
    };
    const slices = Array.from({ length: n }, (_, j) => slice(j));
    const firsts: number[] = [], inverse = new Int32Array(n), counts: number[] = [];
    for (let j = 0; j < n; j++) {
      const k = firsts.findIndex((f) => compareLists(slices[f]!, slices[j]!) === 0);
      if (k >= 0) { inverse[j] = k; counts[k]!++; } else { inverse[j] = firsts.length; firsts.push(j); counts.push(1); }
    }
    let order = firsts.map((_, k) => k);
    if (c.attrs.intOf('sorted', [0, 1], 1) === 1) order.sort((p, q) => compareLists(slices[firsts[p]!]!, slices[firsts[q]!]!));
    const rank = new Int32Array(order.length);
    order.forEach((k, r) => { rank[k] = r; });
    const picks = order.map((k) => firsts[k]!);
    order = order.map((k) => counts[k]!);
    return [
      takeSlices(c, x, axis, picks),
      c.node.outputs[1] ? hostOut(c, Int32Array.from(picks), [picks.length], 'int32') : undefined,
      c.node.outputs[2] ? hostOut(c, Int32Array.from(inverse, (k) => rank[k]!), [n], 'int32') : undefined,
      c.node.outputs[3] ? hostOut(c, Int32Array.from(order), [order.length], 'int32') : undefined,
    ];
  },
});
