// WebGPU normalizations: layerNorm / rmsNorm / groupNorm as one fused row kernel each (norm.wgsl: statistics
// and the affine write in one dispatch) and batchNorm (inference) as an elementwise kernel (batchnorm.wgsl).
// weight and bias are optional trailing inputs; a missing one binds x in its slot and reads as 1 / 0.
import { f32bits, grid, type GpuContext, type GpuProgram, type GpuTensor } from '../types.js';
import { rowThreads } from './reduce.js';
import normWgsl from '../../../../kernels/norm.wgsl';
import batchnormWgsl from '../../../../kernels/batchnorm.wgsl';
import { numel } from '../../../tensor/shape.js';

const NORM_SRC = { name: 'norm.wgsl', code: normWgsl };
const BATCHNORM_SRC = { name: 'batchnorm.wgsl', code: batchnormWgsl };

/** Buffer and uniform words (offset, present) of an optional parameter; `x` stands in for a missing one. */
function optional(t: GpuTensor | undefined, x: GpuTensor): { buffer: GPUBuffer; off: number; has: number } {
  return t ? { buffer: t.buffer, off: t.offset, has: 1 } : { buffer: x.buffer, off: 0, has: 0 };
}

/** S: the product of the dims after the channel dim. */
function spatial(shape: readonly number[]): number {
  return numel(shape.slice(2));
}

/** rows of R contiguous values; parameter index of element r in row `row` is (row % G) * Cg + r / S. */
function normRows(gpu: GpuContext, y: GpuTensor, [x, weight, bias]: GpuTensor[], rms: boolean, eps: number, rows: number, R: number, G: number, Cg: number, S: number): void {
  if (rows === 0 || R === 0) return;
  const t = rowThreads(rows, R, false);
  const w = optional(weight, x!), b = optional(bias, x!);
  gpu.dispatch({
    kernel: NORM_SRC,
    defines: { SUBGROUPS: gpu.setup.features.subgroups },
    buffers: [y.buffer, x!.buffer, w.buffer, b.buffer],
    uniforms: [rows, R, G, Cg, S, x!.offset, w.off, b.off, w.has, b.has, rms ? 1 : 0, f32bits(eps), t.tprLog2, t.rowsLog2, t.spread ? 1 : 0],
    workgroups: grid(Math.ceil(rows / 2 ** t.rowsLog2), 1),
  });
}

function rowNorm(rms: boolean): GpuProgram<{ eps: number; dims: number }> {
  return (gpu, [y], ins, { eps, dims }) => {
    const shape = ins[0]!.shape;
    const D = numel(shape.slice(shape.length - dims));
    normRows(gpu, y!, ins, rms, eps, D === 0 ? 0 : ins[0]!.size / D, D, 1, D, 1);
  };
}

/** x [R, D] -> (x - mean) / sqrt(var + eps) * weight + bias per row of the last `dims` dims. */
export const layerNorm = rowNorm(false);
/** x [R, D] -> x / sqrt(mean(x²) + eps) * weight per row. */
export const rmsNorm = rowNorm(true);

/** x [N, C, S]: each (n, group) block of C/G channels normalized, then the per-channel affine map. */
export const groupNorm: GpuProgram<{ eps: number; groups: number }> = (gpu, [y], ins, { eps, groups }) => {
  const [N, C] = ins[0]!.shape as [number, number];
  const S = spatial(ins[0]!.shape);
  const Cg = C / groups;
  normRows(gpu, y!, ins, false, eps, N * groups, Cg * S, groups, Cg, S);
};

/** x [N, C, S], mean, var [C], weight?, bias? [C] -> (x - mean) / sqrt(var + eps) * weight + bias. */
export const batchNorm: GpuProgram<{ eps: number }> = (gpu, [y], [x, mean, variance, weight, bias], { eps }) => {
  if (y!.size === 0) return;
  const w = optional(weight, x!), b = optional(bias, x!);
  gpu.dispatch({
    kernel: BATCHNORM_SRC,
    buffers: [y!.buffer, x!.buffer, mean!.buffer, variance!.buffer, w.buffer, b.buffer],
    uniforms: [y!.size, x!.shape[1]!, spatial(x!.shape), x!.offset, mean!.offset, variance!.offset, w.off, b.off, w.has, b.has, f32bits(eps)],
    workgroups: grid(y!.size, 256),
  });
};
