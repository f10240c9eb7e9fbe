// The shared WGSL snippets kernels may `#include` (kernels/common/*.wgsl), by file name.
import math from '../../../kernels/common/math.wgsl';
import strided from '../../../kernels/common/strided.wgsl';
import elementwiseParams from '../../../kernels/common/elementwise-params.wgsl';

export const COMMON: Readonly<Record<string, string>> = {
  'math.wgsl': math,
  'strided.wgsl': strided,
  'elementwise-params.wgsl': elementwiseParams,
};
