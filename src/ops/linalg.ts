// Matrix products: matmul with NumPy/PyTorch semantics (1-D promotion, broadcast batch dims) and
// linear (x·Wᵀ + b in nn.Linear layout, with an optional fused activation).
import { type DType, promoteTypes } from '../tensor/dtype.js';
import { broadcastShapes, numel, shapeStr, shapesEqual, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ActivationName } from './attrs.js';
import { expectDType, runOp } from './dispatch.js';
import { cast } from './elementwise.js';

export type { ActivationName } from './attrs.js';

const ACTIVATIONS: readonly ActivationName[] = ['none', 'relu', 'gelu', 'geluTanh', 'silu', 'tanh', 'sigmoid'];

/** The float dtype `tensors` are computed in; throws a clear error for integer or bool operands. */
function floatDType(op: string, tensors: readonly Tensor[], names: readonly string[]): DType {
  tensors.forEach((t, i) => expectDType(op, names[i]!, t, ['float32', 'float16']));
  return tensors.map((t) => t.dtype).reduce(promoteTypes);
}

/** `t` cast to `dtype` (registered in `temps`), or `t` itself. */
function castTo(t: Tensor, dtype: DType, temps: Tensor[]): Tensor {
  if (t.dtype === dtype) return t;
  const c = cast(t, dtype);
  temps.push(c);
  return c;
}

/** View `t` ([...tBatch, r, c]) as the kernel's [1 or Bt, r, c]: a view when it can, a copy when broadcasting partly. */
function asBatch3(t: Tensor, tBatch: Shape, batch: Shape, temps: Tensor[]): Tensor {
  const r = t.shape[t.rank - 2]!, c = t.shape[t.rank - 1]!;
  const keep = (x: Tensor) => (temps.push(x), x);
  if (numel(tBatch) === 1) return keep(t.reshape([1, r, c]));
  const padded = [...new Array<number>(batch.length - tBatch.length).fill(1), ...tBatch];
  if (shapesEqual(padded, batch)) return keep(t.reshape([numel(batch), r, c]));
  const e = keep(t.expand([...batch, r, c]));
  return keep(e.reshape([numel(batch), r, c])); // broadcast inside the batch dims: reshape copies
}

/**
 * Matrix product with NumPy/PyTorch semantics: 1-D x 1-D is a dot product (0-d result), a 1-D operand is
 * promoted to a matrix and the added dim removed after, batch dims broadcast. Float32/float16 only.
 *
 * @example matmul(randn([2, 1, 3, 4]), randn([5, 4, 6])).shape // [2, 5, 3, 6]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 0 || b.rank === 0) {
    throw new RangeError(`forwardpass: matmul: both operands need at least 1 dim, got shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  const dtype = floatDType('matmul', [a, b], ['a', 'b']);
  const temps: Tensor[] = [];
  try {
    const A0 = castTo(a, dtype, temps);
    const B0 = castTo(b, dtype, temps);
    const A = a.rank === 1 ? (temps.push(A0.unsqueeze(0)), temps[temps.length - 1]!) : A0; // [1, K]
    const Bm = b.rank === 1 ? (temps.push(B0.unsqueeze(1)), temps[temps.length - 1]!) : B0; // [K, 1]
    const M = A.shape[A.rank - 2]!, K = A.shape[A.rank - 1]!;
    const Kb = Bm.shape[Bm.rank - 2]!, N = Bm.shape[Bm.rank - 1]!;
    if (K !== Kb) {
      throw new RangeError(`forwardpass: matmul: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} do not match: a has ${K} columns (last dim) but b has ${Kb} rows (${b.rank === 1 ? 'its only' : 'second to last'} dim)`);
    }
    const batchA = A.shape.slice(0, -2), batchB = Bm.shape.slice(0, -2);
    let batch: number[];
    try {
      batch = broadcastShapes(batchA, batchB);
    } catch {
      throw new RangeError(`forwardpass: matmul: the batch dims of ${shapeStr(a.shape)} and ${shapeStr(b.shape)} cannot be broadcast (${shapeStr(batchA)} vs ${shapeStr(batchB)})`);
    }
    const outShape = [...batch, ...(a.rank === 1 ? [] : [M]), ...(b.rank === 1 ? [] : [N])];
    // A transposed contiguous b (e.g. k.transpose(-2, -1)) is read as [.., N, K] with transB, without a copy.
    let bSrc = Bm;
    let transB = false;
    if (!Bm.isContiguous()) {
      const bt = Bm.transpose(-2, -1);
      temps.push(bt);
      if (bt.isContiguous()) { bSrc = bt; transB = true; }
    }
    let a3: Tensor, b3: Tensor, rows: number;
    if (numel(batchB) === 1) {
      // b is one matrix: fold a's batch dims into its rows, one big product [Bt·M, K] x [K, N]
      rows = numel(batchA) * M;
      a3 = A.reshape([1, rows, K]);
      temps.push(a3);
      b3 = asBatch3(bSrc, [], [], temps);
    } else {
      rows = M;
      a3 = asBatch3(A, batchA, batch, temps);
      b3 = asBatch3(bSrc, bSrc.shape.slice(0, -2), batch, temps);
    }
    const Bt = numel(batchB) === 1 ? 1 : numel(batch);
    const out = runOp('matmul', [a3, b3], [{ shape: [Bt, rows, N], dtype }], { transB })[0]!;
    temps.push(out);
    return out.reshape(outShape);
  } finally {
    for (const t of temps) t.dispose();
  }
}

export interface LinearOptions {
  /** Activation fused into the kernel: 'none' (default), 'relu', 'gelu', 'geluTanh', 'silu', 'tanh', 'sigmoid'. */
  activation?: ActivationName;
}

/**
 * y = x·weightᵀ + bias, as torch.nn.functional.linear: x [..., K], weight [N, K], bias [N] -> [..., N];
 * `opts.activation` applies an activation in the same kernel pass.
 *
 * @example linear(x, fc.weight, fc.bias, { activation: 'relu' })
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: LinearOptions = {}): Tensor {
  const activation = opts.activation ?? 'none';
  if (!ACTIVATIONS.includes(activation)) {
    throw new RangeError(`forwardpass: linear: activation must be one of ${ACTIVATIONS.join(', ')}, got '${String(activation)}'`);
  }
  if (weight.rank !== 2) throw new RangeError(`forwardpass: linear: weight must be [out_features, in_features] (rank 2), got shape ${shapeStr(weight.shape)}`);
  if (x.rank === 0) throw new RangeError(`forwardpass: linear: x must have at least 1 dim [..., in_features], got shape ${shapeStr(x.shape)}`);
  const [N, K] = weight.shape as [number, number];
  if (x.shape[x.rank - 1] !== K) {
    throw new RangeError(`forwardpass: linear: x ${shapeStr(x.shape)} must end in in_features = ${K} to match weight ${shapeStr(weight.shape)}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== N)) {
    throw new RangeError(`forwardpass: linear: bias must be [${N}] (out_features of weight ${shapeStr(weight.shape)}), got shape ${shapeStr(bias.shape)}`);
  }
  const operands = bias ? [x, weight, bias] : [x, weight];
  const dtype = floatDType('linear', operands, ['x', 'weight', 'bias']);
  const temps: Tensor[] = [];
  try {
    const lead = x.shape.slice(0, -1);
    const M = numel(lead);
    const x2 = castTo(x, dtype, temps).reshape([M, K]);
    temps.push(x2);
    const ins = [x2, castTo(weight, dtype, temps), ...(bias ? [castTo(bias, dtype, temps)] : [])];
    const out = runOp('linear', ins, [{ shape: [M, N], dtype }], { activation })[0]!;
    temps.push(out);
    return out.reshape([...lead, N]);
  } finally {
    for (const t of temps) t.dispose();
  }
}
