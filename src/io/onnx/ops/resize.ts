// ONNX Resize (opset 10 to 19; modes nearest and linear): per resized axis, source positions are computed on the
// host from the coordinate transformation mode, then gathered (nearest) or gathered twice and blended (linear,
// separable, so N-linear is one linear pass per axis).
import { shapeStr } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { add, mul, sub } from '../../../ops/elementwise.js';
import { gather } from '../../../ops/transform.js';
import { registerOnnxOp, type Dim, type NodeContext, type RunContext } from './registry.js';
import { axisOf, small } from './util.js';
import { numbers } from './shape.js';

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
    case 'pytorch_half_pixel': return outLen > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners': return outLen === 1 ? 0 : (x * (inLen - 1)) / (outLen - 1);
    case 'asymmetric': return x / scale;
    case 'tf_half_pixel_for_nearest': return (x + 0.5) / scale;
    case 'tf_crop_and_resize': return NaN; // refused before use
  }
}

function nearestIndex(mode: (typeof NEAREST)[number], v: number): number {
  switch (mode) {
    case 'round_prefer_floor': return v - Math.floor(v) === 0.5 ? Math.floor(v) : Math.round(v);
    case 'round_prefer_ceil': return Math.round(v);
    case 'floor': return Math.floor(v);
    case 'ceil': return Math.ceil(v);
  }
}

/** Output sizes and the scales used by the coordinate transform, for every axis of x. */
function targets(c: RunContext, x: Tensor): { out: number[]; scales: number[] } {
  const r = x.rank;
  const scalesIn = c.opset < 11 ? c.floats(1) : c.floats(2);
  const sizesIn = c.opset < 11 ? undefined : c.ints(3);
  let axes = Array.from({ length: r }, (_, i) => i);
  if (c.opset >= 18 && c.attrs.has('axes')) axes = c.attrs.ints('axes').map((a) => axisOf(c, a, r));
  const out = [...x.shape];
  const scales = x.shape.map(() => 1);
  if (sizesIn && sizesIn.length > 0) {
    if (scalesIn && scalesIn.length > 0) c.fail('scales and sizes must not both be given');
    if (sizesIn.length !== axes.length) c.fail(`sizes ${JSON.stringify(sizesIn)} must hold one value per resized axis (${axes.length})`);
    axes.forEach((a, i) => { out[a] = sizesIn[i]!; scales[a] = sizesIn[i]! / x.shape[a]!; });
  } else if (scalesIn && scalesIn.length > 0) {
    if (scalesIn.length !== axes.length) c.fail(`scales ${JSON.stringify(scalesIn)} must hold one value per resized axis (${axes.length})`);
    if (scalesIn.some((s) => !(s > 0))) c.fail(`scales ${JSON.stringify(scalesIn)} must be positive`);
    axes.forEach((a, i) => { scales[a] = scalesIn[i]!; out[a] = Math.floor(x.shape[a]! * scalesIn[i]!); });
  } else c.fail('needs scales or sizes');
  return { out, scales };
}

/** Resize's attributes, refusing at load (validate) what forwardpass does not implement. */
function resizeAttrs(c: NodeContext) {
  const mode = c.attrs.stringOf('mode', ['nearest', 'linear', 'cubic'], 'nearest');
  if (mode === 'cubic') c.fail("mode 'cubic' is not supported (nearest and linear are)");
  const coord = c.opset < 11 ? 'asymmetric' : c.attrs.stringOf('coordinate_transformation_mode', COORD, 'half_pixel');
  if (coord === 'tf_crop_and_resize') c.fail("coordinate_transformation_mode 'tf_crop_and_resize' is not supported");
  const nearest = c.attrs.stringOf('nearest_mode', NEAREST, 'round_prefer_floor');
  if (c.attrs.int('exclude_outside', 0) !== 0) c.fail('exclude_outside = 1 is not supported');
  if (c.opset >= 18 && c.attrs.int('antialias', 0) !== 0) c.fail('antialias = 1 is not supported');
  if (c.opset >= 18 && c.attrs.stringOf('keep_aspect_ratio_policy', ['stretch', 'not_larger', 'not_smaller'], 'stretch') !== 'stretch') c.fail("only keep_aspect_ratio_policy 'stretch' is supported");
  return { mode, coord, nearest };
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
    const { mode, coord, nearest } = resizeAttrs(c);
    if (x.dtype !== 'float32' && x.dtype !== 'float16' && mode === 'linear') c.fail(`linear mode needs a float input, found ${x.dtype}`);
    const { out, scales } = targets(c, x);
    if (out.some((d) => !Number.isInteger(d) || d < 0)) c.fail(`output shape ${shapeStr(out)} is invalid`);
    let t = x;
    const drop = (next: Tensor) => { if (t !== x) t.dispose(); t = next; };
    for (let a = 0; a < x.rank; a++) {
      const inLen = x.shape[a]!, outLen = out[a]!;
      if (inLen === outLen && scales[a] === 1 && coord !== 'tf_half_pixel_for_nearest') continue;
      if (inLen === 0) c.fail(`cannot resize the empty dim ${a} of the input ${shapeStr(x.shape)}`);
      const src = Array.from({ length: outLen }, (_, i) => sourceCoord(coord, i, scales[a]!, inLen, outLen));
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
    return [t === x ? x.reshape(x.shape) : t];
  },
});
