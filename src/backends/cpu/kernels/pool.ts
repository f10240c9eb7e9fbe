// CPU 2-D max and average pooling, plain loops over each window.
// Legend: P = N*C planes, H, W = input size, Ho, Wo = output size, kH, kW = window, sH, sW = stride,
// pT, pL, pB, pR = padding (top, left, bottom, right), dH, dW = dilation.
import type { Pool2dAttrs } from '../../../ops/attrs.js';
import type { CpuKernel } from '../types.js';

/** x [N, C, H, W] -> out [N, C, Ho, Wo]: the largest value in each window; padding never wins, NaN propagates. */
export const maxPool2d: CpuKernel<Pool2dAttrs> = ([out], [x], { kernel, stride, padding, dilation }) => {
  const [N, C, H, W] = x!.shape as [number, number, number, number];
  const Ho = out!.shape[2]!, Wo = out!.shape[3]!;
  const [kH, kW] = kernel, [sH, sW] = stride, [pT, pL] = padding, [dH, dW] = dilation;
  const xd = x!.data, od = out!.data;
  let q = 0;
  for (let p = 0; p < N * C; p++) {
    const plane = x!.offset + p * H * W;
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        let m = -Infinity;
        for (let kh = 0; kh < kH; kh++) {
          const ih = oh * sH - pT + kh * dH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < kW; kw++) {
            const iw = ow * sW - pL + kw * dW;
            if (iw < 0 || iw >= W) continue;
            const v = xd[plane + ih * W + iw]!;
            if (v > m || v !== v) m = v;
          }
        }
        od[q++] = m;
      }
    }
  }
};

/**
 * x [N, C, H, W] -> out [N, C, Ho, Wo]: the window mean. The divisor counts window positions inside the input,
 * plus (countIncludePad) those inside the padding; positions past the padding (ceilMode overhang) never count.
 */
export const avgPool2d: CpuKernel<Pool2dAttrs> = ([out], [x], { kernel, stride, padding, dilation, countIncludePad }) => {
  const [N, C, H, W] = x!.shape as [number, number, number, number];
  const Ho = out!.shape[2]!, Wo = out!.shape[3]!;
  const [kH, kW] = kernel, [sH, sW] = stride, [pT, pL, pB, pR] = padding, [dH, dW] = dilation;
  const xd = x!.data, od = out!.data;
  let q = 0;
  for (let p = 0; p < N * C; p++) {
    const plane = x!.offset + p * H * W;
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        let s = 0;
        let inside = 0;
        let padded = 0;
        for (let kh = 0; kh < kH; kh++) {
          const ih = oh * sH - pT + kh * dH;
          const rowIn = ih >= 0 && ih < H;
          const rowPadded = ih >= -pT && ih < H + pB;
          for (let kw = 0; kw < kW; kw++) {
            const iw = ow * sW - pL + kw * dW;
            if (rowPadded && iw >= -pL && iw < W + pR) padded++;
            if (rowIn && iw >= 0 && iw < W) {
              s += xd[plane + ih * W + iw]!;
              inside++;
            }
          }
        }
        od[q++] = s / (countIncludePad ? padded : inside);
      }
    }
  }
};
