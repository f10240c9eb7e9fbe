// Precision 'f16' of an ONNX session: which float32 constants are stored as float16 (data constants that float16
// can hold) and which stay exact (host inputs such as shapes and axes, exact inputs such as comparison thresholds).
import { f16ToF32, f32ToF16 } from '../../tensor/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';
import { keep } from '../../tensor/scope.js';
import { cast } from '../../ops/elementwise.js';
import type { OnnxNode } from './model.js';
import type { OnnxOpImpl } from './ops/index.js';

/**
 * Whether float16 can store a float32 constant: no finite value overflows to infinity (masks of -3.4e38, large
 * offsets) and an integer-valued constant (positions, sizes, counts kept in float) keeps every value exactly.
 *
 * @example f16Safe(fp.tensor([1e5])) // false
 */
export function f16Safe(t: Tensor): boolean {
  const v = t.dataSync() as Float32Array;
  let integral = true, inexact = false;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!);
    if (a > 65504 && a !== Infinity) return false;
    if (!Number.isInteger(a)) integral = false;
    else if (a > 2048 && f16ToF32(f32ToF16(a)) !== a) inexact = true;
  }
  return !(integral && inexact);
}

/**
 * Replace, in `consts`, the float32 constants that `steps` read as data by float16 copies (kept outside scopes;
 * the float32 originals are disposed), except those any step reads as a host or exact input (a constant may feed
 * several steps), single values, and those float16 cannot hold (see f16Safe).
 *
 * @example storeF16(session.plan, session.consts)
 */
export function storeF16(steps: readonly { node: OnnxNode; impl: OnnxOpImpl }[], consts: Map<string, Tensor>): void {
  const exact = new Set<string>();
  for (const st of steps) {
    for (const i of [...(st.impl.hostInputs ?? []), ...(st.impl.exactInputs ?? [])]) if (st.node.inputs[i]) exact.add(st.node.inputs[i]!);
  }
  for (const st of steps) {
    for (const x of st.node.inputs) {
      const t = consts.get(x);
      if (!t || exact.has(x) || t.dtype !== 'float32' || t.size <= 1 || !f16Safe(t)) continue;
      consts.set(x, keep(cast(t, 'float16')));
      t.dispose();
    }
  }
}
