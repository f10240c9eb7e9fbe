// Step-through tracing: what one traced op looks like (a TraceRecord), the options of trace()/steps(), and the
// Trace a whole forward pass becomes.
import type { DType } from '../tensor/dtype.js';
import type { TracedOp } from '../ops/dispatch.js';

/** Statistics of one op output, over its values widened to float32. */
export interface TensorStats {
  /** Number of elements. */
  count: number;
  /** Minimum, maximum, mean and population std (divide by n) over the finite values; NaN when none is finite. */
  min: number;
  max: number;
  mean: number;
  std: number;
  /** How many values are NaN, and how many are +Inf or -Inf. */
  nan: number;
  inf: number;
  /** Histogram of the finite values: `counts[i]` values in bin i of `bins` equal bins over [lo, hi]. */
  hist: { lo: number; hi: number; counts: number[] };
}

/** Shape and dtype of an op input. */
export interface TensorInfo {
  shape: number[];
  dtype: DType;
}

/** An op output: shape, dtype, statistics and (values: 'full') the whole tensor copied to float32, row-major. */
export interface OutputInfo extends TensorInfo {
  stats?: TensorStats;
  values?: Float32Array;
}

/**
 * What each record's `ms` measures:
 * - 'cpu': wall time of the CPU kernel (the op really ran in that time);
 * - 'gpu-encode': time spent recording the op's dispatches on the CPU; the GPU ran them later, batched;
 * - 'gpu-sync': the op replayed alone after the forward on the same inputs, from submit to the device reporting
 *   the work done (real GPU time plus one submit-and-wait round trip).
 */
export type TimingKind = 'cpu' | 'gpu-encode' | 'gpu-sync';

/** One executed op. */
export interface TraceRecord {
  /** Position in execution order, from 0. */
  index: number;
  /** The kernel op, or 'host' (HOST_OP) for a typed-array kernel run on the host outside the op interface (attrs.opType names it). */
  op: TracedOp;
  /** The kernel attributes (axis, eps, stride...), as dispatched. */
  attrs: unknown;
  /**
   * Where the op ran: the dotted module path from the traced model ('h.0.attn.c_attn'; '' = the model's own
   * forward), or the ONNX node name; string labels pushed inside a module are appended after a '/'.
   */
  path: string;
  /** The innermost string label on the op-context stack (the ONNX node name), when there is one. */
  node?: string;
  /** Module outputs and named checkpoints that are this op's output ('fc1', 'h.0.resid_attn', 'h.0.attn.probs'). */
  marks: string[];
  backend: string;
  /** The kernel variant the backend reports (WebGPU: the main kernel's label, packing steps left out). */
  variant?: string;
  /** WebGPU: every dispatch of the op in order (unpack, kernels, pack). */
  kernels?: string[];
  /** WebGPU: the WGSL source of `variant`. */
  wgsl?: string;
  inputs: TensorInfo[];
  outputs: OutputInfo[];
  /** outputs[0]. */
  output: OutputInfo;
  /** Milliseconds; what they cover is the trace's `timing` (also on each record). */
  ms: number;
  timing: TimingKind;
}

/** Options of trace() and steps(). */
export interface TraceOptions {
  /** 'stats' (default): statistics only; 'full': also each output's values as a float32 copy; 'none': shapes only. */
  values?: 'none' | 'stats' | 'full';
  /** Histogram bins (default 16). */
  bins?: number;
  /**
   * WebGPU: after the forward, replay every op alone between two device waits so `ms` is real GPU time
   * ('gpu-sync'); without it `ms` is the encoding time ('gpu-encode'). No effect on the CPU.
   */
  sync?: boolean;
}

/**
 * Something trace() can run: a Module (forward / run), or any object with `forward(...)` or `run(inputs)`; with
 * `stepwise(inputs)` (an iterator running one piece of work per next(), e.g. one ONNX node) steps() pauses between pieces.
 */
export interface Traceable {
  forward?(...args: any[]): unknown;
  run?(inputs: any): unknown;
  stepwise?(inputs: any): Iterator<unknown, unknown> | AsyncIterator<unknown, unknown>;
}
