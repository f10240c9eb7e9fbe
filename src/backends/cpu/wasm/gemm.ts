// The f32 linear and matmul fast path: packs operands into Wasm memory, runs the micro-kernels of gemm-module.ts,
// copies C out with the epilogue. Reference twins: linear (kernels/linear.ts) and matmul (kernels/matmul.ts).
// Legend: C [M, N] = A [M, K] · B; linear's B is W [N, K] (packed once per weight and cached), matmul's B [K, N]
// or [N, K] (transB) is packed per call. Np = N rounded up to NR.
import { unaryWasm, WASM_UNARY } from './unary.js';
import type { ActivationName } from '../../../ops/attrs.js';
import { UNARY } from '../../../ops/elementwise.js';
import type { NumArray } from '../types.js';
import { compileGemmModule, MR, NR, type GemmFn } from './gemm-module.js';
import { wasmRelaxedSimdEnabled } from './features.js';
import { heapF32, trackCached, wasmAlloc, wasmFree, wasmMemory, wasmScratch } from './memory.js';
import { availableThreads, chunkStart, parallelFor, shareKernels, TASKS_PER_THREAD } from './threads.js';

/** K steps per block at most: a B micro-panel (KC x 8 floats, 8 KB) stays in L1 while MC rows of A pass it. */
const KC = 256;

/**
 * GEMMs below this many FLOPs (2·M·N·K, N padded to NR) stay on one thread: waking a worker and waiting for it
 * costs more than it saves. Measured on the 2-core VM (load 10-11, 1 vs 2 threads call by call, fastest call of
 * each): 2 threads cost 6-7 µs more at 0.5 MFLOP (0.79-0.85x), break even near 2-4 MFLOP (0.92-1.05x), and win
 * from about 14 MFLOP (1.23-1.26x at 192³ and 256³ under that load).
 */
export const GEMM_THREADS_MIN_FLOPS = 1 << 22;
let minFlops = GEMM_THREADS_MIN_FLOPS;
/** Tests: split GEMMs from `flops` FLOPs on (0: every GEMM that can split, awkward small shapes too); no argument restores the default. */
export function setGemmThreadsMinFlops(flops = GEMM_THREADS_MIN_FLOPS): void {
  minFlops = flops;
}
/**
 * Floats per row piece from which runPacked hands a panel task's block of C to `after` as soon as it is done (M
 * copies of such pieces); shorter pieces go out in one copy at the end (out.set of a subarray costs 90-150 ns a call,
 * the time it copies 400-500 floats in: measured 158 ns for 8 floats, 177 ns for 512, 987 ns for 4096, load 11).
 */
const MIN_PIECE = 512;

let forcedSplit: 'panels' | 'rows' | null = null;
/** Tests and benchmarks: split threaded GEMMs by panels or by row tiles wherever both can (null: splitByPanels decides). */
export function setGemmSplit(split: 'panels' | 'rows' | null): void {
  forcedSplit = split;
}

/** A compiled `gemm`: this thread's function, its id for parallelFor, and whether it is the relaxed-SIMD module. */
export interface GemmKernel { fn: GemmFn; id: number; relaxed: boolean }
const gemmKernels: [GemmKernel | null, GemmKernel | null] = [null, null]; // [plain SIMD128 asked, relaxed SIMD asked]

/**
 * This thread's `gemm` (each module compiled once, and shared with the worker threads): the relaxed-SIMD module
 * while the fast path uses relaxed SIMD (features.ts) and it validates, else (or with `plain`) the SIMD128 one.
 */
export function gemmKernel(plain = false): GemmKernel {
  const want = !plain && wasmRelaxedSimdEnabled() ? 1 : 0;
  let k = gemmKernels[want];
  if (!k) {
    const { module, relaxed } = compileGemmModule(want === 1);
    const exports = new WebAssembly.Instance(module, { env: { memory: wasmMemory() } }).exports;
    const [id] = shareKernels(module, exports, ['gemm']) as [number];
    k = gemmKernels[want] = { fn: exports.gemm as GemmFn, id, relaxed };
  }
  return k;
}

/**
 * Threads linear (a = x [..., K], b = w [N, K]) or matmul (a [Ba, M, K], b [Bb, K, N] or [Bb, N, K]) splits across:
 * each GEMM's own split, else (matmul) its batch of GEMMs, one per task (batchThreads).
 */
export function gemmOpThreads(op: 'linear' | 'matmul', a: readonly number[], b: readonly number[], transB: boolean): number {
  const K = a[a.length - 1]!, M = op === 'linear' ? a.reduce((p, d) => p * d, 1) / K : a[a.length - 2]!;
  const N = op === 'linear' || transB ? b[b.length - 2]! : b[b.length - 1]!, Np = Math.ceil(N / NR) * NR;
  const T = gemmThreads(M, Np, K);
  return T > 1 || op === 'linear' ? T : batchThreads(Math.max(a[0]!, b[0]!), M, Np, K);
}

/** Threads a batch of Bt GEMMs too small to split each run on, one GEMM per task (1: one at a time, each as gemmThreads says). */
export function batchThreads(Bt: number, M: number, Np: number, K: number): number {
  const T = availableThreads();
  if (T === 1 || Bt < 2 || gemmThreads(M, Np, K) > 1 || 2 * Bt * M * Np * K < minFlops) return 1;
  return Math.min(T, Bt);
}

/** Threads a GEMM of C [M, Np] over K steps runs on: 1 below GEMM_THREADS_MIN_FLOPS, else up to the pool's size. */
export function gemmThreads(M: number, Np: number, K: number): number {
  const T = availableThreads();
  if (T === 1 || 2 * M * Np * K < minFlops) return 1;
  return Math.min(T, Math.max(Np / NR, Math.ceil(M / MR)));
}

/** Copy B[k, j] (b[bOff + k·rs + j·cs], k < K, j < N) into NR-column panels at byte address `dst`, zero-padded. */
function packB(b: NumArray, bOff: number, rs: number, cs: number, K: number, N: number, dst: number): void {
  const h = heapF32();
  const base = dst >>> 2, Np = Math.ceil(N / NR) * NR;
  for (let j0 = 0; j0 < Np; j0 += NR) {
    const pb = base + j0 * K;
    for (let c = 0; c < NR; c++) {
      const j = j0 + c;
      if (j >= N) { for (let k = 0, q = pb + c; k < K; k++, q += NR) h[q] = 0; continue; }
      for (let k = 0, p = bOff + j * cs, q = pb + c; k < K; k++, p += rs, q += NR) h[q] = b[p]!;
    }
  }
}

/** Copy A [M, K] (row-major at aOff) to byte address `dst` (the kernels read A as it is). */
function copyA(a: NumArray, aOff: number, M: number, K: number, dst: number): void {
  heapF32().set(a.subarray(aOff, aOff + M * K), dst >>> 2);
}

/**
 * C = A · B with A [M, K] row-major at byte `a`: C [M, Np] at byte `c` must hold its initial value (zeros, or
 * conv2d's per-row bias); a bias row [Np] at byte `bias` (0: none) is added after the sum and relu (NaN kept)
 * applied, both fused into the last K block. B at byte `b` is packed panels (ldb = 0) or, with
 * ldb > 0, row-major [K, >= Np] with rows ldb floats apart, read in place (32 bytes past its last row must be
 * readable: the padding columns read neighbours and only feed C's padding columns). `after(m0, m1, j0, j1)`, when
 * given, runs on this thread for each finished block of C (rows m0..m1, columns j0..j1; the blocks tile C) as soon as
 * it is done: copyBlock there copies C out while the other threads still compute. `plain`: the SIMD128 kernel even
 * where relaxed SIMD is on, for a caller whose results must equal another mul-then-add kernel's bit for bit.
 */
export function runPacked(M: number, Np: number, K: number, a: number, b: number, c: number, relu: boolean, ldb = 0, bias = 0,
  after?: (m0: number, m1: number, j0: number, j1: number) => void, plain = false): void {
  const { fn: gemm, id: gemmId } = gemmKernel(plain);
  const [, , , , panels, , kb, lda, bStride, ldbk, ldc, , r] = gemmArgs(M, Np, K, a, b, c, relu, ldb, bias);
  const T = gemmThreads(M, Np, K);
  if (T === 1) { gemm(a, b, c, M, panels, K, kb, lda, bStride, ldbk, ldc, bias, r); after?.(0, M, 0, Np); return; }
  // Threads: tasks of whole panels (columns) or of whole MR-row tiles, whichever balances better (panels on a tie:
  // a panel's B stays in cache for all its rows). A task runs the same K blocks in the same order on its outputs as
  // one thread does, so the result is bit-identical.
  const tiles = Math.ceil(M / MR);
  if (splitByPanels(M, panels, T)) {
    // a panel task's block of C is M row pieces: handed out per task only when those are long enough to copy well
    const tasks = Math.min(panels, T * TASKS_PER_THREAD), perTask = after !== undefined && Math.floor(panels / tasks) * NR >= MIN_PIECE;
    parallelFor(gemmId, tasks, (i, args) => {
      const p0 = chunkStart(i, panels, tasks), p1 = chunkStart(i + 1, panels, tasks);
      args.set([a, b + p0 * bStride, c + p0 * NR * 4, M, p1 - p0, K, kb, lda, bStride, ldbk, ldc, bias ? bias + p0 * NR * 4 : 0, r]);
    }, perTask ? (i) => after(0, M, chunkStart(i, panels, tasks) * NR, chunkStart(i + 1, panels, tasks) * NR) : undefined);
    if (after && !perTask) after(0, M, 0, Np);
  } else {
    const tasks = Math.min(tiles, T * TASKS_PER_THREAD);
    parallelFor(gemmId, tasks, (i, args) => {
      const m0 = chunkStart(i, tiles, tasks) * MR, m1 = Math.min(M, chunkStart(i + 1, tiles, tasks) * MR);
      args.set([a + m0 * lda, b, c + m0 * ldc, m1 - m0, panels, K, kb, lda, bStride, ldbk, ldc, bias, r]);
    }, after && ((i) => after(chunkStart(i, tiles, tasks) * MR, Math.min(M, chunkStart(i + 1, tiles, tasks) * MR), 0, Np)));
  }
}

/**
 * When the threads finish `n` units cut into min(n, T·TASKS_PER_THREAD) chunks (chunkStart's sizes, biggest first),
 * each claimed by the least loaded thread: the largest load, in units.
 */
function finish(n: number, T: number): number {
  const tasks = Math.min(n, T * TASKS_PER_THREAD), load = new Array<number>(T).fill(0);
  for (let i = 0; i < tasks; i++) {
    let t = 0;
    for (let j = 1; j < T; j++) if (load[j]! < load[t]!) t = j;
    load[t]! += chunkStart(i + 1, n, tasks) - chunkStart(i, n, tasks);
  }
  return Math.max(...load);
}

/**
 * Whether a threaded GEMM of M rows and `panels` panels splits by panels (else by MR-row tiles): the split whose
 * busiest thread has less to do, in multiply-adds. ResNet-18's last stage (512 rows, 7 panels) on 2 threads: panels
 * leave one thread 4 of 7 (8/7 of an even share), row tiles 64 of 128 (an even share).
 */
export function splitByPanels(M: number, panels: number, T: number): boolean {
  const tiles = Math.ceil(M / MR);
  if (panels < T || tiles < T) return panels >= T; // gemmThreads keeps T within the larger of the two
  if (forcedSplit) return forcedSplit === 'panels';
  return finish(panels, T) * M <= finish(tiles, T) * MR * panels;
}

/**
 * runPacked for `count` products of one shape (no bias, no relu), item i's A, B and C at the byte addresses `at(i)`,
 * one product per task of the thread pool: each runs as runPacked on one thread would run it. `after(i)` runs on
 * this thread once item i is done (parallelFor's `after`).
 */
export function runPackedEach(count: number, M: number, Np: number, K: number, at: (i: number) => [number, number, number], ldb = 0, after?: (i: number) => void): void {
  const gemmId = gemmKernel().id;
  const args = gemmArgs(M, Np, K, 0, 0, 0, false, ldb, 0);
  parallelFor(gemmId, count, (i, arg) => {
    arg.set(args);
    [arg[0], arg[1], arg[2]] = at(i);
  }, after);
}

/** The arguments of the module's `gemm` for runPacked's product (same parameters). */
function gemmArgs(M: number, Np: number, K: number, a: number, b: number, c: number, relu: boolean, ldb: number, bias: number): Parameters<GemmFn> {
  const [bStride, ldbk] = ldb ? [NR * 4, ldb * 4] : [K * NR * 4, NR * 4];
  const kb = Math.ceil(K / Math.ceil(K / KC)); // K split into equal blocks of at most KC (784 -> 4 x 196, not 3 x 256 + 16)
  return [a, b, c, M, Np / NR, K, kb, K * 4, bStride, ldbk, Np * 4, bias, relu ? 1 : 0];
}

/** Fill C [M, Np] at byte `c` row by row: row i with bias[bOff + i] (a per-row bias: conv2d's output channels). */
export function initRows(M: number, Np: number, c: number, bias: NumArray | null, bOff: number): void {
  const h = heapF32(), base = c >>> 2;
  for (let i = 0; i < M; i++) h.fill(bias ? bias[bOff + i]! : 0, base + i * Np, base + (i + 1) * Np);
}

/** Zero C [M, Np] at byte `c`. */
function initC(M: number, Np: number, c: number): void {
  const base = c >>> 2;
  heapF32().fill(0, base, base + M * Np);
}

/** Copy bias [N] (at bOff) to byte `dst` as a row of Np floats, zero-padded. */
function biasRow(bias: NumArray, bOff: number, N: number, Np: number, dst: number): void {
  const h = heapF32(), base = dst >>> 2;
  for (let j = 0; j < Np; j++) h[base + j] = j < N ? bias[bOff + j]! : 0;
}

/** Copy rows m0..m1, columns j0..j1 (those below N) of C [M, Np] at byte `c` into out [M, N] at oOff. */
export function copyBlock(Np: number, N: number, c: number, out: NumArray, oOff: number, m0: number, m1: number, j0: number, j1: number): void {
  const h = heapF32(), base = c >>> 2, j2 = Math.min(j1, N);
  if (j0 >= j2) return;
  if (j0 === 0 && j2 === Np) { out.set(h.subarray(base + m0 * Np, base + m1 * Np), oOff + m0 * N); return; }
  for (let i = m0; i < m1; i++) out.set(h.subarray(base + i * Np + j0, base + i * Np + j2), oOff + i * N + j0);
}

/** Copy C [M, Np] at byte `c` into out [M, N] at oOff, applying an activation other than relu / none. */
export function copyOut(M: number, N: number, Np: number, c: number, out: NumArray, oOff: number, activation: ActivationName): void {
  const h = heapF32(), base = c >>> 2;
  if (N === Np) out.set(h.subarray(base, base + M * N), oOff);
  else for (let i = 0; i < M; i++) out.set(h.subarray(base + i * Np, base + i * Np + N), oOff + i * N);
  if (activation === 'none' || activation === 'relu') return;
  if (WASM_UNARY.has(activation)) { unaryWasm(activation, out.subarray(oOff, oOff + M * N) as NumArray, out, oOff, M * N); return; } // as the separate op on the fast path
  const f = UNARY[activation].ref;
  for (let p = oOff, e = oOff + M * N; p < e; p++) out[p] = f(out[p]!, 0, 0);
}

// ---- packed weights, cached per weight storage ----

/** 'panels': W [N, K] packed as B panels (linear); 'rows': W [N, K] copied row-major, read as A (conv2d). */
type Layout = 'panels' | 'rows';
interface Panels { layout: Layout; offset: number; N: number; K: number; ptr: number; bytes: number }
const panelCache = new WeakMap<object, Panels[]>();
const collected = typeof FinalizationRegistry !== 'undefined' ? new FinalizationRegistry<Panels[]>((list) => freeList(list)) : null;

function freeList(list: Panels[]): void {
  for (const p of list) { wasmFree(p.ptr, p.bytes); trackCached(-p.bytes); }
  list.length = 0;
}

/** W [N, K] at `offset` in `data` in Wasm memory in `layout`, built on first use for storage `key`; its byte address. */
export function cachedWeight(key: object, layout: Layout, data: NumArray, offset: number, N: number, K: number): number {
  let list = panelCache.get(key);
  const hit = list?.find((p) => p.layout === layout && p.offset === offset && p.N === N && p.K === K);
  if (hit) return hit.ptr;
  const bytes = (layout === 'panels' ? Math.ceil(N / NR) * NR : N) * K * 4;
  const ptr = wasmAlloc(bytes);
  if (layout === 'panels') packB(data, offset, 1, K, K, N, ptr);
  else heapF32().set(data.subarray(offset, offset + N * K), ptr >>> 2);
  if (!list) { panelCache.set(key, (list = [])); collected?.register(key, list, key); }
  list.push({ layout, offset, N, K, ptr, bytes });
  trackCached(bytes);
  return ptr;
}

/** Free the panels packed from storage `key` (the backend calls this when it releases the storage). */
export function releasePanels(key: object): void {
  const list = panelCache.get(key);
  if (!list) return;
  freeList(list);
  panelCache.delete(key);
  collected?.unregister(key);
}

// ---- the kernels ----

/** linear: out [M, N] = act(x [M, K] · w [N, K]ᵀ + bias [N]); `wKey` is w's storage (the panel cache key). */
export function linearWasm(out: NumArray, x: NumArray, xOff: number, w: NumArray, wOff: number, wKey: object,
  bias: NumArray | null, bOff: number, M: number, N: number, K: number, activation: ActivationName): void {
  const Np = Math.ceil(N / NR) * NR;
  const wp = cachedWeight(wKey, 'panels', w, wOff, N, K);
  const aBytes = M * K * 4, cBytes = M * Np * 4, s = wasmScratch(aBytes + cBytes + Np * 4), pc = s + aBytes, pb = pc + cBytes;
  copyA(x, xOff, M, K, s);
  initC(M, Np, pc);
  if (bias) biasRow(bias, bOff, N, Np, pb);
  // C goes out block by block as the threads finish them (copyOut after: an activation runs on the whole output)
  const plain = activation === 'none' || activation === 'relu';
  runPacked(M, Np, K, s, wp, pc, activation === 'relu', 0, bias ? pb : 0, plain ? (m0, m1, j0, j1) => copyBlock(Np, N, pc, out, 0, m0, m1, j0, j1) : undefined);
  if (!plain) copyOut(M, N, Np, pc, out, 0, activation);
}

/**
 * matmul: out [Bt, M, N] = a [Ba, M, K] · b [Bb, K, N] (or [Bb, N, K] with transB); Ba, Bb are 1 (broadcast) or Bt.
 * b [K, N] is copied as it is and read in place; b [N, K] (transB) is packed into panels per call.
 */
export function matmulWasm(out: NumArray, a: NumArray, aOff: number, Ba: number, b: NumArray, bOff: number, Bb: number, transB: boolean,
  Bt: number, M: number, N: number, K: number): void {
  const Np = Math.ceil(N / NR) * NR;
  const aBytes = M * K * 4, bBytes = (transB ? Np * K * 4 : K * N * 4) + 64;
  if (batchThreads(Bt, M, Np, K) > 1) {
    // a batch of small GEMMs (attention's heads): every item's operands in memory at once, one item per task
    const na = Ba > 1 ? Bt : 1, nb = Bb > 1 ? Bt : 1, cBytes = M * Np * 4;
    const s = wasmScratch(na * aBytes + nb * bBytes + Bt * cBytes), pb = s + na * aBytes, pc = pb + nb * bBytes;
    copyA(a, aOff, na * M, K, s); // items are contiguous: one copy
    for (let t = 0; t < nb; t++) {
      const bo = bOff + t * K * N;
      if (transB) packB(b, bo, 1, K, K, N, pb + t * bBytes);
      else heapF32().set(b.subarray(bo, bo + K * N), (pb + t * bBytes) >>> 2);
    }
    initC(Bt * M, Np, pc);
    runPackedEach(Bt, M, Np, K, (t) => [s + (Ba > 1 ? t * aBytes : 0), pb + (Bb > 1 ? t * bBytes : 0), pc + t * cBytes], transB ? 0 : N,
      (t) => copyOut(M, N, Np, pc + t * cBytes, out, t * M * N, 'none')); // each item goes out as soon as it is done
    return;
  }
  const s = wasmScratch(aBytes + bBytes + M * Np * 4);
  const pa = s, pb = s + aBytes, pc = pb + bBytes;
  for (let t = 0; t < Bt; t++) {
    if (t === 0 || Ba > 1) copyA(a, aOff + (Ba > 1 ? t * M * K : 0), M, K, pa);
    const bo = bOff + (Bb > 1 ? t * K * N : 0);
    if (t === 0 || Bb > 1) {
      if (transB) packB(b, bo, 1, K, K, N, pb);
      else heapF32().set(b.subarray(bo, bo + K * N), pb >>> 2);
    }
    initC(M, Np, pc);
    runPacked(M, Np, K, pa, pb, pc, false, transB ? 0 : N, 0, (m0, m1, j0, j1) => copyBlock(Np, N, pc, out, t * M * N, m0, m1, j0, j1));
  }
}

/** The steps of linearWasm on their own, for the benchmark that measures copying against computing. */
export const gemmSteps = { copyA, packB, initC, biasRow, runPacked, copyOut };
