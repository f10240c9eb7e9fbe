// The built bundle in a real browser: Debian's Chromium, headless, driven by playwright-core, with WebGPU on
// SwiftShader. The page (test/browser/page.js) runs every fixture model's io cases on the CPU and WebGPU backends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundles } from '../bundle.js';
import { haveChromium, pageResult } from './chromium.js';
import { serveStatic } from './static-server.js';

let server: { base: string; close: () => Promise<void> } | null = null;
let base = '';

beforeAll(async () => {
  if (haveChromium) ({ base } = server = await serveStatic(buildBundles()));
}, 120_000);
afterAll(() => server?.close());

interface PageResult { adapter: { description: string; isSoftware: boolean } | null; cases: { model: string; backend: string; case: string; maxDiff: number }[]; error?: string }

const runPage = (query: string): Promise<PageResult> => pageResult<PageResult>(`${base}/test/browser/index.html?${query}`, 240_000);

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
