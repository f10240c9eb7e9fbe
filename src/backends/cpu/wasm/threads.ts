// Worker threads for the CPU fast path: a pool (worker_threads in Node, Web Workers in a cross-origin isolated page)
// whose workers instantiate the fast path's Wasm modules on its shared memory and run their exported functions.
// `parallelFor` hands out tasks (one call each, its own i32 arguments) through a control block of Int32 slots in a
// SharedArrayBuffer: the caller writes the job, wakes the workers (Atomics.notify), claims and runs tasks too, then
// waits until every task is done. Tasks write disjoint outputs, so a job's result does not depend on who ran what.
import { cpuFastPathEnabled } from './features.js';
import { wasmMemory, wasmMemoryShared } from './memory.js';

/** The most threads setNumThreads and FORWARDPASS_THREADS accept. */
export const MAX_THREADS = 256;
/** Tasks one job holds at most (a parallelFor with more runs as several jobs). */
const MAX_TASKS = 256;
/** i32 arguments per task at most (the GEMM takes 13). */
const MAX_ARGS = 16;

// Control block slots (Int32). NEXT packs the job's generation (22 bits) with the next unclaimed task index (10 bits):
// a task is claimed by compareExchange on that word, so a worker still looking at an older job can never claim one.
// NOTIFY_EACH: the caller consumes tasks' results as they finish (parallelFor's `after`), so a worker wakes it on every
// task done, not only on the last; FINISHED + i holds the generation of the job whose task i is done.
// SPIN: how many times a thread rereads the word it waits on before it sleeps in Atomics.wait (setThreadSpin).
const GEN = 0, NEXT = 1, COUNT = 2, DONE = 3, NEED = 4, FAILED = 5, READY = 6, ON_WORKERS = 7, FN = 8, NARGS = 9, ACTIVE = 10, NOTIFY_EACH = 11, SPIN = 12;
const KNOWN = 16; // KNOWN + w: how many kernels worker w has instantiated
const TABLE = KNOWN + MAX_THREADS; // MAX_TASKS rows of MAX_ARGS arguments
const FINISHED = TABLE + MAX_TASKS * MAX_ARGS;
const SLOTS = FINISHED + MAX_TASKS;
const CLOSED = 1023; // index part of NEXT while the caller writes a job: never below COUNT

// The worker's program, plain JavaScript kept as a string so that it runs from any bundle (ESM, CJS, tsx) without a
// separate file: Node evaluates it (`eval: true`), a browser loads it from a Blob URL. Each message brings kernels
// (a WebAssembly.Module and export names) to instantiate on the shared memory, then the worker blocks in `loop`;
// it goes back to its event loop only to take kernels it lacks (NEED > what it has) or to stop (NEED < 0). Workers
// numbered ACTIVE and up sit jobs out (setNumThreads lowered the count: parked, not stopped).
const WORKER_SOURCE = `'use strict';
const GEN = ${GEN}, NEXT = ${NEXT}, COUNT = ${COUNT}, DONE = ${DONE}, NEED = ${NEED}, FAILED = ${FAILED}, READY = ${READY};
const ON_WORKERS = ${ON_WORKERS}, FN = ${FN}, NARGS = ${NARGS}, ACTIVE = ${ACTIVE}, KNOWN = ${KNOWN}, TABLE = ${TABLE}, MAX_ARGS = ${MAX_ARGS};
const NOTIFY_EACH = ${NOTIFY_EACH}, FINISHED = ${FINISHED}, SPIN = ${SPIN};
let ctl = null, memory = null, index = 0, seen = 0;
const fns = [];
function take(msg) {
  if (msg.control) { ctl = new Int32Array(msg.control); memory = msg.memory; index = msg.index; }
  for (const k of msg.kernels) {
    const exports = new WebAssembly.Instance(k.module, { env: { memory } }).exports;
    for (const name of k.names) fns.push(exports[name]);
  }
  Atomics.store(ctl, KNOWN + index, fns.length);
  if (msg.control) Atomics.add(ctl, READY, 1);
  seen = msg.gen;
  loop();
}
function loop() {
  for (;;) {
    let g = Atomics.load(ctl, GEN);
    // a worker taking jobs polls a while before it sleeps: the next job (conv2d's GEMM after its im2col) often comes
    // sooner than a sleeping thread wakes
    if (index < Atomics.load(ctl, ACTIVE)) for (let s = Atomics.load(ctl, SPIN); g === seen && s > 0; s--) g = Atomics.load(ctl, GEN);
    while (g === seen) { Atomics.wait(ctl, GEN, seen); g = Atomics.load(ctl, GEN); }
    seen = g;
    const need = Atomics.load(ctl, NEED);
    if (need < 0 || need > fns.length) return;
    if (index < Atomics.load(ctl, ACTIVE)) work(g);
  }
}
function work(g) {
  const tag = (g & 0x3fffff) << 10, args = [];
  for (;;) {
    const w = Atomics.load(ctl, NEXT);
    if ((w & -1024) !== tag) return;
    const i = w & 1023, count = Atomics.load(ctl, COUNT);
    if (i >= count) return;
    if (Atomics.compareExchange(ctl, NEXT, w, w + 1) !== w) continue;
    const row = TABLE + i * MAX_ARGS, n = ctl[NARGS];
    args.length = n;
    for (let k = 0; k < n; k++) args[k] = ctl[row + k];
    try { fns[ctl[FN]](...args); } catch (e) { Atomics.store(ctl, FAILED, 1); }
    Atomics.add(ctl, ON_WORKERS, 1);
    Atomics.store(ctl, FINISHED + i, g);
    if (Atomics.add(ctl, DONE, 1) + 1 === count || ctl[NOTIFY_EACH]) Atomics.notify(ctl, DONE);
  }
}
if (typeof require === 'function') require('node:worker_threads').parentPort.on('message', take);
else self.onmessage = (e) => take(e.data);
`;

// ---- the thread count ----

/** Parse FORWARDPASS_THREADS: a whole number of threads from 1 to MAX_THREADS. */
export function parseThreadsEnv(value: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_THREADS)) throw new RangeError(`forwardpass: FORWARDPASS_THREADS: expected a whole number of threads from 1 to ${MAX_THREADS}, got "${value}"`);
  return n;
}

type Builtin = (id: string) => unknown;
/** Node's built-in modules, reached synchronously (process.getBuiltinModule, Node >= 20.16), or null elsewhere. */
const nodeBuiltin = (): Builtin | null => (globalThis as { process?: { getBuiltinModule?: Builtin } }).process?.getBuiltinModule ?? null;

/** The cores this runtime reports (os.availableParallelism in Node, navigator.hardwareConcurrency in browsers). */
function cores(): number {
  const os = nodeBuiltin()?.('node:os') as { availableParallelism?: () => number; cpus: () => unknown[] } | undefined;
  const n = os ? (os.availableParallelism?.() ?? os.cpus().length) : (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.min(MAX_THREADS, Math.max(1, Math.floor(n ?? 1)));
}

let chosen: number | null = null;

/**
 * Choose how many threads the CPU fast path's large kernels (GEMM for linear, matmul, conv2d) split across: the
 * calling thread plus `n - 1` workers (worker_threads in Node, Web Workers in a cross-origin isolated page; one
 * thread wherever shared memory is missing). The default is the number of cores, or FORWARDPASS_THREADS when set.
 * Results are bit-identical whatever the count. Lowering the count parks the extra workers (blocked, no CPU time)
 * for a later rise; raising it past the workers started restarts the pool. Workers never keep a Node process alive.
 * @example setNumThreads(2); // two threads for large GEMMs
 */
export function setNumThreads(n: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new RangeError(`forwardpass: setNumThreads: expected a whole number of threads from 1 to ${MAX_THREADS}, got ${typeof n === 'number' ? n : typeof n}`);
  }
  chosen = n;
  if (pool && n - 1 > pool.workers.length) stopPool();
  else if (pool) Atomics.store(pool.ctl, ACTIVE, n - 1);
}

/**
 * The thread count the CPU fast path uses: set by setNumThreads, else FORWARDPASS_THREADS, else the number of cores.
 * @example getNumThreads(); // 2 on a two-core machine
 */
export function getNumThreads(): number {
  if (chosen === null) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FORWARDPASS_THREADS;
    chosen = env !== undefined && env !== '' ? parseThreadsEnv(env) : cores();
  }
  return chosen;
}

// ---- kernels the workers can run ----

interface Kernel { module: WebAssembly.Module; names: string[] }
const kernels: Kernel[] = [];
const local: ((...args: number[]) => void)[] = []; // this thread's functions, by kernel id
const localNames: string[] = [];

/**
 * Make exported functions of a fast-path module callable by parallelFor: `module` is instantiated by every worker
 * on the shared memory; `exports` is this thread's instance of it. Returns an id per name, in order.
 */
export function shareKernels(module: WebAssembly.Module, exports: WebAssembly.Exports, names: readonly string[]): number[] {
  const first = local.length;
  for (const n of names) {
    const f = exports[n];
    if (typeof f !== 'function') throw new Error(`forwardpass: shareKernels: the module exports no function "${n}"`);
    local.push(f as (...args: number[]) => void);
    localNames.push(n);
  }
  const k = { module, names: [...names] };
  kernels.push(k);
  if (pool) {
    // wake the workers so that they take the new kernels from their message queue (NEED exceeds what they have)
    Atomics.store(pool.ctl, NEED, local.length);
    const gen = publish(pool, () => {});
    for (const w of pool.workers) w.post({ kernels: [k], gen });
  }
  return names.map((_, i) => first + i);
}

/**
 * A kernel module compiled once (on first use) over the fast path's memory: `fn` is its export `call` on this
 * thread, `id` its export `share` (the same function, or a wrapper that reads its arguments from memory) as the
 * worker threads know it (shareKernels).
 * @example const kernel = sharedKernel<Rows>(softmaxModuleBytes, 'rows'); parallelFor(kernel().id, tasks, setArgs);
 */
export function sharedKernel<F>(bytes: () => Uint8Array<ArrayBuffer>, call: string, share = call): () => { fn: F; id: number } {
  let k: { fn: F; id: number } | null = null;
  return () => {
    if (!k) {
      const module = new WebAssembly.Module(bytes());
      const exports = new WebAssembly.Instance(module, { env: { memory: wasmMemory() } }).exports;
      const [id] = shareKernels(module, exports, [share]) as [number];
      k = { fn: exports[call] as F, id };
    }
    return k;
  };
}

// ---- the pool ----

interface PoolWorker { post(msg: unknown): void; stop(): void }
interface Pool { ctl: Int32Array; workers: PoolWorker[]; gen: number; failed: boolean }
let pool: Pool | null = null;
let unavailable = false; // the runtime cannot start workers (or one failed to start): one thread from now on

/** How this runtime starts a worker from WORKER_SOURCE, or null when it cannot run workers on shared memory. */
function workerFactory(): ((index: number, onError: () => void) => PoolWorker) | null {
  if (!wasmMemoryShared()) return null;
  const builtin = nodeBuiltin();
  if (builtin) {
    const { Worker } = builtin('node:worker_threads') as { Worker: new (src: string, o: object) => NodeWorker };
    return (index, onError) => {
      const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], name: `forwardpass-wasm-${index}` });
      w.unref(); // never keeps the process alive; Node stops it at exit
      w.on('error', onError);
      return { post: (m) => w.postMessage(m), stop: () => { void w.terminate().catch(() => {}); } };
    };
  }
  const g = globalThis as { Worker?: new (url: string) => BrowserWorker; crossOriginIsolated?: boolean; Blob?: typeof Blob; URL?: typeof URL };
  if (!g.Worker || g.crossOriginIsolated !== true || !g.Blob || !g.URL?.createObjectURL) return null;
  const url = g.URL.createObjectURL(new g.Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  return (_, onError) => {
    const w = new g.Worker!(url);
    w.onerror = onError;
    return { post: (m) => w.postMessage(m), stop: () => w.terminate() };
  };
}
interface NodeWorker { postMessage(m: unknown): void; unref(): void; terminate(): Promise<number>; on(ev: 'error', f: () => void): void }
interface BrowserWorker { postMessage(m: unknown): void; terminate(): void; onerror: (() => void) | null }

/** Start the pool for getNumThreads() threads (null: one thread, or workers unavailable). */
function startPool(): Pool | null {
  const T = getNumThreads();
  if (T <= 1 || unavailable) return null;
  const make = workerFactory();
  if (!make) { unavailable = true; return null; }
  const ctl = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  ctl[NEED] = local.length;
  ctl[ACTIVE] = T - 1;
  ctl[SPIN] = spin;
  const p: Pool = { ctl, workers: [], gen: 0, failed: false };
  const onError = () => { p.failed = true; unavailable = true; };
  const memory = wasmMemory();
  try {
    for (let i = 0; i < T - 1; i++) {
      const w = make(i, onError);
      p.workers.push(w);
      w.post({ control: ctl.buffer, memory, index: i, kernels, gen: 0 });
    }
  } catch {
    for (const w of p.workers) w.stop();
    unavailable = true;
    return null;
  }
  return p;
}

function stopPool(): void {
  if (!pool) return;
  const p = pool;
  pool = null;
  Atomics.store(p.ctl, NEED, -1);
  publish(p, () => {});
  for (const w of p.workers) w.stop();
}

/** Publish a new job (filled in by `write` while no task can be claimed) and wake the workers; returns its generation. */
function publish(p: Pool, write: (ctl: Int32Array) => void): number {
  const g = (p.gen + 1) & 0x7fffffff, tag = (g & 0x3fffff) << 10, ctl = p.ctl;
  Atomics.store(ctl, NEXT, tag | CLOSED);
  write(ctl);
  Atomics.store(ctl, DONE, 0);
  Atomics.store(ctl, NEXT, tag);
  Atomics.store(ctl, GEN, g);
  p.gen = g;
  Atomics.notify(ctl, GEN);
  return g;
}

/** Whether this thread may block in Atomics.wait (not a browser page's main thread, which must spin instead). */
const canBlock = (): boolean => typeof (globalThis as { window?: unknown }).window === 'undefined';

/** Threads a large kernel splits across now: getNumThreads() where workers can run, else 1 (starts nothing; so too with the fast path off). */
export function availableThreads(): number {
  const T = getNumThreads();
  return T > 1 && !unavailable && cpuFastPathEnabled() && wasmMemoryShared() && (nodeBuiltin() !== null || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true) ? T : 1;
}

const argsRow = new Int32Array(MAX_ARGS);

/**
 * Polls of a waited-on word before a thread sleeps, by default none. Measured on the quiet 2-core VM (load 0.5-1.4,
 * 2 threads / 1 thread on the real-models bench at batch 1, three alternating runs each): with 2^12 polls (20-40 µs)
 * ResNet-18 1.50x / 1.46x / 1.54x and the 6x384 encoder 1.44x / 1.27x / 1.45x; with none 1.69x / 1.48x / 1.63x and
 * 1.47x / 1.79x / 1.47x. On two cores a polling thread takes the core the other thread's work needs.
 */
export const THREAD_SPIN = 0;
let spin = THREAD_SPIN;
/**
 * Benchmarks: how many times a thread rereads the word it waits for (a new job; the last tasks done) before it sleeps
 * in Atomics.wait; 0 sleeps at once. Polling costs CPU time while it lasts, and saves a sleeping thread's wake-up
 * (tens of µs on a VM) when the next job comes soon. No argument restores THREAD_SPIN.
 */
export function setThreadSpin(polls = THREAD_SPIN): void {
  if (!Number.isInteger(polls) || polls < 0 || polls > 2 ** 30) throw new RangeError(`forwardpass: setThreadSpin: expected a whole number of polls from 0 to 2^30, got ${polls}`);
  spin = polls;
  if (pool) Atomics.store(pool.ctl, SPIN, polls);
}

/**
 * Where chunk i of `n` units cut into `tasks` chunks starts: the first n % tasks chunks hold one unit more, so the
 * bigger tasks are claimed first and the last ones to finish are the small ones.
 */
export function chunkStart(i: number, n: number, tasks: number): number {
  const q = Math.floor(n / tasks);
  return i * q + Math.min(i, n - q * tasks);
}

/** Tasks per thread a threaded op is cut into, so that a thread slowed by other processes gets fewer. */
export const TASKS_PER_THREAD = 4;

let opMinWork: number | null = null;
/**
 * Tests: split the row-wise ops (softmax, layerNorm, pools: each with its own break-even) from `work` on (0: every
 * op that has 2 rows; Infinity: none); null restores each op's break-even. GEMMs have setGemmThreadsMinFlops.
 */
export function setOpThreadsMinWork(work: number | null = null): void {
  opMinWork = work;
}

/**
 * Tasks to cut an op of `units` independent units (rows, planes) into: 1 on one thread, for one unit, or below the
 * op's measured break-even (`work` against `minWork`, in the op's own measure), else up to TASKS_PER_THREAD a thread.
 */
export function opTasks(units: number, work: number, minWork: number): number {
  const T = availableThreads();
  if (T === 1 || units < 2 || work < (opMinWork ?? minWork)) return 1;
  return Math.min(units, T * TASKS_PER_THREAD);
}

/**
 * Run kernel `fn` (an id from shareKernels) once per task i < count, with the i32 arguments `fill(i, args)` writes,
 * on the pool's threads and this one; returns when every task is done (then throws the first error a task threw).
 * Tasks must write disjoint memory. With one thread (or count 1) the tasks run here, in order. `after(i)`, when
 * given, runs on this thread once task i is done, for every task, in the order they finish: work only this thread
 * can do on a task's result (copying it out of Wasm memory to a JavaScript array) then overlaps the tasks still
 * running, and this thread claims fewer tasks while it does it.
 * @example parallelFor(gemmId, 4, (i, a) => a.set([...argsForQuarter(i)]));
 */
export function parallelFor(fn: number, count: number, fill: (i: number, args: Int32Array) => void, after?: (i: number) => void): void {
  const f = local[fn];
  if (!f) throw new Error(`forwardpass: parallelFor: no kernel with id ${fn}`);
  if (pool?.failed) stopPool();
  const threads = availableThreads();
  if (count > 1 && !pool && threads > 1) pool = startPool();
  if (!pool || count <= 1 || threads <= 1) {
    let error: unknown = null; // as on the pool: every task runs, then the first error is thrown
    for (let i = 0; i < count; i++) {
      argsRow.fill(0); fill(i, argsRow);
      try { f(...argsRow); after?.(i); } catch (e) { error ??= e; }
    }
    if (error !== null) throw error;
    return;
  }
  for (let s = 0; s < count; s += MAX_TASKS) runJob(pool, f, fn, Math.min(MAX_TASKS, count - s), (i, a) => fill(s + i, a), after && ((i) => after(s + i)));
}

function runJob(p: Pool, f: (...args: number[]) => void, fn: number, count: number, fill: (i: number, args: Int32Array) => void, after?: (i: number) => void): void {
  const g = publish(p, (ctl) => {
    ctl[FN] = fn;
    ctl[NARGS] = MAX_ARGS;
    ctl[NOTIFY_EACH] = after ? 1 : 0;
    for (let i = 0; i < count; i++) {
      const row = ctl.subarray(TABLE + i * MAX_ARGS, TABLE + (i + 1) * MAX_ARGS);
      row.fill(0);
      fill(i, row);
    }
    Atomics.store(ctl, COUNT, count);
  });
  const ctl = p.ctl, tag = (g & 0x3fffff) << 10;
  // this thread's share: claim tasks as the workers do; a task that throws is counted done, and the error thrown
  // once every task is done (a worker may still be writing memory the next job reuses)
  let error: unknown = null;
  // `after` for every finished task not yet handed to it (a task is finished once FINISHED + i holds this job's g)
  const handed = after ? new Uint8Array(count) : null;
  let left = count;
  const handOver = (): void => {
    for (let i = 0; i < count && left > 0; i++) {
      if (handed![i] || Atomics.load(ctl, FINISHED + i) !== g) continue;
      handed![i] = 1; left--;
      try { after!(i); } catch (e) { error ??= e; }
    }
  };
  for (;;) {
    if (after) handOver();
    const w = Atomics.load(ctl, NEXT), i = w & 1023;
    if ((w & -1024) !== tag || i >= count) break;
    if (Atomics.compareExchange(ctl, NEXT, w, w + 1) !== w) continue;
    const row = TABLE + i * MAX_ARGS;
    for (let k = 0; k < MAX_ARGS; k++) argsRow[k] = ctl[row + k]!;
    try { f(...argsRow); } catch (e) { error ??= e; }
    Atomics.store(ctl, FINISHED + i, g);
    Atomics.add(ctl, DONE, 1);
  }
  const block = canBlock();
  let polls = spin; // poll a while before sleeping: the last tasks often end sooner than a sleeping thread wakes
  for (let d = Atomics.load(ctl, DONE); ; d = Atomics.load(ctl, DONE)) {
    if (after) handOver(); // DONE counts a task after its FINISHED slot is set: at count, every one is handed over
    if (d >= count) break;
    if (block && --polls < 0) Atomics.wait(ctl, DONE, d);
  }
  const failed = Atomics.exchange(ctl, FAILED, 0);
  if (error !== null) throw error;
  if (failed) throw new Error(`forwardpass: a CPU fast-path worker thread failed while running the Wasm kernel '${localNames[fn]}'`);
}

/** For tests and benchmarks: the pool's state (workers started, taking jobs, in their loop; tasks they ran so far). */
export function threadPoolInfo(): { workers: number; active: number; ready: number; tasksOnWorkers: number } {
  if (!pool) return { workers: 0, active: 0, ready: 0, tasksOnWorkers: 0 };
  const c = pool.ctl;
  return { workers: pool.workers.length, active: Atomics.load(c, ACTIVE), ready: Atomics.load(c, READY), tasksOnWorkers: Atomics.load(c, ON_WORKERS) };
}

/** Bytes the pool holds outside the Wasm memory (its control block), for memory(). */
export function threadPoolBytes(): number {
  return pool ? pool.ctl.byteLength : 0;
}

/**
 * For tests and benchmarks: start the pool now (when threads > 1 and workers can run) and resolve once every worker
 * has instantiated every shared kernel, so that the next parallelFor finds them all waiting.
 */
export async function whenThreadsReady(timeoutMs = 10000): Promise<void> {
  if (!pool && availableThreads() > 1) pool = startPool();
  const p = pool;
  if (!p) return;
  const t0 = Date.now();
  const ready = () => p.workers.every((_, w) => Atomics.load(p.ctl, KNOWN + w) === local.length) && Atomics.load(p.ctl, READY) === p.workers.length;
  while (!ready()) {
    if (p.failed || Date.now() - t0 > timeoutMs) throw new Error('forwardpass: the CPU fast path\'s worker threads did not start');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Stop the workers (the next parallelFor starts them again); the process exits without this too. */
export function shutdownThreads(): void {
  stopPool();
}
