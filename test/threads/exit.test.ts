// A process that used worker threads exits by itself (the workers never keep it alive), FORWARDPASS_THREADS sets the
// thread count at start and a bad value is one clear error; each child is bounded by a timeout, so a hang fails.
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import * as fp from '../../src/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const fast = fp.cpuFastPathEnabled();

function child(env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/wgsl-hook.mjs', 'test/threads/exit-script.ts'], {
    cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000,
  });
  return { status: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

describe('worker threads and the process', () => {
  test('FORWARDPASS_THREADS=3: the GEMMs split across 3 threads, the workers ran tasks, and the process exits 0 by itself', () => {
    const r = child({ FORWARDPASS_THREADS: '3' });
    expect(r.signal, r.err).toBeNull(); // not killed by the timeout
    expect(r.status, r.err).toBe(0);
    const seen = JSON.parse(r.out.trim()) as { threads: number; variant: string; workers: number; ready: number; tasksOnWorkers: number };
    expect(seen.threads).toBe(3);
    if (fast) {
      expect(seen).toMatchObject({ workers: 2, ready: 2 });
      expect(seen.variant).toMatch(/^matmul-wasm-(simd|relaxed)-4x8-threads3$/); // relaxed where the runtime has relaxed SIMD
      expect(seen.tasksOnWorkers).toBeGreaterThan(0);
    } else expect(seen).toMatchObject({ variant: '', workers: 0 }); // FORWARDPASS_WASM=0: no fast path, no workers
  });

  test('FORWARDPASS_WASM=0 with FORWARDPASS_THREADS=2: the fast path is off, threads included', () => {
    const r = child({ FORWARDPASS_THREADS: '2', FORWARDPASS_WASM: '0' });
    expect(r.status, r.err).toBe(0);
    expect(JSON.parse(r.out.trim())).toMatchObject({ threads: 2, variant: '', workers: 0, tasksOnWorkers: 0 });
  });

  test('FORWARDPASS_THREADS=many: one clear error naming the variable and the value', () => {
    const r = child({ FORWARDPASS_THREADS: 'many' });
    expect(r.signal).toBeNull();
    expect(r.status).not.toBe(0);
    expect(r.err).toContain('forwardpass: FORWARDPASS_THREADS: expected a whole number of threads from 1 to 256, got "many"');
  });
});
