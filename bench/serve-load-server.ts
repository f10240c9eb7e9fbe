// The server side of bench/serve-load.ts, in its own process (its own core): one model server per batching setting,
// each serving mlp-digits, cnn-mnist, tiny-bert-cls and a trivial echo model (the HTTP ceiling), and with SERVE_LM=PATH
// one more serving that language model as 'lm' for /v1/completions. Prints one JSON line {urls: {setting: url},
// completions?: url}; answers 'mem' on stdin with its memory use, and exits on 'exit' or stdin's end.
import { createInterface } from 'node:readline';
import '../src/index.js'; // registers the CPU backend
import { loadModelFolder } from '../src/cli/model-folder.js';
import { loadServedModel } from '../src/cli/serve-models.js';
import { servableFromModel, type ServableModel } from '../src/serve/servable.js';
import { startModelServer } from '../src/serve/server.js';

export const SETTINGS: Record<string, { maxBatchSize: number; maxDelayMs: number }> = {
  'max-batch 1': { maxBatchSize: 1, maxDelayMs: 0 },
  'batch 64, delay 0': { maxBatchSize: 64, maxDelayMs: 0 },
  'batch 64, delay 2 ms': { maxBatchSize: 64, maxDelayMs: 2 },
  'batch 64, delay 8 ms': { maxBatchSize: 64, maxDelayMs: 8 },
};

/** y = x, no arithmetic: what is left is HTTP, JSON and the queue. */
export const echo: ServableModel = {
  inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 4] }],
  padding: { kind: 'none' },
  kind: 'other',
  run: async (x) => ({ y: x.x! }),
};

if (process.argv[1]?.endsWith('serve-load-server.ts')) {
  const fixtures = new URL('../test/fixtures/', import.meta.url).pathname;
  const servables = Object.fromEntries(['mlp-digits', 'cnn-mnist', 'tiny-bert-cls'].map((n) => [n, servableFromModel(loadModelFolder(fixtures + n).model)]));
  const urls: Record<string, string> = {};
  // SERVE_MAX_PAD=1 restores batching of any lengths (before length-aware batching), to compare with the default 0.25
  const maxPad = process.env.SERVE_MAX_PAD === undefined ? {} : { maxPadFraction: Number(process.env.SERVE_MAX_PAD) };
  const servers: Awaited<ReturnType<typeof startModelServer>>[] = [];
  for (const [name, batch] of Object.entries(SETTINGS)) {
    const s = await startModelServer({ models: [...Object.entries(servables).map(([n, model]) => ({ name: n, model })), { name: 'echo', model: echo }], batch: { ...batch, ...maxPad, maxQueue: 1024 }, port: 0 });
    servers.push(s);
    urls[name] = s.url;
  }
  // a language model for /v1/completions (bench/serve-load.ts --models ...,completions): its own server
  let completions: string | undefined;
  if (process.env.SERVE_LM) {
    const lm = await startModelServer({ models: [await loadServedModel(process.env.SERVE_LM, 'lm', 'cpu')], batch: { maxQueue: 1024 }, port: 0 });
    servers.push(lm);
    completions = lm.url;
  }
  process.stdout.write(JSON.stringify({ urls, completions }) + '\n');
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (l) => {
    if (l === 'mem') { global.gc?.(); const m = process.memoryUsage(); process.stdout.write(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers }) + '\n'); }
    if (l === 'exit') void Promise.all(servers.map((s) => s.close())).then(() => process.exit(0));
  });
  rl.on('close', () => process.exit(0));
}
