// The CPU fast path's worker threads in headless Chromium, from the built bundle: served cross-origin isolated
// (COOP/COEP headers) the page gets shared memory and Web Workers, and its large matmul and conv2d split across
// 2 threads with the same bits as one; served without, it runs one thread (no SharedArrayBuffer), same bits too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundles } from '../bundle.js';
import { CHROMIUM, FLAGS, haveChromium } from './chromium.js';
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

async function runPage(base: string): Promise<PageResult> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/test/browser/threads.html`);
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, null, { timeout: 120_000 });
    const result = (await page.evaluate(() => (window as unknown as { __result: unknown }).__result)) as PageResult;
    if (errors.length) result.error = `${result.error ?? ''} ${errors.join('; ')}`;
    return result;
  } finally {
    await browser.close();
  }
}

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
