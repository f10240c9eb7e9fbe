// ONNX RoiAlign (Mask R-CNN) as a typed-array kernel (cpuOnly): each roi [x1, y1, x2, y2] (scaled by spatial_scale,
// shifted by -0.5 under 'half_pixel', the default from opset 16) is cut into output_height × output_width bins, each
// sampled on a sampling_ratio² grid (0: ceil(bin size) points per side) by bilinear interpolation; 'avg' averages the
// samples, 'max' takes the largest weighted corner term of each sample and the largest over samples, as the ONNX
// reference and onnxruntime define it. A sample outside [-1, size] contributes 0.
import { shapeStr } from '../../../tensor/shape.js';
import { registerOnnxOp } from './registry.js';
import { FLOAT_DTYPES, hostOut, requireDType, valuesOf } from './host.js';

/** The four corner offsets and weights of a bilinear sample at (y, x) in an h × w plane (weights 0 outside). */
function corners(y: number, x: number, h: number, w: number): [number[], number[]] {
  if (y < -1 || y > h || x < -1 || x > w) return [[0, 0, 0, 0], [0, 0, 0, 0]];
  y = Math.max(y, 0);
  x = Math.max(x, 0);
  let y0 = Math.floor(y), x0 = Math.floor(x), y1 = y0 + 1, x1 = x0 + 1;
  if (y0 >= h - 1) { y0 = y1 = h - 1; y = y0; }
  if (x0 >= w - 1) { x0 = x1 = w - 1; x = x0; }
  const ly = y - y0, lx = x - x0, hy = 1 - ly, hx = 1 - lx;
  return [[y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1], [hy * hx, hy * lx, ly * hx, ly * lx]];
}

registerOnnxOp('RoiAlign', {
  cpuOnly: true,
  validate: (c) => {
    c.attrs.stringOf('mode', ['avg', 'max'] as const, 'avg');
    if (c.opset >= 16) c.attrs.stringOf('coordinate_transformation_mode', ['half_pixel', 'output_half_pixel'] as const, 'half_pixel');
  },
  infer: (c) => (requireDType(c, 0, FLOAT_DTYPES, 'X'), [{ dtype: c.inputs[0]?.dtype ?? 'float32' }]),
  run: (c) => {
    const x = c.input(0), rois = c.input(1), batchIdx = valuesOf(c.input(2));
    if (x.rank !== 4) c.fail(`X must be [N, C, H, W], found ${shapeStr(x.shape)}`);
    if (rois.rank !== 2 || rois.shape[1] !== 4 || batchIdx.length !== rois.shape[0]) c.fail(`rois must be [num_rois, 4] with one batch index each, found ${shapeStr(rois.shape)} and ${batchIdx.length} indices`);
    const [n, ch, h, w] = x.shape as [number, number, number, number];
    const ph = c.attrs.int('output_height', 1), pw = c.attrs.int('output_width', 1), ratio = c.attrs.int('sampling_ratio', 0);
    const scale = c.attrs.float('spatial_scale', 1), max = c.attrs.stringOf('mode', ['avg', 'max'] as const, 'avg') === 'max';
    const half = c.opset >= 16 && c.attrs.stringOf('coordinate_transformation_mode', ['half_pixel', 'output_half_pixel'] as const, 'half_pixel') === 'half_pixel';
    const xv = valuesOf(x), rv = valuesOf(rois);
    const nr = rois.shape[0]!;
    const out = new Float64Array(nr * ch * ph * pw);
    for (let r = 0; r < nr; r++) {
      const b = batchIdx[r]!;
      if (!(b >= 0 && b < n)) c.fail(`batch index ${b} of roi ${r} is outside 0..${n - 1}`);
      const off = half ? 0.5 : 0;
      const [sx, sy, ex, ey] = [0, 1, 2, 3].map((k) => rv[r * 4 + k]! * scale - off) as [number, number, number, number];
      const rw = half ? ex - sx : Math.max(ex - sx, 1), rh = half ? ey - sy : Math.max(ey - sy, 1);
      const bh = rh / ph, bw = rw / pw;
      const gh = ratio > 0 ? ratio : Math.ceil(rh / ph), gw = ratio > 0 ? ratio : Math.ceil(rw / pw);
      const count = Math.max(gh * gw, 1);
      for (let i = 0; i < ph; i++) {
        for (let j = 0; j < pw; j++) {
          const samples: [number[], number[]][] = [];
          for (let iy = 0; iy < gh; iy++) {
            for (let ix = 0; ix < gw; ix++) samples.push(corners(sy + i * bh + ((iy + 0.5) * bh) / gh, sx + j * bw + ((ix + 0.5) * bw) / gw, h, w));
          }
          for (let k = 0; k < ch; k++) {
            const base = (b * ch + k) * h * w;
            let acc = max ? -Infinity : 0;
            for (const [pos, wt] of samples) {
              if (max) acc = Math.max(acc, ...pos.map((p, q) => wt[q]! * xv[base + p]!));
              else acc += pos.reduce((s, p, q) => s + wt[q]! * xv[base + p]!, 0);
            }
            out[((r * ch + k) * ph + i) * pw + j] = max ? (samples.length ? acc : 0) : acc / count;
          }
        }
      }
    }
    return [hostOut(c, out, [nr, ch, ph, pw], x.dtype)];
  },
});
