// The CPU kernel table: one reference kernel per op in OpAttrs (a missing entry is a compile error).
import type { CpuKernelTable } from '../types.js';
import { binaryKernels, cast, compareKernels, copy, unaryKernels, where } from './elementwise.js';
import { argmax, argmin, logSoftmax, reduceKernels, softmax, variance } from './reduce.js';
import { conv2d } from './conv.js';
import { avgPool2d, maxPool2d } from './pool.js';
import { batchNorm, groupNorm, layerNorm, rmsNorm } from './norm.js';
import { concat, gather, pad } from './transform.js';
import { matmul } from './matmul.js';
import { linear } from './linear.js';
import { sdpa } from './sdpa.js';
import { conv2dInt8, linearInt8, linearW8, quantizeRows } from './int8.js';

export const kernels: CpuKernelTable = {
  ...unaryKernels,
  ...binaryKernels,
  ...compareKernels,
  ...reduceKernels,
  copy,
  cast,
  where,
  argmax,
  argmin,
  var: variance,
  softmax,
  logSoftmax,
  matmul,
  linear,
  conv2d,
  maxPool2d,
  avgPool2d,
  batchNorm,
  layerNorm,
  rmsNorm,
  groupNorm,
  gather,
  concat,
  pad,
  sdpa,
  quantizeRows,
  linearInt8,
  linearW8,
  conv2dInt8,
};
