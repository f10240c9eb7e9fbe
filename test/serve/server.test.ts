// The HTTP model server on 127.0.0.1 (port chosen by the OS): every endpoint, the v2 JSON shapes, errors and limits,
// concurrent clients (answers equal lone forward passes), OpenAI-style completions/embeddings, metrics, shutdown.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFolder } from '../../src/cli/model-folder.js';
import { CharTokenizer } from '../../src/nn/models/tokenizer.js';
import type { ConfiguredModel } from '../../src/nn/models/config.js';
import type { CausalLM } from '../../src/nn/models/generate.js';
import { servableFromModel, type HostTensor, type ServableModel } from '../../src/serve/servable.js';
import { startModelServer, type ModelServer } from '../../src/serve/server.js';
import { fixturePath } from '../helpers.js';
import { gated, request } from './helpers.js';
import { errorResponse, inferenceResponse, modelMetadata, problems, serverMetadata } from './schema.js';

const models: Record<string, ServableModel> = {};
let s: ModelServer;
const gptConfig = JSON.parse(readFileSync(fixturePath('tiny-gpt', 'config.json'), 'utf8'));
const reference = JSON.parse(readFileSync(fixturePath('tiny-gpt', 'generate.json'), 'utf8')).generations[0];

beforeAll(async () => {
  const gpt = loadModelFolder(fixturePath('tiny-gpt')).model as unknown as CausalLM & ConfiguredModel;
  for (const n of ['mlp-digits', 'tiny-bert-cls']) models[n] = servableFromModel(loadModelFolder(fixturePath(n)).model);
  models['tiny-gpt'] = servableFromModel(gpt);
  const chars = CharTokenizer.fromConfig(gptConfig);
  s = await startModelServer({
    models: [
      { name: 'mlp', model: models['mlp-digits']! },
      { name: 'bert', model: models['tiny-bert-cls']! },
      { name: 'gpt', model: models['tiny-gpt']!, tokenizer: chars, generator: { model: gpt, codec: chars, defaults: null } },
    ],
    batch: { maxBatchSize: 16, maxDelayMs: 2 },
    maxBodyBytes: 64 * 1024,
  });
});
afterAll(() => s.close());

const call = async (path: string, body?: unknown, init: RequestInit = {}) => {
  const r = await fetch(s.url + path, body === undefined ? init : { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), ...init });
  const text = await r.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, text, json: json as Record<string, unknown> & { error?: string }, headers: r.headers };
};
const v2 = (name: string, t: HostTensor) => ({ name, shape: t.shape, datatype: t.dtype === 'float32' ? 'FP32' : 'INT64', data: Array.from(t.data) });

describe('v2 health and metadata', () => {
  it('GET /v2, live, ready, model ready: 200 and the documented shapes', async () => {
    const meta = await call('/v2');
    expect(meta.status).toBe(200);
    expect(problems(serverMetadata, meta.json)).toEqual([]);
    for (const p of ['/v2/health/live', '/v2/health/ready', '/v2/models/mlp/ready']) {
      const r = await call(p);
      expect([p, r.status, r.text]).toEqual([p, 200, '']);
    }
  });

  it('GET /v2/models/{name}: inputs and outputs with -1 for variable dims', async () => {
    const r = await call('/v2/models/bert');
    expect(problems(modelMetadata, r.json)).toEqual([]);
    expect(r.json.inputs).toEqual([{ name: 'input_ids', datatype: 'INT64', shape: [-1, -1] }, { name: 'attention_mask', datatype: 'INT64', shape: [-1, -1] }]);
    expect(r.json.outputs).toEqual([{ name: 'logits', datatype: 'FP32', shape: [-1, 8] }]);
  });

  it('an unknown model is 404, an unknown path 404, a wrong method 405, each one JSON error', async () => {
    for (const [p, st, init] of [['/v2/models/nope', 404], ['/v2/models/nope/ready', 404], ['/nothing', 404], ['/v2/models/mlp/infer', 405, { method: 'GET' }]] as const) {
      const r = await call(p, undefined, init as RequestInit | undefined);
      expect(r.status).toBe(st);
      expect(problems(errorResponse, r.json)).toEqual([]);
    }
    expect((await call('/v2/models/nope')).json.error).toMatch(/no model named 'nope' \(served: mlp, bert, gpt\)/);
    expect((await call('/v2/models/%E0%A4%A/ready')).status).toBe(400);
  });

  it('answers only to loopback Host names (a DNS-rebinding page sends its own): 403 otherwise', async () => {
    const { request: raw } = await import('node:http');
    const status = (host: string) => new Promise<number>((ok, fail) => raw({ host: '127.0.0.1', port: s.port, path: '/v2', headers: { host } }, (r) => { r.resume(); ok(r.statusCode!); }).on('error', fail).end());
    expect(await status('evil.example:80')).toBe(403);
    expect(await status(`localhost:${s.port}`)).toBe(200);
  });
});

describe('POST /v2/models/{name}/infer', () => {
  it('answers in the documented shape with exactly the lone forward pass values (flat or nested data)', async () => {
    const req = request('mlp-digits', 2, 5);
    const lone = await models['mlp-digits']!.run(req);
    const nested = [Array.from(req.input!.data.subarray(0, 64)), Array.from(req.input!.data.subarray(64))];
    for (const data of [Array.from(req.input!.data), nested]) {
      const r = await call('/v2/models/mlp/infer', { id: 'r1', inputs: [{ name: 'input', shape: [2, 64], datatype: 'FP32', data }] });
      expect(r.status).toBe(200);
      expect(problems(inferenceResponse, r.json)).toEqual([]);
      const out = (r.json.outputs as { name: string; shape: number[]; datatype: string; data: number[] }[])[0]!;
      expect([r.json.id, r.json.model_name, out.name, out.datatype, out.shape]).toEqual(['r1', 'mlp', 'logits', 'FP32', [2, 10]]);
      expect(Float32Array.from(out.data)).toEqual(lone.logits!.data);
    }
  });

  it('32 concurrent clients on two models each get their own answer (checked against lone calls)', async () => {
    const jobs = Array.from({ length: 32 }, (_, i) => (i % 2 ? { m: 'mlp', n: 'mlp-digits', req: request('mlp-digits', 1, 1000 + i) } : { m: 'bert', n: 'tiny-bert-cls', req: request('tiny-bert-cls', 1, 2000 + i, 3 + (i % 13)) }));
    const answers = await Promise.all(jobs.map((j) => call(`/v2/models/${j.m}/infer`, { inputs: Object.entries(j.req).map(([k, t]) => v2(k, t)) })));
    for (let i = 0; i < jobs.length; i++) {
      const lone = (await models[jobs[i]!.n]!.run(jobs[i]!.req)).logits!;
      const got = Float32Array.from((answers[i]!.json.outputs as { data: number[] }[])[0]!.data);
      let d = 0;
      got.forEach((v, k) => (d = Math.max(d, Math.abs(v - lone.data[k]!))));
      expect(d).toBeLessThanOrEqual(1e-6);
    }
  });

  it('bad input: 400 with one error naming the tensor, the expected and the found shape/dtype', async () => {
    const cases: [unknown, RegExp][] = [
      [{ inputs: [{ name: 'input', shape: [1, 63], datatype: 'FP32', data: new Array(63).fill(0) }] }, /input 'input': expected float32 \[batch, 64\], found float32 \[1, 63\]/],
      [{ inputs: [{ name: 'input', shape: [1, 64], datatype: 'INT32', data: new Array(64).fill(0) }] }, /input 'input': expected FP32 \[batch, 64\], found INT32 \[1, 64\]/],
      [{ inputs: [{ name: 'input', shape: [1, 64], datatype: 'FP32', data: [1, 2] }] }, /input 'input': shape \[1, 64\] needs 64 values in "data", found 2/],
      [{ inputs: [{ name: 'input', shape: [1, 64], datatype: 'FP32', data: new Array(64).fill('x') }] }, /input 'input': data\[0\] must be a number/],
      [{ inputs: [{ name: 'pixels', shape: [1, 64], datatype: 'FP32', data: [] }] }, /unknown input 'pixels'; the model takes 'input'/],
      [{ inputs: [] }, /expected "inputs" to be a non-empty list/],
      [[1, 2], /expected a JSON object as the request body, found an array/],
      ['{"inputs": [', /not valid JSON/],
      [{ inputs: [{ name: 'input', shape: [1, 64], datatype: 'FP32', data: new Array(64).fill(0) }], outputs: [{ name: 'probs' }] }, /unknown output "probs"/],
    ];
    for (const [body, msg] of cases) {
      const r = await call('/v2/models/mlp/infer', body);
      expect(r.status).toBe(400);
      expect(problems(errorResponse, r.json)).toEqual([]);
      expect(r.json.error).toMatch(msg);
    }
    const ids = await call('/v2/models/bert/infer', { inputs: [{ name: 'input_ids', shape: [1, 3], datatype: 'INT64', data: [1, 2, 99] }] });
    expect([ids.status, ids.json.error]).toEqual([400, expect.stringMatching(/99/)]);
    expect((await call('/v2/health/live')).status).toBe(200); // still up
  });

  it('a body over the size limit is refused with 413', async () => {
    const big = { inputs: [{ name: 'input', shape: [2000, 64], datatype: 'FP32', data: new Array(128000).fill(0.5) }] };
    const r = await call('/v2/models/mlp/infer', big);
    expect(r.status).toBe(413);
    expect(r.json.error).toMatch(/limit is 65536/);
  });
});

describe('OpenAI-style endpoints', () => {
  it('/v1/completions: greedy text equals the reference generation of tiny-gpt (text or token ids prompt)', async () => {
    const r = await call('/v1/completions', { model: 'gpt', prompt: reference.prompt, max_tokens: 50 });
    expect(r.status).toBe(200);
    const choice = (r.json.choices as { text: string; token_ids: number[]; finish_reason: string }[])[0]!;
    expect(choice.text).toBe(reference.generated_text);
    expect(choice.token_ids).toEqual(reference.generated_ids);
    expect(r.json.usage).toEqual({ prompt_tokens: reference.prompt_ids.length, completion_tokens: 50, total_tokens: reference.prompt_ids.length + 50 });
    const byIds = await call('/v1/completions', { prompt: reference.prompt_ids, max_tokens: 5 });
    expect((byIds.json.choices as { token_ids: number[] }[])[0]!.token_ids).toEqual(reference.generated_ids.slice(0, 5));
  });

  it('/v1/completions with stream: one server-sent event per token (the last with finish_reason), then [DONE]', async () => {
    const r = await call('/v1/completions', { model: 'gpt', prompt: reference.prompt, max_tokens: 8, stream: true });
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    const events = r.text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: { text: string; finish_reason: string | null }[] });
    expect(chunks.length).toBe(8);
    expect(chunks.map((c) => c.choices[0]!.text).join('')).toBe(reference.generated_text.slice(0, 8));
    expect(chunks.map((c) => c.choices[0]!.finish_reason)).toEqual([...Array<null>(7).fill(null), 'length']);
  });

  it('/v1/completions refuses what it cannot do with 400', async () => {
    expect((await call('/v1/completions', { model: 'mlp', prompt: [1] })).json.error).toMatch(/'mlp' is not a causal language model/);
    expect((await call('/v1/completions', { model: 'gpt', prompt: [1], temperature: -0.5 })).json.error).toMatch(/expected "temperature" to be a number >= 0, found -0\.5/);
    expect((await call('/v1/completions', { model: 'gpt', prompt: [80] })).json.error).toMatch(/token ids in 0\.\.79/);
    expect((await call('/v1/completions', { model: 'gpt', prompt: '\u{1F600}' })).json.error).toMatch(/not in the vocabulary/);
  });

  it('/v1/embeddings: the pooled vector of each input, equal to a lone pass; text needs a tokenizer', async () => {
    const inputs = [[1, 2, 3], [4, 5, 6, 7, 8, 9, 1, 2]];
    const r = await call('/v1/embeddings', { model: 'bert', input: inputs });
    expect(r.status).toBe(200);
    const data = r.json.data as { index: number; embedding: number[] }[];
    expect(data.map((d) => d.index)).toEqual([0, 1]);
    for (let i = 0; i < inputs.length; i++) {
      const lone = await models['tiny-bert-cls']!.embed!.run({ input_ids: { dtype: 'int32', shape: [1, inputs[i]!.length], data: Int32Array.from(inputs[i]!) } });
      expect(data[i]!.embedding.length).toBe(64);
      expect(Math.max(...data[i]!.embedding.map((v, k) => Math.abs(v - lone.embedding!.data[k]!)))).toBeLessThanOrEqual(1e-6);
    }
    expect((await call('/v1/embeddings', { model: 'bert', input: 'hello' })).json.error).toMatch(/no tokenizer; give "input" as a list of token ids/);
    expect((await call('/v1/embeddings', { model: 'gpt', input: [1] })).json.error).toMatch(/not an encoder/);
  });
});

describe('GET /metrics', () => {
  it('Prometheus text: request counts, errors, queue depth, batch-size and latency histograms', async () => {
    await call('/v2/models/mlp/infer', { inputs: [v2('input', request('mlp-digits', 3, 1).input!)] });
    const r = await call('/metrics');
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const lines = r.text.trim().split('\n');
    for (const l of lines) expect(l).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{(\w+="[^"]*",?)+\})? [0-9.e+-]+|\w+\{[^}]*le="\+Inf"[^}]*\} \d+)$/);
    const value = (prefix: string) => Number(lines.find((l) => l.startsWith(prefix))?.split(' ').at(-1));
    expect(value('forwardpass_requests_total{model="mlp",endpoint="infer",code="200"}')).toBeGreaterThanOrEqual(1);
    expect(value('forwardpass_request_errors_total{model="mlp",endpoint="v2"}')).toBeGreaterThanOrEqual(1);
    expect(value('forwardpass_queue_depth{model="mlp"}')).toBe(0);
    expect(value('forwardpass_batch_size_bucket{model="mlp",le="+Inf"}')).toBe(value('forwardpass_batch_size_count{model="mlp"}'));
    expect(value('forwardpass_batch_size_sum{model="mlp"}')).toBeGreaterThanOrEqual(3);
    expect(value('forwardpass_request_duration_seconds_count{model="mlp"}')).toBeGreaterThanOrEqual(2);
  });
});

describe('back-pressure and timeouts over HTTP', () => {
  it('a full queue answers 503 at once, a request past --timeout-ms 504; the others finish with 200', async () => {
    const g = gated(models['mlp-digits']!);
    const srv = await startModelServer({ models: [{ name: 'm', model: g.model }], batch: { maxBatchSize: 1, maxQueue: 1 }, timeoutMs: 60_000 });
    const g2 = gated(models['mlp-digits']!);
    const slow = await startModelServer({ models: [{ name: 'm', model: g2.model }], timeoutMs: 20 });
    try {
      const send = (url: string) => fetch(`${url}/v2/models/m/infer`, { method: 'POST', body: JSON.stringify({ inputs: [v2('input', request('mlp-digits', 1, 3).input!)] }) });
      const running = send(srv.url);
      while (g.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
      const queued = send(srv.url);
      while (!srv.metrics.text().includes('forwardpass_queue_depth{model="m"} 1')) await new Promise((r) => setTimeout(r, 5));
      const refused = await send(srv.url);
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: string }).error).toMatch(/queue is full \(1 requests waiting\)/);
      const late = await send(slow.url);
      expect(late.status).toBe(504);
      expect(((await late.json()) as { error: string }).error).toMatch(/timed out after 20 ms/);
      g.open();
      expect([(await running).status, (await queued).status]).toEqual([200, 200]);
    } finally {
      g.open();
      g2.open(); // close() waits for the pass that the timed-out request started
      await Promise.all([srv.close(), slow.close()]);
    }
  });
});

describe('shutdown', () => {
  it('close(): not ready and no new connections; requests already queued finish with 200', async () => {
    const g = gated(models['mlp-digits']!);
    const srv = await startModelServer({ models: [{ name: 'm', model: g.model }], batch: { maxBatchSize: 1 } });
    const send = () => fetch(`${srv.url}/v2/models/m/infer`, { method: 'POST', body: JSON.stringify({ inputs: [v2('input', request('mlp-digits', 1, 3).input!)] }) });
    const pending = [send(), send(), send()];
    // wait until one runs and two wait in the queue (all three were received)
    while (g.calls.length === 0 || !srv.metrics.text().includes('forwardpass_queue_depth{model="m"} 2')) await new Promise((r) => setTimeout(r, 5));
    const closed = srv.close();
    await new Promise((r) => setTimeout(r, 5));
    await expect(fetch(`${srv.url}/v2/health/live`)).rejects.toThrow();
    g.open();
    const statuses = await Promise.all(pending.map(async (p) => (await p).status));
    expect(statuses).toEqual([200, 200, 200]);
    await closed;
    expect(g.calls.length).toBe(3);
  });
});
