// The CPU fast path's worker threads in headless Chromium, from the built bundle: served cross-origin isolated
// (COOP/COEP headers) the page gets shared memory and Web Workers, and its large matmul and conv2d split across
// 2 threads with the same bits as one; served without, it runs one thread (no SharedArrayBuffer), same bits too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundles } from '../bundle.js';
import { haveChromium, pageResult } from './chromium.js';
import { ISOLATION_HEADERS, serveStatic } from './static-server.js';

type Server = Awaited<ReturnType<typeof serveStatic>>;
let isolated: Server | null = null, plain: Server | null = null;

beforeAll(async () => {
  if (!haveChromium) return;
  const dist = buildBundles();
  isolated = await serveStatic(dist, ISOLATION_HEADERS);
  plain = await serveStatic(dist);
}, 120_000);
afterAll(async () => { await isolated?.close(); await plain?.close(); });

interface PageResult { isolated: boolean; sharedArrayBuffer: boolean; fastPath: boolean; defaultThreads: number; variants: string[]; same: boolean; error?: string }

const runPage = (base: string): Promise<PageResult> => pageResult<PageResult>(`${base}/test/browser/threads.html`, 120_000);

describe.skipIf(!haveChromium)('worker threads in headless Chromium', () => {
  it('cross-origin isolated: shared memory, matmul and conv2d on 2 threads, bit for bit one thread\'s result', async () => {
    const r = await runPage(isolated!.base);
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ isolated: true, sharedArrayBuffer: true, fastPath: true, same: true });
    expect(r.defaultThreads).toBeGreaterThanOrEqual(1); // navigator.hardwareConcurrency
    expect(r.variants.sort()).toEqual(['conv2d-wasm-simd-4x8-threads2', 'matmul-wasm-simd-4x8-threads2']);
  }, 180_000);

  it('not isolated: no SharedArrayBuffer, so one thread (no -threads variant), same results', async () => {
    const r = await runPage(plain!.base);
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ isolated: false, sharedArrayBuffer: false, fastPath: true, same: true });
    expect(r.variants.sort()).toEqual(['conv2d-wasm-simd-4x8', 'matmul-wasm-simd-4x8']);
  }, 180_000);
});
