// ONNX Conv (any rank, every backend: 1-D and 2-D through conv1d/conv2d, 3-D and up as an im2col gather and a
// matmul, whose reference is the typed-array kernel convNd of spatial-kernels.ts; auto_pad NOTSET/SAME_UPPER/SAME_LOWER/VALID, group, dilations), MaxPool and
// AveragePool (ceil_mode, count_include_pad, pads up to the kernel size), GlobalAveragePool, GlobalMaxPool.
// 1-D and 2-D pools compose the tensor ops maxPool2d/avgPool2d; 3-D pools, AveragePool with dilations and a
// MaxPool Indices output (storage_order 0 or 1) run the typed-array kernel poolNd (spatial-kernels.ts) on the host.
// With precision 'int8', a 2-D Conv with a constant weight runs as src/quant's QuantizedConv2d (conv2dInt8).
import { shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { Pad4 } from '../../../ops/attrs.js';
import { conv1d, conv2d } from '../../../ops/conv.js';
import { avgPool2d, maxPool2d } from '../../../ops/pool.js';
import { max, mean } from '../../../ops/reduce.js';
import { add, where } from '../../../ops/elementwise.js';
import { matmul } from '../../../ops/linalg.js';
import { gather, pad } from '../../../ops/transform.js';
import { tensor } from '../../../tensor/creation.js';
import { Conv2d } from '../../../nn/conv.js';
import { QuantizedConv2d } from '../../../quant/modules.js';
import { registerOnnxOp, type Dim, type InferContext, type NodeContext, type RunContext, type ValueType } from './registry.js';
import { im2colIndex, poolNd, type PoolKind } from './spatial-kernels.js';
import { composed, hostFloats, small } from './util.js';

export const AUTO_PAD = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const;

export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Per spatial dim: [begin, end]. */
  pads: [number, number][];
}

/** Kernel, strides, dilations and resolved pads of a sliding window over `spatial` input dims. */
export function windowOf(c: NodeContext, spatial: number[], kernel: number[]): Window {
  const n = spatial.length;
  const list = (name: string, dflt: number) => {
    const v = c.attrs.ints(name, new Array<number>(n).fill(dflt));
    if (v.length !== n || v.some((x) => !Number.isInteger(x) || x < (dflt === 0 ? 0 : 1))) c.attrs.fail(name, `${n} ${dflt === 0 ? 'non-negative' : 'positive'} ints`, JSON.stringify(v));
    return v;
  };
  const strides = list('strides', 1);
  const dilations = list('dilations', 1);
  const auto = c.attrs.stringOf('auto_pad', AUTO_PAD, 'NOTSET');
  let pads: [number, number][];
  if (auto === 'NOTSET') {
    const p = c.attrs.ints('pads', new Array<number>(2 * n).fill(0));
    if (p.length !== 2 * n || p.some((x) => !Number.isInteger(x) || x < 0)) c.attrs.fail('pads', `${2 * n} non-negative ints`, JSON.stringify(p));
    pads = spatial.map((_, i) => [p[i]!, p[i + n]!]);
  } else if (auto === 'VALID') pads = spatial.map(() => [0, 0]);
  else {
    pads = spatial.map((d, i) => {
      const out = Math.ceil(d / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - d);
      const small = Math.floor(total / 2);
      return auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    });
  }
  return { kernel, strides, dilations, pads };
}

const pad4 = (w: Window): Pad4 => [w.pads[0]![0], w.pads[1]![0], w.pads[0]![1], w.pads[1]![1]];

registerOnnxOp('Conv', {
  validate: (c) => { c.attrs.stringOf('auto_pad', AUTO_PAD, 'NOTSET'); c.attrs.int('group', 1); },
  infer: (c) => {
    const [x, w] = c.inputs;
    return [{ dtype: x?.dtype ?? 'float32', ...(x?.shape ? { shape: [x.shape[0]!, w?.shape?.[0] ?? null, ...x.shape.slice(2).map(() => null)] } : {}) }];
  },
  prepare: async (c) => {
    const w = c.constant(1);
    if (c.precision !== 'int8' || !w || w.rank !== 4 || !(w.dtype === 'float32' || w.dtype === 'float16')) return undefined;
    const x = c.inputs[0]?.shape;
    const auto = c.attrs.stringOf('auto_pad', AUTO_PAD, 'NOTSET');
    const spatial = x?.slice(2);
    if (auto.startsWith('SAME') && !(spatial?.length === 2 && spatial.every((d) => typeof d === 'number'))) return undefined; // padding depends on the run's input size: stays float
    const [O, Cg, kH, kW] = w.shape as [number, number, number, number];
    const groups = c.attrs.int('group', 1);
    const win = windowOf(c, (spatial as number[] | undefined) ?? [1, 1], [kH, kW]);
    const bias = c.constant(2);
    c.dropInput(1);
    if (bias) c.dropInput(2);
    const conv = new Conv2d(Cg * groups, O, [kH, kW], { stride: win.strides as [number, number], dilation: win.dilations as [number, number], padding: pad4(win), groups, bias: !!bias });
    try {
      conv._replaceTensor('weight', await w.to(c.backend));
      if (bias) conv._replaceTensor('bias', await bias.to(c.backend));
      return await QuantizedConv2d.fromConv2d(conv, { activations: 'dynamic', name: c.label });
    } finally {
      conv.dispose();
    }
  },
  run: (c) => {
    const x = c.input(0);
    if (c.state instanceof QuantizedConv2d) return [c.state.forward(x)];
    const w = c.input(1);
    const b = c.inputs[2] ?? null;
    const groups = c.attrs.int('group', 1);
    if (x.rank < 3 || x.rank !== w.rank) c.fail(`X ${shapeStr(x.shape)} and W ${shapeStr(w.shape)} must be [N, C, ...spatial] and [M, C/group, ...kernel] of the same rank`);
    const ks = c.attrs.ints('kernel_shape', w.shape.slice(2));
    if (ks.some((k, i) => k !== w.shape[2 + i])) c.fail(`kernel_shape ${JSON.stringify(ks)} does not match W ${shapeStr(w.shape)}`);
    const win = windowOf(c, x.shape.slice(2), w.shape.slice(2));
    if (x.rank === 4) return [conv2d(x, w, b, { stride: win.strides as [number, number], dilation: win.dilations as [number, number], padding: pad4(win), groups })];
    if (x.rank === 3) return [conv1d(x, w, b, { stride: win.strides[0]!, dilation: win.dilations[0]!, padding: win.pads[0]!, groups })];
    if (groups < 1 || w.shape[1]! * groups !== x.shape[1] || w.shape[0]! % groups !== 0) c.fail(`W ${shapeStr(w.shape)} must be [M, C/group, ...kernel] with C = ${x.shape[1]} and M divisible by group ${groups}`);
    if (b && (b.rank !== 1 || b.shape[0] !== w.shape[0])) c.fail(`B must be [${w.shape[0]}], found ${shapeStr(b.shape)}`);
    const { index, outSp } = im2colIndex(x.shape.slice(2), w.shape.slice(2), win);
    if (outSp.some((d) => d <= 0)) c.fail(`the output ${shapeStr([x.shape[0]!, w.shape[0]!, ...outSp])} is empty: the kernel ${JSON.stringify(win.kernel)} (dilated) is larger than the padded input ${shapeStr(x.shape)}`);
    return [convByIm2col(x, w, b, groups, index, outSp)];
  },
});

/**
 * Conv over any number of spatial axes from ops every backend has: each plane of X gets one zero appended (the value
 * a tap in the padding reads), the taps are gathered into im2col columns [N, group, C/group·K, P] by `index`
 * (im2colIndex: K kernel taps × P output positions) and multiplied by W's rows [group, M/group, C/group·K].
 */
function convByIm2col(x: Tensor, w: Tensor, b: Tensor | undefined | null, groups: number, index: Int32Array, outSp: number[]): Tensor {
  return composed((t) => {
    const [N, C] = x.shape as [number, number];
    const [M, Cg] = w.shape as [number, number];
    const inN = x.size / (N * C), J = w.size / M, P = index.length / (J / Cg);
    const planes = t(pad(t(x.reshape([N, C, inN])), [0, 1]));
    const cols = t(t(gather(planes, t(small(index, [index.length], 'int32', x.device)), 2)).reshape([N, groups, J, P]));
    const y = t(matmul(t(w.reshape([groups, M / groups, J])), cols)).reshape([N, M, ...outSp]);
    return b ? add(t(y), t(b.reshape([M, ...outSp.map(() => 1)]))) : y;
  });
}

function poolInfer(c: InferContext): ValueType[] {
  const x = c.inputs[0];
  return [{ dtype: x?.dtype ?? 'float32', ...(x?.shape ? { shape: [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map((): Dim => null)] } : {}) }];
}

/** Per output position along one axis: true when its window misses the input entirely (only with dilations). */
function emptyWindows(n: number, out: number, k: number, s: number, d: number, before: number): boolean[] {
  return Array.from({ length: out }, (_, o) => {
    for (let i = 0; i < k; i++) {
      const at = o * s - before + i * d;
      if (at >= 0 && at < n) return false;
    }
    return true;
  });
}

/**
 * onnxruntime's MaxPool starts each window at the lowest finite value, so a window that lies entirely in the
 * padding (possible with dilations) gives -FLT_MAX (float16: -65504) where maxPool2d gives -inf: match it.
 */
function fillEmptyWindows(y: Tensor, x4: Tensor, kernel: [number, number], stride: [number, number], dilation: [number, number], padding: Pad4): Tensor {
  if (y.dtype !== 'float32' && y.dtype !== 'float16') return y;
  const [Ho, Wo] = [y.shape[2]!, y.shape[3]!];
  const rows = emptyWindows(x4.shape[2]!, Ho, kernel[0], stride[0], dilation[0], padding[0]);
  const cols = emptyWindows(x4.shape[3]!, Wo, kernel[1], stride[1], dilation[1], padding[1]);
  if (!rows.includes(true) && !cols.includes(true)) return y;
  const mask = tensor(Array.from({ length: Ho * Wo }, (_, q) => rows[Math.floor(q / Wo)]! || cols[q % Wo]!), { shape: [Ho, Wo], dtype: 'bool', device: y.device });
  try {
    return where(mask, y.dtype === 'float16' ? -65504 : -3.4028234663852886e38, y);
  } finally {
    mask.dispose();
    y.dispose();
  }
}

/** Whether a pool node needs the typed-array kernel: not 1-D/2-D, AveragePool dilations, or MaxPool's Indices. */
function poolOnHost(kind: PoolKind, c: NodeContext, rank: number | undefined): boolean {
  if (kind === 'lp') return true;
  if (rank !== undefined && rank !== 3 && rank !== 4) return true;
  if (kind === 'avg') return c.attrs.ints('dilations', []).some((d) => d !== 1);
  return !!c.node.outputs[1];
}

/** MaxPool/AveragePool/LpPool through the typed-array kernel poolNd, any number of spatial axes. */
export function hostPool(kind: PoolKind, c: RunContext): Tensor[] {
  const x = c.input(0);
  if (x.rank < 3) c.fail(`X must be [N, C, ...spatial], found ${shapeStr(x.shape)}`);
  const kernel = c.attrs.ints('kernel_shape');
  if (kernel.length !== x.rank - 2) c.attrs.fail('kernel_shape', `${x.rank - 2} ints for X ${shapeStr(x.shape)}`, JSON.stringify(kernel));
  const win = windowOf(c, x.shape.slice(2), kernel);
  const r = poolNd(hostFloats(c, x, 'X'), x.shape, win, kind, {
    ceil: c.attrs.int('ceil_mode', 0) === 1,
    countIncludePad: c.attrs.int('count_include_pad', 0) === 1,
    p: c.attrs.int('p', 2),
    columnMajor: c.attrs.int('storage_order', 0) === 1,
    emptyMax: x.dtype === 'float16' ? -65504 : -3.4028234663852886e38,
  });
  const y = small(r.y, r.shape, x.dtype, c.device);
  return kind === 'max' && c.node.outputs[1] ? [y, small(r.indices, r.shape, 'int32', c.device)] : [y];
}

function pool(kind: 'max' | 'avg') {
  return (c: RunContext) => {
    const x = c.input(0);
    if (poolOnHost(kind, c, x.rank)) return hostPool(kind, c);
    const kernel = c.attrs.ints('kernel_shape');
    if (kernel.length !== x.rank - 2) c.attrs.fail('kernel_shape', `${x.rank - 2} ints for X ${shapeStr(x.shape)}`, JSON.stringify(kernel));
    const win = windowOf(c, x.shape.slice(2), kernel);
    const ceilMode = c.attrs.intOf('ceil_mode', [0, 1], 0) === 1;
    const x4 = x.rank === 3 ? x.unsqueeze(2) : x;
    const two = <T>(v: T[], one: T): [T, T] => (x.rank === 3 ? [one, v[0]!] : [v[0]!, v[1]!]);
    const padding: Pad4 = x.rank === 3 ? [0, win.pads[0]![0], 0, win.pads[0]![1]] : pad4(win);
    // ONNX lets a pad reach up to the kernel size (PyTorch only half of it)
    const opts = { kernelSize: two(kernel, 1), stride: two(win.strides, 1), padding, ceilMode, padLimit: 'kernel' as const };
    try {
      const y = kind === 'max'
        ? fillEmptyWindows(maxPool2d(x4, { ...opts, dilation: two(win.dilations, 1) }), x4, opts.kernelSize, opts.stride, two(win.dilations, 1), padding)
        : avgPool2d(x4, { ...opts, countIncludePad: c.attrs.intOf('count_include_pad', [0, 1], 0) === 1 });
      if (x.rank === 4) return [y];
      const y3 = y.squeeze(2);
      y.dispose();
      return [y3];
    } finally {
      if (x4 !== x) x4.dispose();
    }
  };
}
/** Load-time refusals of MaxPool/AveragePool that depend only on the node. */
function poolValidate(kind: 'max' | 'avg') {
  return (c: NodeContext) => {
    c.attrs.ints('kernel_shape');
    c.attrs.stringOf('auto_pad', AUTO_PAD, 'NOTSET');
    c.attrs.intOf('ceil_mode', [0, 1], 0);
    if (kind === 'max') c.attrs.intOf('storage_order', [0, 1], 0);
    else c.attrs.intOf('count_include_pad', [0, 1], 0);
  };
}
const poolCpuOnly = (kind: 'max' | 'avg') => (c: InferContext) => poolOnHost(kind, c, c.inputs[0]?.shape?.length);
/** Output types of MaxPool: Y, and Indices (int64 held as int32) of Y's shape. */
function maxPoolInfer(c: InferContext): ValueType[] {
  const [y] = poolInfer(c);
  return [y!, { dtype: 'int32', ...(y!.shape ? { shape: [...y!.shape] } : {}) }];
}
registerOnnxOp('MaxPool', { validate: poolValidate('max'), cpuOnly: poolCpuOnly('max'), infer: maxPoolInfer, run: pool('max') });
registerOnnxOp('AveragePool', { validate: poolValidate('avg'), cpuOnly: poolCpuOnly('avg'), infer: poolInfer, run: pool('avg') });

function globalPool(fn: (x: Tensor, o: { axis: number[]; keepdim: boolean }) => Tensor) {
  return {
    infer: (c: InferContext): ValueType[] => {
      const x = c.inputs[0];
      return [{ dtype: x?.dtype ?? 'float32', ...(x?.shape ? { shape: x.shape.map((d, i) => (i < 2 ? d : 1)) } : {}) }];
    },
    run: (c: { input(i: number): Tensor; fail(m: string): never }) => {
      const x = c.input(0);
      if (x.rank < 3) c.fail(`X must be [N, C, ...spatial], found ${shapeStr(x.shape)}`);
      return [fn(x, { axis: x.shape.slice(2).map((_, i) => i + 2), keepdim: true })];
    },
  };
}
registerOnnxOp('GlobalAveragePool', globalPool(mean));
registerOnnxOp('GlobalMaxPool', globalPool(max));
