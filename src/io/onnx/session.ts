// The ONNX runtime: loadOnnx / OnnxSession. At load: order and prune the graph, infer dtypes and (symbolic) shapes,
// fold constant nodes, place each node, prepare ops (int8 weights), upload constants. At run: check the feeds,
// execute the plan, free each intermediate after its last use, return the graph outputs on the session backend.
//
// PLACEMENT RULE. Constants (initializers, Constant nodes, folded results) live on the host as CPU tensors; the
// ones a device node reads as data get one device copy at load. Shape/Size outputs are host values (read from
// tensor metadata, never from the device). A node runs on the host when every input is a host value and either
// its outputs are integer/bool (shape arithmetic: Gather, Unsqueeze, Concat, Slice of shapes, masks, Range...)
// or each input is known to hold at most 64 elements, or the op is a typed-array kernel (OnnxOpImpl.cpuOnly);
// otherwise it runs on the session backend. Inputs an op declares as host inputs (shapes, axes, pads, starts,
// scalars) are always read synchronously on the host; only a host input computed on the device (rare: e.g. a
// shape held in a graph input) is read back asynchronously.
//
// REPLAY (CPU sessions, replay.ts): the second run with some feed shapes is recorded as its list of kernel calls, and
// later runs with those shapes repeat just those calls on session-held buffers, unless the work depends on input
// values (then that shape always takes the normal path). Tracers (op hooks), stepwise() and trace() never replay.
//
// int64: forwardpass has no int64 dtype. ONNX int64 inputs, initializers and Cast targets are int32; a constant
// that does not fit is an error, except Slice starts/ends (INT64_MAX/MIN sentinels), which are clamped. Graph
// outputs declared int64 come back as int32 tensors.
import type { DType, StorageArray } from '../../tensor/dtype.js';
import { forEachStrided, numel } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { Storage } from '../../tensor/storage.js';
import { fromData } from '../../tensor/creation.js';
import { getBackend, getDefaultDevice } from '../../tensor/device.js';
import { keep } from '../../tensor/scope.js';
import { opHooksActive, reportHostOp, withOpContext } from '../../ops/dispatch.js';
import { parseOnnx, type OnnxModel, type OnnxNode } from './model.js';
import { checkSupported, defaultOpset, liveNodes, nodeLabel, onnxOpSupport, topoSort, type OnnxOpSupportEntry } from './plan.js';
import { getOnnxOp, nodeContext, type Dim, type OnnxOpImpl, type OnnxPrecision, type ValueType } from './ops/index.js';
import { constantValue } from './ops/generate.js';
import { HELD_ELEM_TYPES, isIndexDType, needsWrap, onnxElemDType, onnxTensorToTensor, wrapOutput } from './values.js';
import { bindFeeds, type OnnxFeed } from './feeds.js';
import { storeF16 } from './precision.js';
import { withImplicitInputs } from './subgraph.js';
import { fuseSteps } from './fuse.js';
import { Capture, REPLAY_MAX_BYTES, Replayer, replayRefusal, type OnnxReplayInfo } from './replay.js';
import { checkDimLimits, dimLimits, type DimLimit } from './limits.js';
import { steps as traceSteps, trace as traceRun, type Trace } from '../../trace/trace.js';
import type { TraceOptions, TraceRecord } from '../../trace/types.js';

export type { OnnxFeed } from './feeds.js';
export type { OnnxReplayInfo } from './replay.js';

export interface OnnxLoadOptions {
  /** 'cpu', 'webgpu' or another registered backend name; default: the default device. */
  backend?: string;
  /** The same as `backend`, under the name tensors use (`tensor(..., { device })`); give one or the other. */
  device?: string;
  /** 'f32' (default), 'f16' (float initializers stored as float16) or 'int8' (MatMul/Gemm/Conv weights int8). */
  precision?: OnnxPrecision;
  /** File name for error messages. */
  name?: string;
  /**
   * Load-time fusions (default true): MatMul + Add and Gemm with constant weights run as one `linear`, GELU
   * subgraphs as one Gelu (see fuse.ts). false runs every node as the file has it (to compare, or to trace each node).
   */
  optimize?: boolean;
  /**
   * Graph capture and replay on the 'cpu' backend (default true; the environment variable FORWARDPASS_REPLAY=0 makes
   * the default false): the second run with some feed shapes is recorded, and later runs with those shapes repeat
   * only its kernel calls on session-held buffers, without per-op overhead (see replay.ts). Runs whose later ops
   * depend on input values, not only on shapes, are never replayed. `{ maxBytes }` caps the intermediates held
   * (64 MiB by default). false always takes the normal path (to compare).
   */
  replay?: boolean | { maxBytes?: number };
}

/** A graph input or output: name, the dtype forwardpass uses, the ONNX element type, and the symbolic shape. */
export interface OnnxIO {
  name: string;
  dtype: DType;
  onnxType: string;
  /** The declared dims (a number, a symbolic name, or null for an unnamed unknown dim); [] for a scalar. */
  shape: Dim[];
  /**
   * false when the model declares no shape at all (`shape` is then [] but any shape is accepted; typed-array feeds
   * need a Tensor instead); true for a declared shape, including a scalar's [].
   */
  shapeKnown: boolean;
}

/**
 * Where one plan node runs (`OnnxSession.placement`). In a device session a node runs on the host ('cpu') when it
 * reads tensor metadata only (Shape, Size), computes on host values (shape arithmetic on constants), or is a
 * typed-array kernel; `fallback` marks the host nodes that compute on data from the graph inputs (copied back from
 * the device): the work the device backend does not do.
 */
export interface OnnxPlacement {
  label: string;
  opType: string;
  /** The session backend, or 'cpu' for a node placed on the host. */
  device: string;
  /** A host node in a device session that reads data derived from the graph inputs (not only metadata). */
  fallback: boolean;
}

/** What `OnnxSession.stepwise` yields after each plan node: its position in the plan, label and op type. */
export interface OnnxStep {
  index: number;
  label: string;
  opType: string;
}

interface Step {
  node: OnnxNode;
  label: string;
  impl: OnnxOpImpl;
  host: boolean;
  /** The op is a typed-array kernel (OnnxOpImpl.cpuOnly) here: its run dispatches no op, so it reports itself to traces. */
  hostKernel: boolean;
  state: unknown;
  dropped: Set<number>;
  /** Values whose last reader is this step. */
  frees: string[];
}

const SMALL = 64;

/** An environment variable, where there is an environment (Node). */
function readEnv(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}
const ALWAYS_HOST = new Set(['Shape', 'Size']);

/**
 * Load an ONNX model (bytes of a .onnx file) for inference.
 *
 * @example
 * const s = await loadOnnx(bytes, { backend: 'webgpu' });
 * const { logits } = await s.run({ input: x });
 */
export async function loadOnnx(bytes: Uint8Array | ArrayBuffer, opts: OnnxLoadOptions = {}): Promise<OnnxSession> {
  return OnnxSession.fromModel(parseOnnx(bytes, { name: opts.name }), opts);
}

/** A loaded ONNX graph ready to run. Make one with `loadOnnx` or `OnnxSession.fromModel`. */
export class OnnxSession {
  readonly inputs: OnnxIO[];
  readonly outputs: OnnxIO[];
  readonly opset: number;
  readonly backend: string;
  readonly precision: OnnxPrecision;
  /** Whether load-time fusions were applied (OnnxLoadOptions.optimize). */
  readonly optimize: boolean;
  /** Which op types of the model run on which backend. */
  readonly supported: OnnxOpSupportEntry[];
  private plan: Step[] = [];
  private consts = new Map<string, Tensor>();
  /** Each node's attribute reader and error helper, built once (not on every run). */
  private bases = new WeakMap<OnnxNode, ReturnType<typeof nodeContext>>();
  private deviceConsts = new Map<string, Tensor>();
  /** Computed values that some step reads. */
  private read = new Set<string>();
  /** The graph output names. */
  private outputNames = new Set<string>();
  private disposed = false;
  /** Symbolic input dims bounded by a constant table they slice (learned positions), checked on every run. */
  private limits = new Map<string, DimLimit>();
  /** Captured runs by feed shapes (replay.ts); undefined where replay is off, with the reason in replayOff. */
  private replayer: Replayer | undefined;
  private replayOff = '';
  private readonly replayOpt: boolean | { maxBytes?: number };

  private constructor(private readonly model: OnnxModel, opts: OnnxLoadOptions) {
    this.opset = defaultOpset(model);
    if (opts.backend !== undefined && opts.device !== undefined && opts.backend !== opts.device) {
      throw new Error(`forwardpass: onnx: load: backend '${opts.backend}' and device '${opts.device}' disagree; give one of them`);
    }
    this.backend = getBackend(opts.backend ?? opts.device ?? getDefaultDevice()).name;
    this.precision = opts.precision ?? 'f32';
    this.optimize = opts.optimize ?? true;
    this.replayOpt = opts.replay ?? (readEnv('FORWARDPASS_REPLAY') !== '0');
    if (!['f32', 'f16', 'int8'].includes(this.precision)) throw new Error(`forwardpass: onnx: precision must be 'f32', 'f16' or 'int8', got '${String(this.precision)}'`);
    this.supported = onnxOpSupport(model);
    const g = model.graph;
    const inits = new Set(g.initializers.map((t) => t.name));
    const io = (v: (typeof g.inputs)[number], what: string): OnnxIO => {
      const shape = { shape: v.shape ? [...v.shape] : [], shapeKnown: v.shape !== undefined && v.shape !== null };
      if (what === 'output' && v.elemType === undefined) return { name: v.name, dtype: 'float32', onnxType: '', ...shape }; // typed by inference at load
      const dtype = onnxElemDType(v.elemType);
      if (!dtype) throw new Error(`forwardpass: onnx: graph ${what} '${v.name}' has element type ${v.elemType ?? 'unknown'}, which forwardpass cannot hold (${HELD_ELEM_TYPES})`);
      return { name: v.name, dtype, onnxType: v.elemType!, ...shape };
    };
    this.inputs = g.inputs.filter((v) => !inits.has(v.name)).map((v) => io(v, 'input'));
    this.outputs = g.outputs.map((v) => io(v, 'output'));
    this.outputNames = new Set(this.outputs.map((o) => o.name));
  }

  /**
   * Build a session from a parsed model (plain data, as `parseOnnx` returns: tests may write it by hand).
   *
   * @example const s = await OnnxSession.fromModel(parseOnnx(bytes), { backend: 'cpu' });
   */
  static async fromModel(model: OnnxModel, opts: OnnxLoadOptions = {}): Promise<OnnxSession> {
    const s = new OnnxSession(model, opts);
    try {
      await s.build();
    } catch (e) {
      s.dispose();
      throw e;
    }
    return s;
  }

  private async build(): Promise<void> {
    const g = withImplicitInputs(this.model.graph);
    const outputs = g.outputs.map((o) => o.name);
    const live = liveNodes(topoSort(g), outputs);
    checkSupported(live, this.opset);
    // Which (op, input) pairs read each value: int64 constants read only as Slice starts/ends may be clamped.
    const readers = new Map<string, [string, number][]>();
    for (const { node } of live) node.inputs.forEach((x, i) => { if (x) (readers.get(x) ?? readers.set(x, []).get(x)!).push([node.opType, i]); });
    const sliceOnly = (name: string) => (readers.get(name) ?? []).every(([op, i]) => op === 'Slice' && (i === 1 || i === 2));
    const types = new Map<string, ValueType>();
    for (const v of this.inputs) types.set(v.name, v.shapeKnown ? { dtype: v.dtype, shape: [...v.shape] } : { dtype: v.dtype });
    for (const t of g.initializers) {
      if (!readers.has(t.name) && !outputs.includes(t.name)) continue;
      this.setConst(t.name, onnxTensorToTensor(t, `initializer '${t.name}'`, sliceOnly(t.name)), types);
    }
    const host = new Set<string>(this.consts.keys());
    const opsetOf = this.opset;
    for (const { node, index } of live) {
      const label = nodeLabel(node, index);
      const impl = getOnnxOp(node.opType, node.domain)!;
      const base = nodeContext(node, label, opsetOf);
      impl.validate?.(base);
      const ins = node.inputs.map((x) => (x ? types.get(x) : undefined));
      const outTypes = impl.infer ? impl.infer({ ...base, inputs: ins }) : [{ dtype: ins[0]?.dtype ?? 'float32' }];
      const named = node.inputs.filter((x) => x);
      if (named.every((x) => this.consts.has(x))) {
        // constant folding: evaluate once on the CPU
        const outs = node.opType === 'Constant' ? [constantValue(base, node.outputs.every(sliceOnly))] : await this.runNode(impl, node, label, 'cpu', named.length ? node.inputs.map((x) => (x ? this.consts.get(x) : undefined)) : [], undefined, new Set());
        node.outputs.forEach((o, k) => { if (o && outs[k]) this.setConst(o, outs[k]!, types); else outs[k]?.dispose(); });
        node.outputs.forEach((o) => host.add(o));
        continue;
      }
      node.outputs.forEach((o, k) => { if (o) types.set(o, outTypes[k] ?? { dtype: outTypes[0]?.dtype ?? 'float32' }); });
      const allHost = named.every((x) => host.has(x));
      const small = named.every((x) => { const s = types.get(x)?.shape; return !!s && s.every((d) => typeof d === 'number') && numel(s as number[]) <= SMALL; });
      const hostKernel = typeof impl.cpuOnly === 'function' ? impl.cpuOnly({ ...base, inputs: ins }) : impl.cpuOnly === true;
      const onHost = this.backend !== 'cpu' && (hostKernel || ALWAYS_HOST.has(node.opType) || (allHost && (outTypes.every((t) => isIndexDType(t.dtype)) || small)));
      if (onHost) node.outputs.forEach((o) => host.add(o));
      this.plan.push({ node, label, impl, host: onHost, hostKernel, state: undefined, dropped: new Set(), frees: [] });
    }
    for (const o of this.outputs) {
      const t = types.get(o.name);
      if (o.onnxType === '' && t) Object.assign(o, { dtype: t.dtype, onnxType: t.dtype === 'float32' ? 'float' : t.dtype === 'int32' ? 'int32' : t.dtype });
      if (t?.shape && !o.shapeKnown) Object.assign(o, { shape: [...t.shape], shapeKnown: true });
    }
    if (this.optimize) {
      const addConst = (name: string, t: Tensor) => this.setConst(name, t, types);
      this.plan = fuseSteps(this.plan, { consts: this.consts, types, outputs, addConst }, (s) => ({ ...s, hostKernel: false, state: undefined, dropped: new Set<number>(), frees: [] }));
      this.dropUnread(outputs);
    }
    this.limits = dimLimits(this.plan, types, this.consts, this.opset);
    if (this.precision === 'f16') storeF16(this.plan, this.consts);
    for (const st of this.plan) await this.prepare(st, types);
    this.planMemory(outputs);
    this.replayOff = this.replayOpt === false ? 'turned off (replay: false, or FORWARDPASS_REPLAY=0)' : this.backend !== 'cpu' ? `the '${this.backend}' backend (replay runs on 'cpu' only)` : replayRefusal(this.plan.map((st) => st.node.opType)) ?? '';
    if (!this.replayOff) this.replayer = new Replayer(this.inputs, (typeof this.replayOpt === 'object' ? this.replayOpt.maxBytes : undefined) ?? REPLAY_MAX_BYTES);
  }

  /** Dispose the constants that no step reads and no graph output names (weights a fusion replaced). */
  private dropUnread(outputs: string[]): void {
    const read = new Set(outputs);
    for (const st of this.plan) for (const x of st.node.inputs) read.add(x);
    for (const [name, t] of this.consts) {
      if (read.has(name)) continue;
      t.dispose();
      this.consts.delete(name);
    }
  }

  private setConst(name: string, t: Tensor, types: Map<string, ValueType>): void {
    this.consts.set(name, keep(t));
    const vals = isIndexDType(t.dtype) && t.size <= SMALL ? Array.from(t.dataSync()) : undefined;
    types.set(name, { dtype: t.dtype, shape: [...t.shape], ...(vals ? { values: vals } : {}) });
  }

  private async prepare(st: Step, types: Map<string, ValueType>): Promise<void> {
    const { node, label, impl } = st;
    if (impl.prepare) {
      st.state = await impl.prepare({
        ...nodeContext(node, label, this.opset), precision: this.precision, backend: this.backend,
        inputs: node.inputs.map((x) => (x ? types.get(x) : undefined)),
        constant: (i) => (node.inputs[i] ? this.consts.get(node.inputs[i]!) : undefined),
        graphInput: (i) => (node.inputs[i] && this.inputs.some((v) => v.name === node.inputs[i]) ? node.inputs[i] : undefined),
        dropInput: (i) => st.dropped.add(i),
      });
      keep(st.state);
    }
    if (st.host || this.backend === 'cpu') return;
    const hostIdx = impl.hostInputs ?? [];
    for (const [i, x] of node.inputs.entries()) {
      const t = this.consts.get(x);
      if (!t || hostIdx.includes(i) || st.dropped.has(i) || this.deviceConsts.has(x)) continue;
      this.deviceConsts.set(x, keep(await t.to(this.backend)));
    }
  }

  /** Which computed values some step reads, and the step that reads each last (which frees it). */
  private planMemory(outputs: string[]): void {
    const last = new Map<string, Step>();
    for (const st of this.plan) {
      for (const x of st.node.inputs) {
        if (!x || this.consts.has(x)) continue;
        this.read.add(x);
        last.set(x, st);
      }
    }
    for (const [x, st] of last) if (!outputs.includes(x)) st.frees.push(x);
  }

  /**
   * Run one node with its inputs placed on `device` (host inputs on the CPU), inside its op context. Synchronous
   * unless an input must first be read back to the CPU (then a promise): a plan that runs on one device takes no
   * microtask turn per node.
   */
  private runNode(impl: OnnxOpImpl, node: OnnxNode, label: string, device: string, given: (Tensor | undefined)[], state: unknown, dropped: Set<number>, hostKernel = false): (Tensor | undefined)[] | Promise<(Tensor | undefined)[]> {
    const hostIdx = impl.hostInputs ?? [];
    const want = (i: number) => (hostIdx.includes(i) ? 'cpu' : device);
    if (given.some((t, i) => t && !dropped.has(i) && t.device !== 'cpu' && want(i) === 'cpu')) {
      return (async () => {
        const moved: (Tensor | undefined)[] = [];
        for (const [i, t] of given.entries()) if (t && !dropped.has(i) && t.device !== 'cpu' && want(i) === 'cpu') moved[i] = await t.to('cpu');
        return this.runPlaced(impl, node, label, device, given, state, dropped, moved, hostKernel);
      })();
    }
    return this.runPlaced(impl, node, label, device, given, state, dropped, [], hostKernel);
  }

  /** runNode once the inputs read back to the CPU are in `moved` (by input index). */
  private runPlaced(impl: OnnxOpImpl, node: OnnxNode, label: string, device: string, given: (Tensor | undefined)[], state: unknown, dropped: Set<number>, moved: (Tensor | undefined)[], hostKernel = false): (Tensor | undefined)[] {
    const hostIdx = impl.hostInputs ?? [];
    const temps: Tensor[] = moved.filter((t): t is Tensor => !!t);
    const inputs: (Tensor | undefined)[] = [];
    for (let i = 0; i < given.length; i++) {
      const t = given[i];
      if (!t || dropped.has(i)) { inputs.push(undefined); continue; }
      const want = hostIdx.includes(i) ? 'cpu' : device;
      if (t.device === want) { inputs.push(t); continue; }
      if (moved[i]) { inputs.push(moved[i]); continue; }
      const m = fromData(t.dataSync(), t.shape, t.dtype, getBackend(want));
      temps.push(m);
      inputs.push(m);
    }
    let base = this.bases.get(node);
    if (!base) this.bases.set(node, (base = nodeContext(node, label, this.opset)));
    const list = (i: number) => (inputs[i] ? Array.from(inputs[i]!.dataSync(), Number) : undefined);
    const b = base;
    // the op's context, field by field (an object spread of `base` here measured 2-3x the whole per-node cost)
    const ctx = {
      node: b.node, label: b.label, opset: b.opset, attrs: b.attrs, fail: b.fail, inputs, device, state, ints: list, floats: list,
      input: (i: number) => inputs[i] ?? b.fail(`input ${i} is required but missing`),
    };
    try {
      const t0 = hostKernel ? performance.now() : 0;
      const outs = withOpContext(label, () => {
        const o = impl.run(ctx);
        if (hostKernel) reportHostOp(node.opType, inputs.filter((t): t is Tensor => !!t), o.filter((t): t is Tensor => !!t), performance.now() - t0);
        return o;
      });
      // an op may hand back one of its inputs (Identity...): outputs are always new tensor objects
      return outs.map((o) => (o && (given.includes(o) || inputs.includes(o)) ? o.reshape(o.shape) : o));
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      if (msg.startsWith('forwardpass: onnx:')) throw e;
      throw new Error(`forwardpass: onnx: node '${label}' (${node.opType}): ${msg.replace(/^forwardpass: /, '')}`, { cause: e });
    } finally {
      temps.forEach((t) => t.dispose());
    }
  }

  /**
   * Run the graph. Feeds are Tensors (any device; moved to the session backend) or typed arrays (shaped from the
   * declared input shape). int64 inputs take int32 tensors, Int32Array or BigInt64Array. Resolves to every graph
   * output by name, on the session backend (int64 outputs as int32).
   *
   * @example const { logits } = await session.run({ input_ids: ids, attention_mask: mask });
   */
  async run(feeds: Record<string, OnnxFeed>): Promise<Record<string, Tensor>> {
    this.alive();
    // replay: feeds shaped as a captured run's repeat its kernel calls (replay.ts); the 2nd run with a shape records
    let captureKey: string | undefined;
    const rp = this.replayer;
    if (rp && !opHooksActive()) {
      const bound = rp.bind(feeds);
      if (bound) {
        const rec = rp.lookup(bound.key);
        // a kernel that throws (an index out of range in the feeds) does so again on the normal path below, which
        // reports it as it always does
        if (rec && rec.replay(bound.values)) return this.copyOutputs(rec.outputs);
        else if (!rec && rp.wantCapture(bound.key)) captureKey = bound.key;
      }
    }
    // the loop of execute() without its pauses: a step awaits only when it must read an input back to the CPU
    const env = new Map<string, Tensor>();
    const userTensors = new Set<Tensor>();
    let capture: Capture | undefined;
    try {
      await bindFeeds(this.inputs, feeds, this.backend, env, userTensors);
      checkDimLimits(this.inputs, env, this.limits);
      if (captureKey !== undefined) capture = this.startCapture(env, userTensors);
      for (const st of this.plan) {
        this.alive();
        if (capture) {
          capture.label = st.label;
          if (st.hostKernel && st.node.inputs.some((x) => capture!.isTainted(env.get(x)))) capture.fail(`node '${st.label}' is a host kernel reading values computed from the inputs`);
        }
        const pending = this.step(st, env, userTensors);
        if (pending) {
          // the capture must not span a pause: other code's ops would land in it
          if (capture) this.endCapture(capture, captureKey!, 'a step waits for a value read back from a device', env);
          capture = undefined;
          await pending;
        }
      }
      this.alive();
      if (capture) {
        const rec = this.endCapture(capture, captureKey!, undefined, env);
        capture = undefined;
        if (rec) return this.copyOutputs(rec.outputs);
      }
      return await this.collect(env, userTensors);
    } finally {
      if (capture) { capture.stop(); capture.fail('the run failed'); }
      for (const t of env.values()) if (!userTensors.has(t)) t.dispose();
    }
  }

  /**
   * Start recording a run whose feeds are bound in `env`: each feed becomes a session-owned contiguous tensor (the
   * caller's own tensors are copied), which replays of this shape will write the next feeds into.
   */
  private startCapture(env: Map<string, Tensor>, userTensors: Set<Tensor>): Capture {
    for (const v of this.inputs) {
      const t = env.get(v.name)!;
      if (!userTensors.has(t) && t.isContiguous() && t.offset === 0 && t.storage.size === t.size) continue;
      env.set(v.name, t.clone());
      if (!userTensors.has(t)) t.dispose();
    }
    const c = new Capture(this.replayer!.maxBytes);
    try {
      for (const v of this.inputs) c.feed(env.get(v.name)!);
    } catch (e) {
      c.stop(); // never leave the recorder installed
      c.fail('the run failed');
      throw e;
    }
    return c;
  }

  /** Stop recording; keep the recording (returned) unless the run failed to qualify (`failure`, or the capture's own). */
  private endCapture(c: Capture, key: string, failure: string | undefined, env: Map<string, Tensor>) {
    c.stop();
    if (failure !== undefined) c.fail(failure);
    const outs = this.outputs.map((o) => env.get(o.name) ?? this.consts.get(o.name));
    if (outs.some((t) => !t)) c.fail('a graph output was not computed');
    const rec = c.finish(key, outs as Tensor[]);
    if (rec) this.replayer!.add(rec);
    else this.replayer!.refuse(key, c.failure!);
    return rec;
  }

  /** Fresh copies of a recording's graph outputs that the caller owns, converted as collect() does. */
  private copyOutputs(outs: readonly Tensor[]): Record<string, Tensor> {
    const result: Record<string, Tensor> = {};
    const backend = getBackend(this.backend);
    this.outputs.forEach((o, i) => {
      const t = outs[i]!;
      if (needsWrap(o.onnxType) && (t.dtype === 'int32' || t.dtype === 'float32')) {
        const vals = t.dataSync() as Int32Array | Float32Array;
        result[o.name] = fromData(wrapOutput(vals, o.onnxType, `graph output '${o.name}'`), t.shape, t.dtype, backend);
      } else {
        // straight from the held storage (the tensor object itself may be one the normal run disposed)
        const n = t.size, h = backend.alloc(t.dtype, n) as StorageArray, src = t.storage.handle as StorageArray;
        if (t.isContiguous()) h.set(src.subarray(t.offset, t.offset + n) as never);
        else forEachStrided(t.shape, t.strides, t.offset, (i, j) => { h[i] = src[j]!; });
        result[o.name] = new Tensor(new Storage(backend, h, t.dtype, n), t.dtype, t.shape);
      }
    });
    return result;
  }

  /** How graph replay stands in this session (see OnnxLoadOptions.replay): for tests and diagnostics. */
  get replayInfo(): OnnxReplayInfo {
    return this.replayer ? this.replayer.info() : { enabled: false, reason: this.replayOff, shapes: [], refused: {}, replays: 0, bytes: 0 };
  }

  /**
   * Run the graph one plan node per `next()` (trace()/steps() pause between nodes with it). Each step yields the
   * node's label and op type; the generator returns the graph outputs as `run` does (the caller owns them).
   * Stopping early (`return()`, a `break`) frees the intermediates.
   *
   * @example for await (const n of session.stepwise({ input: x })) console.log(n.index, n.label, n.opType);
   */
  stepwise(feeds: Record<string, OnnxFeed>): AsyncGenerator<OnnxStep, Record<string, Tensor>, undefined> {
    return this.execute(feeds);
  }

  /**
   * Run once on `feeds` and record every op, labelled by ONNX node name (see `trace()` in src/trace).
   * @example const t = await session.trace({ input: x }, { values: 'full' }); console.log(t.records[0].path);
   */
  trace(feeds: Record<string, Tensor>, opts?: TraceOptions): Promise<Trace> {
    return traceRun(this, feeds, opts);
  }

  /** The ops of one run, one at a time, pausing between nodes (see `steps()` in src/trace). @example for await (const s of session.steps({ input: x })) show(s); */
  steps(feeds: Record<string, Tensor>, opts?: TraceOptions): AsyncGenerator<TraceRecord, void, undefined> {
    return traceSteps(this, feeds, opts);
  }

  private alive(): void {
    if (this.disposed) throw new Error('forwardpass: onnx: run: the session was disposed');
  }

  private async *execute(feeds: Record<string, OnnxFeed>): AsyncGenerator<OnnxStep, Record<string, Tensor>, undefined> {
    this.alive();
    const env = new Map<string, Tensor>();
    const userTensors = new Set<Tensor>();
    try {
      await bindFeeds(this.inputs, feeds, this.backend, env, userTensors);
      checkDimLimits(this.inputs, env, this.limits);
      for (const [index, st] of this.plan.entries()) {
        this.alive(); // the caller may dispose the session between two steps of stepwise()
        const pending = this.step(st, env, userTensors);
        if (pending) await pending;
        yield { index, label: st.label, opType: st.node.opType };
      }
      this.alive();
      return await this.collect(env, userTensors);
    } finally {
      for (const t of env.values()) if (!userTensors.has(t)) t.dispose();
    }
  }

  /** Run one plan step: its inputs from `env` or the constants, its outputs into `env`, then free what it read last. */
  private step(st: Step, env: Map<string, Tensor>, userTensors: Set<Tensor>): Promise<void> | undefined {
    const device = st.host ? 'cpu' : this.backend;
    const given = st.node.inputs.map((x) => {
      if (!x) return undefined;
      const v = env.get(x);
      if (v) return v;
      if (!this.consts.has(x)) throw new Error(`forwardpass: onnx: node '${st.label}' (${st.node.opType}) reads '${x}', which an earlier node did not produce`);
      return device !== 'cpu' ? this.deviceConsts.get(x) ?? this.consts.get(x) : this.consts.get(x);
    });
    const outs = this.runNode(st.impl, st.node, st.label, device, given, st.state, st.dropped, st.hostKernel);
    if (outs instanceof Promise) return outs.then((o) => this.store(st, o, env, userTensors));
    this.store(st, outs, env, userTensors);
    return undefined;
  }

  /** Keep a step's outputs that some step or the graph reads (dispose the rest), then free the values it read last. */
  private store(st: Step, outs: (Tensor | undefined)[], env: Map<string, Tensor>, userTensors: Set<Tensor>): void {
    st.node.outputs.forEach((o, k) => {
      const t = outs[k];
      if (!o) { t?.dispose(); return; }
      if (!t) {
        if (this.read.has(o) || this.outputNames.has(o)) throw new Error(`forwardpass: onnx: node '${st.label}' (${st.node.opType}) does not produce its optional output ${k} ('${o}'), which the graph reads`);
        return;
      }
      if (!this.read.has(o) && !this.outputNames.has(o)) t.dispose();
      else env.set(o, t);
    });
    for (const x of st.frees) {
      const t = env.get(x);
      if (t && !userTensors.has(t)) t.dispose();
      env.delete(x);
    }
  }

  /** The graph outputs by name, on the session backend, taken out of `env` (the caller owns them). */
  private async collect(env: Map<string, Tensor>, userTensors: Set<Tensor>): Promise<Record<string, Tensor>> {
    const result: Record<string, Tensor> = {};
    for (const o of this.outputs) {
      const t = env.get(o.name) ?? this.consts.get(o.name);
      if (!t) throw new Error(`forwardpass: onnx: run: graph output '${o.name}' was not computed`);
      const owned = env.get(o.name) === t && !userTensors.has(t);
      if (needsWrap(o.onnxType) && (t.dtype === 'int32' || t.dtype === 'float32')) {
        // int16/uint16 outputs wrapped to their type, uint32/uint64 checked, bfloat16 rounded (values.ts)
        const vals = (await t.data()) as Int32Array | Float32Array;
        const w = wrapOutput(vals, o.onnxType, `graph output '${o.name}'`);
        if (w !== vals) {
          result[o.name] = fromData(w, t.shape, t.dtype, getBackend(this.backend));
          env.delete(o.name);
          if (owned) t.dispose();
          continue;
        }
      }
      result[o.name] = t.device === this.backend ? (owned ? t : t.clone()) : fromData(t.dataSync(), t.shape, t.dtype, getBackend(this.backend));
      if (owned && t.device !== this.backend) t.dispose();
      env.delete(o.name);
    }
    return result;
  }

  /** Free the constants, device copies and prepared state (quantized layers). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.consts.values()) t.dispose();
    for (const t of this.deviceConsts.values()) t.dispose();
    for (const st of this.plan) (st.state as { dispose?: () => void } | undefined)?.dispose?.();
    this.replayer?.dispose();
    this.consts.clear();
    this.deviceConsts.clear();
  }

  /**
   * Where each plan node runs, in plan order (see OnnxPlacement). In a CPU session every node is 'cpu' and none is a
   * fallback.
   *
   * @example session.placement.filter((p) => p.fallback).map((p) => p.opType) // ops the CPU ran for the device
   */
  get placement(): OnnxPlacement[] {
    const device = this.backend !== 'cpu';
    // values derived from the graph inputs: the feeds, every device node's outputs, and a host node's outputs when
    // it read such a value (Shape and Size read only metadata)
    const derived = new Set(this.inputs.map((v) => v.name));
    return this.plan.map((st) => {
      const reads = !ALWAYS_HOST.has(st.node.opType) && st.node.inputs.some((x) => derived.has(x));
      if (!st.host || reads) st.node.outputs.forEach((o) => o && derived.add(o));
      return { label: st.label, opType: st.node.opType, device: st.host ? 'cpu' : this.backend, fallback: device && st.host && reads };
    });
  }

  /** Number of nodes that run per call (after folding and pruning). */
  get planSize(): number {
    return this.plan.length;
  }
}

