// Dynamic batching for a servable model (knows nothing of HTTP): concurrent requests wait up to `maxDelayMs` in a
// bounded queue, join along the batch axis (padded where the model allows it), run as one forward pass, and each
// caller gets its own rows back. Timeouts, AbortSignal, back-pressure, partial failures and a draining close().
import { isTensor, type Tensor } from '../tensor/tensor.js';
import type { ConfiguredModel } from '../nn/models/config.js';
import { OnnxSession } from '../io/onnx/session.js';
import { canJoin, joinInputs, splitOutputs } from './join.js';
import { checkRequest, servableFromModel, servableFromOnnx, toHost, type CheckedRequest, type HostTensor, type ServableModel } from './servable.js';

export interface BatcherOptions {
  /** Most rows (sum of the requests' batch dims) in one forward pass; 1 turns batching off (default 32). */
  maxBatchSize?: number;
  /** How long the oldest queued request may wait for others to join it, in ms (default 0: no waiting; a batch holds what queued while the last pass ran). */
  maxDelayMs?: number;
  /** Most requests waiting (not counting the batch that runs); one more is refused at once (default 256). */
  maxQueue?: number;
  /**
   * Length-aware batching for padded (token) models: a request joins the batch only while the padding stays at
   * most this fraction of the batch's tokens (rows x longest length); 1 joins any lengths (default 0.25). The
   * oldest request always leads the next batch, so a request of an odd length waits at most until it is oldest.
   */
  maxPadFraction?: number;
  /** Called after each forward pass: its rows, its requests, and whether it failed. */
  onBatch?: (info: { rows: number; requests: number; failed: boolean }) => void;
}

/** What `infer` needs of an AbortSignal (an AbortSignal fits; the published types need no DOM or Node lib for it). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface InferOptions {
  signal?: AbortSignalLike;
  /** Give up after this many ms from the call (queued or running); the caller gets a 'timeout' error. */
  timeoutMs?: number;
}

/** Why the batcher refused or dropped a request; `status` is the HTTP status the server answers with. */
export class ServeError extends Error {
  constructor(message: string, readonly code: 'queue_full' | 'timeout' | 'aborted' | 'closed', readonly status: number) {
    super(message);
  }
}

export interface Batcher {
  readonly model: ServableModel;
  /** Run one request (batch dim 1 or more); resolves to what a lone forward pass on it returns. */
  infer(inputs: Record<string, HostTensor | Tensor>, opts?: InferOptions): Promise<Record<string, HostTensor>>;
  /** Requests waiting now. */
  readonly queueDepth: number;
  /** Refuse new requests, finish the queued ones (without waiting for the delay), then resolve. */
  close(): Promise<void>;
  readonly closed: boolean;
}

/** Run `f` after the I/O callbacks already due (Node's setImmediate; a 0 ms timer where there is none, as in browsers). */
const soon: (f: () => void) => unknown = typeof setImmediate === 'function' ? setImmediate : (f) => setTimeout(f, 0);

interface Pending {
  req: CheckedRequest;
  resolve: (v: Record<string, HostTensor>) => void;
  reject: (e: unknown) => void;
  enqueued: number;
  settled: boolean;
  cleanup: () => void;
}

/**
 * Batch concurrent `infer` calls on `model` (a servable model, a model loaded from a folder, or an ONNX session).
 * @example const b = createBatcher(loadModelFolder('test/fixtures/mlp-digits').model, { maxBatchSize: 32, maxDelayMs: 2 });
 *          const { logits } = await b.infer({ input: { dtype: 'float32', shape: [1, 64], data } });
 */
export function createBatcher(model: ServableModel | ConfiguredModel | OnnxSession, opts: BatcherOptions = {}): Batcher {
  const m: ServableModel = model instanceof OnnxSession ? servableFromOnnx(model) : 'padding' in model && typeof (model as ServableModel).run === 'function' && Array.isArray((model as ServableModel).inputs[0]?.shape) ? (model as ServableModel) : servableFromModel(model as ConfiguredModel);
  const maxBatch = opts.maxBatchSize ?? 32;
  const maxDelay = opts.maxDelayMs ?? 0;
  const maxQueue = opts.maxQueue ?? 256;
  const maxPad = opts.maxPadFraction ?? 0.25;
  if (!(maxPad >= 0 && maxPad <= 1)) throw new RangeError(`forwardpass: createBatcher: maxPadFraction must be a number in [0, 1], got ${String(maxPad)}`);
  for (const [k, v, min] of [['maxBatchSize', maxBatch, 1], ['maxDelayMs', maxDelay, 0], ['maxQueue', maxQueue, 1]] as const) {
    if (!Number.isFinite(v) || v < min || (k !== 'maxDelayMs' && !Number.isInteger(v))) throw new RangeError(`forwardpass: createBatcher: ${k} must be ${k === 'maxDelayMs' ? 'a number' : 'an integer'} >= ${min}, got ${String(v)}`);
  }
  const first = m.inputs[0]?.shape[0];
  const batchDim = typeof first === 'string' ? first : undefined;
  // a model whose inputs all share a symbolic first dim can batch; any other runs one request per pass
  const batchable = batchDim !== undefined && m.inputs.every((s) => s.shape[0] === batchDim);
  const queue: Pending[] = [];
  let running = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let immediate = false;
  let closing = false;
  let drained: (() => void) | null = null;
  const drainedP = new Promise<void>((r) => (drained = r));

  const settle = (p: Pending, fn: () => void) => {
    if (p.settled) return;
    p.settled = true;
    p.cleanup();
    fn();
  };
  const drop = (p: Pending, err: ServeError) => {
    const i = queue.indexOf(p);
    if (i >= 0) queue.splice(i, 1);
    settle(p, () => p.reject(err));
    maybeDrained();
  };
  const maybeDrained = () => {
    if (closing && !running && queue.length === 0) drained?.();
  };

  function schedule(): void {
    if (running || queue.length === 0) return;
    if (timer) { clearTimeout(timer); timer = null; }
    let rows = 0;
    for (const p of queue) { rows += p.req.rows; if (rows >= maxBatch) break; }
    const wait = closing || !batchable || maxBatch === 1 ? 0 : maxDelay - (performance.now() - queue[0]!.enqueued);
    if (rows >= maxBatch) {
      // a full batch (always, with maxBatchSize 1) has nothing to wait for: run it now, back to back with the last
      queueMicrotask(() => void runBatch());
    } else if (wait <= 0) {
      // one turn of the event loop first: requests whose bytes arrived during the last pass still join this batch
      if (!immediate) { immediate = true; soon(() => { immediate = false; void runBatch(); }); }
    } else timer = setTimeout(() => { timer = null; void runBatch(); }, wait);
  }

  function take(): Pending[] {
    const head = queue.shift()!;
    const batch = [head];
    let rows = head.req.rows;
    // tokens per row: the product of the symbolic non-batch dims (the sequence length for token models)
    const len = (p: Pending) => { let n = 1; for (const [k, v] of p.req.dims) if (k !== batchDim) n *= v; return n; };
    const padded = m.padding.kind !== 'none';
    let longest = len(head);
    let real = head.req.rows * longest;
    if (batchable) {
      for (let i = 0; i < queue.length && rows < maxBatch; ) {
        const p = queue[i]!;
        if (rows + p.req.rows > maxBatch) break; // first come, first served: nobody overtakes a request that does not fit
        const l = len(p);
        const long2 = Math.max(longest, l);
        const total = (rows + p.req.rows) * long2;
        const fits = !padded || total - (real + p.req.rows * l) <= maxPad * total;
        if (fits && canJoin(head.req, p.req, batchDim, m.padding)) {
          batch.push(p);
          rows += p.req.rows;
          longest = long2;
          real += p.req.rows * l;
          queue.splice(i, 1);
        } else i++;
      }
    }
    return batch;
  }

  async function runOne(batch: Pending[]): Promise<void> {
    const rows = batch.reduce((a, p) => a + p.req.rows, 0);
    try {
      const outs = batch.length === 1 ? await m.run(batch[0]!.req.inputs) : await m.run(joinInputs(batch.map((p) => p.req), m.inputs, m.padding));
      opts.onBatch?.({ rows, requests: batch.length, failed: false });
      let row = 0;
      for (const p of batch) {
        const mine = batch.length === 1 ? outs : splitOutputs(outs, m.outputs, p.req, row);
        row += p.req.rows;
        settle(p, () => p.resolve(mine));
      }
    } catch (e) {
      opts.onBatch?.({ rows, requests: batch.length, failed: true });
      if (batch.length === 1) { settle(batch[0]!, () => batch[0]!.reject(e)); return; }
      // one bad request (an id outside the vocabulary, too long a sequence) must not sink the others: rerun alone
      for (const p of batch) if (!p.settled) await runOne([p]);
    }
  }

  async function runBatch(): Promise<void> {
    if (running || queue.length === 0) return;
    running = true;
    try {
      await runOne(take());
    } finally {
      running = false;
      schedule();
      maybeDrained();
    }
  }

  async function infer(inputs: Record<string, HostTensor | Tensor>, o: InferOptions = {}): Promise<Record<string, HostTensor>> {
    if (closing) throw new ServeError('forwardpass: serve: the model is shutting down and takes no new requests', 'closed', 503);
    if (o.signal?.aborted) throw new ServeError('forwardpass: serve: the request was cancelled before it was queued', 'aborted', 499);
    const host: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(inputs ?? {})) host[k] = isTensor(v) ? await toHost(v) : v;
    const req = checkRequest(m.inputs, host);
    if (queue.length >= maxQueue) throw new ServeError(`forwardpass: serve: the queue is full (${maxQueue} requests waiting); retry later`, 'queue_full', 503);
    return new Promise((resolve, reject) => {
      const p: Pending = { req, resolve, reject, enqueued: performance.now(), settled: false, cleanup: () => {} };
      const t = o.timeoutMs !== undefined ? setTimeout(() => drop(p, new ServeError(`forwardpass: serve: the request timed out after ${o.timeoutMs} ms`, 'timeout', 504)), o.timeoutMs) : null;
      const onAbort = () => drop(p, new ServeError('forwardpass: serve: the request was cancelled', 'aborted', 499));
      o.signal?.addEventListener('abort', onAbort, { once: true });
      p.cleanup = () => { if (t) clearTimeout(t); o.signal?.removeEventListener('abort', onAbort); };
      queue.push(p);
      schedule();
    });
  }

  return {
    model: m,
    infer,
    get queueDepth() { return queue.length; },
    get closed() { return closing; },
    close() {
      closing = true;
      schedule();
      maybeDrained();
      return drainedP;
    },
  };
}
