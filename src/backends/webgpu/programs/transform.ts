// WebGPU shape-moving programs: gather (with a deferred index check), concat (one dispatch per input) and pad
// (constant / reflect / edge, negative pads crop).
// Legend: around an axis a contiguous tensor is viewed as [outer, A, inner]; K = number of indices.
import type { OpAttrs } from '../../../ops/attrs.js';
import { shapeStr } from '../../../tensor/shape.js';
import { f32bits, grid, type GpuProgram } from '../types.js';
import { wgslType } from './elementwise.js';
import gatherWgsl from '../../../../kernels/gather.wgsl';
import concatWgsl from '../../../../kernels/concat.wgsl';
import padWgsl from '../../../../kernels/pad.wgsl';

const GATHER_SRC = { name: 'gather.wgsl', code: gatherWgsl };
const CONCAT_SRC = { name: 'concat.wgsl', code: concatWgsl };
const PAD_SRC = { name: 'pad.wgsl', code: padWgsl };
const MAX_RANK = 8;

function around(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
}

/** The CPU kernel's sentence for an index out of range (same words, so both backends report alike). */
function rangeError(name: string, raw: number, flat: number, indexShape: readonly number[], axis: number, A: number, negative: boolean): RangeError {
  const pos = new Array<number>(indexShape.length);
  for (let d = indexShape.length - 1; d >= 0; d--) {
    pos[d] = flat % indexShape[d]!;
    flat = Math.floor(flat / indexShape[d]!);
  }
  const valid = A === 0 ? 'none: the axis is empty' : negative ? `${-A}..${A - 1}` : `0..${A - 1}`;
  return new RangeError(`forwardpass: ${name}: index ${raw} at indices[${pos.join(', ')}] is out of range for axis ${axis} of size ${A} (valid: ${valid})`);
}

/**
 * x [outer, A, inner], indices [K] (i32) -> y [outer, K, inner]. A GPU kernel cannot throw, so an out-of-range
 * index yields zeros in y and a one-workgroup check pass records the first one in a deferred-check buffer; the
 * backend reads that at the next read or sync and throws the CPU's error sentence instead of returning data.
 */
export const gather: GpuProgram<OpAttrs['gather']> = (gpu, [y], [x, idx], { axis, negativeIndices, name }) => {
  const [, A, inner] = around(x!.shape, axis);
  const K = idx!.size;
  if (K === 0) return;
  if (!gpu.deferCheck) throw new Error(`forwardpass: ${name}: this WebGPU context cannot check indices (no deferCheck)`);
  const indexShape = [...idx!.shape];
  const err = gpu.deferCheck(2, (w) => (w[0] === 0 ? null : rangeError(name, w[1]! | 0, w[0]! - 1, indexShape, axis, A, negativeIndices)));
  const words = [y!.size, K, A, inner, x!.offset, idx!.offset];
  gpu.dispatch({ kernel: GATHER_SRC, defines: { T: 'i32', NEG: negativeIndices, CHECK: true }, buffers: [err, idx!.buffer], uniforms: words, workgroups: [1] });
  if (y!.size === 0) return;
  gpu.dispatch({
    kernel: GATHER_SRC,
    defines: { T: wgslType(x!), NEG: negativeIndices, CHECK: false },
    buffers: [y!.buffer, x!.buffer, idx!.buffer],
    uniforms: words,
    workgroups: grid(y!.size, 256),
  });
};

/** inputs [outer, A_i, inner] -> y [outer, sum of A_i, inner]: one copy dispatch per non-empty input. */
export const concat: GpuProgram<OpAttrs['concat']> = (gpu, [y], ins, { axis }) => {
  const [, A, inner] = around(y!.shape, axis);
  let a0 = 0;
  for (const t of ins) {
    const len = t.shape[axis]!;
    if (t.size > 0) {
      gpu.dispatch({
        kernel: CONCAT_SRC,
        defines: { T: wgslType(y!) },
        buffers: [y!.buffer, t.buffer],
        uniforms: [t.size, len * inner, A * inner, a0 * inner, t.offset],
        workgroups: grid(t.size, 256),
      });
    }
    a0 += len;
  }
};

const pad8 = (v: readonly number[]) => [...v, ...new Array<number>(MAX_RANK - v.length).fill(0)];

/** x [d0, d1, ...] -> y [d0 + before0 + after0, ...] (pads per dim: [before0, after0, before1, ...]). */
export const pad: GpuProgram<OpAttrs['pad']> = (gpu, [y], [x], { pads, mode, value }) => {
  const rank = x!.shape.length;
  if (rank > MAX_RANK) throw new RangeError(`forwardpass: pad: tensors of rank ${rank} ${shapeStr(x!.shape)} exceed the WebGPU limit of ${MAX_RANK} dims`);
  if (y!.size === 0) return;
  // the fill value as the CPU stores it: Int32Array assignment (ToInt32) or Float32Array rounding
  const fill = y!.dtype === 'int32' ? value | 0 : f32bits(value);
  gpu.dispatch({
    kernel: PAD_SRC,
    defines: { T: wgslType(y!), MODE: mode },
    buffers: [y!.buffer, x!.buffer],
    uniforms: [y!.size, rank, x!.offset, fill, ...pad8(y!.shape), ...pad8(x!.shape), ...pad8(pads.filter((_, i) => i % 2 === 0)), ...pad8(x!.strides)],
    workgroups: grid(y!.size, 256),
  });
};
