// CPU reductions (sum mean max min prod var argmax argmin) and softmax / logSoftmax over one axis.
// Legend: x is contiguous; "kept" dims index the output, "reduced" dims are folded; R = reduced element count.
import type { ReduceAttrs, ReduceOp } from '../../../ops/attrs.js';
import { contiguousStrides } from '../../../tensor/shape.js';
import type { CpuKernel, CpuTensor } from '../types.js';

/** Offsets (in x) of every reduced element relative to an output element's base, and each output's base. */
function plan(x: CpuTensor, axes: readonly number[]): { bases: Int32Array; offs: Int32Array } {
  const strides = contiguousStrides(x.shape);
  const red = new Set(axes);
  const keptDims = x.shape.map((_, i) => i).filter((i) => !red.has(i));
  const offsets = (dims: number[]): Int32Array => {
    let acc = [0];
    for (const d of dims) {
      const next: number[] = [];
      for (const a of acc) for (let k = 0; k < x.shape[d]!; k++) next.push(a + k * strides[d]!);
      acc = next;
    }
    return Int32Array.from(acc);
  };
  return { bases: offsets(keptDims), offs: offsets([...red].sort((a, b) => a - b)) };
}

function reduceKernel(init: number, step: (acc: number, v: number) => number, finish?: (acc: number, n: number) => number): CpuKernel<ReduceAttrs> {
  return ([out], [x], { axes }) => {
    const { bases, offs } = plan(x!, axes);
    const o = out!.data;
    const xd = x!.data;
    const xo = x!.offset;
    const R = offs.length;
    for (let i = 0; i < bases.length; i++) {
      const b = xo + bases[i]!;
      let acc = init;
      for (let r = 0; r < R; r++) acc = step(acc, xd[b + offs[r]!]!);
      o[i] = finish ? finish(acc, R) : acc;
    }
  };
}

const nanMax = (a: number, v: number) => (v > a || v !== v ? v : a);
const nanMin = (a: number, v: number) => (v < a || v !== v ? v : a);

export const reduceKernels: Record<ReduceOp, CpuKernel<ReduceAttrs>> = {
  sum: reduceKernel(0, (a, v) => a + v),
  mean: reduceKernel(0, (a, v) => a + v, (a, n) => a / n),
  max: reduceKernel(-Infinity, (a, v) => (a !== a ? a : nanMax(a, v))),
  min: reduceKernel(Infinity, (a, v) => (a !== a ? a : nanMin(a, v))),
  prod: reduceKernel(1, (a, v) => a * v),
};

/** var: mean first, then the sum of squared deviations / (R - correction). */
export const variance: CpuKernel<ReduceAttrs & { correction: number }> = ([out], [x], { axes, correction }) => {
  const { bases, offs } = plan(x!, axes);
  const o = out!.data, xd = x!.data, xo = x!.offset, R = offs.length;
  for (let i = 0; i < bases.length; i++) {
    const b = xo + bases[i]!;
    let s = 0;
    for (let r = 0; r < R; r++) s += xd[b + offs[r]!]!;
    const m = s / R;
    let ss = 0;
    for (let r = 0; r < R; r++) { const d = xd[b + offs[r]!]! - m; ss += d * d; }
    o[i] = ss / Math.max(R - correction, 0);
  }
};

function argKernel(better: (v: number, best: number) => boolean): CpuKernel<{ axis: number; keepdim: boolean }> {
  return ([out], [x], { axis }) => {
    const { bases, offs } = plan(x!, [axis]);
    const o = out!.data, xd = x!.data, xo = x!.offset;
    for (let i = 0; i < bases.length; i++) {
      const b = xo + bases[i]!;
      let best = xd[b]!;
      let bi = 0;
      if (best === best) {
        for (let r = 1; r < offs.length; r++) {
          const v = xd[b + offs[r]!]!;
          if (v !== v) { bi = r; break; } // NaN wins, as in PyTorch
          if (better(v, best)) { best = v; bi = r; }
        }
      }
      o[i] = bi;
    }
  };
}

/** First index of the maximum (ties -> lowest index). */
export const argmax = argKernel((v, best) => v > best);
export const argmin = argKernel((v, best) => v < best);

/** Split a contiguous shape around `axis` into outer x len x inner. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
}

function softmaxKernel(logMode: boolean): CpuKernel<{ axis: number }> {
  return ([out], [x], { axis }) => {
    const [outer, L, inner] = around(x!.shape, axis);
    const o = out!.data, xd = x!.data, xo = x!.offset;
    for (let a = 0; a < outer; a++) {
      for (let c = 0; c < inner; c++) {
        const base = a * L * inner + c;
        let m = -Infinity;
        for (let k = 0; k < L; k++) { const v = xd[xo + base + k * inner]!; if (v > m || v !== v) m = v; }
        let s = 0;
        for (let k = 0; k < L; k++) s += Math.exp(xd[xo + base + k * inner]! - m);
        if (logMode) {
          const ls = Math.log(s) + m;
          for (let k = 0; k < L; k++) o[base + k * inner] = xd[xo + base + k * inner]! - ls;
        } else {
          const inv = 1 / s;
          for (let k = 0; k < L; k++) o[base + k * inner] = Math.exp(xd[xo + base + k * inner]! - m) * inv;
        }
      }
    }
  };
}

export const softmax = softmaxKernel(false);
export const logSoftmax = softmaxKernel(true);
