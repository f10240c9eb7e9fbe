// CPU shape-moving kernels: gather (with index checks), concat and pad (constant / reflect / edge, negative = crop).
// Legend: around an axis a contiguous tensor is viewed as [outer, A, inner]: outer = product of the dims before
// the axis, A = the axis length, inner = product of the dims after it. K = number of indices.
import { numel, unravelIndex } from '../../../tensor/shape.js';
import type { CpuKernel, NumArray } from '../types.js';

function around(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
}

/** Copy `n` elements from `src` at `from` to `dst` at `to` (both arrays have the same element type). */
function copyRun(dst: NumArray, to: number, src: NumArray, from: number, n: number): void {
  (dst as Float32Array).set((src as Float32Array).subarray(from, from + n), to);
}

/** x [outer, A, inner], indices [K] (int32; negative counts from the end) -> out [outer, K, inner]. */
export const gather: CpuKernel<{ axis: number; negativeIndices: boolean; name: string }> = ([out], [x, indices], { axis, negativeIndices, name }) => {
  const [outer, A, inner] = around(x!.shape, axis);
  const id = indices!.data, io = indices!.offset;
  const K = numel(indices!.shape);
  const rows = new Int32Array(K);
  for (let k = 0; k < K; k++) {
    const raw = id[io + k]!;
    const i = raw < 0 && negativeIndices ? raw + A : raw;
    if (i < 0 || i >= A) {
      const pos = unravelIndex(k, indices!.shape);
      const valid = A === 0 ? 'none: the axis is empty' : negativeIndices ? `${-A}..${A - 1}` : `0..${A - 1}`;
      throw new RangeError(`forwardpass: ${name}: index ${raw} at indices[${pos.join(', ')}] is out of range for axis ${axis} of size ${A} (valid: ${valid})`);
    }
    rows[k] = i;
  }
  const xd = x!.data, od = out!.data, xo = x!.offset;
  if (inner < 8) {
    // short rows (one element when gathering along the last axis): a plain loop; a subarray per row costs far more
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < K; k++) {
        const to = (o * K + k) * inner, from = xo + (o * A + rows[k]!) * inner;
        for (let j = 0; j < inner; j++) od[to + j] = xd[from + j]!;
      }
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < K; k++) copyRun(od, (o * K + k) * inner, xd, xo + (o * A + rows[k]!) * inner, inner);
  }
};

/** inputs [outer, A_i, inner] -> out [outer, sum of A_i, inner], the inputs side by side along the axis. */
export const concat: CpuKernel<{ axis: number }> = ([out], ins, { axis }) => {
  const [outer, A, inner] = around(out!.shape, axis);
  const od = out!.data;
  let a0 = 0;
  for (const t of ins) {
    const block = t.shape[axis]! * inner;
    for (let o = 0; o < outer; o++) copyRun(od, (o * A + a0) * inner, t.data, t.offset + o * block, block);
    a0 += t.shape[axis]!;
  }
};

/**
 * x [d0, d1, ...] -> out [d0 + before0 + after0, ...]. Output coordinate j of dim d reads input j - before_d;
 * outside the input: 'constant' writes `value`, 'reflect' mirrors (without repeating the edge), 'edge' clamps.
 */
export const pad: CpuKernel<{ pads: number[]; mode: 'constant' | 'reflect' | 'edge'; value: number }> = (outs, ins, attrs) => {
  const out = outs[0]!, x = ins[0]!, pads = attrs.pads, mode = attrs.mode, value = attrs.value;
  const rank = x.shape.length;
  const xd = x.data, od = out.data;
  if (rank === 0) { od[0] = xd[x.offset]!; return; }
  const total = od.length;
  if (total === 0) return;
  // For each dim, the input offset that each output coordinate reads, or -1 for a constant fill.
  const maps = new Array<Int32Array>(rank);
  for (let d = 0; d < rank; d++) {
    const n = x.shape[d]!, len = out.shape[d]!, m = (maps[d] = new Int32Array(len));
    for (let j = 0; j < len; j++) {
      let i = j - pads[2 * d]!;
      if (i < 0 || i >= n) {
        if (mode === 'constant') { m[j] = -1; continue; }
        if (mode === 'edge') i = i < 0 ? 0 : n - 1;
        else i = i < 0 ? -i : 2 * (n - 1) - i;
      }
      m[j] = i * x.strides[d]!;
    }
  }
  // One output row (the last dim) at a time, its leading coordinates kept in an odometer: a plain loop, where a
  // recursive closure per dim cost several µs on a 512-element pad (cnn-digits) and allocated on every call.
  const last = maps[rank - 1]!, inner = out.shape[rank - 1]!;
  const at = new Int32Array(rank);
  for (let q = 0; q < total; q += inner) {
    let base = x.offset, fill = false;
    for (let d = 0; d < rank - 1; d++) {
      const m = maps[d]![at[d]!]!;
      if (m < 0) { fill = true; break; }
      base += m;
    }
    if (fill) od.fill(value, q, q + inner);
    else for (let j = 0; j < inner; j++) { const m = last[j]!; od[q + j] = m < 0 ? value : xd[base + m]!; }
    for (let d = rank - 2; d >= 0; d--) {
      if (++at[d]! < out.shape[d]!) break;
      at[d] = 0;
    }
  }
};
