// Dispatch: checks devices, makes inputs contiguous where a kernel needs it, allocates outputs, runs the
// kernel on the inputs' backend, and reports each op to hooks (the step-through tracer listens here).
import type { DType } from '../tensor/dtype.js';
import { numel, shapeStr, type Shape } from '../tensor/shape.js';
import { Storage } from '../tensor/storage.js';
import { Tensor } from '../tensor/tensor.js';
import { type OpAttrs, type OpName, VIEW_OPS } from './attrs.js';
import type { Backend } from '../backends/backend.js';

export interface OutSpec {
  shape: Shape;
  dtype: DType;
}

/**
 * The op name hooks and trace records give a typed-array kernel that ran on the host outside the op interface (an
 * ONNX op with no backend kernel, inside a CPU or a WebGPU session); `attrs.opType` names it.
 */
export const HOST_OP = 'host';
/** An op as hooks and traces see it: a kernel op, or HOST_OP. */
export type TracedOp = OpName | typeof HOST_OP;

/** What a dispatch hook sees for each op executed. */
export interface OpEvent {
  op: TracedOp;
  attrs: unknown;
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
  backend: string;
  /** Kernel variant chosen by the backend, when it reports one. */
  variant?: string;
  /** Wall time of `backend.run` (CPU: the kernel; GPU: the encoding only). */
  ms: number;
  /**
   * The op-context stack at dispatch, outermost first: what `withOpContext` pushed (a Module for each
   * module forward in progress, a node name for each ONNX node, ...). The tracer turns it into a path.
   */
  context: readonly unknown[];
}

export type OpHook = (e: OpEvent) => void;
const hooks = new Set<OpHook>();

/** Whether any op hook listens (a tracer): graph replay then steps aside, so that every node is still seen. */
export function opHooksActive(): boolean {
  return hooks.size > 0;
}

/**
 * Sees every kernel call runOp makes, after it ran: the backend, the op, the inputs as the kernel got them (contiguous
 * copies included), the fresh outputs and the attributes. The ONNX session's graph capture (src/io/onnx/replay.ts)
 * listens here while it records a run, to replay the same calls later without the machinery around them.
 */
export interface OpRecorder {
  kernel(backend: Backend, op: OpName, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: unknown): void;
}
let recorder: OpRecorder | undefined;

/** Install (or with undefined remove) the one op recorder; returns the one it replaces. */
export function setOpRecorder(r: OpRecorder | undefined): OpRecorder | undefined {
  const prev = recorder;
  recorder = r;
  return prev;
}

/** Listen to every op dispatched; returns a function that removes the hook. */
export function addOpHook(hook: OpHook): () => void {
  hooks.add(hook);
  return () => hooks.delete(hook);
}

const contextStack: unknown[] = [];

/**
 * Run `fn` with `label` pushed on the op-context stack that hooks see as `OpEvent.context`
 * (modules push themselves around forward; the ONNX runtime pushes each node's name).
 * @example withOpContext('attn/MatMul_3', () => matmul(a, b));
 */
export function withOpContext<T>(label: unknown, fn: () => T): T {
  contextStack.push(label);
  try {
    return fn();
  } finally {
    contextStack.pop();
  }
}

const now = typeof performance !== 'undefined' ? () => performance.now() : () => Date.now();

/**
 * Tell the hooks (the tracer) that a host typed-array kernel `opType` turned `inputs` into `outputs` in `ms`, so a
 * step that dispatched no op still shows in traces, as HOST_OP on the 'cpu' backend, in the current op context.
 */
export function reportHostOp(opType: string, inputs: readonly Tensor[], outputs: readonly Tensor[], ms: number): void {
  if (hooks.size === 0 || outputs.length === 0) return;
  const ev: OpEvent = { op: HOST_OP, attrs: { opType }, inputs, outputs, backend: 'cpu', ms, context: contextStack.slice(), variant: `${opType}-typed-array` };
  for (const h of hooks) h(ev);
}

/**
 * Run kernel `op` on `inputs` (all on one device), producing tensors of `outs` specs.
 * Op functions in src/ops validate and infer shapes, then call this.
 */
export function runOp<K extends OpName>(op: K, inputs: readonly Tensor[], outs: readonly OutSpec[], attrs: OpAttrs[K]): Tensor[] {
  if (inputs.length === 0) throw new Error(`forwardpass: ${op}: no inputs`);
  const backend = inputs[0]!.storage.backend;
  for (const [i, t] of inputs.entries()) {
    t.assertAlive(`${op} input ${i}`);
    if (t.storage.backend !== backend) {
      if (t.device !== backend.name) throw new Error(`forwardpass: ${op}: all inputs must be on one device; input 0 is on '${backend.name}', input ${i} on '${t.device}' (move one with await t.to('${backend.name}'))`);
      throw new Error(`forwardpass: ${op}: inputs 0 and ${i} are on two different '${backend.name}' backends (started twice, or by two versions of forwardpass in one process); move them to the registered one with await t.to('${backend.name}')`);
    }
  }
  const temps: Tensor[] = [];
  const ins = VIEW_OPS.has(op)
    ? inputs
    : inputs.map((t) => {
        if (t.isContiguous()) return t;
        const c = t.contiguous();
        temps.push(c);
        return c;
      });
  const outputs = outs.map((s) => {
    const n = numel(s.shape);
    return new Tensor(new Storage(backend, backend.alloc(s.dtype, n), s.dtype, n), s.dtype, s.shape);
  });
  try {
    if (hooks.size === 0) {
      backend.run(op, ins, outputs, attrs);
    } else {
      const t0 = now();
      backend.run(op, ins, outputs, attrs);
      const ms = now() - t0;
      const variant = backend.variant?.(op, ins, attrs);
      const ev: OpEvent = { op, attrs, inputs: ins, outputs, backend: backend.name, ms, context: contextStack.slice(), ...(variant ? { variant } : {}) };
      for (const h of hooks) h(ev);
    }
    recorder?.kernel(backend, op, ins, outputs, attrs);
  } catch (e) {
    for (const o of outputs) o.dispose();
    throw e;
  } finally {
    for (const t of temps) t.dispose();
  }
  return outputs;
}

/** Throws unless `t` has one of `dtypes`; names op and argument. */
export function expectDType(op: string, arg: string, t: Tensor, dtypes: readonly DType[]): void {
  if (!dtypes.includes(t.dtype)) throw new TypeError(`forwardpass: ${op}: ${arg} must be ${dtypes.join(' or ')}, got ${t.dtype}`);
}

/** Throws unless `t` has rank within [min, max]; names op and argument. */
export function expectRank(op: string, arg: string, t: Tensor, min: number, max = min): void {
  if (t.rank < min || t.rank > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new RangeError(`forwardpass: ${op}: ${arg} must have rank ${want}, got shape ${shapeStr(t.shape)}`);
  }
}
