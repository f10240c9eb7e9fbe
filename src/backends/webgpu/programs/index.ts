// The WebGPU program table: one program per kernel op (see src/ops/attrs.ts).
import type { GpuProgramTable } from '../types.js';
import { binaryPrograms, cast, comparePrograms, copy, unaryPrograms, where } from './elementwise.js';
import { argmax, argmin, logSoftmax, reducePrograms, softmax, variance } from './reduce.js';
import { batchNorm, groupNorm, layerNorm, rmsNorm } from './norm.js';
import { conv2d } from './conv.js';
import { avgPool2d, maxPool2d } from './pool.js';
import { concat, gather, pad } from './transform.js';
import { sdpa } from './attention.js';
import { linear, matmul } from './matmul.js';
import { linearInt8, linearW8, quantizeRows } from './int8.js';
import { conv2dInt8 } from './int8-conv.js';

export const programs: Partial<GpuProgramTable> = {
  ...unaryPrograms,
  ...binaryPrograms,
  ...comparePrograms,
  copy,
  cast,
  where,
  ...reducePrograms,
  var: variance,
  argmax,
  argmin,
  softmax,
  logSoftmax,
  batchNorm,
  layerNorm,
  rmsNorm,
  groupNorm,
  conv2d,
  maxPool2d,
  avgPool2d,
  gather,
  concat,
  pad,
  sdpa,
  matmul,
  linear,
  quantizeRows,
  linearInt8,
  linearW8,
  conv2dInt8,
};
