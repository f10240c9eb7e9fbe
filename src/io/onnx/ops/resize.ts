// ONNX Resize (opset 10 to 19; modes nearest, linear and cubic) and Upsample (opset 7 to 9): per resized axis,
// source positions are computed on the host from the coordinate transformation mode, then gathered (nearest) or
// gathered twice and blended (linear, separable, so N-linear is one linear pass per axis). Cubic, antialias
// (linear and cubic: the kernel stretched by 1/scale when downsampling), exclude_outside and tf_crop_and_resize
// (roi, extrapolation_value) go through the general form: per output position, n taps (source index, weight)
// computed on the host as the ONNX reference does, applied as n gathers and a weighted sum.
import { shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { add, mul, sub, where } from '../../../ops/elementwise.js';
import { gather } from '../../../ops/transform.js';
import { registerOnnxOp, type Dim, type NodeContext, type RunContext } from './registry.js';
import { axisOf, small } from './util.js';
import { numbers } from './shape.js';
import { cubicCoeffs, cubicWeight } from './spatial-kernels.js';

const COORD = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nearest', 'tf_crop_and_resize'] as const;
const NEAREST = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;

/** Source coordinate of output index x for one axis. */
function sourceCoord(mode: (typeof COORD)[number], x: number, scale: number, inLen: number, outLen: number): number {
  switch (mode) {
    case 'half_pixel': return (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const adj = outLen / (scale * inLen);
      return (inLen / 2) * (1 - adj) + (x + 0.5) / scale - 0.5;
    }
    case 'pytorch_half_pixel': return outLen > 1 ? (x + 0.5) / scale - 0.5 : -0.5;
    case 'align_corners': {
      const w = scale * inLen; // the reference's unrounded output length (a scale of 0.6 on 4: 2.4, not 2)
      return outLen === 1 || w === 1 ? 0 : (x * (inLen - 1)) / (w - 1);
    }
    case 'asymmetric': return x / scale;
    case 'tf_half_pixel_for_nearest': return (x + 0.5) / scale;
    case 'tf_crop_and_resize': return NaN; // cropCoord instead
  }
}

/** Source coordinate of output index x under tf_crop_and_resize: the roi [start, end] (fractions of the axis) spread over the output. */
function cropCoord([start, end]: [number, number], x: number, inLen: number, outLen: number): number {
  const v = outLen > 1 ? (x * (end - start) * (inLen - 1)) / (outLen - 1) : ((end - start) * (inLen - 1)) / 2;
  return v + start * (inLen - 1);
}

function nearestIndex(mode: (typeof NEAREST)[number], v: number): number {
  switch (mode) {
    case 'round_prefer_floor': return v - Math.floor(v) === 0.5 ? Math.floor(v) : Math.round(v);
    case 'round_prefer_ceil': return Math.round(v);
    case 'floor': return Math.floor(v);
    case 'ceil': return Math.ceil(v);
  }
}

/** Output sizes, the scales used by the coordinate transform and the roi (tf_crop_and_resize), for every axis of x. */
function targets(c: RunContext, x: Tensor, policy: string): { out: number[]; scales: number[]; roi: [number, number][] } {
  const r = x.rank;
  const scalesIn = c.opset < 11 ? c.floats(1) : c.floats(2);
  const sizesIn = c.opset < 11 ? undefined : c.ints(3);
  const roiIn = c.opset < 11 ? undefined : c.floats(1);
  let axes = Array.from({ length: r }, (_, i) => i);
  if (c.opset >= 18 && c.attrs.has('axes')) axes = c.attrs.ints('axes').map((a) => axisOf(c, a, r));
  const out = [...x.shape];
  const scales = x.shape.map(() => 1);
  const roi = x.shape.map((): [number, number] => [0, 1]);
  if (roiIn && roiIn.length > 0) {
    if (roiIn.length !== 2 * axes.length) c.fail(`roi ${JSON.stringify(roiIn)} must hold ${2 * axes.length} values (starts, then ends, of the resized axes)`);
    axes.forEach((a, i) => { roi[a] = [roiIn[i]!, roiIn[i + axes.length]!]; });
  }
  if (sizesIn && sizesIn.length > 0) {
    if (scalesIn && scalesIn.length > 0) c.fail('scales and sizes must not both be given');
    if (sizesIn.length !== axes.length) c.fail(`sizes ${JSON.stringify(sizesIn)} must hold one value per resized axis (${axes.length})`);
    if (policy !== 'stretch') {
      // one scale for every resized axis: the largest that fits inside sizes (not_larger) or covers it (not_smaller)
      const ratios = axes.map((a, i) => sizesIn[i]! / x.shape[a]!);
      const scale = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((a) => { scales[a] = scale; out[a] = Math.round(scale * x.shape[a]!); });
    } else axes.forEach((a, i) => { out[a] = sizesIn[i]!; scales[a] = sizesIn[i]! / x.shape[a]!; });
  } else if (scalesIn && scalesIn.length > 0) {
    if (scalesIn.length !== axes.length) c.fail(`scales ${JSON.stringify(scalesIn)} must hold one value per resized axis (${axes.length})`);
    if (scalesIn.some((s) => !(s > 0))) c.fail(`scales ${JSON.stringify(scalesIn)} must be positive`);
    axes.forEach((a, i) => { scales[a] = scalesIn[i]!; out[a] = Math.floor(x.shape[a]! * scalesIn[i]!); });
  } else c.fail('needs scales or sizes');
  return { out, scales, roi };
}

/** Resize's attributes, refusing at load (validate) what forwardpass does not implement. */
function resizeAttrs(c: NodeContext) {
  const mode = c.attrs.stringOf('mode', ['nearest', 'linear', 'cubic'], 'nearest');
  const coord = c.opset < 11 ? 'asymmetric' : c.attrs.stringOf('coordinate_transformation_mode', COORD, 'half_pixel');
  const nearest = c.attrs.stringOf('nearest_mode', NEAREST, 'round_prefer_floor');
  const cubicA = c.attrs.float('cubic_coeff_a', -0.75);
  const excludeOutside = c.attrs.intOf('exclude_outside', [0, 1], 0) === 1;
  const extrapolation = c.attrs.float('extrapolation_value', 0);
  const antialias = c.opset >= 18 && c.attrs.intOf('antialias', [0, 1], 0) === 1;
  const policy = c.opset >= 18 ? c.attrs.stringOf('keep_aspect_ratio_policy', ['stretch', 'not_larger', 'not_smaller'], 'stretch') : 'stretch';
  return { mode, coord, nearest, cubicA, excludeOutside, extrapolation, antialias, policy };
}

type ResizeAttrs = ReturnType<typeof resizeAttrs>;

/**
 * The taps of one axis in the general form: for each output position, n source indices (clamped to the input,
 * as the ONNX reference's edge padding) and weights, and whether the position lies outside the crop
 * (tf_crop_and_resize). Follows the ONNX reference: the taps are the n input positions nearest the source
 * coordinate (the left one preferred), weighted by the linear or cubic kernel, stretched by 1/scale when
 * antialiasing a downsample and renormalized.
 */
function generalTaps(at: ResizeAttrs, src: number[], scale: number, inLen: number): { idx: number[][]; w: number[][]; outside: boolean[] } {
  const outside = src.map((v) => at.coord === 'tf_crop_and_resize' && (v < 0 || v > inLen - 1));
  if (at.mode === 'nearest') return { idx: [src.map((v) => Math.min(Math.max(nearestIndex(at.nearest, v), 0), inLen - 1))], w: [src.map(() => 1)], outside };
  const s = at.antialias ? Math.min(scale, 1) : 1;
  const reach = at.mode === 'linear' ? 1 : 2;
  const start = Math.floor(-reach / s) + 1;
  const n = 2 - 2 * start;
  const idx = Array.from({ length: n }, () => new Array<number>(src.length));
  const w = Array.from({ length: n }, () => new Array<number>(src.length));
  src.forEach((v, i) => {
    const whole = Number.isInteger(v);
    const base = whole ? v - 1 : Math.floor(v);
    const ratio = whole ? 1 : v - base;
    let coeffs: number[];
    if (!at.antialias && at.mode === 'cubic') coeffs = cubicCoeffs(ratio, at.cubicA);
    else if (!at.antialias) coeffs = [1 - ratio, ratio];
    else coeffs = Array.from({ length: n }, (_, j) => { const d = (start + j - ratio) * s; return at.mode === 'linear' ? Math.max(0, 1 - Math.abs(d)) : cubicWeight(d, at.cubicA); });
    if (at.excludeOutside) coeffs = coeffs.map((cf, j) => (base + start + j < 0 || base + start + j >= inLen ? 0 : cf));
    const total = at.antialias || at.excludeOutside ? coeffs.reduce((a, b) => a + b, 0) : 1;
    for (let j = 0; j < n; j++) {
      idx[j]![i] = Math.min(Math.max(base + start + j, 0), inLen - 1);
      w[j]![i] = coeffs[j]! / total;
    }
  });
  return { idx, w, outside };
}

/** Resize axis `a` of t through the general taps (n gathers and a weighted sum; crop extrapolation masked in). */
function resizeGeneral(t: Tensor, a: number, taps: ReturnType<typeof generalTaps>, extrapolation: number): Tensor {
  const outLen = taps.outside.length;
  const wShape = t.shape.map((_, k) => (k === a ? outLen : 1));
  let acc: Tensor | undefined;
  taps.idx.forEach((idx, j) => {
    const it = small(idx, [outLen], 'int32', t.device), tw = small(taps.w[j]!, wShape, 'float32', t.device);
    const g = gather(t, it, a), term = mul(g, tw);
    const next = acc ? add(acc, term) : term;
    for (const z of [it, tw, g, ...(acc ? [acc, term] : [])]) z.dispose();
    acc = next;
  });
  if (!taps.outside.includes(true)) return acc!;
  const mask = small(taps.outside.map(Number), wShape, 'bool', t.device);
  try {
    return where(mask, extrapolation, acc!);
  } finally {
    mask.dispose();
    acc!.dispose();
  }
}

registerOnnxOp('Resize', {
  hostInputs: [1, 2, 3],
  validate: (c) => { resizeAttrs(c); },
  infer: (c) => {
    const x = c.inputs[0];
    const sizes = c.opset >= 11 ? numbers(c.inputs[3]?.values) : undefined;
    const shape: Dim[] | undefined = x?.shape && sizes && sizes.length === x.shape.length && !c.attrs.has('axes') ? sizes : x?.shape?.map(() => null);
    return [{ dtype: x?.dtype ?? 'float32', ...(shape ? { shape } : {}) }];
  },
  run: (c) => {
    const x = c.input(0);
    const at = resizeAttrs(c);
    return [resize(c, x, at, targets(c, x, at.policy))];
  },
});

/** x resized to `out` (per axis: scale for the coordinate transform, roi for tf_crop_and_resize). */
function resize(c: NodeContext, x: Tensor, at: ResizeAttrs, { out, scales, roi }: { out: number[]; scales: number[]; roi: [number, number][] }): Tensor {
  const { mode, coord, nearest } = at;
  if (x.dtype !== 'float32' && x.dtype !== 'float16' && mode !== 'nearest') c.fail(`${mode} mode needs a float input, found ${x.dtype}`);
  const general = mode === 'cubic' || at.antialias || coord === 'tf_crop_and_resize';
  if (out.some((d) => !Number.isInteger(d) || d < 0)) c.fail(`output shape ${shapeStr(out)} is invalid`);
  let t = x;
  const drop = (next: Tensor) => { if (t !== x) t.dispose(); t = next; };
  for (let a = 0; a < x.rank; a++) {
    const inLen = x.shape[a]!, outLen = out[a]!;
    if (inLen === outLen && scales[a] === 1 && coord !== 'tf_half_pixel_for_nearest' && coord !== 'tf_crop_and_resize') continue;
    if (inLen === 0) c.fail(`cannot resize the empty dim ${a} of the input ${shapeStr(x.shape)}`);
    const src = Array.from({ length: outLen }, (_, i) => (coord === 'tf_crop_and_resize' ? cropCoord(roi[a]!, i, inLen, outLen) : sourceCoord(coord, i, scales[a]!, inLen, outLen)));
    if (general) {
      drop(resizeGeneral(t, a, generalTaps(at, src, scales[a]!, inLen), at.extrapolation));
      continue;
    }
    if (mode === 'nearest') {
      const idx = src.map((v) => Math.min(Math.max(nearestIndex(nearest, v), 0), inLen - 1));
      const it = small(idx, [outLen], 'int32', x.device);
      drop(gather(t, it, a));
      it.dispose();
      continue;
    }
    const i0 = new Array<number>(outLen), i1 = new Array<number>(outLen), w = new Float32Array(outLen);
    src.forEach((v, i) => {
      const p = Math.min(Math.max(v, 0), inLen - 1);
      const lo = Math.floor(p);
      i0[i] = lo;
      i1[i] = Math.min(lo + 1, inLen - 1);
      w[i] = p - lo;
    });
    const wShape = x.shape.map((_, k) => (k === a ? outLen : 1));
    const [t0, t1, tw] = [small(i0, [outLen], 'int32', x.device), small(i1, [outLen], 'int32', x.device), small(w, wShape, 'float32', x.device)];
    const g0 = gather(t, t0, a), g1 = gather(t, t1, a);
    const d = sub(g1, g0), dw = mul(d, tw);
    drop(add(g0, dw));
    for (const z of [t0, t1, tw, g0, g1, d, dw]) z.dispose();
  }
  return t === x ? x.reshape(x.shape) : t;
}

// Upsample (deprecated since opset 10): Resize with the asymmetric transform, nearest rounding down, scales >= 1
// from the attribute (opset 7) or input 1 (opset 9).
registerOnnxOp('Upsample', {
  hostInputs: [1],
  validate: (c) => { c.attrs.stringOf('mode', ['nearest', 'linear'], 'nearest'); if (c.opset < 9) c.attrs.floats('scales'); },
  infer: (c) => [{ dtype: c.inputs[0]?.dtype ?? 'float32', ...(c.inputs[0]?.shape ? { shape: c.inputs[0].shape.map(() => null) } : {}) }],
  run: (c) => {
    const x = c.input(0);
    const scales = c.opset < 9 ? c.attrs.floats('scales') : c.floats(1) ?? c.fail('input scales is required');
    if (scales.length !== x.rank || scales.some((v) => !(v >= 1))) c.fail(`scales ${JSON.stringify(scales)} must hold ${x.rank} values of at least 1`);
    const mode = c.attrs.stringOf('mode', ['nearest', 'linear'], 'nearest');
    const at: ResizeAttrs = { mode, coord: 'asymmetric', nearest: 'floor', cubicA: -0.75, excludeOutside: false, extrapolation: 0, antialias: false, policy: 'stretch' };
    return [resize(c, x, at, { out: x.shape.map((d, i) => Math.floor(d * scales[i]!)), scales, roi: x.shape.map(() => [0, 1]) })];
  },
});
