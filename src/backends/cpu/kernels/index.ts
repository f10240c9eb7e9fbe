// The CPU kernel table: one reference kernel per op in OpAttrs (a missing entry is a compile error).
import type { CpuKernel, CpuKernelTable } from '../types.js';
import { binaryKernels, cast, compareKernels, copy, unaryKernels, where } from './elementwise.js';
import { argmax, argmin, logSoftmax, reduceKernels, softmax, variance } from './reduce.js';

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
  conv2d: pending('conv2d'),
  maxPool2d: pending('maxPool2d'),
  avgPool2d: pending('avgPool2d'),
  batchNorm: pending('batchNorm'),
  layerNorm: pending('layerNorm'),
  rmsNorm: pending('rmsNorm'),
  groupNorm: pending('groupNorm'),
  gather: pending('gather'),
  concat: pending('concat'),
  pad: pending('pad'),
  sdpa: pending('sdpa'),
};
