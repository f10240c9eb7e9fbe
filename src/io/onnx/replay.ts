// Graph capture and replay for ONNX sessions on the CPU backend (the idea of CUDA graphs, or of onnxruntime's static
// memory plan). At batch 1 the fixture models are a few dozen tiny kernels, and the machinery around each kernel
// (checks, Tensor and Storage objects, finalizer registration, op contexts, the session's value map) costs several
// times the kernel itself. So a run whose feeds have the shapes of a captured run repeats only the kernel calls:
//
//   capture: a normal run records every backend.run call that runOp makes (dispatch.ts, the one place kernels are
//     called), holding (retaining) the storages those calls read and write, so that the intermediates the normal
//     run disposes stay allocated, counted by memory(), until the session is disposed;
//   replay: copy the feeds into the captured input storages, zero each recorded output and call the kernel again on
//     the same Tensor objects, then copy the graph outputs into fresh tensors the caller owns.
//
// WHAT IS RECORDED. Taint flows from the feeds through the kernel calls (a call reading a tainted storage taints its
// outputs; views share their storage, so they share its taint). A call that reads no tainted storage depends only on
// constants and shapes (Shape, shape arithmetic, ConstantOfShape, masks built from sizes): its outputs already hold
// the values every run with these shapes would compute, so it is not recorded at all, only held where a recorded
// call reads it. Values made on the host (fromData) from such data are held the same way.
//
// WHAT IS REFUSED (the run is not captured; later runs with these shapes take the normal path):
//   - a tainted storage read on the host (data()/dataSync(): a Reshape whose shape comes from input values, NonZero,
//     TopK's k from an input, If/Loop conditions, every typed-array host kernel on input data): the work after it
//     depends on the input values, not only on their shapes;
//   - a kernel whose fast path caches a packed copy keyed by a weight's storage (linear, conv2d, the int8 GEMMs) with
//     that weight tainted: replay rewrites the storage in place, so the cached copy would go stale;
//   - a step that waits for a value read back from another device (the capture must be synchronous, so that no other
//     code's ops land in the recording), and more held bytes than the cap (64 MiB by default: for runs that big the
//     per-op overhead is small next to the kernels anyway).
// Graphs with nondeterministic ops (Random*, Multinomial, Bernoulli) are never captured, and a run with op hooks
// installed (a tracer) always takes the normal path, so that traces show every node.
//
// Kernels may rely on the zero-filled outputs backend.alloc gives, so replay zeroes each recorded output before its
// call (a memset: small next to the kernel that then writes it).
import type { Backend } from '../../backends/backend.js';
import type { OpName } from '../../ops/attrs.js';
import { setOpRecorder, type OpRecorder } from '../../ops/dispatch.js';
import { dtypeBytes, type StorageArray } from '../../tensor/dtype.js';
import { toStorageArray } from '../../tensor/creation.js';
import { nextStorageSerial, type Storage } from '../../tensor/storage.js';
import { isTensor, watchHostReads, type Tensor } from '../../tensor/tensor.js';
import { feedArray, type OnnxFeed } from './feeds.js';
import type { OnnxIO } from './session.js';

/** Bytes of intermediates one session may hold for replay by default (all captured shapes together). */
export const REPLAY_MAX_BYTES = 64 * 2 ** 20;
/** Feed shapes one session keeps captured at most (the least recently replayed goes first). */
const MAX_SHAPES = 4;
/** Shapes of feeds remembered as seen once (a shape is captured when it comes again). */
const MAX_SEEN = 256;

/** Kernel inputs whose fast path caches a packed copy keyed by the input's storage (src/backends/cpu/wasm). */
const CACHED_INPUTS: Partial<Record<OpName, readonly number[]>> = { linear: [1], conv2d: [1], linearInt8: [2, 3], linearW8: [1, 2] };

/** ONNX ops whose outputs are not a function of their inputs. */
const NONDETERMINISTIC = /^(RandomNormal|RandomUniform|RandomNormalLike|RandomUniformLike|Multinomial|Bernoulli)$/;

/** Why a plan with these op types cannot be captured, or undefined when it can. */
export function replayRefusal(opTypes: Iterable<string>): string | undefined {
  for (const t of opTypes) if (NONDETERMINISTIC.test(t)) return `the graph has a nondeterministic op (${t})`;
  return undefined;
}

/** One recorded kernel call, with the output arrays replay zeroes before it. */
interface Call {
  backend: Backend;
  op: OpName;
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
  attrs: unknown;
  zero: StorageArray[];
}

/** A captured run: input storages, kernel calls, the tensors holding the graph outputs, and what it holds. */
export class Recording {
  constructor(
    readonly key: string,
    /** Per graph input, the session-owned contiguous tensor replay copies the feed into. */
    readonly feeds: readonly Tensor[],
    readonly calls: readonly Call[],
    /** Per graph output, the tensor holding its value after the calls. */
    readonly outputs: readonly Tensor[],
    private readonly held: Storage[],
    /** Bytes of the storages made during the capture that it holds. */
    readonly bytes: number,
  ) {}

  /**
   * Copy `values` (see Replayer.bind) into the input storages and repeat the kernel calls; false when a kernel threw
   * (the caller runs the normal path, which reports the error with the node's name as it always does).
   */
  replay(values: readonly (Tensor | ArrayLike<number>)[]): boolean {
    for (let i = 0; i < values.length; i++) writeFeed(values[i]!, this.feeds[i]!);
    try {
      for (const c of this.calls) {
        for (const z of c.zero) z.fill(0);
        c.backend.run(c.op as never, c.inputs, c.outputs, c.attrs as never);
      }
    } catch {
      return false;
    }
    return true;
  }

  /** Give back every storage the recording holds. */
  release(): void {
    for (const s of this.held) s.release();
    this.held.length = 0;
  }
}

/** Copy a feed (a contiguous tensor of the input's dtype, or values fromData takes) into a captured input tensor. */
function writeFeed(value: Tensor | ArrayLike<number>, dst: Tensor): void {
  const h = dst.storage.handle as StorageArray;
  if (isTensor(value)) {
    const src = value.storage.handle as StorageArray;
    h.set(src.subarray(value.offset, value.offset + dst.size) as never);
  } else {
    h.set(toStorageArray(value, dst.dtype) as never);
  }
}

/**
 * Records one run (an OpRecorder while the run's steps execute): taints, held storages, the calls to replay, or the
 * reason the run cannot be replayed. Must be stopped (stop()) before anything else can dispatch ops.
 */
export class Capture implements OpRecorder {
  private readonly tainted = new Set<Storage>();
  private readonly held = new Set<Storage>();
  private calls: Call[] = [];
  private readonly feeds: Tensor[] = [];
  private readonly since = nextStorageSerial();
  private bytes = 0;
  /** Why this run cannot be replayed, once known. */
  failure: string | undefined;
  /** The node running now. */
  label = '';

  constructor(private readonly maxBytes: number) {
    setOpRecorder(this);
    watchHostReads((s) => {
      if (this.failure === undefined && this.tainted.has(s)) this.fail(`node '${this.label}' reads values computed from the inputs on the host`);
    });
  }

  /** Stop listening (kernel calls and host reads). */
  stop(): void {
    setOpRecorder(undefined);
    watchHostReads(undefined);
  }

  /** The next graph input (in the session's order): held, and the source of taint. */
  feed(t: Tensor): void {
    this.feeds.push(t);
    this.hold(t.storage, true); // made by the run (bindFeeds, or a copy of the caller's tensor)
    this.tainted.add(t.storage);
  }

  /** Whether `t` holds values computed from the feeds. */
  isTainted(t: Tensor | undefined): boolean {
    return !!t && this.tainted.has(t.storage);
  }

  kernel(backend: Backend, op: OpName, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: unknown): void {
    if (this.failure !== undefined) return;
    if (!inputs.some((t) => this.tainted.has(t.storage))) return; // a function of shapes and constants: not repeated
    const cached = CACHED_INPUTS[op];
    if (cached?.some((i) => inputs[i] && this.tainted.has(inputs[i]!.storage))) {
      this.fail(`node '${this.label}' runs ${op} with a weight computed from the inputs (its packed copy is cached by storage)`);
      return;
    }
    for (const t of inputs) this.hold(t.storage);
    for (const t of outputs) {
      this.hold(t.storage);
      this.tainted.add(t.storage);
    }
    this.calls.push({ backend, op, inputs, outputs, attrs, zero: outputs.map((t) => t.storage.handle as StorageArray) });
  }

  /** Stop recording: nothing of this run will be replayed; what it held is given back. */
  fail(reason: string): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    for (const s of this.held) s.release();
    this.held.clear();
    this.calls = [];
  }

  /** The recording, once the run finished (stop() called) with `outputs` holding the graph outputs; or undefined. */
  finish(key: string, outputs: readonly Tensor[]): Recording | undefined {
    for (const t of outputs) this.hold(t.storage);
    if (this.failure !== undefined) return undefined;
    return new Recording(key, this.feeds, this.calls, outputs, [...this.held], this.bytes);
  }

  /** Retain `s` until the recording is released; bytes of storages made by the run count towards the cap. */
  private hold(s: Storage, madeByRun = s.serial >= this.since): void {
    if (this.failure !== undefined || this.held.has(s)) return;
    s.retain();
    this.held.add(s);
    if (s.counted && madeByRun) {
      this.bytes += s.size * dtypeBytes(s.dtype);
      if (this.bytes > this.maxBytes) this.fail(`the run's intermediates exceed ${this.maxBytes} bytes`);
    }
  }
}

/** What the session reports about replay (OnnxSession.replayInfo). */
export interface OnnxReplayInfo {
  /** Whether runs may be replayed at all (the CPU backend, replay not turned off, no nondeterministic op). */
  enabled: boolean;
  /** Why not, when `enabled` is false. */
  reason?: string;
  /** Feed shapes captured now (`1,64|1,64`: each input's dims, inputs in order), least recently replayed first. */
  shapes: string[];
  /** Feed shapes that will not be captured, with the reason. */
  refused: Record<string, string>;
  /** Runs replayed so far. */
  replays: number;
  /** Bytes of intermediates held for replay. */
  bytes: number;
}

/** One session's captured runs by feed shapes, and the shapes seen once or refused. */
export class Replayer {
  private readonly recordings = new Map<string, Recording>();
  private readonly seen = new Set<string>();
  private readonly refused = new Map<string, string>();
  private replays = 0;

  constructor(private readonly inputs: readonly OnnxIO[], readonly maxBytes: number) {}

  /**
   * The feeds' shape key and the value to copy into each input, or undefined when the feeds are not a plain set of
   * CPU values of the right types (a missing or unknown name, a tensor elsewhere, a strided view, a disposed
   * tensor, a typed array that does not fit): the normal path then runs, and reports any error as it always did.
   */
  bind(feeds: Record<string, OnnxFeed>): { key: string; values: (Tensor | ArrayLike<number>)[] } | undefined {
    if (feeds === null || typeof feeds !== 'object' || Object.keys(feeds).length !== this.inputs.length) return undefined;
    let key = '';
    const values: (Tensor | ArrayLike<number>)[] = [];
    for (const v of this.inputs) {
      const f = feeds[v.name];
      if (f === undefined) return undefined;
      let shape: readonly number[];
      if (isTensor(f)) {
        if (f.disposed || f.storage.released || f.dtype !== v.dtype || f.device !== 'cpu' || !f.isContiguous()) return undefined;
        shape = f.shape;
        values.push(f);
      } else {
        try {
          const a = feedArray(f, v);
          shape = a.shape;
          values.push(a.data);
        } catch {
          return undefined;
        }
      }
      key += (key ? '|' : '') + shape.join(',');
    }
    return { key, values };
  }

  /** The recording for `key` (now the most recently used), if captured. */
  lookup(key: string): Recording | undefined {
    const r = this.recordings.get(key);
    if (r) {
      this.recordings.delete(key);
      this.recordings.set(key, r);
      this.replays++;
    }
    return r;
  }

  /** Whether this run should be captured: its shapes came before, were not refused, and are not captured. */
  wantCapture(key: string): boolean {
    if (this.refused.has(key)) return false;
    if (this.seen.has(key)) return true;
    if (this.seen.size >= MAX_SEEN) this.seen.clear();
    this.seen.add(key); // replay starts at the 3rd run: a shape run only once is never held
    return false;
  }

  add(r: Recording): void {
    this.recordings.set(r.key, r);
    this.seen.delete(r.key);
    let total = 0;
    for (const x of this.recordings.values()) total += x.bytes;
    for (const [k, x] of this.recordings) {
      if (k === r.key || (this.recordings.size <= MAX_SHAPES && total <= this.maxBytes)) break;
      x.release();
      this.recordings.delete(k);
      total -= x.bytes;
    }
  }

  refuse(key: string, reason: string): void {
    if (this.refused.size >= MAX_SEEN) this.refused.clear();
    this.refused.set(key, reason);
    this.seen.delete(key);
  }

  info(): OnnxReplayInfo {
    return {
      enabled: true, shapes: [...this.recordings.keys()], refused: Object.fromEntries(this.refused), replays: this.replays,
      bytes: [...this.recordings.values()].reduce((a, r) => a + r.bytes, 0),
    };
  }

  /** Give back every captured storage. */
  dispose(): void {
    for (const r of this.recordings.values()) r.release();
    this.recordings.clear();
    this.seen.clear();
  }
}
