// The WebGPU program table: one program per kernel op (see src/ops/attrs.ts).
import type { GpuProgramTable } from '../types.js';
import { binaryPrograms, cast, comparePrograms, copy, unaryPrograms, where } from './elementwise.js';

export const programs: Partial<GpuProgramTable> = {
  ...unaryPrograms,
  ...binaryPrograms,
  ...comparePrograms,
  copy,
  cast,
  where,
};
