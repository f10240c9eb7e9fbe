// The bench's peak-heap figure measures the call, not the garbage around it: a garbage collection during the warm-up
// call used to free older garbage and floor the figure at 0 B. Garbage is made right before each measured call here.
import { describe, expect, it } from 'vitest';
import { benchModel, forwardpassRunner, readModelConfig, type ModelRunner, type Timer } from '../../src/cli/bench-models.js';
import { collectGarbage, startHeapPeak } from '../../src/cli/bench-heap.js';
import { batchInputs } from '../../src/cli/bench-inputs.js';
import { timeCalls } from '../../src/cli/bench-stats.js';
import { fixturePath } from '../helpers.js';

const timer: Timer = (_name, fn, budget) => timeCalls(fn, budget);
const options = { budget: { warmupCalls: 0, timeMs: 1, minSamples: 1, maxSamples: 1 }, rounds: 1, callLimitMs: 60_000, timer };
/** 64 MB that is garbage by the time the next call starts. */
const makeGarbage = (): number => Array.from({ length: 64 }, () => new Float32Array(250_000)).length;

/** A peer-like runner (no peak hook) whose call keeps `bytes` alive in its output and collects garbage midway. */
function allocatingRunner(bytes: number): ModelRunner {
  return {
    name: 'alloc', engine: 'test', backend: 'cpu', precision: 'f32', readback: null, weightBytes: null, loadMs: 0,
    bind: async () => ({
      call: async () => { makeGarbage(); collectGarbage(); return new Float32Array(bytes / 4); },
      dispose: () => {},
    }),
    dispose: () => {},
  };
}

describe('bench peak heap', () => {
  it('can force a garbage collection', () => {
    expect(collectGarbage()).toBe(true);
  });

  it('counts what a call keeps, even when the call collects garbage made before it', async () => {
    makeGarbage();
    const r = await benchModel('synthetic', async () => { makeGarbage(); return {}; }, [allocatingRunner(4_000_000)], { ...options, batches: [1, 2] });
    expect(r.rows).toHaveLength(2);
    for (const row of r.rows) {
      // the output's 4 MB, less what the call's own full collection frees of the test runner's objects (seen: 360 KB)
      expect(row.peakHeapBytes, row.key).toBeGreaterThan(3_000_000);
      expect(row.peakHeapBytes, row.key).toBeLessThan(8_000_000);
    }
  });

  it('is never 0 B for forwardpass on cnn-mnist, and holds at least the live tensors the backend counted', async () => {
    const dir = fixturePath('cnn-mnist');
    const config = readModelConfig(dir);
    const runners = [await forwardpassRunner(dir, 'cpu', 'f32'), await forwardpassRunner(dir, 'cpu', 'int8')];
    const r = await benchModel('cnn-mnist', async (B) => { const { inputs } = await batchInputs(dir, config, B); makeGarbage(); return inputs; }, runners, { ...options, batches: [1, 4] });
    for (const x of runners) x.dispose();
    expect(r.rows).toHaveLength(4);
    for (const row of r.rows) {
      expect(row.backendLiveBytes, row.key).toBeGreaterThan(0);
      // 64 KiB of slack for objects alive at the start that a collection during the call frees
      expect(row.peakHeapBytes, row.key).toBeGreaterThan(Math.max(0, row.backendLiveBytes! - 65_536));
    }
  });

  it('samples after every op: a tensor freed before the call ends still counts', async () => {
    const fp = await import('../../src/index.js');
    const heap = startHeapPeak();
    const big = fp.zeros([1_000_000]);
    const y = fp.sum(big);
    big.dispose();
    const grown = heap.stop();
    y.dispose();
    expect(grown).toBeGreaterThanOrEqual(4_000_000);
  });
});
