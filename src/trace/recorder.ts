// The op recorder behind trace() and steps(): an op hook that turns each dispatched op into a TraceRecord (path from
// the op-context stack, kernel variant and WGSL, shapes, statistics read before the forward frees the output) and a
// forward hook that marks which op produced each module output or checkpoint. Device reads finish in `finish()`.
// The op hook sees every op of the process, across awaits: only one recorder may listen at a time.
import type { Backend } from '../backends/backend.js';
import { addOpHook, HOST_OP, type OpEvent } from '../ops/dispatch.js';
import type { OpName } from '../ops/attrs.js';
import { keep } from '../tensor/scope.js';
import { numel } from '../tensor/shape.js';
import { Storage } from '../tensor/storage.js';
import { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { tensorStats, toFloat32 } from './stats.js';
import type { OutputInfo, TimingKind, TraceOptions, TraceRecord } from './types.js';

/** The optional trace helpers of the WebGPU backend (dispatch labels of the last run, WGSL by label). */
interface KernelIntrospection {
  dispatchLabels?(): readonly string[];
  kernelSource?(label: string): string | undefined;
}

interface PendingRead {
  info: OutputInfo;
  view: Tensor;
}

interface Replay {
  rec: TraceRecord;
  backend: Backend;
  op: OpName;
  ins: Tensor[];
  attrs: unknown;
}

const PACKING = /^(un)?pack\.wgsl\b/;
const now = typeof performance !== 'undefined' ? () => performance.now() : () => Date.now();

/** A view that holds `t`'s storage alive (same strides, no op dispatched), outside every scope. */
function holdView(t: Tensor): Tensor {
  t.storage.retain();
  return keep(new Tensor(t.storage, t.dtype, t.shape, t.strides, t.offset));
}

/** The recorder listening now: a second one cannot start while it is (it would record the other's ops too). */
let listening: Recorder | null = null;

/** Records ops while started; `finish()` completes device reads and timing replays and returns the new records. */
export class Recorder {
  private readonly paths = new Map<unknown, string>();
  private readonly producers = new WeakMap<Storage, TraceRecord>();
  private batch: TraceRecord[] = [];
  private pending: PendingRead[] = [];
  private replays: Replay[] = [];
  private index = 0;
  private busy = false;
  private unhook: (() => void) | null = null;
  private readonly mode: 'none' | 'stats' | 'full';
  private readonly bins: number;
  private readonly sync: boolean;

  constructor(readonly root: unknown, opts: TraceOptions = {}) {
    this.mode = opts.values ?? 'stats';
    if (!['none', 'stats', 'full'].includes(this.mode)) throw new TypeError(`forwardpass: trace: values must be 'none', 'stats' or 'full', got '${String(opts.values)}'`);
    this.bins = opts.bins ?? 16;
    if (!Number.isInteger(this.bins) || this.bins < 1 || this.bins > 4096) throw new RangeError(`forwardpass: trace: bins must be an integer from 1 to 4096, got ${String(opts.bins)}`);
    this.sync = opts.sync === true;
    if (root instanceof Module) for (const [p, m] of root.namedModules()) this.paths.set(m, p);
  }

  /** Start listening (op hook, and a forward hook on a Module root for marks); refused while another listens. */
  start(): void {
    if (this.unhook) return;
    if (listening) throw new Error('forwardpass: trace: another trace is running; traces cannot overlap');
    listening = this;
    const offOp = addOpHook((e) => this.onOp(e));
    const handle = this.root instanceof Module ? this.root.registerForwardHook((_m, path, _ins, out) => this.onModuleOutput(path, out)) : null;
    this.unhook = () => { offOp(); handle?.remove(); };
  }

  stop(): void {
    if (!this.unhook) return;
    this.unhook();
    this.unhook = null;
    if (listening === this) listening = null;
  }

  /** Module path and ONNX node label of an op-context stack. */
  where(context: readonly unknown[]): { path: string; node?: string } {
    let path = '';
    let labels: string[] = [];
    for (const c of context) {
      const p = this.paths.get(c);
      if (p !== undefined) { path = p; labels = []; }
      else if (typeof c === 'string' && c !== '') labels.push(c);
    }
    const full = [path, ...labels].filter((s) => s !== '').join('/');
    return labels.length ? { path: full, node: labels[labels.length - 1]! } : { path: full };
  }

  private onOp(e: OpEvent): void {
    if (this.busy) return;
    this.busy = true;
    try {
      this.record(e);
    } finally {
      this.busy = false;
    }
  }

  private record(e: OpEvent): void {
    const backend = (e.outputs[0] ?? e.inputs[0]!).storage.backend;
    const gpu = backend as Backend & KernelIntrospection;
    const timing: TimingKind = backend.readSync ? 'cpu' : this.sync ? 'gpu-sync' : 'gpu-encode';
    const { path, node } = this.where(e.context);
    const outputs: OutputInfo[] = e.outputs.map((o) => ({ shape: [...o.shape], dtype: o.dtype }));
    const rec: TraceRecord = {
      index: this.index++,
      op: e.op,
      attrs: e.attrs,
      path,
      ...(node !== undefined ? { node } : {}),
      marks: [],
      backend: e.backend,
      inputs: e.inputs.map((t) => ({ shape: [...t.shape], dtype: t.dtype })),
      outputs,
      output: outputs[0]!,
      ms: e.ms,
      timing,
    };
    const labels = e.op !== HOST_OP && gpu.dispatchLabels ? [...gpu.dispatchLabels()] : undefined;
    if (labels && labels.length) {
      const main = labels.filter((l) => !PACKING.test(l));
      const shown = main.length ? main : labels;
      rec.kernels = labels;
      rec.variant = shown.join(' + ');
      const sources = shown.map((l) => [l, gpu.kernelSource?.(l)] as const).filter(([, s]) => s !== undefined);
      if (sources.length === 1) rec.wgsl = sources[0]![1];
      else if (sources.length > 1) rec.wgsl = sources.map(([l, s]) => `// ---- ${l}\n${s}`).join('\n');
    } else if (e.variant) rec.variant = e.variant;
    e.outputs.forEach((o, i) => {
      this.producers.set(o.storage, rec);
      if (this.mode === 'none') return;
      if (backend.readSync) this.fill(outputs[i]!, toFloat32(o.dataSync()));
      else this.pending.push({ info: outputs[i]!, view: holdView(o) });
    });
    if (this.sync && e.op !== HOST_OP && !backend.readSync && backend.sync) this.replays.push({ rec, backend, op: e.op, ins: e.inputs.map(holdView), attrs: e.attrs });
    this.batch.push(rec);
  }

  private fill(info: OutputInfo, values: Float32Array): void {
    info.stats = tensorStats(values, this.bins);
    if (this.mode === 'full') info.values = values;
  }

  private onModuleOutput(path: string, out: unknown): void {
    if (path === '' || !(out as { __isTensor?: boolean } | null)?.__isTensor) return;
    const rec = this.producers.get((out as Tensor).storage);
    if (rec && !rec.marks.includes(path)) rec.marks.push(path);
  }

  /** Await the device reads (and, with sync, the per-op replays) of the ops recorded since the last call. */
  async finish(): Promise<TraceRecord[]> {
    const batch = this.batch;
    const pending = this.pending;
    const replays = this.replays;
    this.batch = [];
    this.pending = [];
    this.replays = [];
    try {
      await Promise.all(pending.map(async (p) => this.fill(p.info, toFloat32(await p.view.data()))));
      for (const r of replays) await replay(r);
    } finally {
      for (const p of pending) p.view.dispose();
      for (const r of replays) for (const t of r.ins) t.dispose();
    }
    return batch;
  }

  /** Drop held device memory without reading (after an error). */
  discard(): void {
    for (const p of this.pending) p.view.dispose();
    for (const r of this.replays) for (const t of r.ins) t.dispose();
    this.pending = [];
    this.replays = [];
  }
}

/** Run one recorded op again on its own, between two device waits; its `ms` becomes that time. */
async function replay(r: Replay): Promise<void> {
  const b = r.backend;
  await b.sync!();
  const outs = r.rec.outputs.map((s) => {
    const n = numel(s.shape);
    return new Tensor(new Storage(b, b.alloc(s.dtype, n), s.dtype, n), s.dtype, s.shape);
  });
  try {
    const t0 = now();
    b.run(r.op, r.ins, outs, r.attrs as never);
    await b.sync!();
    r.rec.ms = now() - t0;
  } finally {
    for (const o of outs) o.dispose();
  }
}
