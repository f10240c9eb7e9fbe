// How tensors meet Wasm memory: CPU storage stays in ordinary typed arrays; heavy ops copy activations into one
// WebAssembly.Memory (a reused scratch block) and read cached packed weights from blocks allocated in it.
// A first-fit free list with coalescing manages the blocks; memory only grows, so its size is reported as pooled.
// The memory is shared (a SharedArrayBuffer underneath) wherever the runtime allows it, so that worker threads
// (threads.ts) can run kernels on it; only this thread allocates and grows it.

import type { NumArray } from '../types.js';

const PAGE = 65536;
const ALIGN = 64;
/** The most pages a 32-bit Wasm memory can have (4 GiB); a shared memory must declare its maximum up front. */
export const WASM_MAX_PAGES = 65536;

/** Thrown when the Wasm memory cannot grow to fit a block; the caller falls back to the typed-array kernel. */
export class WasmOutOfMemory extends Error {
  constructor(bytes: number) {
    super(`forwardpass: the CPU fast path's WebAssembly memory cannot grow by ${bytes} bytes`);
  }
}

let memory: WebAssembly.Memory | null = null;
let top = ALIGN; // address 0..ALIGN stays unused so that 0 can mean "none"
const free: { off: number; size: number }[] = []; // sorted by offset, never adjacent (coalesced)
let cachedBytes = 0;

let shared: boolean | null = null;

/**
 * Whether the fast path's memory is a shared WebAssembly.Memory: where SharedArrayBuffer exists (Node; a browser
 * page only when cross-origin isolated) and a shared memory can be made. Decided once, before any kernel module is
 * emitted: every module's memory import must declare the same sharedness (the assembler asks this function).
 */
export function wasmMemoryShared(): boolean {
  if (shared === null) {
    shared = false;
    if (typeof SharedArrayBuffer !== 'undefined' && typeof Atomics !== 'undefined' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false) {
      try {
        shared = new WebAssembly.Memory({ initial: 1, maximum: WASM_MAX_PAGES, shared: true }).buffer instanceof SharedArrayBuffer;
      } catch {
        shared = false; // e.g. a 32-bit browser that cannot reserve 4 GiB: one thread on a plain memory
      }
    }
  }
  return shared;
}

/** The fast path's memory (created on first use): shared with a 4 GiB maximum where wasmMemoryShared(), else plain. */
export function wasmMemory(): WebAssembly.Memory {
  if (!memory) memory = wasmMemoryShared() ? new WebAssembly.Memory({ initial: 16, maximum: WASM_MAX_PAGES, shared: true }) : new WebAssembly.Memory({ initial: 16 });
  return memory;
}

/** Counts the memory's growths; only wasmAlloc grows it (no kernel runs memory.grow), so equal counts mean the same buffer. */
let grown = 0;

/**
 * A view of one element type over the whole memory, re-derived after growth: growth detaches a plain memory's old
 * buffer, and gives a shared memory a new, longer SharedArrayBuffer (old views stay valid but short). The check is a
 * counter, not `memory.buffer`, whose getter cost ~40 ns on every small op.
 */
function heapView<T>(make: (buffer: ArrayBufferLike) => T): () => T {
  let view: T | null = null, at = -1;
  return () => {
    if (view === null || at !== grown) { view = make(wasmMemory().buffer); at = grown; }
    return view;
  };
}

/** A Float32Array over the whole memory (heapView). */
export const heapF32 = heapView((b) => new Float32Array(b));
/** heapF32's Int32Array twin (for int32 tensors, copied as integers). */
export const heapI32 = heapView((b) => new Int32Array(b));
/** heapF32's Int8Array twin (int8 activations staged for the int8 GEMMs). */
export const heapI8 = heapView((b) => new Int8Array(b));
/** heapF32's Int16Array twin (int8 activations widened on the way in). */
export const heapI16 = heapView((b) => new Int16Array(b));
/** heapF32's Float64Array twin (float64 accumulators read back). */
export const heapF64 = heapView((b) => new Float64Array(b));

/** Allocate `bytes` (rounded up to 64) and return the byte address; grows the memory when no free block fits. */
export function wasmAlloc(bytes: number): number {
  const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  for (let i = 0; i < free.length; i++) {
    const b = free[i]!;
    if (b.size < size) continue;
    const off = b.off;
    if (b.size === size) free.splice(i, 1);
    else { b.off += size; b.size -= size; }
    return off;
  }
  const off = top;
  top += size;
  const mem = wasmMemory();
  if (top > mem.buffer.byteLength) {
    const pages = Math.ceil((top - mem.buffer.byteLength) / PAGE);
    grown++;
    try {
      mem.grow(Math.max(pages, mem.buffer.byteLength / PAGE / 4) | 0);
    } catch {
      try {
        mem.grow(pages);
      } catch {
        top -= size;
        throw new WasmOutOfMemory(bytes);
      }
    }
  }
  return off;
}

/** Give back a block from wasmAlloc (same `bytes`). */
export function wasmFree(off: number, bytes: number): void {
  const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  let i = 0;
  while (i < free.length && free[i]!.off < off) i++;
  free.splice(i, 0, { off, size });
  if (i + 1 < free.length && free[i]!.off + free[i]!.size === free[i + 1]!.off) { free[i]!.size += free[i + 1]!.size; free.splice(i + 1, 1); }
  if (i > 0 && free[i - 1]!.off + free[i - 1]!.size === free[i]!.off) { free[i - 1]!.size += free[i]!.size; free.splice(i, 1); i--; }
  const last = free[free.length - 1];
  if (last && last.off + last.size === top) { top = last.off; free.pop(); }
}

let scratchOff = 0, scratchSize = 0;

/** A scratch block of at least `bytes` for one op's activations (reused by the next op; grows by doubling). */
export function wasmScratch(bytes: number): number {
  if (bytes <= scratchSize) return scratchOff;
  const size = Math.max(bytes, scratchSize * 2);
  if (scratchSize) wasmFree(scratchOff, scratchSize);
  scratchSize = 0;
  try {
    scratchOff = wasmAlloc(size);
  } catch {
    scratchOff = wasmAlloc(bytes); // doubling did not fit: exactly what this op needs (throws WasmOutOfMemory if not)
    scratchSize = bytes;
    return scratchOff;
  }
  scratchSize = size;
  return scratchOff;
}

/** Count bytes of long-lived cached blocks (packed weights), for memory(). */
export function trackCached(delta: number): void {
  cachedBytes += delta;
}

/** Memory the fast path holds: packed weight caches, and the rest of the Wasm memory (scratch and free space). */
export function wasmMemoryInfo(): { cacheBytes: number; pooledBytes: number } {
  const total = memory ? memory.buffer.byteLength : 0;
  return { cacheBytes: cachedBytes, pooledBytes: total - cachedBytes };
}

/** Bytes in use at the top of the heap (allocated and free-but-not-trailing), for leak tests. */
export function wasmHeapTop(): number {
  return top;
}

/** Copies of fewer elements than this use a plain loop: TypedArray.set needs a subarray object per call, which cost
 * more than the copy itself for the small tensors of batch-1 models (17% of a replayed chain of tiny ops). */
const SMALL_COPY = 64;

/** heap[at .. at + n) = src[from .. from + n), converting as TypedArray.set does. */
export function toHeap(heap: Float32Array | Int32Array, at: number, src: NumArray, from: number, n: number): void {
  if (n < SMALL_COPY) for (let i = 0; i < n; i++) heap[at + i] = src[from + i]!;
  else heap.set(src.subarray(from, from + n) as never, at);
}

/** dst[0 .. n) = heap[at .. at + n), converting as TypedArray.set does. */
export function fromHeap(dst: NumArray, heap: Float32Array | Int32Array, at: number, n: number): void {
  if (n < SMALL_COPY) for (let i = 0; i < n; i++) dst[i] = heap[at + i]!;
  else dst.set(heap.subarray(at, at + n) as never);
}
