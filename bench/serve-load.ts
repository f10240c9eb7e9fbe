// Load generator for the model server (a benchmark, not a test): loopback only, bounded in time and count. The
// server runs in a child process (bench/serve-load-server.ts); 1, 8, 32 and 128 keep-alive clients post v2 infer
// requests to mlp-digits, cnn-mnist, tiny-bert-cls and a trivial echo model under each batching setting. Every answer
// is checked against a lone forward pass of its input. 'completions': 1 and 8 clients stream greedy /v1/completions
// from a tiny language model (--lm PATH; default ../shared/hf/models/llama, else test/fixtures/tiny-gpt), each checked
// against the library's generateText. Writes bench/results/NAME.json (tables: bench/serve-report.ts) and a chart.
// Run: node --import tsx --import ./test/wgsl-hook.mjs bench/serve-load.ts [--seconds 1.5] [--rounds 1] [--memory 20000]
//      [--models mlp-digits,echo,completions] [--clients 32] [--lm-clients 1,8] [--lm-tokens 32] [--out NAME]
//      (writes bench/results/NAME.json; settings interleave per round)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { loadModelFolder } from '../src/cli/model-folder.js';
import { loadTextModel } from '../src/cli/generate.js';
import { generateText, generationOptions } from '../src/text/generate.js';
import { lineChart } from '../src/cli/bench-svg.js';
import { makeRng } from '../src/index.js';
import { servableFromModel, type HostTensor } from '../src/serve/servable.js';
import { SETTINGS } from './serve-load-server.js';

const arg = (k: string, d: number) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? Number(process.argv[i + 1]) : d; };
const SECONDS = arg('seconds', 1.5);
const ROUNDS = arg('rounds', 1);
const MEMORY_REQUESTS = arg('memory', 20_000);
const list = (k: string, d: string[]) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1]!.split(',') : d; };
const CLIENTS = list('clients', ['1', '8', '32', '128']).map(Number);
const ALL = list('models', ['mlp-digits', 'cnn-mnist', 'tiny-bert-cls', 'echo', 'completions']);
const MODELS = ALL.filter((m) => m !== 'completions');
const LM_CLIENTS = list('lm-clients', ['1', '8']).map(Number);
const LM_TOKENS = arg('lm-tokens', 32);
const SHARED_LLAMA = new URL('../../shared/hf/models/llama', import.meta.url).pathname;
const LM = list('lm', [existsSync(SHARED_LLAMA) ? SHARED_LLAMA : new URL('../test/fixtures/tiny-gpt', import.meta.url).pathname])[0]!;
const OUT = list('out', ['serve'])[0]!;
const MAX_PER_CELL = 50_000;
const POOL = 64;

interface Item { body: string; expected: Float32Array }
/** Distinct requests per model with the lone-call answer of each (bert: lengths 4..16, so batches get padded). */
async function pools(): Promise<Record<string, Item[]>> {
  const rng = makeRng(7);
  const out: Record<string, Item[]> = {};
  for (const name of MODELS) {
    const s = name === 'echo' ? undefined : servableFromModel(loadModelFolder(new URL(`../test/fixtures/${name}`, import.meta.url).pathname).model);
    out[name] = [];
    for (let i = 0; i < POOL; i++) {
      let req: Record<string, HostTensor>;
      if (name === 'tiny-bert-cls') { const t = 4 + (i % 13); req = { input_ids: { dtype: 'int32', shape: [1, t], data: Int32Array.from({ length: t }, () => Math.floor(rng() * 10)) } }; }
      else { const shape = name === 'mlp-digits' ? [1, 64] : name === 'cnn-mnist' ? [1, 1, 28, 28] : [1, 4]; req = { [name === 'echo' ? 'x' : 'input']: { dtype: 'float32', shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng()) } }; }
      const expected = s ? Float32Array.from((await s.run(req)).logits!.data) : Float32Array.from(req.x!.data);
      const body = JSON.stringify({ inputs: Object.entries(req).map(([k, t]) => ({ name: k, shape: t.shape, datatype: t.dtype === 'float32' ? 'FP32' : 'INT64', data: Array.from(t.data) })) });
      out[name]!.push({ body, expected });
    }
  }
  return out;
}

function post(agent: Agent, url: string, path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const r = request({ host: u.hostname, port: u.port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

async function batchHistogram(url: string, model: string): Promise<Map<string, number>> {
  const text = await new Promise<string>((resolve, reject) => request(`${url}/metrics`, (res) => { let t = ''; res.on('data', (c) => (t += c)); res.on('end', () => resolve(t)); }).on('error', reject).end());
  const m = new Map<string, number>();
  for (const l of text.split('\n')) {
    const x = new RegExp(`^forwardpass_batch_size_(bucket|sum|count)\\{model="${model}"(?:,le="([^"]+)")?\\} (\\S+)$`).exec(l);
    if (x) m.set(x[1] === 'bucket' ? x[2]! : x[1]!, Number(x[3]));
  }
  return m;
}

interface Run { done: number; seconds: number; lat: number[]; errors: number; mixed: number; maxDiff: number }
async function drive(url: string, model: string, clients: number, seconds: number, items: Item[], maxCount = MAX_PER_CELL): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const path = `/v2/models/${model}/infer`;
  const r: Run = { done: 0, seconds: 0, lat: [], errors: 0, mixed: 0, maxDiff: 0 };
  let sent = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end && sent < maxCount) {
      const item = items[sent++ % items.length]!;
      const s = performance.now();
      try {
        const res = await post(agent, url, path, item.body);
        r.lat.push(performance.now() - s);
        if (res.status !== 200) { r.errors++; continue; }
        const got = (JSON.parse(res.text) as { outputs: { data: number[] }[] }).outputs[0]!.data;
        let d = got.length === item.expected.length ? 0 : Infinity;
        for (let i = 0; i < got.length && d !== Infinity; i++) d = Math.max(d, Math.abs(Math.fround(got[i]!) - item.expected[i]!));
        r.maxDiff = Math.max(r.maxDiff, d);
        if (d > 1e-5) r.mixed++;
        r.done++;
      } catch {
        r.errors++;
      }
    }
  }));
  r.seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return r;
}

interface LmItem { body: string; ids: number[] }
/** Greedy completions of distinct text prompts, with the ids the library's generateText gives for each. */
async function lmPool(): Promise<{ items: LmItem[]; libraryTokensPerSecond: number }> {
  const { model, codec, defaults } = await loadTextModel(LM, 'cpu');
  const rng = makeRng(11);
  const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'a', 'lazy', 'dog', 'and', 'then', 'runs', 'far', 'away'];
  const items: LmItem[] = [];
  const prompts = Array.from({ length: 16 }, (_, i) => Array.from({ length: 3 + (i % 5) }, () => words[Math.floor(rng() * words.length)]!).join(' '));
  const run = (prompt: string) => generateText(model, codec!, prompt, generationOptions(defaults, { maxNewTokens: LM_TOKENS, temperature: 0 }));
  for (const prompt of prompts) items.push({ body: JSON.stringify({ model: 'lm', prompt, max_tokens: LM_TOKENS, temperature: 0, stream: true }), ids: (await run(prompt)).ids });
  // the library alone, one stream in this process, after one more pass for the JIT: the ceiling without HTTP
  for (const prompt of prompts) await run(prompt);
  let tokens = 0;
  const t0 = performance.now();
  for (const prompt of prompts) tokens += (await run(prompt)).ids.length;
  const libraryTokensPerSecond = tokens / ((performance.now() - t0) / 1000);
  model.dispose();
  return { items, libraryTokensPerSecond };
}

/** One streamed completion: the ids of its events, when the first token came, when it ended (ms from the start). */
function streamCompletion(agent: Agent, url: string, body: string): Promise<{ status: number; ids: number[]; first: number; end: number }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const t0 = performance.now();
    let first = NaN;
    const ids: number[] = [];
    const r = request({ host: u.hostname, port: u.port, path: '/v1/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let k: number;
        while ((k = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, k);
          buf = buf.slice(k + 2);
          if (!ev.startsWith('data: {')) continue;
          const chunk = JSON.parse(ev.slice(6)) as { choices: { token_ids: number[] }[] };
          for (const ch of chunk.choices) ids.push(...ch.token_ids);
          if (Number.isNaN(first) && ids.length) first = performance.now() - t0;
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, ids, first, end: performance.now() - t0 }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

interface LmRun { completions: number; tokens: number; seconds: number; ttft: number[]; perToken: number[]; errors: number; mixed: number }
async function driveLm(url: string, clients: number, seconds: number, items: LmItem[]): Promise<LmRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const r: LmRun = { completions: 0, tokens: 0, seconds: 0, ttft: [], perToken: [], errors: 0, mixed: 0 };
  let sent = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const item = items[sent++ % items.length]!;
      try {
        const res = await streamCompletion(agent, url, item.body);
        if (res.status !== 200) { r.errors++; continue; }
        if (res.ids.join() !== item.ids.join()) r.mixed++;
        r.completions++;
        r.tokens += res.ids.length;
        r.ttft.push(res.first);
        if (res.ids.length > 1) r.perToken.push((res.end - res.first) / (res.ids.length - 1));
      } catch {
        r.errors++;
      }
    }
  }));
  r.seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return r;
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);

async function main(): Promise<void> {
  const wantLm = ALL.includes('completions');
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', './test/wgsl-hook.mjs', 'bench/serve-load-server.ts'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...(wantLm ? { SERVE_LM: LM } : {}) } });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const { urls, completions: lmUrl } = JSON.parse((await lines.next()).value as string) as { urls: Record<string, string>; completions?: string };
  const mem = async () => { child.stdin!.write('mem\n'); return JSON.parse((await lines.next()).value as string) as { rss: number; heapUsed: number; arrayBuffers: number }; };
  const items = await pools();
  const load = loadavg()[0]!;
  const rows: Record<string, unknown>[] = [];
  for (const model of MODELS) {
    for (const clients of CLIENTS) {
      const acc = new Map<string, { run: Run; hist: Map<string, number> }>();
      for (let round = 0; round < ROUNDS; round++) {
        for (const [setting, url] of Object.entries(urls)) {
          if (model === 'echo' && setting === 'batch 64, delay 8 ms') continue;
          await drive(url, model, clients, 0.25, items[model]!); // warm-up, not counted
          const before = await batchHistogram(url, model);
          const run = await drive(url, model, clients, SECONDS, items[model]!);
          const after = await batchHistogram(url, model);
          const hist = new Map([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)]));
          const a = acc.get(setting);
          if (!a) acc.set(setting, { run, hist });
          else {
            Object.assign(a.run, { done: a.run.done + run.done, seconds: a.run.seconds + run.seconds, lat: a.run.lat.concat(run.lat), errors: a.run.errors + run.errors, mixed: a.run.mixed + run.mixed, maxDiff: Math.max(a.run.maxDiff, run.maxDiff) });
            for (const [k, v] of hist) a.hist.set(k, (a.hist.get(k) ?? 0) + v);
          }
        }
      }
      for (const [setting, { run, hist }] of acc) {
        const lat = run.lat.sort((x, y) => x - y);
        const dist: string[] = [];
        let prev = 0;
        for (const [k, v] of hist) if (!['sum', 'count', '+Inf'].includes(k)) { if (v - prev > 0) dist.push(`≤${k}:${Math.round((100 * (v - prev)) / (hist.get('count') || 1))}%`); prev = v; }
        const row = { model, clients, setting, rps: run.done / run.seconds, p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), requests: run.done, errors: run.errors, mismatched: run.mixed, maxDiff: run.maxDiff, meanBatch: (hist.get('sum') ?? 0) / (hist.get('count') || 1), batchDist: dist.join(' ') };
        rows.push(row);
        process.stdout.write(`${model.padEnd(14)} ${String(clients).padStart(3)}  ${setting.padEnd(22)} ${row.rps.toFixed(0).padStart(6)} req/s  p50 ${row.p50.toFixed(2)}  p95 ${row.p95.toFixed(2)}  p99 ${row.p99.toFixed(2)} ms  batch ${row.meanBatch.toFixed(1)}  err ${row.errors} mismatch ${row.mismatched}\n`);
      }
    }
  }
  // completions: streams of greedy tokens from the language model, 1 and 8 at once
  const lmRows: Record<string, unknown>[] = [];
  let libraryTokensPerSecond = NaN;
  if (wantLm && lmUrl) {
    const pool = await lmPool();
    libraryTokensPerSecond = pool.libraryTokensPerSecond;
    process.stdout.write(`completions: ${LM}, library generateText in-process ${libraryTokensPerSecond.toFixed(0)} tokens/s\n`);
    // the JIT takes a few seconds of generation to settle: warm up first, then interleave the client counts per round
    await driveLm(lmUrl, Math.max(...LM_CLIENTS), 3, pool.items);
    const accs = new Map<number, LmRun>(LM_CLIENTS.map((c) => [c, { completions: 0, tokens: 0, seconds: 0, ttft: [], perToken: [], errors: 0, mixed: 0 }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const clients of LM_CLIENTS) {
        const acc = accs.get(clients)!;
        const run = await driveLm(lmUrl, clients, SECONDS * 2, pool.items);
        Object.assign(acc, { completions: acc.completions + run.completions, tokens: acc.tokens + run.tokens, seconds: acc.seconds + run.seconds, ttft: acc.ttft.concat(run.ttft), perToken: acc.perToken.concat(run.perToken), errors: acc.errors + run.errors, mixed: acc.mixed + run.mixed });
      }
    }
    for (const [clients, acc] of accs) {
      const ttft = acc.ttft.sort((x, y) => x - y), per = acc.perToken.sort((x, y) => x - y);
      const row = { model: LM.split('/').slice(-1)[0], clients, tokens: LM_TOKENS, tokensPerSecond: acc.tokens / acc.seconds, completionsPerSecond: acc.completions / acc.seconds, ttftP50: pct(ttft, 50), ttftP99: pct(ttft, 99), msPerTokenP50: pct(per, 50), msPerTokenP99: pct(per, 99), completions: acc.completions, errors: acc.errors, mismatched: acc.mixed };
      lmRows.push(row);
      process.stdout.write(`completions ${String(clients).padStart(3)} streams  ${row.tokensPerSecond.toFixed(0).padStart(6)} tokens/s  ${row.completionsPerSecond.toFixed(1)} completions/s  first token p50 ${row.ttftP50.toFixed(1)} p99 ${row.ttftP99.toFixed(1)} ms  per token p50 ${row.msPerTokenP50.toFixed(2)} ms  err ${row.errors} mismatch ${row.mismatched}\n`);
    }
  }
  // memory over many requests: the child's heap after a full GC, every quarter of the run
  const memory: Record<string, number>[] = MEMORY_REQUESTS > 0 && MODELS.includes('mlp-digits') ? [{ requests: 0, ...(await mem()) }] : [];
  const quarter = Math.round(MEMORY_REQUESTS / 4);
  let memErrors = 0;
  for (let q = 1; q <= 4 && memory.length > 0; q++) {
    const r = await drive(urls['batch 64, delay 2 ms']!, 'mlp-digits', 32, 600, items['mlp-digits']!, quarter);
    memErrors += r.errors + r.mixed;
    memory.push({ requests: q * quarter, ...(await mem()) });
  }
  child.stdin!.write('exit\n');
  const conditions = { cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavg1: load, loadavgEnd: loadavg()[0], node: process.version, secondsPerCell: SECONDS, rounds: ROUNDS, date: new Date().toISOString() };
  mkdirSync(new URL('./results/charts/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/${OUT}.json`, import.meta.url), JSON.stringify({ conditions, rows, memory, memErrors, completions: lmRows, libraryTokensPerSecond }, null, 1) + '\n');
  process.stdout.write(`memory (child heapUsed after GC, MiB): ${memory.map((m) => `${m.requests}: ${(m.heapUsed! / 2 ** 20).toFixed(1)}`).join(', ')}; errors ${memErrors}\n`);
  const settings = Object.keys(SETTINGS);
  if (!MODELS.includes('mlp-digits') || CLIENTS.length < 2) return;
  const svg = lineChart({ title: 'mlp-digits over HTTP: throughput by concurrent clients', xLabel: 'concurrent clients', yLabel: 'requests/s', xLog: true, series: settings.map((s) => ({ name: s, points: rows.filter((r) => r.model === 'mlp-digits' && r.setting === s).map((r) => [r.clients as number, r.rps as number] as [number, number]) })) });
  writeFileSync(new URL('./results/charts/serve-mlp-digits.svg', import.meta.url), svg);
}

await main();
