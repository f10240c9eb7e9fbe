// The CPU kernel table: one reference kernel per op in OpAttrs (a missing entry is a compile error).
import type { CpuKernel, CpuKernelTable } from '../types.js';
import { binaryKernels, cast, compareKernels, copy, unaryKernels, where } from './elementwise.js';
import { argmax, argmin, logSoftmax, reduceKernels, softmax, variance } from './reduce.js';
import { conv2d } from './conv.js';
import { avgPool2d, maxPool2d } from './pool.js';
import { batchNorm, groupNorm, layerNorm, rmsNorm } from './norm.js';
import { concat, gather, pad } from './transform.js';

/** Placeholder while a kernel is being written in this session; grep for it before committing a release. */
function pending(op: string): CpuKernel<any> {
  return () => { throw new Error(`forwardpass: the CPU kernel for '${op}' is not implemented yet`); };
}

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
  matmul: pending('matmul'),
  linear: pending('linear'),
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
  sdpa: pending('sdpa'),
};
