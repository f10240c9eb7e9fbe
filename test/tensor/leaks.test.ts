// Memory counters that survive the garbage collector: tensors collected without dispose() stop counting as live
// (CPU: counts only; WebGPU: the buffer goes back to the pool) and are counted as leaked, with their creation sites
// when allocation tracking is on. Each case runs in a child `node --expose-gc` (test/tensor/leaks-child.ts).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { webgpu } from '../webgpu.js';

interface Result {
  liveBefore: number; liveBeforeGc: number; liveAfter: number; liveBytesBefore: number; liveBytesAfter: number;
  pooledAfter: number; leakedBefore: number; leakedAfter: number; leakedBytesAfter: number;
  report: { leaked: number; buffers: number; byBackend: Record<string, number>; tracking: boolean; sites: { site: string; count: number }[] };
}

async function child(scenario: string, n: number, env: Record<string, string> = {}): Promise<Result> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', './test/wgsl-hook.mjs', 'test/tensor/leaks-child.ts', scenario, String(n)], {
    env: { ...process.env, FORWARDPASS_DEBUG_LEAKS: '', ...env }, timeout: 100_000,
  });
  return JSON.parse(stdout) as Result;
}

describe('memory counters and the garbage collector', () => {
  it('10,000 undisposed forward passes: live counts return to where they were after gc, and 10,000 are reported leaked', async () => {
    const r = await child('leaky', 10_000);
    expect(r.liveBeforeGc - r.liveBefore, 'counted as live until collected').toBe(10_000);
    expect(r.liveAfter).toBe(r.liveBefore);
    expect(r.liveBytesAfter).toBe(r.liveBytesBefore);
    expect([r.leakedBefore, r.report.tracking, r.report.sites]).toEqual([0, false, []]);
    expect(r.leakedAfter).toBeGreaterThanOrEqual(9_990);
    expect(r.leakedAfter).toBeLessThanOrEqual(10_000);
    // one [1, 10] float32 logits tensor per pass: one buffer, 40 bytes
    expect(r.leakedBytesAfter).toBe(r.leakedAfter * 40);
    expect(r.liveAfter + r.leakedAfter, 'live + leaked does not move with the collector').toBe(r.liveBeforeGc);
    expect([r.report.leaked, r.report.buffers]).toEqual([r.leakedAfter, r.leakedAfter]);
    expect(r.report.byBackend).toEqual({ cpu: r.leakedAfter });
  }, 120_000);

  it('disposed forward passes leak nothing', async () => {
    const r = await child('disposed', 10_000);
    expect([r.liveBeforeGc, r.liveAfter, r.leakedAfter, r.report.leaked]).toEqual([r.liveBefore, r.liveBefore, 0, 0]);
  }, 120_000);

  it('with setDebug({ trackAllocations: true }) or FORWARDPASS_DEBUG_LEAKS=1 the report names where the leaked tensors were made', async () => {
    for (const [scenario, env] of [['debug', {}], ['leaky', { FORWARDPASS_DEBUG_LEAKS: '1' }]] as const) {
      const r = await child(scenario, 300, env);
      expect(r.report.tracking, scenario).toBe(true);
      expect(r.report.leaked).toBe(300);
      expect(r.report.sites.length).toBe(1);
      expect(r.report.sites[0]!.count).toBe(300);
      expect(r.report.sites[0]!.site).toMatch(/^at Linear\.forward \(.*src\/nn\/linear\.ts:\d+:\d+\)\n/);
      expect(r.report.sites[0]!.site).toMatch(/leakyForwardLoop \(.*test\/tensor\/leaks-child\.ts:\d+:\d+\)/);
    }
  }, 120_000);

  it.skipIf(!webgpu.gpu)('WebGPU: buffers of collected tensors go back to the pool and stop counting as live', async () => {
    const r = await child('webgpu', 1_000);
    expect(r.liveBeforeGc - r.liveBefore).toBe(1_000);
    expect(r.liveAfter).toBe(r.liveBefore);
    expect(r.liveBytesAfter).toBe(r.liveBytesBefore);
    expect(r.liveAfter + r.leakedAfter).toBe(r.liveBeforeGc);
    expect(r.pooledAfter).toBeGreaterThanOrEqual(1_000);
    expect(r.report.byBackend).toEqual({ webgpu: r.leakedAfter });
    expect(r.leakedAfter).toBeGreaterThanOrEqual(990);
  }, 120_000);
});
