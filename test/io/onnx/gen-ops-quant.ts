// Random generators for the quantized ONNX ops: QuantizeLinear, DequantizeLinear (per tensor and per axis, int8
// and uint8 zero points), DynamicQuantizeLinear, MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv.
import { numel, type GraphBuilder, type OpGen, type Val } from './gen.js';
import { floatOr } from './gen-ops-elementwise.js';
import type { ElemName } from './writer.js';

type QType = 'uint8' | 'int8';
const RANGE: Record<QType, [number, number]> = { uint8: [0, 255], int8: [-128, 127] };
const isQ = (x: Val) => x.type === 'uint8' || x.type === 'int8';

/** Random integers of a quantized type as an initializer. */
function qInit(g: GraphBuilder, type: QType, dims: number[]): string {
  const [lo, hi] = RANGE[type];
  return g.init(type, dims, Array.from({ length: numel(dims) }, () => g.rng.int(lo, hi)));
}

/** A zero point of `type`: scalar, or one per element of `n` (per axis / per column), as an initializer. */
function zeroPoint(g: GraphBuilder, type: QType, n?: number): string {
  const [lo, hi] = RANGE[type];
  const mid = type === 'uint8' ? g.rng.pick([0, 128, g.rng.int(lo, hi)]) : g.rng.pick([0, g.rng.int(-20, 20), g.rng.int(lo, hi)]);
  return g.init(type, n === undefined ? [] : [n], n === undefined ? [mid] : Array.from({ length: n }, () => (g.rng.chance(0.5) ? mid : g.rng.int(lo, hi))));
}

const scale = (g: GraphBuilder, n?: number, lo = 0.005, hi = 0.05) => g.init('float', n === undefined ? [] : [n], Array.from({ length: n ?? 1 }, () => g.rng.float(lo, hi)));

const quantize: OpGen = {
  op: 'QuantizeLinear',
  accepts: (x) => x.type === 'float' && x.shape.length >= 1,
  make(g, x) {
    const r = g.rng;
    const v = floatOr(g, x);
    const rank = v.shape.length;
    const perAxis = r.chance(0.5);
    const axis = r.int(-rank, rank - 1);
    const n = perAxis ? v.shape[axis < 0 ? axis + rank : axis]! : undefined;
    const type: QType = r.pick(['uint8', 'int8']);
    const ins = [v.name, scale(g, n, 0.005, 0.03)];
    if (type === 'int8' || r.chance(0.7)) ins.push(zeroPoint(g, type, n));
    const attrs = perAxis && (axis !== 1 || r.chance(0.5)) ? { axis } : {};
    return g.node('QuantizeLinear', ins, [{ type, shape: v.shape }], attrs)[0]!;
  },
};

const dequantize: OpGen = {
  op: 'DequantizeLinear',
  accepts: (x) => isQ(x) && x.shape.length >= 1,
  make(g, x) {
    const r = g.rng;
    const type: QType | 'int32' = x ? (x.type as QType) : r.pick(['uint8', 'int8', 'int32'] as const);
    const v = x ?? g.input(type, r.shape(1, 4), type === 'int32' ? { lo: -5000, hi: 5000 } : { lo: RANGE[type][0], hi: RANGE[type][1] });
    const rank = v.shape.length;
    const perAxis = r.chance(0.5);
    const axis = r.int(-rank, rank - 1);
    const n = perAxis ? v.shape[axis < 0 ? axis + rank : axis]! : undefined;
    const ins = [v.name, scale(g, n)];
    if (type !== 'int32' && r.chance(0.7)) ins.push(zeroPoint(g, type, n));
    const attrs = perAxis && (axis !== 1 || r.chance(0.5)) ? { axis } : {};
    return g.node('DequantizeLinear', ins, [{ type: 'float', shape: v.shape }], attrs)[0]!;
  },
};

const dynamicQuantize: OpGen = {
  op: 'DynamicQuantizeLinear',
  accepts: (x) => x.type === 'float',
  make(g, x) {
    const r = g.rng;
    const v = x ?? g.input('float', r.shape(1, 3, 5), r.chance(0.2) ? { lo: 0.1, hi: 2 } : r.chance(0.2) ? { lo: -2, hi: -0.1 } : {});
    return g.node('DynamicQuantizeLinear', [v.name], [{ type: 'uint8', shape: v.shape }, { type: 'float', shape: [] }, { type: 'uint8', shape: [] }])[0]!;
  },
};

/** A quantized operand: x when it already is one (chained), else a fresh input (or initializer) of a random type. */
function qOperand(g: GraphBuilder, x: Val | null, shape: number[], types: readonly QType[], init = false): Val {
  if (x && isQ(x)) return x;
  const type = g.rng.pick(types);
  if (init) return { name: qInit(g, type, shape), type, shape };
  const [lo, hi] = RANGE[type];
  return g.input(type, shape, { lo, hi, symbolic: false });
}

function matmulQ(op: 'MatMulInteger' | 'QLinearMatMul'): OpGen {
  return {
    op,
    accepts: (x) => isQ(x) && (x.shape.length === 2 || x.shape.length === 3),
    make(g, x) {
      const r = g.rng;
      const a = qOperand(g, x, [...(r.chance(0.3) ? [r.int(1, 2)] : []), r.int(1, 5), r.pick([1, 3, 8, 17, 40])], ['uint8', 'int8']);
      const K = a.shape[a.shape.length - 1]!;
      const N = r.int(1, 6);
      const bType: QType = op === 'QLinearMatMul' ? (a.type as QType) : r.pick(['uint8', 'int8']);
      const b = qOperand(g, null, [K, N], [bType], r.chance(0.7));
      const perCol = r.chance(0.4);
      const out = [...a.shape.slice(0, -1), N];
      if (op === 'MatMulInteger') {
        const ins = [a.name, b.name];
        if (r.chance(0.8)) ins.push(zeroPoint(g, a.type as QType));
        if (r.chance(0.7)) {
          if (ins.length === 2) ins.push('');
          ins.push(zeroPoint(g, b.type as QType, perCol ? N : undefined));
        }
        return g.node(op, ins, [{ type: 'int32', shape: out }])[0]!;
      }
      const yType: QType = a.type as QType;
      const ins = [a.name, scale(g), zeroPoint(g, a.type as QType), b.name, scale(g, perCol ? N : undefined), zeroPoint(g, b.type as QType, perCol ? N : undefined), scale(g, undefined, 0.01 * Math.sqrt(K), 0.05 * Math.sqrt(K)), zeroPoint(g, yType)];
      return g.node(op, ins, [{ type: yType, shape: out }])[0]!;
    },
  };
}

function convQ(op: 'ConvInteger' | 'QLinearConv'): OpGen {
  return {
    op,
    accepts: (x) => isQ(x) && (x.shape.length === 3 || x.shape.length === 4) && x.shape.slice(2).every((d) => d >= 2),
    make(g, x) {
      const r = g.rng;
      const sp0 = Array.from({ length: r.chance(0.2) ? 1 : 2 }, () => r.int(2, 6));
      const v = qOperand(g, x, [r.int(1, 2), r.pick([1, 2, 4]), ...sp0], op === 'ConvInteger' ? ['uint8'] : ['uint8', 'int8']);
      const [N, C] = v.shape as [number, number];
      const sp = v.shape.slice(2);
      const n = sp.length;
      const groups = C > 1 && r.chance(0.3) ? C : 1;
      const M = groups * r.int(1, 3);
      const ks = sp.map((d) => r.int(1, Math.min(3, d)));
      const stride = sp.map(() => r.int(1, 2));
      const auto = r.chance(0.2) ? r.pick(['SAME_UPPER', 'SAME_LOWER', 'VALID']) : 'NOTSET';
      const dil = auto === 'NOTSET' && ks.every((k) => k <= 2) && r.chance(0.2) ? sp.map(() => 2) : sp.map(() => 1);
      let pads = [...ks, ...ks].map((k) => (auto === 'NOTSET' ? r.int(0, k - 1) : 0));
      if (auto.startsWith('SAME')) {
        pads = new Array(2 * n).fill(0);
        sp.forEach((d, i) => {
          const total = Math.max(0, (Math.ceil(d / stride[i]!) - 1) * stride[i]! + ks[i]! - d);
          pads[i] = auto === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
          pads[i + n] = total - pads[i]!;
        });
      }
      const outSp = sp.map((d, i) => Math.floor((d + pads[i]! + pads[i + n]! - dil[i]! * (ks[i]! - 1) - 1) / stride[i]!) + 1);
      if (outSp.some((o) => o < 1)) return g.node('Identity', [v.name], [{ type: v.type, shape: v.shape }])[0]!;
      const wType: QType = op === 'ConvInteger' ? r.pick(['uint8', 'int8']) : v.type === 'uint8' ? r.pick(['uint8', 'int8']) : 'int8';
      const w = qInit(g, wType, [M, C / groups, ...ks]);
      const attrs: Record<string, number | number[] | string> = { kernel_shape: ks, strides: stride };
      if (auto === 'NOTSET') attrs.pads = pads;
      else attrs.auto_pad = auto;
      if (dil[0] !== 1) attrs.dilations = dil;
      if (groups > 1) attrs.group = groups;
      const perChan = op === 'QLinearConv' && r.chance(0.5);
      if (op === 'ConvInteger') {
        const ins = [v.name, w];
        if (r.chance(0.8)) ins.push(zeroPoint(g, v.type as QType));
        if (r.chance(0.5)) {
          if (ins.length === 2) ins.push('');
          ins.push(zeroPoint(g, wType));
        }
        return g.node(op, ins, [{ type: 'int32', shape: [N, M, ...outSp] }], attrs)[0]!;
      }
      const yType = v.type as ElemName;
      // onnxruntime's QLinearConv takes int8 weights with zero point 0 only
      const wzp = wType === 'int8' ? g.init('int8', perChan ? [M] : [], new Array(perChan ? M : 1).fill(0)) : zeroPoint(g, wType);
      const k = (C / groups) * ks.reduce((a, b) => a * b, 1);
      const ins = [v.name, scale(g), zeroPoint(g, v.type as QType), w, scale(g, perChan ? M : undefined), wzp, scale(g, undefined, 0.01 * Math.sqrt(k), 0.05 * Math.sqrt(k)), zeroPoint(g, yType as QType)];
      if (r.chance(0.6)) ins.push(g.init('int32', [M], Array.from({ length: M }, () => r.int(-2000, 2000))));
      return g.node(op, ins, [{ type: yType, shape: [N, M, ...outSp] }], attrs)[0]!;
    },
  };
}

/** Generators for the quantized ops. */
export const QUANT_GENS: OpGen[] = [quantize, dequantize, dynamicQuantize, matmulQ('MatMulInteger'), matmulQ('QLinearMatMul'), convQ('ConvInteger'), convQ('QLinearConv')];
