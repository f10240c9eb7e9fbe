// trace() records every op of one forward pass; steps() hands the records out one at a time.
// What pauses in steps(): a model that runs piece by piece really pauses between pieces: a Sequential (the mlp/cnn
// models) runs one child layer per piece, and a model with stepwise(inputs) (an ONNX session, one node per piece)
// runs one piece per next() of its iterator; the next piece runs only when the consumer asks for the step after the
// previous piece's last op. Any other model (GPT, BERT, a custom forward) runs its whole forward at the first step,
// because a synchronous forward cannot be suspended in JavaScript; its records are then handed out one by one and
// only the consumer pauses. An error thrown mid-forward is thrown at the step after the last op that ran.
// Traces cannot overlap: the op hook is global, so ops that other async work runs while a traced forward awaits
// would be recorded too. A trace that starts recording while another records is refused with an error.
import { isTensor, type Tensor } from '../tensor/tensor.js';
import { scope } from '../tensor/scope.js';
import { withOpContext } from '../ops/dispatch.js';
import { Sequential } from '../nn/container.js';
import { Recorder } from './recorder.js';
import type { TimingKind, Traceable, TraceOptions, TraceRecord } from './types.js';

/** Inputs of a traced call: one tensor or a list (forward(...)), or tensors by name (run(inputs)). */
export type TraceInputs = Tensor | readonly Tensor[] | Record<string, Tensor>;

/**
 * A model that can run piece by piece, for steps() to pause for real: each `next()` of the (sync or async) iterator
 * runs one unit of work (an ONNX node, a layer) and the iterator returns the outputs. An ONNX session can offer this.
 */
export interface Stepwise {
  stepwise(inputs: TraceInputs): Iterator<unknown, unknown> | AsyncIterator<unknown, unknown>;
}

/** The records of one traced forward pass, in execution order. */
export class Trace {
  constructor(readonly records: TraceRecord[]) {}

  get length(): number {
    return this.records.length;
  }

  /** The backend most ops ran on ('cpu', 'webgpu'; '' for an empty trace): an ONNX session runs shape arithmetic on the CPU. */
  get backend(): string {
    const counts = new Map<string, number>();
    for (const r of this.records) counts.set(r.backend, (counts.get(r.backend) ?? 0) + 1);
    return [...counts].reduce((best, e) => (e[1] > best[1] ? e : best), ['', 0])[0];
  }

  /** What the `ms` of the ops on `backend` cover (see TimingKind; each record carries its own). */
  get timing(): TimingKind {
    const b = this.backend;
    return this.records.find((r) => r.backend === b)?.timing ?? 'cpu';
  }

  /** Sum of the records' `ms`. */
  get totalMs(): number {
    return this.records.reduce((s, r) => s + r.ms, 0);
  }

  /**
   * The op whose output is module output / checkpoint `name` ('fc1', 'h.0.attn.probs'), else the last op at
   * path `name` or inside it.
   * @example trace.find('h.0.mlp.c_fc')?.output.stats?.max
   */
  find(name: string): TraceRecord | undefined {
    const marked = this.records.find((r) => r.marks.includes(name));
    if (marked) return marked;
    const inside = this.under(name);
    return inside[inside.length - 1];
  }

  /** Every op at `path` or inside it ('h.0' gives the whole first block). @example trace.under('h.0.attn') */
  under(path: string): TraceRecord[] {
    return this.records.filter((r) => path === '' || r.path === path || r.path.startsWith(path + '.') || r.path.startsWith(path + '/'));
  }
}

function fail(msg: string): never {
  throw new TypeError(`forwardpass: trace: ${msg}`);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? (x as object).constructor?.name ?? 'an object' : typeof x;
}

/** Call the model the way its inputs ask: forward(x), forward(...xs) or run({ name: x }). */
function invoke(model: Traceable, inputs: TraceInputs): unknown {
  if (model === null || typeof model !== 'object') fail(`expected a model (a Module, or an object with forward() or run()), got ${describe(model)}`);
  if (isTensor(inputs) || Array.isArray(inputs)) {
    const args = isTensor(inputs) ? [inputs] : [...(inputs as readonly Tensor[])];
    if (typeof model.forward !== 'function') fail(`the model has no forward(); pass its inputs by name ({ name: tensor }) for run()`);
    return model.forward(...args);
  }
  if (inputs !== null && typeof inputs === 'object') {
    if (typeof model.run !== 'function') fail(`named inputs need a model with run(inputs); this ${describe(model)} has none (pass a tensor or a list of tensors for forward())`);
    return model.run(inputs);
  }
  return fail(`inputs must be a Tensor, a list of tensors or tensors by name, got ${describe(inputs)}`);
}

/** The single input tensor of a Sequential, from any accepted inputs form. */
function sequentialInput(model: Sequential, inputs: TraceInputs): Tensor {
  if (isTensor(inputs)) return inputs;
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) fail(`a Sequential takes one input tensor, got ${inputs.length}`);
    return inputs[0]!;
  }
  const names = (model as { inputNames?: string[] }).inputNames;
  const given = Object.keys(inputs as object);
  const name = names?.[0] ?? given[0];
  const x = name === undefined ? undefined : (inputs as Record<string, Tensor>)[name];
  if (!isTensor(x) || given.length !== 1) fail(`a Sequential takes one input tensor${names ? ` named '${names[0]}'` : ''}, got ${given.length ? given.map((k) => `'${k}'`).join(', ') : 'none'}`);
  return x;
}

/** Run `work` with the recorder on: the records of the ops it ran, its value, or the error it threw. */
async function recorded<T>(rec: Recorder, work: () => Promise<T>): Promise<{ records: TraceRecord[]; value?: T; failure?: { error: unknown } }> {
  let value: T | undefined;
  let failure: { error: unknown } | undefined;
  rec.start();
  try {
    value = await work();
  } catch (error) {
    failure = { error };
  } finally {
    rec.stop();
  }
  return { records: await rec.finish(), ...(failure ? { failure } : { value }) };
}

/** Run the whole forward under the recorder; one batch of records (thrown error after it). */
async function* wholeForward(model: Traceable, inputs: TraceInputs, rec: Recorder): AsyncGenerator<TraceRecord[]> {
  const r = await recorded(rec, () => scope(async () => { await invoke(model, inputs); }));
  yield r.records;
  if (r.failure) throw r.failure.error;
}

/** A Sequential's layers one per `next()`, each under the model on the op-context stack; returns the output. */
function* sequentialPieces(model: Sequential, x: Tensor): Generator<void, Tensor, undefined> {
  let h = x;
  try {
    for (const child of model) {
      const next = withOpContext(model, () => child.forward(h)) as Tensor;
      if (h !== x && h !== next) h.dispose();
      h = next;
      yield;
    }
    return h;
  } finally {
    if (h !== x) h.dispose();
  }
}

/** Free what a finished piece iterator returned (its outputs: a tensor or tensors by name); the trace keeps copies. */
function disposeResult(v: unknown): void {
  if (isTensor(v)) v.dispose();
  else if (v !== null && typeof v === 'object') for (const t of Object.values(v)) if (isTensor(t)) t.dispose();
}

/** Drive a piecewise run: one batch of records per piece; the next piece runs only on the next request. */
async function* pieceByPiece(pieces: Iterator<unknown, unknown> | AsyncIterator<unknown, unknown>, rec: Recorder): AsyncGenerator<TraceRecord[]> {
  try {
    for (;;) {
      const r = await recorded(rec, async () => pieces.next());
      const done = r.value?.done === true;
      if (done) disposeResult(r.value!.value);
      yield r.records;
      if (r.failure) throw r.failure.error;
      if (done) return;
    }
  } finally {
    await pieces.return?.();
    rec.discard();
  }
}

/** How steps() runs `model`: piece by piece when it can (stepwise(), a Sequential), else the whole forward at once. */
function batchesOf(model: Traceable, inputs: TraceInputs, rec: Recorder): AsyncGenerator<TraceRecord[]> {
  if (model !== null && typeof model === 'object' && typeof model.stepwise === 'function') return pieceByPiece(model.stepwise(inputs), rec);
  if (model instanceof Sequential) return pieceByPiece(sequentialPieces(model, sequentialInput(model, inputs)), rec);
  return wholeForward(model, inputs, rec);
}

/**
 * Run `model` on `inputs` once and record every op executed: path, kernel variant (and WGSL on WebGPU), shapes,
 * output statistics (values: 'full' adds each output as float32), and time (see TraceOptions.sync).
 * Intermediates are freed as usual; the records keep copies. Traces cannot overlap: while this one records (the
 * whole forward, awaits included), another trace() or steps() is refused ('another trace is running'), and ops
 * that unrelated async work runs meanwhile are recorded too; await one trace before starting the next.
 *
 * @example const t = await trace(model, { input: x }, { values: 'full' }); t.find('fc1')?.output.values
 */
export async function trace(model: Traceable, inputs: TraceInputs, opts: TraceOptions = {}): Promise<Trace> {
  const rec = new Recorder(model, opts);
  const records: TraceRecord[] = [];
  const onlyStepwise = model !== null && typeof model === 'object' && typeof model.forward !== 'function' && typeof model.run !== 'function' && typeof model.stepwise === 'function';
  const batches = onlyStepwise ? pieceByPiece(model.stepwise!(inputs), rec) : wholeForward(model, inputs, rec);
  for await (const batch of batches) records.push(...batch);
  return new Trace(records);
}

/**
 * The records of one forward pass, one per `next()`. A Sequential computes layer by layer and a model with
 * `stepwise(inputs)` piece by piece as the steps are consumed; other models compute the whole forward at the first
 * step (see the file header). Stopping early (break) frees what the unfinished pass held. While a piece runs, no
 * other trace may record (see trace()); between steps, while the consumer holds the generator, other traces can.
 *
 * @example for await (const step of steps(model, x)) console.log(step.index, step.path, step.op);
 */
export async function* steps(model: Traceable, inputs: TraceInputs, opts: TraceOptions = {}): AsyncGenerator<TraceRecord, void, undefined> {
  const rec = new Recorder(model, opts);
  for await (const batch of batchesOf(model, inputs, rec)) yield* batch;
}

