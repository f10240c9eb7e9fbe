// WebGPU 2-D max and average pooling (pool.wgsl): one thread per output element, window semantics as the CPU.
// Legend: N = batch, C = channels, H, W = input size, Ho, Wo = output size.
import type { Pool2dAttrs } from '../../../ops/attrs.js';
import { f32bits, grid, type GpuProgram } from '../types.js';
import { wgslType } from './elementwise.js';
import poolWgsl from '../../../../kernels/pool.wgsl';

const POOL_SRC = { name: 'pool.wgsl', code: poolWgsl };

function pool(op: 'max' | 'avg'): GpuProgram<Pool2dAttrs> {
  return (gpu, [y], [x], { kernel, stride, padding, dilation, countIncludePad }) => {
    const [, , H, W] = x!.shape as [number, number, number, number];
    const Ho = y!.shape[2]!, Wo = y!.shape[3]!;
    if (y!.size === 0) return;
    gpu.dispatch({
      kernel: POOL_SRC,
      defines: { OP: op, T: wgslType(x!), COUNT_PAD: op === 'avg' && countIncludePad },
      buffers: [y!.buffer, x!.buffer],
      uniforms: [y!.size, H, W, Ho, Wo, ...kernel, ...stride, ...padding, ...dilation, x!.offset, x!.dtype === 'float32' ? f32bits(-Infinity) : 0x80000000],
      workgroups: grid(y!.size, 256),
    });
  };
}

/** x [N, C, H, W] -> y [N, C, Ho, Wo]: window maxima (f32 or i32); padding never wins, NaN propagates. */
export const maxPool2d = pool('max');
/** x [N, C, H, W] -> y [N, C, Ho, Wo]: window means (f32), divisor as the CPU kernel. */
export const avgPool2d = pool('avg');
