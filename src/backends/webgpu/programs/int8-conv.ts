// WebGPU conv2dInt8: an implicit GEMM over int8 weights (conv2d-int8.wgsl), with int32 sums of packed int8
// products when x is int8 (one scale per image) or float sums when x is float (weight-only).
// Legend: N = batch, C = input channels, H, W = input size, O = output channels, G = groups, Cg = C/G and
// Og = O/G channels per group, kH, kW = kernel size, Ho, Wo = output size, M = N·Ho·Wo, K = Cg·kH·kW, Kp = padded K.
import type { OpAttrs } from '../../../ops/attrs.js';
import { shapeStr } from '../../../tensor/shape.js';
import { grid, type GpuProgram } from '../types.js';
import { usesDot4, wordAligned } from './int8.js';
import { CONV_TILES } from './conv.js';
import convWgsl from '../../../../kernels/conv2d-int8.wgsl';

const CONV = { name: 'conv2d-int8.wgsl', code: convWgsl };

function fail(msg: string): never {
  throw new RangeError(`forwardpass: webgpu: conv2dInt8: ${msg}`);
}

/** conv2dInt8: x [N, C, H, W] int8 (xs [N, 1]) or float, wq [O, Kp] int8, ws [O, 1], bias? [O] -> y [N, O, Ho, Wo]. */
export const conv2dInt8: GpuProgram<OpAttrs['conv2dInt8']> = (gpu, [y], [x, xs, wq, ws, bias], attrs) => {
  const { stride, padding, dilation, groups, kernel, k } = attrs;
  const [N, C, H, W] = x!.shape as [number, number, number, number];
  const [O, Kp] = wq!.shape as [number, number];
  const [kH, kW] = kernel;
  const Ho = y!.shape[2]!, Wo = y!.shape[3]!;
  const Cg = C / groups, Og = O / groups;
  if (k !== Cg * kH * kW) fail(`k = ${k} should be C/groups·kH·kW = ${Cg}·${kH}·${kW}`);
  if (Kp % 4 !== 0 || Kp < k) fail(`wq rows must be padded to a multiple of 4 of at least k = ${k}, got ${shapeStr(wq!.shape)}`);
  if (ws!.size !== O) fail(`expected one weight scale per output channel (${O}), got ${shapeStr(ws!.shape)}`);
  const xq = x!.dtype === 'int8';
  if (!xq && x!.dtype !== 'float32') fail(`x must be int8 or float, got ${x!.dtype}`);
  if (xq && xs!.size !== N) fail(`expected one scale per image (${N}) for an int8 x, got ${shapeStr(xs!.shape)}`);
  if (y!.size === 0) return;
  const w = wordAligned(gpu, 'conv2dInt8', 'wq', wq!);
  const t = CONV_TILES.find((c) => Og <= c.upTo)!;
  const BM = t.TM * t.RM, BN = t.TN * t.RN;
  const M = N * Ho * Wo;
  const oTiles = Math.ceil(Og / BN);
  const [mx, mz] = grid(M, BM);
  if (groups * oTiles > 65535) fail(`${groups * oTiles} channel tiles exceed the workgroup limit of 65535`);
  const buffers: GPUBuffer[] = [y!.buffer, w.buffer, ws!.buffer, x!.buffer];
  if (xq) buffers.push(xs!.buffer);
  if (bias) buffers.push(bias.buffer);
  const [sH, sW] = stride, [pT, pL] = padding, [dH, dW] = dilation;
  gpu.dispatch({
    kernel: CONV,
    defines: { DOT4: usesDot4(gpu), XQ: xq, HAS_BIAS: !!bias, TM: t.TM, TN: t.TN, RM: t.RM, RN: t.RN },
    buffers,
    uniforms: [C, H, W, O, Cg, Og, k, M, kH, kW, Ho * Wo, Wo, sH, sW, pT, pL, dH, dW, oTiles, Kp / 4, x!.offset, w.offset / 4, ws!.offset, xq ? xs!.offset : 0, bias?.offset ?? 0],
    workgroups: [mx, groups * oTiles, mz],
  });
};

