// Shared pieces of the headless-Chromium tests: where Debian's chromium is, whether the tests must run (WebGPU
// required), and the flags that give it WebGPU on SwiftShader.
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
export const REQUIRED = process.env.FORWARDPASS_REQUIRE_WEBGPU === '1';
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && REQUIRED) throw new Error(`forwardpass tests: ${CHROMIUM} is missing (apt-get install chromium); the browser tests are required here`);
if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install chromium)`);

export const FLAGS = [
  '--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader', '--enable-unsafe-swiftshader', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Open `url` in a fresh headless Chromium, wait (up to `timeoutMs`) for the page to set `window.__result`, and
 * return it; page errors are appended to its `error` field. The browser is closed either way.
 */
export async function pageResult<T extends { error?: string }>(url: string, timeoutMs: number): Promise<T> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, null, { timeout: timeoutMs });
    const result = (await page.evaluate(() => (window as unknown as { __result: unknown }).__result)) as T;
    if (errors.length) result.error = `${result.error ?? ''} ${errors.join('; ')}`;
    return result;
  } finally {
    await browser.close();
  }
}
