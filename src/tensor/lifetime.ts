// Garbage collection of undisposed tensors: storage the collector frees without dispose() stops counting as live in
// its backend's memory() (the handle goes back to the backend) and is counted as leaked; with allocation tracking on
// (setDebug({ trackAllocations: true }) or FORWARDPASS_DEBUG_LEAKS=1) leakReport() says where those tensors were made.
import type { Backend } from '../backends/backend.js';
import { dtypeBytes, type DType } from './dtype.js';

/** What a storage's finalizer needs; it must not reach the storage object itself. */
interface Held {
  backend: Backend;
  /** The handle to give back; undefined where the collector frees handles by itself (CPU typed arrays). */
  handle: unknown;
  dtype: DType;
  size: number;
  /** Shared with the storage: tensors still holding it (undisposed) when it was collected. */
  refs: { n: number };
}

/** Per backend name: storage blocks (buffers) and bytes the collector released, and the tensors that held them. */
const leaked = new Map<string, { buffers: number; bytes: number; tensors: number }>();
const sites = new Map<string, number>();
let tracking = readEnvFlag();

function readEnvFlag(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.FORWARDPASS_DEBUG_LEAKS === '1';
}

function collected(h: Held): void {
  const l = leaked.get(h.backend.name) ?? { buffers: 0, bytes: 0, tensors: 0 };
  l.buffers++;
  l.bytes += h.size * dtypeBytes(h.dtype);
  l.tensors += h.refs.n;
  leaked.set(h.backend.name, l);
  try {
    h.backend.release(h.handle, h.dtype, h.size);
  } catch {
    // a backend that cannot take the handle back any more (device lost, destroyed) has nothing left to count
  }
}

const storages = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<Held>(collected) : undefined;
const tensors = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<string>((site) => sites.set(site, (sites.get(site) ?? 0) + 1)) : undefined;

/**
 * Called by Storage for memory its backend allocated: when `storage` is collected while tensors still hold it, the
 * handle is released to `backend` as dispose() would have done. GPU handles released this way are equivalent to a
 * dispose() at that moment: finalizers run between tasks, never inside an op, and the WebGPU pool orders any later
 * user of a buffer after the work already recorded or submitted with it (writes flush pending work first).
 */
export function watchStorage(storage: object, backend: Backend, handle: unknown, dtype: DType, size: number, refs: { n: number }): void {
  storages?.register(storage, { backend, handle: backend.collectsHandles ? undefined : handle, dtype, size, refs }, storage);
}

/** Called when a storage is released by dispose(): nothing is left for its finalizer to do. */
export function unwatchStorage(storage: object): void {
  storages?.unregister(storage);
}

/** Whether tensors record where they are made (see setDebug). */
export function trackingAllocations(): boolean {
  return tracking;
}

/** Frames of the creation machinery (tensor/ and ops/ of the library's sources) left out of a site. */
const MACHINERY = /[\\/]src[\\/](tensor|ops)[\\/]|^at (new Tensor|noteTensor)\b/;

/** The library's folder (…/src/ or …/dist/) from one of its own stack frames. */
function rootOf(frame: string | undefined): string | null {
  const m = frame ? /^at (?:.*\()?(.*[\\/](?:src|dist)[\\/])/.exec(frame) : null;
  return m ? m[1]! : null;
}

/**
 * A creation site: up to 3 library frames where the tensor was made (creation machinery left out), then up to 4
 * frames of the code outside the library that called it.
 */
function siteOf(stack: string): string {
  const frames = stack.split('\n').slice(1).map((l) => l.trim()).filter((l) => l.startsWith('at '));
  const root = rootOf(frames[0]);
  const at = (l: string) => /\(([^()]*)\)$|^at (\S+)$/.exec(l)?.slice(1).find(Boolean) ?? '';
  const outside = root ? frames.filter((l) => { const f = at(l); return f !== '' && !f.startsWith(root) && !f.startsWith('node:'); }) : [];
  const inside = frames.filter((l) => !MACHINERY.test(l) && !outside.includes(l));
  return [...inside.slice(0, outside.length ? 3 : 10), ...outside.slice(0, 4)].join('\n') || '(unknown site)';
}

/** With tracking on, remember where `tensor` was made, until it is disposed or collected. */
export function noteTensor(tensor: object): void {
  if (!tracking || !tensors) return;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  tensors.register(tensor, siteOf(stack), tensor);
}

/** Called by dispose(): a disposed tensor is not a leak. */
export function forgetTensor(tensor: object): void {
  if (tracking) tensors?.unregister(tensor);
}

/** Debug switches of the library. */
export interface DebugOptions {
  /**
   * Record a stack per tensor as it is made (slow: for finding leaks), so that leakReport() lists where the tensors
   * collected without dispose() came from. Also on when the environment has FORWARDPASS_DEBUG_LEAKS=1.
   */
  trackAllocations?: boolean;
}

/**
 * Turn debug switches on or off; returns the switches now in force.
 * @example setDebug({ trackAllocations: true }); runMyLoop(); // later: leakReport().sites[0]?.site
 */
export function setDebug(opts: DebugOptions): Required<DebugOptions> {
  if (opts.trackAllocations !== undefined) tracking = opts.trackAllocations === true;
  return { trackAllocations: tracking };
}

/**
 * Buffers and bytes of `backend` (by name) that the collector released so far (storage of tensors never disposed):
 * memory() reports them as `leaked` and `leakedBytes`, so that liveBuffers + leaked only moves with allocations and
 * dispose(), whenever the collector runs.
 */
export function leakedOn(backend: string): { leaked: number; leakedBytes: number } {
  const l = leaked.get(backend);
  return { leaked: l?.buffers ?? 0, leakedBytes: l?.bytes ?? 0 };
}

/** What leakReport() returns. */
export interface LeakReport {
  /** Tensors collected without dispose() (a tensor and its views count one each), in all and by backend name. */
  leaked: number;
  byBackend: Record<string, number>;
  /** Storage blocks those tensors held (views share one), in all. */
  buffers: number;
  /** Where they were made, most frequent first (only tensors made while trackAllocations was on). */
  sites: { site: string; count: number }[];
  tracking: boolean;
}

/**
 * How many tensors the garbage collector freed without dispose(), and (with setDebug({ trackAllocations: true })
 * or FORWARDPASS_DEBUG_LEAKS=1) the stack where each kind was made. Collection is asynchronous: a tensor dropped
 * just now is counted after the next collections and finalizer turns.
 * @example const { leaked, sites } = leakReport(); if (leaked) console.warn(sites[0]?.site)
 */
export function leakReport(): LeakReport {
  const all = [...leaked.values()];
  return {
    leaked: all.reduce((a, b) => a + b.tensors, 0),
    byBackend: Object.fromEntries([...leaked].map(([k, v]) => [k, v.tensors])),
    buffers: all.reduce((a, b) => a + b.buffers, 0),
    sites: [...sites].map(([site, count]) => ({ site, count })).sort((a, b) => b.count - a.count),
    tracking,
  };
}
