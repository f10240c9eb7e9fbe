// CPU normalization kernels: batchNorm (running statistics), layerNorm, rmsNorm, groupNorm. Statistics are
// accumulated in float64 with two passes (mean, then squared deviations). weight and bias are optional trailing inputs.
// Legend: N = batch, C = channels, S = spatial positions per channel (product of dims after C),
// R = rows and D = normalized elements per row (layerNorm/rmsNorm: D = product of the last `dims` dims), G = groups.
import type { CpuKernel, CpuTensor } from '../types.js';

/** Reader for an optional per-feature parameter: its value at i, or `dflt` when absent. */
function param(t: CpuTensor | undefined, dflt: number): (i: number) => number {
  if (!t) return () => dflt;
  const d = t.data, o = t.offset;
  return (i) => d[o + i]!;
}

/** S: the product of the dims after the channel dim. */
function spatial(x: CpuTensor): number {
  let S = 1;
  for (let i = 2; i < x.shape.length; i++) S *= x.shape[i]!;
  return S;
}

/** x [N, C, S], mean, var [C], weight?, bias? [C] -> out [N, C, S] = (x - mean) / sqrt(var + eps) * weight + bias. */
export const batchNorm: CpuKernel<{ eps: number }> = ([out], [x, mean, variance, weight, bias], { eps }) => {
  const N = x!.shape[0]!, C = x!.shape[1]!;
  const S = spatial(x!);
  const m = param(mean, 0), v = param(variance, 1), w = param(weight, 1), b = param(bias, 0);
  const xd = x!.data, od = out!.data, xo = x!.offset;
  for (let c = 0; c < C; c++) {
    const scale = w(c) / Math.sqrt(v(c) + eps);
    const mc = m(c), bc = b(c);
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      for (let s = 0; s < S; s++) od[base + s] = (xd[xo + base + s]! - mc) * scale + bc;
    }
  }
};

/** Normalize each row [D] of x [R, D] by its mean and biased variance (rms: by its root mean square). */
function rowNorm(rms: boolean): CpuKernel<{ eps: number; dims: number }> {
  return ([out], [x, weight, bias], { eps, dims }) => {
    let D = 1, R = 1;
    x!.shape.forEach((d, i) => (i < x!.shape.length - dims ? (R *= d) : (D *= d)));
    const w = param(weight, 1), b = param(bias, 0);
    const xd = x!.data, od = out!.data, xo = x!.offset;
    for (let r = 0; r < R; r++) {
      const base = r * D;
      let mu = 0;
      if (!rms) {
        for (let i = 0; i < D; i++) mu += xd[xo + base + i]!;
        mu /= D;
      }
      let ss = 0;
      for (let i = 0; i < D; i++) {
        const d = xd[xo + base + i]! - mu;
        ss += d * d;
      }
      const inv = 1 / Math.sqrt(ss / D + eps);
      for (let i = 0; i < D; i++) od[base + i] = (xd[xo + base + i]! - mu) * inv * w(i) + b(i);
    }
  };
}

/** x [R, D] -> out [R, D]: (x - mean) / sqrt(var + eps) * weight + bias per row. */
export const layerNorm = rowNorm(false);
/** x [R, D] -> out [R, D]: x / sqrt(mean(x²) + eps) * weight per row. */
export const rmsNorm = rowNorm(true);

/** x [N, C, S] with C = G groups of C/G channels -> out [N, C, S], each (n, group) block normalized, then per-channel affine. */
export const groupNorm: CpuKernel<{ eps: number; groups: number }> = ([out], [x, weight, bias], { eps, groups }) => {
  const N = x!.shape[0]!, C = x!.shape[1]!;
  const S = spatial(x!);
  const Cg = C / groups;
  const block = Cg * S;
  const w = param(weight, 1), b = param(bias, 0);
  const xd = x!.data, od = out!.data, xo = x!.offset;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      const base = (n * C + g * Cg) * S;
      let mu = 0;
      for (let i = 0; i < block; i++) mu += xd[xo + base + i]!;
      mu /= block;
      let ss = 0;
      for (let i = 0; i < block; i++) {
        const d = xd[xo + base + i]! - mu;
        ss += d * d;
      }
      const inv = 1 / Math.sqrt(ss / block + eps);
      for (let ci = 0; ci < Cg; ci++) {
        const c = g * Cg + ci;
        const scale = inv * w(c), shift = b(c);
        const row = base + ci * S;
        for (let s = 0; s < S; s++) od[row + s] = (xd[xo + row + s]! - mu) * scale + shift;
      }
    }
  }
};
