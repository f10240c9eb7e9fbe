// ONNX GatherElements and GatherND composed from the gather kernel (so they run on every backend): the flat index
// of each picked element is computed elementwise from the index tensor plus a host-made offset table, then one
// gather on the flattened data picks them. Negative indices count from the end of their dim, as ONNX says.
import { numel, shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import * as E from '../../../ops/elementwise.js';
import { sum } from '../../../ops/reduce.js';
import { gather } from '../../../ops/transform.js';
import { registerOnnxOp, type NodeContext } from './registry.js';
import { axisOf, small } from './util.js';

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** idx + dim where idx < 0 (dim: a number or a tensor broadcasting onto idx). */
function wrapNegative(idx: Tensor, dim: number | Tensor): Tensor {
  const i32 = idx.dtype === 'int32' ? idx : E.cast(idx, 'int32');
  const neg = E.lt(i32, 0), shifted = E.add(i32, dim);
  const out = E.where(neg, shifted, i32);
  neg.dispose();
  shifted.dispose();
  if (i32 !== idx) i32.dispose();
  return out;
}

/**
 * out[p] = x[p with coordinate `axis` replaced by idx[p]] (ONNX GatherElements): idx has x's rank and each dim of
 * idx is at most x's.
 */
export function gatherElements(c: NodeContext, x: Tensor, idx: Tensor, axis: number, device: string): Tensor {
  if (idx.rank !== x.rank) c.fail(`indices must have the rank of data (${x.rank}), found ${shapeStr(idx.shape)}`);
  for (let d = 0; d < x.rank; d++) {
    if (d !== axis && idx.shape[d]! > x.shape[d]!) c.fail(`indices ${shapeStr(idx.shape)} exceed data ${shapeStr(x.shape)} on dim ${d}`);
  }
  const xs = stridesOf(x.shape), is = stridesOf(idx.shape);
  const n = numel(idx.shape);
  const offset = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    let o = 0;
    for (let d = 0; d < idx.rank; d++) if (d !== axis) o += (Math.floor(p / is[d]!) % idx.shape[d]!) * xs[d]!;
    offset[p] = o;
  }
  const tmp: Tensor[] = [];
  const t = (y: Tensor) => (tmp.push(y), y);
  try {
    const wrapped = t(wrapNegative(idx, x.shape[axis]!));
    const flat = t(E.add(t(E.mul(wrapped, xs[axis]!)), t(small(offset, idx.shape, 'int32', device))));
    return gather(t(x.reshape([numel(x.shape)])), flat, 0);
  } finally {
    for (const y of tmp) y.dispose();
  }
}

registerOnnxOp('GatherElements', {
  infer: (c) => [{ dtype: c.inputs[0]?.dtype ?? 'float32', ...(c.inputs[1]?.shape ? { shape: [...c.inputs[1].shape] } : {}) }],
  run: (c) => {
    const x = c.input(0);
    return [gatherElements(c, x, c.input(1), axisOf(c, c.attrs.int('axis', 0), x.rank), c.device)];
  },
});

registerOnnxOp('GatherND', {
  run: (c) => {
    const x = c.input(0), idx = c.input(1);
    const b = c.attrs.int('batch_dims', 0);
    const k = idx.shape[idx.rank - 1]!;
    if (idx.rank < 1 || b < 0 || b >= idx.rank || b + k > x.rank) {
      c.fail(`indices ${shapeStr(idx.shape)} with batch_dims ${b} do not fit data ${shapeStr(x.shape)}`);
    }
    for (let d = 0; d < b; d++) if (idx.shape[d] !== x.shape[d]) c.fail(`batch dim ${d} of indices ${shapeStr(idx.shape)} and data ${shapeStr(x.shape)} differ`);
    const inner = x.shape.slice(b, b + k), rest = x.shape.slice(b + k);
    const perBatch = numel(inner);
    const lead = idx.shape.slice(0, -1);
    const n = numel(lead), perLeadBatch = numel(idx.shape.slice(b, -1));
    const offset = new Int32Array(n);
    for (let p = 0; p < n; p++) offset[p] = Math.floor(p / perLeadBatch) * perBatch;
    const tmp: Tensor[] = [];
    const t = (y: Tensor) => (tmp.push(y), y);
    try {
      const wrapped = t(wrapNegative(idx, t(small(inner, [k], 'int32', c.device))));
      const rows = t(sum(t(E.mul(wrapped, t(small(stridesOf(inner), [k], 'int32', c.device)))), { axis: -1 }));
      const flat = t(E.add(rows, t(small(offset, lead, 'int32', c.device))));
      const g = t(gather(t(x.reshape([numel(x.shape.slice(0, b)) * perBatch, numel(rest)])), flat, 0));
      return [g.reshape([...lead, ...rest])];
    } finally {
      for (const y of tmp) y.dispose();
    }
  },
});
