// The CPU fast path's worker threads in headless Chromium, from the built bundle: served cross-origin isolated
// (COOP/COEP headers) the page gets shared memory and Web Workers, and its large matmul and conv2d split across
// 2 threads with the same bits as one; served without, it runs one thread (no SharedArrayBuffer), same bits too.
// Chromium has relaxed SIMD (since 114): the GEMM that runs is the relaxed one, and switched off the plain one.
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

interface PageResult {
  isolated: boolean; sharedArrayBuffer: boolean; fastPath: boolean; defaultThreads: number; variants: string[]; same: boolean; error?: string;
  userAgent: string; features: { simd128: boolean; relaxedSimd: boolean }; relaxed: boolean; plainVariants: string[]; plainDiff: number;
}

/**
 * Relaxed SIMD: Chromium ships it from version 114, so there the GEMM must be the relaxed one (wasm-relaxed-4x8);
 * switched off, the plain one (wasm-simd-4x8), and the two matmuls [128, 300] · [300, 256] (inputs in [0, 1)) agree
 * within twice the GEMM bound (K + 2)·2⁻²⁴·Σ|a·b| ≤ (K + 2)·2⁻²⁴·K each, relaxed_madd fused or not.
 */
function expectRelaxed(r: PageResult): string {
  const chrome = Number(/Chrom(?:e|ium)\/(\d+)/.exec(r.userAgent)?.[1] ?? 0);
  expect(chrome, r.userAgent).toBeGreaterThan(0);
  if (chrome >= 114) expect(r.features.relaxedSimd).toBe(true);
  expect(r.relaxed).toBe(r.features.relaxedSimd);
  expect(r.plainVariants).toEqual([`matmul-wasm-simd-4x8${r.isolated ? '-threads2' : ''}`]);
  const K = 300;
  expect(r.plainDiff).toBeGreaterThanOrEqual(0);
  expect(r.plainDiff).toBeLessThanOrEqual(2 * (K + 2) * 2 ** -24 * K);
  return r.relaxed ? 'relaxed' : 'simd';
}

const runPage = (base: string): Promise<PageResult> => pageResult<PageResult>(`${base}/test/browser/threads.html`, 120_000);

describe.skipIf(!haveChromium)('worker threads in headless Chromium', () => {
  it('cross-origin isolated: shared memory, matmul and conv2d on 2 threads, bit for bit one thread\'s result', async () => {
    const r = await runPage(isolated!.base);
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ isolated: true, sharedArrayBuffer: true, fastPath: true, same: true });
    expect(r.defaultThreads).toBeGreaterThanOrEqual(1); // navigator.hardwareConcurrency
    const kind = expectRelaxed(r);
    expect(r.variants.sort()).toEqual([`conv2d-wasm-${kind}-4x8-threads2`, `matmul-wasm-${kind}-4x8-threads2`]);
  }, 180_000);

  it('not isolated: no SharedArrayBuffer, so one thread (no -threads variant), same results', async () => {
    const r = await runPage(plain!.base);
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ isolated: false, sharedArrayBuffer: false, fastPath: true, same: true });
    const kind = expectRelaxed(r);
    expect(r.variants.sort()).toEqual([`conv2d-wasm-${kind}-4x8`, `matmul-wasm-${kind}-4x8`]);
  }, 180_000);
});
