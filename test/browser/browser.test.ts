// The built bundle in a real browser: Debian's Chromium, headless, driven by playwright-core, with WebGPU on
// SwiftShader. The page (test/browser/page.js) runs every fixture model's io cases on the CPU and WebGPU backends.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundles, ROOT } from '../bundle.js';
import { CHROMIUM, FLAGS, haveChromium } from './chromium.js';

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.json': 'application/json', '.map': 'application/json' };

let server: Server;
let base = '';

/** Serve /dist/* from the fresh build and everything else from the repository, on 127.0.0.1 only. */
function serve(dist: string): Promise<void> {
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = path.startsWith('/dist/') ? join(dist, path.slice(6)) : join(ROOT, path);
    if (!file.startsWith(dist) && !file.startsWith(ROOT)) { res.writeHead(403).end(); return; }
    if (!existsSync(file) || !statSync(file).isFile()) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => { base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`; r(); }));
}

beforeAll(async () => {
  if (haveChromium) await serve(buildBundles());
}, 120_000);
afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

interface PageResult { adapter: { description: string; isSoftware: boolean } | null; cases: { model: string; backend: string; case: string; maxDiff: number }[]; error?: string }

async function runPage(query: string): Promise<PageResult> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/test/browser/index.html?${query}`);
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, null, { timeout: 240_000 });
    const result = (await page.evaluate(() => (window as unknown as { __result: unknown }).__result)) as PageResult;
    if (errors.length) result.error = `${result.error ?? ''} ${errors.join('; ')}`;
    return result;
  } finally {
    await browser.close();
  }
}

describe.skipIf(!haveChromium)('in headless Chromium, from the built bundle', () => {
  it('every fixture model matches PyTorch on the CPU (1e-4) and WebGPU (1e-3) backends', async () => {
    const r = await runPage('backends=cpu,webgpu');
    expect(r.error).toBeUndefined();
    expect(r.adapter).not.toBeNull(); // browsers may blank the adapter's names; its presence is what counts
    const byBackend = (b: string) => r.cases.filter((c) => c.backend === b);
    expect(byBackend('cpu').length).toBe(17);
    expect(byBackend('webgpu').length).toBe(17);
    for (const c of byBackend('cpu')) expect(c.maxDiff, `${c.model} ${c.case} cpu`).toBeLessThan(1e-4);
    for (const c of byBackend('webgpu')) expect(c.maxDiff, `${c.model} ${c.case} webgpu`).toBeLessThan(1e-3);
  }, 300_000);
});
