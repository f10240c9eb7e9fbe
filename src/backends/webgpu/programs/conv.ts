// WebGPU conv2d: an implicit GEMM with workgroup-memory tiles and register blocks (conv2d.wgsl), and a direct
// kernel for one input channel per group (conv2d-depthwise.wgsl) that stages each tile's input patch.
// Legend: N = batch, C = input channels, H, W = input size, O = output channels, G = groups, Cg = C/G and
// Og = O/G channels per group, kH, kW = kernel size, Ho, Wo = output size, M = N*Ho*Wo, K = Cg*kH*kW.
import type { Conv2dAttrs } from '../../../ops/attrs.js';
import { grid, type GpuProgram } from '../types.js';
import conv2dWgsl from '../../../../kernels/conv2d.wgsl';
import depthwiseWgsl from '../../../../kernels/conv2d-depthwise.wgsl';

const GEMM_SRC = { name: 'conv2d.wgsl', code: conv2dWgsl };
const DEPTHWISE_SRC = { name: 'conv2d-depthwise.wgsl', code: depthwiseWgsl };

/**
 * GEMM tile shapes by output channels per group: TM x TN threads, each an RM x RN block (tile BM = TM*RM,
 * BN = TN*RN; TN is a multiple of RM). The int8 conv (int8-conv.ts) uses the same table.
 */
export const CONV_TILES = [
  { upTo: 16, TM: 64, TN: 4, RM: 2, RN: 4 },
  { upTo: 32, TM: 32, TN: 8, RM: 4, RN: 4 },
  { upTo: Infinity, TM: 16, TN: 16, RM: 4, RN: 4 },
] as const;

/**
 * Output tile side of the depthwise kernel, and the largest input patch it stages: 34 x 34 (4.6 KiB) covers 3x3
 * at stride 2 and kernels up to 19 wide at stride 1. Larger patches read x directly (L1 still helps there), and
 * so do software adapters: on SwiftShader the staged kernel measured about 25x slower than the direct one
 * (workgroup memory zero-initialization and barriers are emulated): 3.9 s vs 0.15 s for 64 channels, 3x3 at 56x56.
 */
const DW_TILE = 16;
const DW_MAX_PATCH = 34 * 34;

/** Which kernel conv2d runs for these shapes: 'depthwise' when each group has one input and fewer than 4 output channels (as the CPU's direct path). */
export function conv2dKernel(Cg: number, Og: number): 'depthwise' | 'gemm' {
  return Cg === 1 && Og < 4 ? 'depthwise' : 'gemm';
}

/** x [N, C, H, W], w [O, Cg, kH, kW], optional bias [O] -> y [N, O, Ho, Wo]. */
export const conv2d: GpuProgram<Conv2dAttrs> = (gpu, [y], [x, w, b], { stride, padding, dilation, groups }) => {
  const [N, C, H, W] = x!.shape as [number, number, number, number];
  const [O, Cg, kH, kW] = w!.shape as [number, number, number, number];
  const Ho = y!.shape[2]!, Wo = y!.shape[3]!;
  const [sH, sW] = stride, [pT, pL] = padding, [dH, dW] = dilation;
  const Og = O / groups;
  if (y!.size === 0) return;
  // without a bias x is bound in its place (never read): one pipeline serves both cases
  const buffers = [y!.buffer, x!.buffer, w!.buffer, (b ?? x!).buffer];
  if (conv2dKernel(Cg, Og) === 'depthwise') {
    const PH = (DW_TILE - 1) * sH + (kH - 1) * dH + 1;
    const PW = (DW_TILE - 1) * sW + (kW - 1) * dW + 1;
    const tilesW = Math.ceil(Wo / DW_TILE), tiles = Math.ceil(Ho / DW_TILE) * tilesW;
    const planes = N * O;
    const [py, pz] = grid(planes, 1);
    gpu.dispatch({
      kernel: DEPTHWISE_SRC,
      defines: { TILED: PH * PW <= DW_MAX_PATCH && !gpu.setup.adapter.isSoftware, MAX_PATCH: DW_MAX_PATCH },
      buffers,
      uniforms: [C, H, W, O, Og, Ho, Wo, tilesW, kH, kW, sH, sW, pT, pL, dH, dW, planes, PH, PW, x!.offset, w!.offset, b?.offset ?? 0, b ? 1 : 0],
      workgroups: [tiles, py, pz],
    });
    return;
  }
  const t = CONV_TILES.find((c) => Og <= c.upTo)!;
  const BM = t.TM * t.RM, BN = t.TN * t.RN;
  const M = N * Ho * Wo;
  const oTiles = Math.ceil(Og / BN);
  const [mx, mz] = grid(M, BM);
  gpu.dispatch({
    kernel: GEMM_SRC,
    defines: { TM: t.TM, TN: t.TN, RM: t.RM, RN: t.RN },
    buffers,
    uniforms: [C, H, W, O, Cg, Og, Cg * kH * kW, M, kH, kW, Ho * Wo, Wo, sH, sW, pT, pL, dH, dW, oTiles, x!.offset, w!.offset, b?.offset ?? 0, b ? 1 : 0],
    workgroups: [mx, groups * oTiles, mz],
  });
};
