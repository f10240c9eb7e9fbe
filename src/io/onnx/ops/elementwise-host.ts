// ONNX elementwise ops with typed-array kernels only (cpuOnly: in a WebGPU session they run on the CPU, visibly in
// traces): the inverse trigonometric and hyperbolic functions, the bitwise ops, BitShift and CumProd.
//
// Integer types: int8 and uint8 are held as themselves; int32 holds int32, int64 and the 16-bit and unsigned types
// (values.ts). Bitwise results wrap like the held type's two's complement (a graph output declared int16/uint16 is
// wrapped to 16 bits by the session, so ~x and x << s of uint16 come out as ONNX says). BitShift by a negative amount
// or by at least the bit width gives 0 (left) or the sign fill (right; arithmetic for signed types), as opset 28
// defines; int64 held as int32 shifts in 32 bits.
import type { DType } from '../../../tensor/dtype.js';
import { numel } from '../../../tensor/shape.js';
import { registerOnnxOp, type InferContext, type RunContext, type ValueType } from './registry.js';
import { FLOAT_DTYPES, INT_DTYPES, broadcastBinary, hostOut, requireDType, valuesOf } from './host.js';
import { broadcastTypes, cumulativeArgs, sameShape } from './util.js';

// ---- float unary functions ----
const FLOAT_UNARY: Record<string, (x: number) => number> = {
  Acos: Math.acos, Asin: Math.asin, Atan: Math.atan, Acosh: Math.acosh, Asinh: Math.asinh, Atanh: Math.atanh,
};
for (const [opType, f] of Object.entries(FLOAT_UNARY)) {
  registerOnnxOp(opType, {
    cpuOnly: true,
    infer: (c) => (requireDType(c, 0, FLOAT_DTYPES), sameShape(c)),
    run: (c) => {
      const x = c.input(0);
      const v = valuesOf(x);
      const out = new Float32Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = f(v[i]!); // NaN in, NaN out (Math.* propagate it)
      return [hostOut(c, out, x.shape, x.dtype)];
    },
  });
}

// ---- bitwise ops ----
/** Bit width of a held integer dtype (int32 also holds int64 and the narrower ONNX types: see the header). */
const WIDTH: Partial<Record<DType, number>> = { int32: 32, int8: 8, uint8: 8 };

function binaryIntInfer(c: InferContext): ValueType[] {
  requireDType(c, 0, INT_DTYPES, 'input A');
  requireDType(c, 1, INT_DTYPES, 'input B');
  const [a, b] = c.inputs;
  if (a && b && a.dtype !== b.dtype) c.fail(`inputs A and B must have one type, found ${a.dtype} and ${b.dtype}`);
  const s = broadcastTypes([a, b]);
  return [{ dtype: a?.dtype ?? 'int32', ...(s ? { shape: s } : {}) }];
}

/** Run a broadcasting integer op on the host; the output array of the input's dtype wraps each result to it. */
function intBinary(c: RunContext, f: (x: number, y: number, width: number, signed: boolean) => number): ReturnType<typeof hostOut> {
  const a = c.input(0), b = c.input(1);
  if (a.dtype !== b.dtype || !WIDTH[a.dtype]) c.fail(`inputs must be integers of one type, found ${a.dtype} and ${b.dtype}`);
  const width = WIDTH[a.dtype]!, signed = a.dtype !== 'uint8';
  const { values, shape } = broadcastBinary(a, b, c.node.opType, (x, y) => f(x, y, width, signed));
  return hostOut(c, values, shape, a.dtype);
}

const BITWISE: Record<string, (x: number, y: number) => number> = {
  BitwiseAnd: (x, y) => x & y, BitwiseOr: (x, y) => x | y, BitwiseXor: (x, y) => x ^ y,
};
for (const [opType, f] of Object.entries(BITWISE)) {
  registerOnnxOp(opType, { cpuOnly: true, infer: binaryIntInfer, run: (c) => [intBinary(c, f)] });
}

registerOnnxOp('BitwiseNot', {
  cpuOnly: true,
  infer: (c) => (requireDType(c, 0, INT_DTYPES), sameShape(c)),
  run: (c) => {
    const x = c.input(0);
    const v = valuesOf(x);
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = ~v[i]!; // the held dtype's array wraps (uint8: 255 - x)
    return [hostOut(c, out, x.shape, x.dtype)];
  },
});

registerOnnxOp('BitShift', {
  cpuOnly: true,
  validate: (c) => { c.attrs.stringOf('direction', ['LEFT', 'RIGHT'] as const); },
  infer: binaryIntInfer,
  run: (c) => {
    const left = c.attrs.stringOf('direction', ['LEFT', 'RIGHT'] as const) === 'LEFT';
    return [intBinary(c, (x, s, width, signed) => {
      if (s < 0 || s >= width) return left ? 0 : signed && x < 0 ? -1 : 0;
      return left ? x << s : x >> s; // 32-bit shifts of values held in 32 bits; the output array wraps narrower types
    })];
  },
});

// ---- CumProd ----
registerOnnxOp('CumProd', {
  cpuOnly: true,
  hostInputs: [1],
  validate: (c) => { c.attrs.intOf('exclusive', [0, 1], 0); c.attrs.intOf('reverse', [0, 1], 0); },
  infer: (c) => (requireDType(c, 0, [...FLOAT_DTYPES, ...INT_DTYPES]), sameShape(c)),
  run: (c) => {
    const { x, axis: a, exclusive, reverse } = cumulativeArgs(c);
    const n = x.shape[a]!, inner = numel(x.shape.slice(a + 1)), outer = numel(x.shape.slice(0, a));
    const v = valuesOf(x);
    const out = new Float64Array(v.length);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < inner; k++) {
        let acc = 1;
        for (let j = 0; j < n; j++) {
          const p = (o * n + (reverse ? n - 1 - j : j)) * inner + k;
          if (exclusive) { out[p] = acc; acc *= v[p]!; } else { acc *= v[p]!; out[p] = acc; }
        }
      }
    }
    return [hostOut(c, x.dtype === 'float32' ? Float32Array.from(out) : out, x.shape, x.dtype)];
  },
});
