// Input limits an ONNX graph implies without declaring them: a symbolic dim (say 'seq') used as the end of a Slice
// of a constant table (learned positions: wpe.weight[0:seq]) can be at most the table's length. ONNX Slice clamps
// silently, so without this check a too-long sequence fails later as an unrelated broadcast error.
import { shapeStr } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { OnnxNode } from './model.js';
import type { OnnxIO } from './session.js';
import type { ValueType } from './ops/index.js';

/** The largest value a symbolic dim may take, and why (for the error). */
export interface DimLimit {
  max: number;
  why: string;
}

const ints = (v: ValueType | undefined): number[] | undefined => (v?.values && v.values.every((d) => typeof d === 'number') ? (v.values as number[]) : undefined);

/**
 * Limits on symbolic dims found in `steps`: Slice nodes (opset 10+) whose data is a constant, whose starts (and
 * axes) are known numbers, steps 1, and whose ends hold a symbolic dim of a graph input.
 */
export function dimLimits(steps: readonly { node: OnnxNode; label: string }[], types: ReadonlyMap<string, ValueType>, consts: ReadonlyMap<string, Tensor>, opset: number): Map<string, DimLimit> {
  const limits = new Map<string, DimLimit>();
  if (opset < 10) return limits;
  for (const { node, label } of steps) {
    if (node.opType !== 'Slice' || node.domain !== '') continue;
    const data = consts.get(node.inputs[0] ?? '');
    const ends = types.get(node.inputs[2] ?? '')?.values;
    const starts = ints(types.get(node.inputs[1] ?? ''));
    if (!data || !ends || !starts || starts.length !== ends.length) continue;
    const axes = node.inputs[3] ? ints(types.get(node.inputs[3])) : ends.map((_, i) => i);
    const steps = node.inputs[4] ? ints(types.get(node.inputs[4])) : ends.map(() => 1);
    if (!axes || !steps) continue;
    ends.forEach((sym, k) => {
      if (typeof sym !== 'string' || steps[k] !== 1 || starts[k]! < 0) return;
      const axis = axes[k]! < 0 ? axes[k]! + data.rank : axes[k]!;
      const len = data.shape[axis];
      if (len === undefined) return;
      const max = len - starts[k]!;
      const prev = limits.get(sym);
      if (prev && prev.max <= max) return;
      limits.set(sym, { max, why: `node '${label}' slices that many ${axis === 0 ? 'rows' : `entries of axis ${axis}`} of '${node.inputs[0]}' ${shapeStr(data.shape)}${starts[k] ? ` from ${starts[k]}` : ''}` });
    });
  }
  return limits;
}

/** Throws one sentence naming the input, the dim, its value and the limit when a fed input breaks a limit. */
export function checkDimLimits(inputs: readonly OnnxIO[], env: ReadonlyMap<string, Tensor>, limits: ReadonlyMap<string, DimLimit>): void {
  if (limits.size === 0) return;
  for (const io of inputs) {
    const t = env.get(io.name);
    if (!t || !io.shapeKnown) continue;
    io.shape.forEach((d, i) => {
      const lim = typeof d === 'string' ? limits.get(d) : undefined;
      const got = t.shape[i]!;
      if (lim && got > lim.max) throw new RangeError(`forwardpass: onnx: run: input '${io.name}' dim ${i} ('${d}') is ${got}, but the model takes at most ${lim.max} (${lim.why})`);
    });
  }
}
