// The step-through page end to end in headless Chromium (built with tsup, served by `forwardpass serve`'s server):
// on the CPU and WebGPU backends, draw a digit with mouse events, trace, step, and check the prediction against the
// library in Node on the same preprocessed input; tiny-gpt's attention maps; the int8 divergence table; readable
// errors in the page. Screenshots of the heatmap and attention canvases are decoded and must show a picture.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fp from '../../src/node.js';
import { startServer, type WebServer } from '../../src/cli/serve.js';
import { buildBundles } from '../bundle.js';
import { fixturePath } from '../helpers.js';
import { CHROMIUM, FLAGS, haveChromium, REQUIRED } from './chromium.js';
import { decodePng, pictureContent } from './png.js';

interface PageState {
  status: string; webgpu: boolean; input: number[] | null; prediction: { index: number; label: string; p: number }[] | null;
  ops: number; done: boolean; current: number; divergence: { rows: number; diverged: number } | null; error: string | null;
  timerResolution: number; isolated: boolean; legend: string[];
}

let server: WebServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!haveChromium) return;
  const out = buildBundles();
  server = await startServer({ port: 0, web: join(out, 'web'), lib: out, models: fixturePath() });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const pageState = (page: Page) => page.evaluate(() => (window as unknown as { fpPage: PageState }).fpPage) as Promise<PageState>;

/** Wait until the page's action queue settles (ready or error). */
async function settled(page: Page): Promise<PageState> {
  await page.waitForFunction(() => ['ready', 'error'].includes((window as unknown as { fpPage?: PageState }).fpPage?.status ?? ''), null, { timeout: 120_000 });
  return pageState(page);
}

async function open(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(server!.url);
  const s = await settled(page);
  expect(s.error).toBeNull();
  return { page, errors };
}

async function choose(page: Page, id: string, value: string): Promise<PageState> {
  await page.selectOption(`#${id}`, value);
  const s = await settled(page);
  expect(s.error, `${id}=${value}`).toBeNull();
  return s;
}

/** A "7" drawn with mouse events: a bar across the top, then a stroke down to the lower left. */
async function drawSeven(page: Page): Promise<void> {
  const box = (await page.locator('#pad').boundingBox())!;
  const at = (x: number, y: number) => [box.x + x * box.width, box.y + y * box.height] as const;
  await page.mouse.move(...at(0.28, 0.22));
  await page.mouse.down();
  await page.mouse.move(...at(0.72, 0.22), { steps: 8 });
  await page.mouse.move(...at(0.42, 0.82), { steps: 12 });
  await page.mouse.up();
}

async function click(page: Page, id: string): Promise<PageState> {
  await page.click(`#${id}`);
  return settled(page);
}

/** Decoded screenshot of an element: distinct colours and grey-level variance. */
async function shot(page: Page, selector: string) {
  return pictureContent(decodePng(await page.locator(selector).screenshot()));
}

/** Significant digits of a time as the page prints it ('0.045' -> 2, '<0.0050' -> 2, '12.3' -> 3). */
function significant(text: string): number {
  const digits = text.replace(/^</, '').replace('.', '').replace(/^0+/, '');
  return /^\d+$/.test(digits) ? digits.length : 0;
}

/** Every per-op time on the page (ops table and the op panel) shows at least 2 significant digits. */
async function expectTimesReadable(page: Page): Promise<void> {
  const cells = await page.locator('#ops td.ms').allTextContents();
  expect(cells.length).toBeGreaterThan(0);
  for (const c of cells) expect(significant(c), `ops table time '${c}'`).toBeGreaterThanOrEqual(2);
  const time = /time(\S+) ms/.exec((await page.locator('#detail').textContent()) ?? '')?.[1] ?? '';
  expect(significant(time), `op panel time '${time}'`).toBeGreaterThanOrEqual(2);
}

/** The model's argmax in Node (CPU) on the page's preprocessed input. */
async function nodeArgmax(name: string, input: number[], shape: number[], dtype: 'float32' | 'int32' = 'float32'): Promise<{ index: number; probs: number[] }> {
  const model = await fp.loadModel(fixturePath(name));
  const x = fp.tensor(dtype === 'int32' ? Int32Array.from(input) : Float32Array.from(input), { shape, dtype });
  const out = model.run({ [model.inputNames[0]!]: x });
  const all = Array.from(await out[model.outputNames[0]!]!.data());
  const row = all.slice(all.length - (name === 'tiny-gpt' ? 80 : 10));
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const z = e.reduce((a, v) => a + v, 0);
  model.dispose();
  return { index: row.indexOf(m), probs: e.map((v) => v / z) };
}

for (const backend of ['cpu', 'webgpu'] as const) {
  describe.skipIf(!haveChromium)(`the step-through page on ${backend}`, () => {
    it(`draw a digit, trace and step mlp-digits and cnn-mnist; predictions equal the library in Node`, async () => {
      const { page, errors } = await open();
      const first = await pageState(page);
      if (backend === 'webgpu') {
        if (!first.webgpu && !REQUIRED) { console.warn('the browser has no WebGPU adapter: page WebGPU test skipped'); await page.close(); return; }
        expect(first.webgpu, 'navigator.gpu has an adapter').toBe(true);
        await choose(page, 'backend', 'webgpu');
      }
      for (const [name, ops, shape] of [['mlp-digits', 5, [1, 64]], ['cnn-mnist', 8, [1, 1, 28, 28]]] as const) {
        await choose(page, 'model', `${name}|safetensors`);
        await drawSeven(page);
        let s = await click(page, 'run');
        expect(s.error).toBeNull();
        expect(s.current).toBe(0);
        const side = Math.sqrt((shape as readonly number[]).reduce((a, b) => a * b, 1));
        expect(s.input!.length).toBe(side * side);
        const ink = s.input!.filter((v) => v > 0.2).length;
        expect(ink, 'the drawn stroke reaches the model input').toBeGreaterThan(side * side * 0.05);
        const ref = await nodeArgmax(name, s.input!, [...shape]);
        expect(s.prediction![0]!.index, `${name} on ${backend}`).toBe(ref.index);
        expect(Math.abs(s.prediction![0]!.p - ref.probs[ref.index]!)).toBeLessThan(backend === 'cpu' ? 1e-5 : 1e-3);
        // a Sequential pauses layer by layer: the prediction panel says it is for the finished pass
        expect(s.done).toBe(false);
        expect(await page.locator('#pred-note').textContent()).toMatch(/^This is the prediction of the finished pass .*paused at op 1\b/);
        expect(await page.locator('#explain').textContent()).toMatch(name === 'mlp-digits' ? /^A fully connected layer: .* Here each of the 128 outputs sums 64 inputs/ : /^A convolution: .* Here \d+ filters of 1 x \d x \d weights/);
        s = await click(page, 'next');
        s = await click(page, 'next');
        expect(s.current).toBe(2);
        s = await click(page, 'prev');
        expect(s.current).toBe(1);
        s = await click(page, 'end');
        expect([s.ops, s.done, s.current]).toEqual([ops, true, ops - 1]);
        expect(await page.locator('#ops tr').count()).toBe(ops);
        expect(await page.locator('#pred-note').textContent()).toMatch(/^The prediction of the finished pass/);
        expect(await page.locator('#explain').textContent()).toMatch(/^A fully connected layer/);
        await expectTimesReadable(page);
        expect(s.isolated, 'served cross-origin isolated (fine timer)').toBe(true);
        // the first op (a Linear / conv over the drawn digit): its activations as a heatmap with content
        s = await click(page, 'first');
        const heat = await shot(page, '#heatmap');
        expect(heat.colors, `${name} heatmap colours`).toBeGreaterThan(8);
        expect(heat.variance, `${name} heatmap variance`).toBeGreaterThan(50);
        const hist = await shot(page, '#hist');
        expect(hist.colors).toBeGreaterThan(2);
        // the colour legend: a gradient bar with the range's ends written under it
        const legend = (await pageState(page)).legend;
        expect(legend.length, `${name} legend labels`).toBeGreaterThanOrEqual(2);
        const [lo, hi] = [Number(legend[0]), Number(legend[legend.length - 1])];
        expect(lo).toBeLessThan(hi);
        const bar = await shot(page, '#heatmap-legend');
        expect(bar.colors, `${name} legend colours`).toBeGreaterThan(20);
        expect(await page.locator('#detail').textContent()).toContain(backend);
      }
      expect(errors).toEqual([]);
      await page.close();
    }, 150_000);

    it('tiny-gpt: a prompt, the next character as in Node, and attention maps that are not blank', async () => {
      const { page, errors } = await open();
      if (backend === 'webgpu') {
        if (!(await pageState(page)).webgpu && !REQUIRED) { await page.close(); return; }
        await choose(page, 'backend', 'webgpu');
      }
      await choose(page, 'model', 'tiny-gpt|safetensors');
      await page.fill('#prompt', 'the Program');
      let s = await click(page, 'run');
      expect(s.error).toBeNull();
      const ref = await nodeArgmax('tiny-gpt', s.input!, [1, s.input!.length], 'int32');
      expect(s.prediction![0]!.index).toBe(ref.index);
      s = await click(page, 'end');
      expect(s.ops).toBe(49);
      const row = page.locator('#ops tr', { hasText: 'attention' });
      expect(await row.count()).toBeGreaterThanOrEqual(2);
      await row.last().click();
      s = await settled(page);
      expect(await page.locator('#attention-fig').isVisible()).toBe(true);
      const att = await shot(page, '#attention');
      expect(att.colors, 'attention map colours').toBeGreaterThan(10);
      expect(att.variance).toBeGreaterThan(100);
      expect(errors).toEqual([]);
      await page.close();
    }, 120_000);
  });
}

describe.skipIf(!haveChromium)('the step-through page: int8 divergence and errors', () => {
  it('the int8-vs-f32 table has one row per layer of cnn-digits, with cosines near 1', async () => {
    const { page } = await open();
    await choose(page, 'model', 'cnn-digits|safetensors');
    await drawSeven(page);
    const s = await click(page, 'compare');
    expect(s.error).toBeNull();
    // conv1 bn1 relu1 conv2 bn2 relu2 pool(+flatten) fc: the module outputs
    expect(s.divergence!.rows).toBe(8);
    const cos = (await page.locator('#divergence-table tbody tr td:nth-child(5)').allTextContents()).map(Number);
    expect(cos.length).toBe(8);
    for (const c of cos) expect(c).toBeGreaterThan(0.99);
    // the rule in words, the same one `forwardpass trace --compare` applies (threshold 0.05 for int8)
    expect(await page.locator('#divergence-rule').textContent()).toContain(fp.DIVERGENCE_RULE);
    expect(await page.locator('#divergence-table th:nth-child(2)').textContent()).toBe('op (f32 → int8)');
    await page.close();
  }, 90_000);

  it('an ONNX example pauses node by node; tiny-bert-cls takes a symbol sequence', async () => {
    const { page, errors } = await open();
    await choose(page, 'model', 'mlp-digits|onnx');
    await drawSeven(page);
    let s = await click(page, 'run');
    // steps() over an ONNX session runs one node per step: after the first step the pass is still paused
    expect([s.ops, s.done]).toEqual([1, false]);
    expect(await page.locator('#step-label').textContent()).toBe('op 1 of 1+ (pass paused)');
    expect(await page.locator('#pred-note').textContent()).toBe('This is the prediction of the finished pass (the model ran once to the end); the step-through is paused at op 1, so the ops after it are not shown yet.');
    expect(s.prediction![0]!.index).toBe((await nodeArgmax('mlp-digits', s.input!, [1, 64])).index);
    s = await click(page, 'end');
    expect([s.ops, s.done]).toEqual([5, true]);
    expect(await page.locator('#pred-note').textContent()).not.toMatch(/paused/);
    expect(await page.locator('#detail').textContent()).toContain('ONNX node /fc3/Gemm');
    await choose(page, 'model', 'tiny-bert-cls|safetensors');
    await page.fill('#prompt', '5 2 5 7 5 1');
    s = await click(page, 'run');
    expect(s.input).toEqual([1, 7, 4, 7, 9, 7, 3]);
    expect(s.prediction![0]!.label).toBe('S5');
    await page.fill('#prompt', '9 9');
    s = await click(page, 'run');
    expect(s.error).toBe("forwardpass page: type symbols as digits 0..7 (e.g. 3 1 3 0 3), got '9 9'");
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('a broken file, weights without a config and an empty drawing each give a readable error in the page', async () => {
    const { page, errors } = await open();
    // a traced model first, so that its pictures are on screen when the broken file is opened
    await choose(page, 'model', 'cnn-mnist|safetensors');
    await drawSeven(page);
    await click(page, 'run');
    expect(await page.locator('#pics').isVisible()).toBe(true);
    await page.setInputFiles('#files', { name: 'broken.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a protobuf at all') });
    let s = await settled(page);
    // nothing of cnn-mnist is left: no pictures, no op panel, no prediction
    expect(await page.locator('#pics').isVisible()).toBe(false);
    expect(await page.locator('#explain').isVisible()).toBe(false);
    expect(await page.locator('#detail').textContent()).toBe('');
    expect(await page.locator('#ops tr').count()).toBe(0);
    expect(await page.locator('#pred-body').textContent()).toBe('—');
    expect(s.legend).toEqual([]);
    const inked = await page.evaluate(() => ['hist', 'heatmap', 'heatmap-legend'].map((id) => {
      const c = document.getElementById(id) as HTMLCanvasElement;
      return c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data.some((v) => v !== 0);
    }));
    expect(inked, 'hist, heatmap and legend canvases are blank').toEqual([false, false, false]);
    const box = page.locator('#error');
    expect(await box.isVisible()).toBe(true);
    let text = (await box.textContent())!;
    expect(text).toMatch(/^forwardpass: onnx/);
    expect(text).not.toMatch(/\n\s+at /);
    expect(s.error).toBe(text);
    await page.setInputFiles('#files', { name: 'weights.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.alloc(16) });
    s = await settled(page);
    text = (await box.textContent())!;
    expect(text).toBe("forwardpass page: 'weights.safetensors' holds weights only: select its config.json too (both files at once)");
    // a good example again clears the box; tracing an empty drawing refills it
    await choose(page, 'model', 'mlp-digits|safetensors');
    expect(await box.isVisible()).toBe(false);
    await page.click('#clear');
    s = await click(page, 'run');
    expect(s.error).toBe('forwardpass page: the drawing is empty; draw a digit on the black square first');
    expect(await box.isVisible()).toBe(true);
    const shown = await shot(page, '#error');
    expect(shown.colors).toBeGreaterThan(2);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
