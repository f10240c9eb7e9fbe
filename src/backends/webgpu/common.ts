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
import epilogue from '../../../kernels/common/epilogue.wgsl';
import matmulParams from '../../../kernels/common/matmul-params.wgsl';
import matmulIo from '../../../kernels/common/matmul-io.wgsl';
import matmulKrow from '../../../kernels/common/matmul-krow.wgsl';
import int8 from '../../../kernels/common/int8.wgsl';
import int8Bindings from '../../../kernels/common/int8-bindings.wgsl';
import int8Linear from '../../../kernels/common/int8-linear.wgsl';
import int8Gemm from '../../../kernels/common/int8-gemm.wgsl';

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
  'epilogue.wgsl': epilogue,
  'matmul-params.wgsl': matmulParams,
  'matmul-io.wgsl': matmulIo,
  'matmul-krow.wgsl': matmulKrow,
  'int8.wgsl': int8,
  'int8-bindings.wgsl': int8Bindings,
  'int8-linear.wgsl': int8Linear,
  'int8-gemm.wgsl': int8Gemm,
};
