// ONNX NonMaxSuppression (opset 10/11) as a typed-array kernel (cpuOnly). Per batch and class: the boxes whose score
// is above score_threshold, best score first (ties: the lower box index first), each kept unless its IoU with a box
// kept before is strictly greater than iou_threshold, at most max_output_boxes_per_class of them (0 or absent: none).
// Boxes are [y1, x1, y2, x2] with the corners in either order (center_point_box 0) or [x_center, y_center, w, h] (1).
// The output is [selected, 3] rows (batch, class, box) as int32 (ONNX int64).
import { shapeStr } from '../../../tensor/shape.js';
import { registerOnnxOp } from './registry.js';
import { FLOAT_DTYPES, hostOut, requireDType, valuesOf } from './host.js';

/** [ymin, xmin, ymax, xmax] of box i. */
function corners(b: ArrayLike<number>, i: number, center: boolean): [number, number, number, number] {
  const p = i * 4;
  if (center) {
    const [xc, yc, w, h] = [b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!];
    return [yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2];
  }
  const [y1, x1, y2, x2] = [b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!];
  return [Math.min(y1, y2), Math.min(x1, x2), Math.max(y1, y2), Math.max(x1, x2)];
}

/** Intersection over union of two boxes (0 when either has no area). */
function iou(a: readonly number[], b: readonly number[]): number {
  const areaA = (a[2]! - a[0]!) * (a[3]! - a[1]!), areaB = (b[2]! - b[0]!) * (b[3]! - b[1]!);
  if (!(areaA > 0) || !(areaB > 0)) return 0;
  const h = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const w = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = h * w;
  return inter / (areaA + areaB - inter);
}

registerOnnxOp('NonMaxSuppression', {
  cpuOnly: true,
  hostInputs: [2, 3, 4],
  validate: (c) => { c.attrs.intOf('center_point_box', [0, 1], 0); },
  infer: (c) => {
    requireDType(c, 0, FLOAT_DTYPES, 'boxes');
    requireDType(c, 1, FLOAT_DTYPES, 'scores');
    return [{ dtype: 'int32', shape: [null, 3] }];
  },
  run: (c) => {
    const boxes = c.input(0), scores = c.input(1);
    const center = c.attrs.intOf('center_point_box', [0, 1], 0) === 1;
    if (boxes.rank !== 3 || boxes.shape[2] !== 4 || scores.rank !== 3 || scores.shape[0] !== boxes.shape[0] || scores.shape[2] !== boxes.shape[1]) {
      c.fail(`boxes must be [batch, boxes, 4] and scores [batch, classes, boxes], found ${shapeStr(boxes.shape)} and ${shapeStr(scores.shape)}`);
    }
    const scalar = (i: number, dflt: number) => {
      const v = c.floats(i);
      if (v === undefined || v.length === 0) return dflt;
      if (v.length !== 1) c.fail(`input ${i} must hold one value, found ${v.length}`);
      return v[0]!;
    };
    const maxOut = scalar(2, 0), iouMax = scalar(3, 0), scoreMin = scalar(4, -Infinity);
    if (iouMax < 0 || iouMax > 1) c.fail(`iou_threshold must be within [0, 1], found ${iouMax}`);
    const [batch, n] = [boxes.shape[0]!, boxes.shape[1]!], classes = scores.shape[1]!;
    const bv = valuesOf(boxes), sv = valuesOf(scores);
    const rows: number[] = [];
    for (let b = 0; b < batch; b++) {
      const box = Array.from({ length: n }, (_, i) => corners(bv, b * n + i, center));
      for (let k = 0; k < classes; k++) {
        const s = (i: number) => sv[(b * classes + k) * n + i]!;
        const cand = Array.from({ length: n }, (_, i) => i).filter((i) => s(i) > scoreMin); // NaN scores never pass
        cand.sort((i, j) => s(j) - s(i) || i - j);
        const kept: number[] = [];
        for (const i of cand) {
          if (kept.length >= maxOut) break;
          if (kept.every((j) => !(iou(box[i]!, box[j]!) > iouMax))) kept.push(i);
        }
        for (const i of kept) rows.push(b, k, i);
      }
    }
    return [hostOut(c, Int32Array.from(rows), [rows.length / 3, 3], 'int32')];
  },
});
