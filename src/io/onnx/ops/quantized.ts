// The quantized ONNX ops: QuantizeLinear, DequantizeLinear (per tensor and per axis, uint8/int8 zero points),
// DynamicQuantizeLinear, MatMulInteger, QLinearMatMul, ConvInteger and QLinearConv. The integer products run on
// the int8 path with exact zero-point corrections (quantized-int.ts); rounding is half to even, as onnxruntime's.
// QLinear* requantize as onnxruntime does: multiplier = float32(float32(sa·sb) / sy), y = round(float(acc)·multiplier) + zy.
import type { Tensor } from '../../../tensor/tensor.js';
import { numel, shapeStr } from '../../../tensor/shape.js';
import { fromData } from '../../../tensor/creation.js';
import { getBackend } from '../../../tensor/device.js';
import { scopeSync } from '../../../tensor/scope.js';
import { add, cast, clamp, div, eq, maximum, minimum, mul, round, sub, where } from '../../../ops/elementwise.js';
import { max, min } from '../../../ops/reduce.js';
import { stack } from '../../../ops/transform.js';
import { registerOnnxOp, type Dim, type InferContext, type NodeContext, type PrepareContext, type RunContext, type ValueType } from './registry.js';
import { convAcc, convRhsTo, matmulAcc, prepareConvRhs, prepareRhs, requantize, rhsTo, type ConvGeometry, type ConvRhs, type MatmulRhs } from './quantized-int.js';

type QType = 'uint8' | 'int8';
const RANGE: Record<QType, [number, number]> = { uint8: [0, 255], int8: [-128, 127] };
/** TensorProto codes accepted as QuantizeLinear's output_dtype. */
const QCODES: Record<number, QType> = { 2: 'uint8', 3: 'int8' };

function expectQ(c: NodeContext, t: Tensor, what: string, also: string[] = []): QType {
  if (t.dtype !== 'uint8' && t.dtype !== 'int8' && !also.includes(t.dtype)) c.fail(`${what} must be uint8 or int8${also.length ? ` (or ${also.join(', ')})` : ''}, found ${t.dtype}`);
  return t.dtype as QType;
}

/**
 * Scale (float32 values) or zero point (its own type) of Quantize/DequantizeLinear from host input i, as a tensor
 * on the node's device that broadcasts against x: a scalar (or one value) per tensor, or 1-D along `axis`.
 * They are host inputs so that a session's f16 precision never rounds them.
 */
function alongAxis(c: RunContext, i: number, x: Tensor, what: string): Tensor {
  const t = c.input(i);
  const dtype = t.dtype === 'float16' ? 'float32' : t.dtype;
  const values = c.floats(i)!;
  const block = c.attrs.int('block_size', 0);
  if (block > 0) return blocked(c, t, values, x, block, what);
  if (t.size === 1 && t.rank <= 1) return fromData(values, [], dtype, getBackend(c.device));
  if (t.rank !== 1) c.fail(`${what} must be a scalar or 1-D (per axis), found ${shapeStr(t.shape)}`);
  const rank = x.rank;
  const a0 = c.attrs.int('axis', 1);
  if (a0 < -rank || a0 >= rank) c.fail(`axis ${a0} is out of range for x ${shapeStr(x.shape)}`);
  const axis = a0 < 0 ? a0 + rank : a0;
  if (t.shape[0] !== x.shape[axis]) c.fail(`${what} ${shapeStr(t.shape)} must have one value per index of axis ${axis} of x ${shapeStr(x.shape)}`);
  return fromData(values, x.shape.map((d, k) => (k === axis ? d : 1)), dtype, getBackend(c.device));
}

/**
 * Blocked quantization (opset 21): `t` has x's rank, with ceil(n / block) entries along `axis` where x has n; each
 * entry serves `block` consecutive indices. Expanded on the host to x's shape.
 */
function blocked(c: RunContext, t: Tensor, values: number[], x: Tensor, block: number, what: string): Tensor {
  const rank = x.rank, a0 = c.attrs.int('axis', 1);
  if (a0 < -rank || a0 >= rank) c.fail(`axis ${a0} is out of range for x ${shapeStr(x.shape)}`);
  const axis = a0 < 0 ? a0 + rank : a0;
  const want = x.shape.map((d, k) => (k === axis ? Math.ceil(d / block) : d));
  if (t.rank !== rank || t.shape.some((d, k) => d !== want[k])) c.fail(`${what} ${shapeStr(t.shape)} must be ${shapeStr(want)} for blocks of ${block} along axis ${axis} of x ${shapeStr(x.shape)}`);
  const inner = numel(x.shape.slice(axis + 1)), n = x.shape[axis]!, nb = want[axis]!;
  const out = new Float64Array(x.size);
  for (let p = 0; p < out.length; p++) {
    const q = Math.floor(p / inner), j = q % n, o = Math.floor(q / n);
    out[p] = values[(o * nb + Math.floor(j / block)) * inner + (p % inner)]!;
  }
  return fromData(out, x.shape, t.dtype === 'float16' ? 'float32' : t.dtype, getBackend(c.device));
}

/** clamp(round(x / s) + zp) cast to the quantized type. */
function quantizeWith(x: Tensor, s: Tensor, zp: Tensor | number, type: QType): Tensor {
  return scopeSync(() => {
    const [lo, hi] = RANGE[type];
    return cast(clamp(add(round(div(x, s)), zp), lo, hi), type);
  });
}

const sameShape = (c: InferContext, dtype: ValueType['dtype']): ValueType[] => [{ dtype, ...(c.inputs[0]?.shape ? { shape: [...c.inputs[0].shape] } : {}) }];

/** Load-time refusals of Quantize/DequantizeLinear: a negative block_size, an output type forwardpass lacks. */
function qdqValidate(c: NodeContext): void {
  const block = c.attrs.int('block_size', 0);
  if (block < 0) c.fail(`block_size must be 0 (per tensor or axis) or positive (blocked), found ${block}`);
  c.attrs.int('axis', 1);
  const code = c.node.opType === 'QuantizeLinear' ? c.attrs.int('output_dtype', 0) : 0;
  if (!c.node.inputs[2] && code !== 0 && !QCODES[code]) c.fail(`output_dtype ${code} is not supported (expected 2 = uint8 or 3 = int8)`);
}

registerOnnxOp('QuantizeLinear', {
  hostInputs: [1, 2],
  validate: qdqValidate,
  infer: (c) => {
    const zp = c.inputs[2];
    const code = c.attrs.int('output_dtype', 0);
    return sameShape(c, zp?.dtype ?? QCODES[code] ?? 'uint8');
  },
  run: (c) => {
    const x = c.input(0);
    const zpT = c.inputs[2];
    const code = c.attrs.int('output_dtype', 0);
    const type = zpT ? expectQ(c, zpT, 'y_zero_point') : QCODES[code] ?? 'uint8';
    if (x.dtype !== 'float32' && x.dtype !== 'float16' && x.dtype !== 'int32') c.fail(`x must be float, float16 or int32, found ${x.dtype}`);
    const s = alongAxis(c, 1, x, 'y_scale');
    const zp = zpT ? alongAxis(c, 2, x, 'y_zero_point') : undefined;
    try {
      return [quantizeWith(x, s, zp ?? 0, type)];
    } finally {
      s.dispose();
      zp?.dispose();
    }
  },
});

registerOnnxOp('DequantizeLinear', {
  hostInputs: [1, 2],
  validate: qdqValidate,
  infer: (c) => sameShape(c, c.inputs[1]?.dtype === 'float16' ? 'float16' : 'float32'),
  run: (c) => {
    const x = c.input(0);
    expectQ(c, x, 'x', ['int32']);
    const zpT = c.inputs[2];
    if (zpT && zpT.dtype !== x.dtype) c.fail(`x_zero_point (${zpT.dtype}) must have the type of x (${x.dtype})`);
    const s = alongAxis(c, 1, x, 'x_scale');
    const zp = zpT ? alongAxis(c, 2, x, 'x_zero_point') : undefined;
    try {
      // (x - zp) is exact in float32 for 8-bit x; one rounding in the product, as onnxruntime
      return [scopeSync(() => {
        const xf = cast(x, 'float32');
        const y = mul(zp ? sub(xf, cast(zp, 'float32')) : xf, s);
        return c.input(1).dtype === 'float16' ? cast(y, 'float16') : y;
      })];
    } finally {
      s.dispose();
      zp?.dispose();
    }
  },
});

registerOnnxOp('DynamicQuantizeLinear', {
  infer: (c) => [...sameShape(c, 'uint8'), { dtype: 'float32', shape: [] }, { dtype: 'uint8', shape: [] }],
  run: (c) => {
    const x = c.input(0);
    if (x.dtype !== 'float32' && x.dtype !== 'float16') c.fail(`x must be float, found ${x.dtype}`);
    if (x.size === 0) c.fail(`x ${shapeStr(x.shape)} is empty: no range to quantize`);
    return scopeSync(() => {
      // range widened to include 0; scale = (max - min) / 255 (1 when the range is empty); zp = round(clamp(-min / scale))
      const xf = x.dtype === 'float32' ? x : cast(x, 'float32');
      const lo = minimum(min(xf), 0);
      const hi = maximum(max(xf), 0);
      const scale = where(eq(hi, lo), 1, div(sub(hi, lo), 255));
      const zpf = round(clamp(sub(0, div(lo, scale)), 0, 255));
      const y = quantizeWith(xf, scale, zpf, 'uint8');
      return [y, scale, cast(zpf, 'uint8')];
    });
  },
});

// ---------------------------------------------------------------- MatMulInteger, QLinearMatMul

/** Zero point values from a host input: default 0, one value, or one per row/column (`n`). */
function zeroPoints(c: RunContext, i: number, n: number, what: string, dtype: string): number[] {
  const t = c.inputs[i];
  if (!t) return [0];
  if (t.dtype !== dtype) c.fail(`${what} (${t.dtype}) must have the type of its operand (${dtype})`);
  const v = c.ints(i)!;
  if (v.length !== 1 && v.length !== n) c.fail(`${what} must hold 1 or ${n} values, found ${shapeStr(t.shape)}`);
  return v;
}

function scales(c: RunContext, i: number, n: number, what: string): number[] {
  const v = c.floats(i);
  if (!v || (v.length !== 1 && v.length !== n)) c.fail(`${what} must hold 1 or ${n} values, found ${v ? v.length : 'none'}`);
  return v;
}

function matmulInfer(bIndex: number, dtype: (c: InferContext) => ValueType['dtype']) {
  return (c: InferContext): ValueType[] => {
    const a = c.inputs[0]?.shape, b = c.inputs[bIndex]?.shape;
    if (!a || !b || a.length < 2 || b.length < 2) return [{ dtype: dtype(c) }];
    if (b.length > 2) return [{ dtype: dtype(c), shape: [...b.slice(0, -2), a[a.length - 2]!, b[b.length - 1]!] as Dim[] }];
    return [{ dtype: dtype(c), shape: [...a.slice(0, -1), b[1]!] as Dim[] }];
  };
}

/** Prepared B when it is a constant 2-D tensor. */
async function prepareB(c: PrepareContext, i: number): Promise<MatmulRhs | undefined> {
  const b = c.constant(i);
  if (!b || b.rank !== 2 || (b.dtype !== 'uint8' && b.dtype !== 'int8')) return undefined;
  c.dropInput(i);
  const r = prepareRhs(b);
  return c.backend === 'cpu' ? r : rhsTo(r, c.backend);
}

/** Exact int32 (A - za)(B - zb) for A [..., M, K] and a 2-D B (prepared or given), batch dims of A flattened. */
function matmulInt(c: RunContext, ai: number, bi: number, zai: number, zbi: number, state: MatmulRhs | undefined): Tensor {
  const a = c.input(ai);
  expectQ(c, a, 'A');
  if (a.rank < 2) c.fail(`A must have rank 2 or more, found ${shapeStr(a.shape)}`);
  const b = state ? undefined : c.input(bi);
  if (b) {
    expectQ(c, b, 'B');
    if (b.rank < 2) c.fail(`B must have rank 2 or more, found ${shapeStr(b.shape)}`);
    if (b.rank > 2) return batchedMatmulInt(c, a, b, (ab, bb) => matmulIntOf(c, ab, bb, zai, zbi, undefined));
  }
  return matmulIntOf(c, a, b, zai, zbi, state);
}

/**
 * A batched B [..., K, N]: one 2-D product per batch (A [..., M, K] with the same batch dims, or a 2-D A shared by
 * every batch), stacked back to [..., M, N]. Zero points are per tensor or per row of A / column of B, as for 2-D.
 */
function batchedMatmulInt(c: RunContext, a: Tensor, b: Tensor, one: (a: Tensor, b: Tensor) => Tensor): Tensor {
  const batch = b.shape.slice(0, -2);
  if (a.rank > 2 && (a.rank !== b.rank || a.shape.slice(0, -2).some((d, i) => d !== batch[i]))) {
    c.fail(`A ${shapeStr(a.shape)} and B ${shapeStr(b.shape)} must have the same batch dims (or a 2-D A)`);
  }
  const n = numel(batch);
  const a3 = a.rank > 2 ? a.reshape([n, ...a.shape.slice(-2)]) : undefined;
  const b3 = b.reshape([n, ...b.shape.slice(-2)]);
  return scopeSync(() => {
    const parts = Array.from({ length: n }, (_, i) => one(a3 ? a3.select(0, i) : a, b3.select(0, i)));
    const out = stack(parts, 0);
    return out.reshape([...batch, ...out.shape.slice(1)]);
  });
}

/** matmulInt for a 2-D (or prepared) B. */
function matmulIntOf(c: RunContext, a: Tensor, b: Tensor | undefined, zai: number, zbi: number, state: MatmulRhs | undefined): Tensor {
  const K = a.shape[a.rank - 1]!, M = a.shape[a.rank - 2]!;
  const N = state ? state.N : b!.shape[1]!;
  if ((state ? state.K : b!.shape[0]) !== K) c.fail(`A ${shapeStr(a.shape)} and B [${state ? state.K : b!.shape[0]}, ${N}] must share the inner size`);
  const za = zeroPoints(c, zai, M, 'a_zero_point', a.dtype);
  const zb = zeroPoints(c, zbi, N, 'b_zero_point', b ? b.dtype : state!.shift ? 'uint8' : 'int8');
  return scopeSync(() => {
    const rhs = state ?? prepareRhs(b!);
    const rows = a.size / K;
    const a2 = a.reshape([rows, K]);
    const zaRows = za.length === 1 ? za : Array.from({ length: rows }, (_, r) => za[r % M]!);
    const acc = matmulAcc(a2, zaRows, rhs, zb, c.device);
    if (!state) rhs.dispose();
    return acc.reshape([...a.shape.slice(0, -1), N]);
  });
}

registerOnnxOp('MatMulInteger', {
  hostInputs: [2, 3],
  infer: matmulInfer(1, () => 'int32'),
  prepare: (c) => prepareB(c, 1),
  run: (c) => [matmulInt(c, 0, 1, 2, 3, c.state as MatmulRhs | undefined)],
});

/** float32(float32(sa · sb) / sy) per output column (or one), as a tensor broadcasting over the last dim. */
function multiplier(sa: number, sb: number[], sy: number, shape: number[], device: string): Tensor {
  const m = Float32Array.from(sb, (v) => Math.fround(Math.fround(sa * v) / sy));
  return fromData(m, m.length === 1 ? [] : shape, 'float32', getBackend(device));
}

registerOnnxOp('QLinearMatMul', {
  hostInputs: [1, 2, 4, 5, 6, 7],
  infer: matmulInfer(3, (c) => (c.inputs[7]?.dtype as QType) ?? 'uint8'),
  prepare: (c) => prepareB(c, 3),
  run: (c) => {
    const acc = matmulInt(c, 0, 3, 2, 5, c.state as MatmulRhs | undefined);
    const N = acc.shape[acc.rank - 1]!;
    const type = expectQ(c, c.input(7), 'y_zero_point');
    const m = multiplier(scales(c, 1, 1, 'a_scale')[0]!, scales(c, 4, N, 'b_scale'), scales(c, 6, 1, 'y_scale')[0]!, [N], c.device);
    try {
      return [requantize(acc, m, c.ints(7)![0]!, type)];
    } finally {
      acc.dispose();
      m.dispose();
    }
  },
});

// ---------------------------------------------------------------- ConvInteger, QLinearConv

/** Conv geometry from the attributes and x's spatial dims (1-D convs as 2-D with H = 1). */
function geometry(c: NodeContext, spatial: number[], kernel: number[], groups: number): ConvGeometry {
  const n = spatial.length;
  const list = (name: string, dflt: number) => c.attrs.ints(name, new Array<number>(n).fill(dflt));
  const strides = list('strides', 1), dil = list('dilations', 1);
  const ks = c.attrs.ints('kernel_shape', kernel);
  if (ks.length !== n || ks.some((k, i) => k !== kernel[i])) c.fail(`kernel_shape ${JSON.stringify(ks)} does not match the weight's kernel ${JSON.stringify(kernel)}`);
  const auto = c.attrs.stringOf('auto_pad', ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'], 'NOTSET');
  let pads = c.attrs.ints('pads', new Array<number>(2 * n).fill(0));
  if (auto === 'VALID') pads = new Array<number>(2 * n).fill(0);
  else if (auto !== 'NOTSET') {
    pads = new Array<number>(2 * n).fill(0);
    spatial.forEach((d, i) => {
      const total = Math.max(0, (Math.ceil(d / strides[i]!) - 1) * strides[i]! + (kernel[i]! - 1) * dil[i]! + 1 - d);
      const small = Math.floor(total / 2);
      pads[i] = auto === 'SAME_UPPER' ? small : total - small;
      pads[i + n] = total - pads[i]!;
    });
  }
  if (pads.length !== 2 * n || pads.some((p) => p < 0)) c.attrs.fail('pads', `${2 * n} non-negative ints`, JSON.stringify(pads));
  const two = (v: number[], one: number): [number, number] => (n === 1 ? [one, v[0]!] : [v[0]!, v[1]!]);
  return {
    kernel: two(kernel, 1), stride: two(strides, 1), dilation: two(dil, 1), groups,
    padding: n === 1 ? [0, pads[0]!, 0, pads[1]!] : [pads[0]!, pads[1]!, pads[2]!, pads[3]!],
  };
}

interface ConvState {
  rhs: ConvRhs;
  wshape: number[];
  dispose(): void;
}

/** A 3-D (1-D conv) tensor as 4-D with H = 1, or the tensor itself. */
const as4d = (t: Tensor) => (t.rank === 3 ? t.reshape([t.shape[0]!, t.shape[1]!, 1, t.shape[2]!]) : t);

function convInt(c: RunContext, xi: number, wi: number, zxi: number, zwi: number): Tensor {
  const x = c.input(xi);
  expectQ(c, x, 'x');
  if (x.rank !== 3 && x.rank !== 4) c.fail(`only 1-D and 2-D convolutions are supported, found x ${shapeStr(x.shape)}`);
  const groups = c.attrs.int('group', 1);
  const st = c.state as ConvState | undefined;
  const w = st ? undefined : c.input(wi);
  if (w) {
    expectQ(c, w, 'w');
    if (w.rank !== x.rank) c.fail(`x ${shapeStr(x.shape)} and w ${shapeStr(w.shape)} must have the same rank`);
  }
  const wshape = st ? st.wshape : w!.shape;
  const [O, Cg] = wshape as [number, number];
  if (!Number.isInteger(groups) || groups < 1 || x.shape[1] !== Cg * groups || O % groups !== 0) {
    c.fail(`x ${shapeStr(x.shape)} and w [${wshape.join(', ')}] do not fit group ${groups} (x channels must be ${Cg} x ${groups} and the outputs a multiple of it)`);
  }
  const zx = zeroPoints(c, zxi, 1, 'x_zero_point', x.dtype)[0]!;
  const zw = zeroPoints(c, zwi, O, 'w_zero_point', w ? w.dtype : st!.rhs.shift ? 'uint8' : 'int8');
  const geo = geometry(c, x.shape.slice(2), wshape.slice(2), groups);
  return scopeSync(() => {
    const w4 = w ? as4d(w) : undefined;
    const rhs = st?.rhs ?? prepareConvRhs(w4!, groups);
    const acc = convAcc(as4d(x), zx, rhs, zw, geo, c.device);
    if (!st) rhs.dispose();
    return x.rank === 3 ? acc.reshape([acc.shape[0]!, acc.shape[1]!, acc.shape[3]!]) : acc;
  });
}

function convInfer(dtype: (c: InferContext) => ValueType['dtype'], wi: number) {
  return (c: InferContext): ValueType[] => {
    const x = c.inputs[0]?.shape, w = c.inputs[wi]?.shape;
    return [{ dtype: dtype(c), ...(x ? { shape: [x[0]!, w?.[0] ?? null, ...x.slice(2).map((): Dim => null)] } : {}) }];
  };
}

async function prepareConv(c: PrepareContext, wi: number): Promise<ConvState | undefined> {
  const w = c.constant(wi);
  if (!w || (w.rank !== 3 && w.rank !== 4) || (w.dtype !== 'uint8' && w.dtype !== 'int8')) return undefined;
  const groups = c.attrs.int('group', 1);
  if (!Number.isInteger(groups) || groups < 1 || w.shape[0]! % groups !== 0) return undefined; // run() reports it
  c.dropInput(wi);
  const w4 = as4d(w);
  let rhs = prepareConvRhs(w4, groups);
  if (w4 !== w) w4.dispose();
  if (c.backend !== 'cpu') rhs = await convRhsTo(rhs, c.backend);
  const r = rhs;
  return { rhs, wshape: [...w.shape], dispose: () => r.dispose() } satisfies ConvState;
}

registerOnnxOp('ConvInteger', {
  hostInputs: [2, 3],
  validate: (c) => { c.attrs.stringOf('auto_pad', ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'], 'NOTSET'); c.attrs.int('group', 1); },
  infer: convInfer(() => 'int32', 1),
  prepare: (c) => prepareConv(c, 1),
  run: (c) => [convInt(c, 0, 1, 2, 3)],
});

registerOnnxOp('QLinearConv', {
  hostInputs: [1, 2, 4, 5, 6, 7],
  validate: (c) => { c.attrs.stringOf('auto_pad', ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'], 'NOTSET'); c.attrs.int('group', 1); },
  infer: convInfer((c) => (c.inputs[7]?.dtype as QType) ?? 'uint8', 3),
  prepare: (c) => prepareConv(c, 3),
  run: (c) => {
    const acc = convInt(c, 0, 3, 2, 5);
    const O = acc.shape[1]!;
    const type = expectQ(c, c.input(7), 'y_zero_point');
    const bias = c.inputs[8];
    if (bias && (bias.dtype !== 'int32' || bias.rank !== 1 || bias.shape[0] !== O)) c.fail(`B must be int32 [${O}], found ${bias.dtype} ${shapeStr(bias.shape)}`);
    const spatial = acc.rank - 2;
    const m = multiplier(scales(c, 1, 1, 'x_scale')[0]!, scales(c, 4, O, 'w_scale'), scales(c, 6, 1, 'y_scale')[0]!, [O, ...new Array<number>(spatial).fill(1)], c.device);
    try {
      return [scopeSync(() => requantize(bias ? add(acc, bias.reshape([O, ...new Array<number>(spatial).fill(1)])) : acc, m, c.ints(7)![0]!, type))];
    } finally {
      acc.dispose();
      m.dispose();
    }
  },
});
