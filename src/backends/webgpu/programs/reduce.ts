// WebGPU reductions (sum mean max min prod var), argmax / argmin and softmax / logSoftmax. Every one is a
// "row" kernel: the input is split into rows (kept dims) of R reduced elements, one workgroup per row or per
// group of short rows, lanes striding over the row, then a subgroup or workgroup-memory combine (rows.wgsl).
import type { ReduceAttrs, ReduceOp } from '../../../ops/attrs.js';
import { contiguousStrides, shapeStr } from '../../../tensor/shape.js';
import { f32bits, grid, type GpuContext, type GpuProgram, type GpuTensor } from '../types.js';
import reduceWgsl from '../../../../kernels/reduce.wgsl';
import argreduceWgsl from '../../../../kernels/argreduce.wgsl';
import softmaxWgsl from '../../../../kernels/softmax.wgsl';

const REDUCE_SRC = { name: 'reduce.wgsl', code: reduceWgsl };
const ARGREDUCE_SRC = { name: 'argreduce.wgsl', code: argreduceWgsl };
const SOFTMAX_SRC = { name: 'softmax.wgsl', code: softmaxWgsl };
const MAX_DIMS = 8;

/**
 * A contiguous tensor seen as `rows` x `R`: the kept dims (output order) and the reduced dims, each merged
 * where adjacent and without size-1 dims, as [size, stride] pairs.
 */
export interface RowPlan {
  rows: number;
  R: number;
  kept: [number, number][];
  red: [number, number][];
}

/** Split contiguous `shape` into kept dims and the reduced `axes`. @example planRows('sum', [2, 3, 4], [2]) // rows 6, R 4 */
export function planRows(op: string, shape: readonly number[], axes: readonly number[]): RowPlan {
  const strides = contiguousStrides(shape);
  const kept: [number, number][] = [];
  const red: [number, number][] = [];
  let last: boolean | null = null;
  shape.forEach((n, d) => {
    if (n === 1) return;
    const isRed = axes.includes(d);
    const list = isRed ? red : kept;
    // adjacent dims of one kind merge: the outer one's stride is the inner one's stride times its size
    if (last === isRed) list[list.length - 1] = [list[list.length - 1]![0] * n, strides[d]!];
    else list.push([n, strides[d]!]);
    last = isRed;
  });
  if (kept.length > MAX_DIMS || red.length > MAX_DIMS) {
    throw new RangeError(`forwardpass: webgpu: ${op}: reducing axes [${axes.join(', ')}] of a tensor ${shapeStr(shape)} leaves more than ${MAX_DIMS} separate kept or reduced dim groups`);
  }
  const prod = (l: [number, number][]) => l.reduce((a, [n]) => a * n, 1);
  return { rows: prod(kept), R: prod(red), kept, red: red.length ? red : [[1, 0]] };
}

/** Threads of a 256-thread workgroup: 2^tprLog2 lanes per row, 2^rowsLog2 rows; `spread` puts adjacent rows on adjacent threads. */
export interface RowThreads {
  tprLog2: number;
  rowsLog2: number;
  spread: boolean;
}

/** log2 of the workgroup size: always 256 threads, the WebGPU minimum of maxComputeInvocationsPerWorkgroup. */
const WG_LOG2 = 8;

/**
 * Lanes for `rows` rows of R elements. Along the row (R contiguous): as many lanes as R needs, the rest of
 * the workgroup takes more rows. Across rows (`spread`, rows adjacent in memory, `inner` of them in a run):
 * up to 64 adjacent rows read adjacent values at each step and the other threads split R.
 * @example rowThreads(6, 17, false) // { tprLog2: 5, rowsLog2: 3, spread: false }: 32 lanes per row, 8 rows
 */
export function rowThreads(rows: number, R: number, spread: boolean, inner = rows): RowThreads {
  const lg = (n: number) => Math.ceil(Math.log2(Math.max(1, n)));
  if (!spread) {
    const tprLog2 = Math.min(WG_LOG2, lg(R));
    return { tprLog2, rowsLog2: WG_LOG2 - tprLog2, spread: false };
  }
  const rowsLog2 = Math.max(Math.min(6, lg(Math.min(inner, rows))), WG_LOG2 - lg(R));
  return { tprLog2: WG_LOG2 - Math.min(WG_LOG2, rowsLog2), rowsLog2: Math.min(WG_LOG2, rowsLog2), spread: true };
}

function pad8(list: [number, number][], k: 0 | 1): number[] {
  return [...list.map((e) => e[k]), ...new Array(MAX_DIMS - list.length).fill(0)];
}

/**
 * Record one row kernel (rows.wgsl) over plan `p`; `aux` goes to P.aux. Lanes are spread when the innermost
 * dim is kept (a reduction over an outer dim); the kernels' subgroup path serves only unspread rows (a
 * subgroup must hold one row) and falls back to their workgroup-memory tree for spread ones.
 */
function dispatchRows(gpu: GpuContext, src: { name: string; code: string }, p: RowPlan, y: GpuTensor, x: GpuTensor, defines: Record<string, string | boolean>, aux = 0): void {
  if (p.rows === 0) return;
  const innerKept = p.kept.length > 0 && p.kept[p.kept.length - 1]![1] === 1;
  const t = rowThreads(p.rows, p.R, innerKept, innerKept ? p.kept[p.kept.length - 1]![0] : p.rows);
  gpu.dispatch({
    kernel: src,
    defines: { ...defines, SUBGROUPS: gpu.setup.features.subgroups },
    buffers: [y.buffer, x.buffer],
    uniforms: [p.rows, p.R, p.kept.length, p.red.length, x.offset, f32bits(aux), t.tprLog2, t.rowsLog2, t.spread ? 1 : 0, 0, 0, 0, ...pad8(p.kept, 0), ...pad8(p.kept, 1), ...pad8(p.red, 0), ...pad8(p.red, 1)],
    workgroups: grid(Math.ceil(p.rows / 2 ** t.rowsLog2), 1),
  });
}

const wgslType = (t: GpuTensor) => (t.dtype === 'float32' ? 'f32' : 'i32');

const COMBINE: Record<ReduceOp, { op: string; finish: string }> = {
  sum: { op: 'add', finish: 'none' },
  mean: { op: 'add', finish: 'mean' },
  prod: { op: 'mul', finish: 'none' },
  max: { op: 'max', finish: 'none' },
  min: { op: 'min', finish: 'none' },
};

function reduceProgram(op: ReduceOp): GpuProgram<ReduceAttrs> {
  const { op: combine, finish } = COMBINE[op];
  return (gpu, [y], [x], { axes }) => {
    dispatchRows(gpu, REDUCE_SRC, planRows(op, x!.shape, axes), y!, x!, { CT: wgslType(x!), OP: combine, FINISH: finish });
  };
}

export const reducePrograms = Object.fromEntries((Object.keys(COMBINE) as ReduceOp[]).map((op) => [op, reduceProgram(op)])) as Record<ReduceOp, GpuProgram<ReduceAttrs>>;

/** var: two passes in one kernel (mean, then squared deviations), divided by max(R - correction, 0). */
export const variance: GpuProgram<ReduceAttrs & { correction: number }> = (gpu, [y], [x], { axes, correction }) => {
  dispatchRows(gpu, REDUCE_SRC, planRows('var', x!.shape, axes), y!, x!, { CT: 'f32', OP: 'add', FINISH: 'var' }, correction);
};

function argProgram(dir: 'max' | 'min'): GpuProgram<{ axis: number; keepdim: boolean }> {
  return (gpu, [y], [x], { axis }) => {
    dispatchRows(gpu, ARGREDUCE_SRC, planRows(`arg${dir}`, x!.shape, [axis]), y!, x!, { CT: wgslType(x!), DIR: dir });
  };
}

/** First index of the maximum (ties -> lowest index; NaN wins). */
export const argmax = argProgram('max');
export const argmin = argProgram('min');

function softmaxProgram(log: boolean): GpuProgram<{ axis: number }> {
  return (gpu, [y], [x], { axis }) => {
    dispatchRows(gpu, SOFTMAX_SRC, planRows(log ? 'logSoftmax' : 'softmax', x!.shape, [axis]), y!, x!, {}, log ? 1 : 0);
  };
}

/** softmax / logSoftmax along one axis, one fused kernel (last axis: a row per workgroup; others strided). */
export const softmax = softmaxProgram(false);
export const logSoftmax = softmaxProgram(true);
