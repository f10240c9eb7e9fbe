// ONNX Det as a typed-array kernel (cpuOnly): the determinant of each trailing [M, M] matrix by LU decomposition with
// partial pivoting in float64 (a NaN anywhere in a matrix gives NaN).
import { numel, shapeStr } from '../../../tensor/shape.js';
import { registerOnnxOp } from './registry.js';
import { FLOAT_DTYPES, hostOut, requireDType, valuesOf } from './host.js';

/** det of the m×m row-major matrix a (overwritten). */
function detLU(a: Float64Array, m: number): number {
  let det = 1;
  for (let k = 0; k < m; k++) {
    let p = k;
    for (let i = k + 1; i < m; i++) if (Math.abs(a[i * m + k]!) > Math.abs(a[p * m + k]!)) p = i;
    const pivot = a[p * m + k]!;
    if (Number.isNaN(pivot)) return NaN;
    if (pivot === 0) {
      // a NaN further down still makes the result NaN
      return a.some(Number.isNaN) ? NaN : 0;
    }
    if (p !== k) {
      for (let j = 0; j < m; j++) [a[k * m + j], a[p * m + j]] = [a[p * m + j]!, a[k * m + j]!];
      det = -det;
    }
    det *= pivot;
    for (let i = k + 1; i < m; i++) {
      const f = a[i * m + k]! / pivot;
      for (let j = k; j < m; j++) a[i * m + j] = a[i * m + j]! - f * a[k * m + j]!;
    }
  }
  return det;
}

registerOnnxOp('Det', {
  cpuOnly: true,
  infer: (c) => (requireDType(c, 0, FLOAT_DTYPES), [{ dtype: c.inputs[0]?.dtype ?? 'float32', ...(c.inputs[0]?.shape ? { shape: c.inputs[0].shape.slice(0, -2) } : {}) }]),
  run: (c) => {
    const x = c.input(0);
    const m = x.shape[x.rank - 1]!;
    if (x.rank < 2 || x.shape[x.rank - 2] !== m) c.fail(`X must be [..., M, M], found ${shapeStr(x.shape)}`);
    const batch = x.shape.slice(0, -2), v = valuesOf(x);
    const out = new Float64Array(numel(batch));
    for (let b = 0; b < out.length; b++) out[b] = detLU(Float64Array.from({ length: m * m }, (_, i) => v[b * m * m + i]!), m);
    return [hostOut(c, out, batch, x.dtype)];
  },
});
