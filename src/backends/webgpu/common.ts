// The shared WGSL snippets kernels may `#include` (kernels/common/*.wgsl), by file name.
import math from '../../../kernels/common/math.wgsl';
import strided from '../../../kernels/common/strided.wgsl';
import elementwiseParams from '../../../kernels/common/elementwise-params.wgsl';
import reduceOps from '../../../kernels/common/reduce-ops.wgsl';
import rows from '../../../kernels/common/rows.wgsl';
import rowMain from '../../../kernels/common/row-main.wgsl';
import unravel from '../../../kernels/common/unravel.wgsl';
import normAffine from '../../../kernels/common/norm-affine.wgsl';
import workgroupReduce from '../../../kernels/common/workgroup-reduce.wgsl';
import matmulParams from '../../../kernels/common/matmul-params.wgsl';
import matmulIo from '../../../kernels/common/matmul-io.wgsl';
import matmulKrow from '../../../kernels/common/matmul-krow.wgsl';
import int8 from '../../../kernels/common/int8.wgsl';

export const COMMON: Readonly<Record<string, string>> = {
  'math.wgsl': math,
  'strided.wgsl': strided,
  'elementwise-params.wgsl': elementwiseParams,
  'reduce-ops.wgsl': reduceOps,
  'rows.wgsl': rows,
  'row-main.wgsl': rowMain,
  'unravel.wgsl': unravel,
  'norm-affine.wgsl': normAffine,
  'workgroup-reduce.wgsl': workgroupReduce,
  'matmul-params.wgsl': matmulParams,
  'matmul-io.wgsl': matmulIo,
  'matmul-krow.wgsl': matmulKrow,
  'int8.wgsl': int8,
};
