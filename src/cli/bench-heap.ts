// The bench's peak-heap figure: growth of V8 heap + array buffers during one call, from a garbage-collected start,
// sampled after every forwardpass op and when the call's output is read (its intermediates still alive).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { addOpHook } from '../ops/dispatch.js';

const heapBytes = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };

let gc: (() => void) | null | undefined;

/**
 * A full garbage collection (node --expose-gc's `gc`, made available on first use), so the baseline holds live
 * objects only. Without it a collection during the call frees older garbage and the difference reads 0 B or less.
 * Returns false where no collection could be forced.
 */
export function collectGarbage(): boolean {
  if (gc === undefined) {
    gc = (globalThis as { gc?: () => void }).gc ?? null;
    if (!gc) {
      try {
        setFlagsFromString('--expose-gc');
        gc = runInNewContext('gc') as () => void;
      } catch {
        gc = null;
      }
    }
  }
  // twice: array buffers freed by the first collection are still counted in memoryUsage().arrayBuffers until the
  // next one (measured in Node 20: 40 MB of dead Float32Arrays still counted after one gc(), 0 after two)
  gc?.();
  gc?.();
  return gc !== null;
}

/** Measures one call: `sample()` when memory may peak; `stop()` ends it and returns the peak growth in bytes (>= 0). */
export interface HeapPeak {
  sample(): void;
  stop(): number;
}

/**
 * Start measuring: collect garbage, take the baseline, and sample after every op dispatched until `stop()`.
 * @example const h = startHeapPeak(); await model.run(x); h.sample(); const bytes = h.stop();
 */
export function startHeapPeak(): HeapPeak {
  collectGarbage();
  const base = heapBytes();
  let peak = base;
  const sample = () => { const h = heapBytes(); if (h > peak) peak = h; };
  const off = addOpHook(sample);
  return { sample, stop: () => { off(); return peak - base; } };
}
