// ONNX TopK, NonZero, CenterCropPad and BitCast as typed-array kernels (cpuOnly).
// TopK: ties go to the lower index (as the spec says) and NaN counts as larger than every number (so it comes first
// with largest = 1 and last with largest = 0, as onnxruntime and PyTorch order it); sorted = 0 returns them sorted too
// (the spec leaves that order open). Indices come back as int32 (ONNX int64, see values.ts).
import { f16ToF32, f32ToF16, type DType } from '../../../tensor/dtype.js';
import { contiguousStrides, numel, shapeStr } from '../../../tensor/shape.js';
import { onnxCodeName } from '../values.js';
import { registerOnnxOp, type NodeContext, type ValueType } from './registry.js';
import { hostOut, valuesOf } from './host.js';
import { axesOf, axisOf } from './util.js';

/** a before b in TopK order: larger first (or smaller when !largest), NaN the largest, then the lower index. */
function topkBefore(largest: boolean) {
  return (a: number, b: number, ia: number, ib: number): number => {
    const na = Number.isNaN(a), nb = Number.isNaN(b);
    if (na || nb) {
      if (na && nb) return ia - ib;
      return (na ? -1 : 1) * (largest ? 1 : -1);
    }
    if (a !== b) return largest ? b - a : a - b;
    return ia - ib;
  };
}

registerOnnxOp('TopK', {
  cpuOnly: true,
  hostInputs: [1],
  validate: (c) => { c.attrs.intOf('largest', [0, 1], 1); c.attrs.intOf('sorted', [0, 1], 1); if (c.opset < 10) c.attrs.int('k'); },
  infer: (c) => {
    const x = c.inputs[0];
    const t: ValueType = { dtype: x?.dtype ?? 'float32' };
    return [t, { dtype: 'int32' }];
  },
  run: (c) => {
    const x = c.input(0);
    if (x.rank === 0) c.fail('input must have rank 1 or more');
    const axis = axisOf(c, c.attrs.int('axis', -1), x.rank);
    let k: number;
    if (c.opset < 10) k = c.attrs.int('k');
    else {
      const kv = c.ints(1) ?? c.fail('input 1 (K) is required');
      if (kv.length !== 1) c.fail(`K must hold one value, found ${kv.length}`);
      k = kv[0]!;
    }
    const n = x.shape[axis]!;
    if (!(k >= 0 && k <= n)) c.fail(`K = ${k} must be within 0..${n} (the size of axis ${axis} of ${shapeStr(x.shape)})`);
    const before = topkBefore(c.attrs.intOf('largest', [0, 1], 1) === 1);
    const outer = numel(x.shape.slice(0, axis)), inner = numel(x.shape.slice(axis + 1));
    const v = valuesOf(x);
    const vals = new Float64Array(outer * k * inner), idx = new Int32Array(outer * k * inner);
    const order = new Array<number>(n);
    for (let o = 0; o < outer; o++) {
      for (let q = 0; q < inner; q++) {
        const at = (j: number) => v[(o * n + j) * inner + q]!;
        for (let j = 0; j < n; j++) order[j] = j;
        order.sort((a, b) => before(at(a), at(b), a, b));
        for (let j = 0; j < k; j++) {
          const p = (o * k + j) * inner + q;
          idx[p] = order[j]!;
          vals[p] = at(order[j]!);
        }
      }
    }
    const shape = x.shape.slice();
    shape[axis] = k;
    return [hostOut(c, vals, shape, x.dtype), hostOut(c, idx, shape, 'int32')];
  },
});

registerOnnxOp('NonZero', {
  cpuOnly: true,
  infer: (c) => [{ dtype: 'int32', ...(c.inputs[0]?.shape ? { shape: [c.inputs[0].shape.length, null] } : {}) }],
  run: (c) => {
    const x = c.input(0);
    const v = valuesOf(x);
    const hits: number[] = [];
    for (let i = 0; i < v.length; i++) if (v[i] !== 0) hits.push(i); // NaN is non-zero
    const strides = contiguousStrides(x.shape);
    const out = new Int32Array(x.rank * hits.length);
    hits.forEach((flat, j) => { for (let d = 0; d < x.rank; d++) out[d * hits.length + j] = Math.floor(flat / strides[d]!) % x.shape[d]!; });
    return [hostOut(c, out, [x.rank, hits.length], 'int32')];
  },
});

registerOnnxOp('CenterCropPad', {
  // crop (start rounded down) or zero-pad (the odd pixel on the right) each named axis to the target size
  cpuOnly: true,
  hostInputs: [1],
  run: (c) => {
    const x = c.input(0);
    const target = c.ints(1) ?? c.fail('input 1 (shape) is required');
    const axes = c.attrs.has('axes') ? axesOf(c, c.attrs.ints('axes'), x.rank) : x.shape.map((_, i) => i);
    if (target.length !== axes.length) c.fail(`shape holds ${target.length} sizes for ${axes.length} axes`);
    if (target.some((d) => d < 0)) c.fail(`shape ${JSON.stringify(target)} has a negative size`);
    // keep the attribute order of axes when matching sizes
    const order = c.attrs.has('axes') ? c.attrs.ints('axes').map((a) => axisOf(c, a, x.rank)) : axes;
    const outShape = x.shape.slice(), shift = new Array<number>(x.rank).fill(0);
    order.forEach((a, i) => {
      const from = x.shape[a]!, to = target[i]!;
      outShape[a] = to;
      shift[a] = from >= to ? Math.floor((from - to) / 2) : -Math.floor((to - from) / 2); // input = output + shift
    });
    const v = valuesOf(x);
    const out = new Float64Array(numel(outShape));
    const os = contiguousStrides(outShape), xs = contiguousStrides(x.shape);
    for (let p = 0; p < out.length; p++) {
      let src = 0, inside = true;
      for (let d = 0; d < x.rank && inside; d++) {
        const i = (Math.floor(p / os[d]!) % outShape[d]!) + shift[d]!;
        if (i < 0 || i >= x.shape[d]!) inside = false;
        else src += i * xs[d]!;
      }
      out[p] = inside ? v[src]! : 0;
    }
    return [hostOut(c, out, outShape, x.dtype)];
  },
});

/**
 * BitCast (opset 26) between the types forwardpass holds in one width: float32 <-> int32 (uint32 from int32 only
 * when the bits are a non-negative int32), float16 <-> int16/uint16, int8 <-> uint8, bool -> uint8/int8, and int32
 * to int16/uint16 (the value's low 16 bits, for an input held from ONNX uint16/int16). int64 and double are held in
 * 32 bits, so BitCast to or from them is refused.
 */
const BITCAST_TO: Record<number, { dtype: DType; from: readonly DType[] }> = {
  1: { dtype: 'float32', from: ['int32'] },
  6: { dtype: 'int32', from: ['float32', 'int32'] },
  12: { dtype: 'int32', from: ['float32', 'int32'] },
  2: { dtype: 'uint8', from: ['int8', 'bool', 'uint8'] },
  3: { dtype: 'int8', from: ['uint8', 'bool', 'int8'] },
  4: { dtype: 'int32', from: ['float16', 'int32'] },
  5: { dtype: 'int32', from: ['float16', 'int32'] },
  10: { dtype: 'float16', from: ['int32'] },
};

function bitcastTarget(c: NodeContext): { to: number; dtype: DType; from: readonly DType[] } {
  const to = c.attrs.int('to');
  const t = BITCAST_TO[to];
  if (!t) c.fail(`BitCast to ${onnxCodeName(to)} is not supported (forwardpass holds int64 and double in 32 bits; supported: float, int32, uint32, float16, int16, uint16, int8, uint8)`);
  return { to, ...t };
}

registerOnnxOp('BitCast', {
  cpuOnly: true,
  validate: (c) => { bitcastTarget(c); },
  infer: (c) => {
    const t = bitcastTarget(c);
    const x = c.inputs[0];
    if (x && !t.from.includes(x.dtype)) c.fail(`BitCast of a ${x.dtype} input to ${onnxCodeName(t.to)} is not supported (from ${t.from.join(', ')})`);
    return [{ dtype: t.dtype, ...(x?.shape ? { shape: [...x.shape] } : {}) }];
  },
  run: (c) => {
    const { to, dtype } = bitcastTarget(c);
    const x = c.input(0);
    const n = x.size;
    const v = valuesOf(x);
    const buf = new ArrayBuffer(n * 4);
    let out: ArrayLike<number>;
    if (dtype === 'float32' || (dtype === 'int32' && x.dtype === 'float32')) {
      // reinterpret 32 bits: write as the source type, read as the target
      if (x.dtype === 'float32') new Float32Array(buf).set(v);
      else new Int32Array(buf).set(v);
      out = dtype === 'float32' ? new Float32Array(buf) : new Int32Array(buf);
      if (to === 12 && (out as Int32Array).some((b) => b < 0)) c.fail('a float32 bit pattern read as uint32 is beyond int32 (forwardpass holds uint32 as int32 where values fit)');
    } else if (to === 4 || to === 5) {
      const bits = new Uint16Array(n);
      for (let i = 0; i < n; i++) bits[i] = x.dtype === 'float16' ? f32ToF16(v[i]!) : v[i]! & 0xffff;
      out = to === 4 ? Int32Array.from(bits) : Int32Array.from(new Int16Array(bits.buffer));
    } else if (dtype === 'float16') {
      const bits = Uint16Array.from(v, (b) => b & 0xffff);
      out = Float32Array.from(bits, f16ToF32);
    } else {
      if (to === 12 && Array.prototype.some.call(v, (b: number) => b < 0)) c.fail('a negative int32 bit pattern as uint32 is beyond int32 (forwardpass holds uint32 as int32 where values fit)');
      out = v; // 8-bit: the output array wraps (int8 -1 <-> uint8 255; bool is 0/1)
    }
    return [hostOut(c, out, x.shape, dtype)];
  },
});
