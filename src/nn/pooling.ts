// Pooling modules over NCHW input: MaxPool2d and AvgPool2d (PyTorch arguments; stride defaults to the kernel).
import type { Tensor } from '../tensor/tensor.js';
import { avgPool2d, maxPool2d, type AvgPool2dOptions, type MaxPool2dOptions } from '../ops/pool.js';
import { Module } from './module.js';

/** @example new MaxPool2d(2).forward(x) // [N, C, H, W] -> [N, C, H/2, W/2] */
export class MaxPool2d extends Module {
  readonly options: MaxPool2dOptions;
  constructor(kernelSize: number | [number, number], opts: Omit<MaxPool2dOptions, 'kernelSize'> = {}) {
    super();
    this.options = { ...opts, kernelSize };
  }
  override forward(x: Tensor): Tensor {
    return maxPool2d(x, this.options);
  }
}

/** @example new AvgPool2d(2).forward(x) // [N, C, H, W] -> [N, C, H/2, W/2] */
export class AvgPool2d extends Module {
  readonly options: AvgPool2dOptions;
  constructor(kernelSize: number | [number, number], opts: Omit<AvgPool2dOptions, 'kernelSize'> = {}) {
    super();
    this.options = { ...opts, kernelSize };
  }
  override forward(x: Tensor): Tensor {
    return avgPool2d(x, this.options);
  }
}
