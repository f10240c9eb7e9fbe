// The model server on Node's built-in http: KServe / Triton v2 REST (health, metadata, infer), OpenAI-style
// completions and embeddings, Prometheus /metrics; several models, one batcher each; body size limit; a close()
// that stops accepting and finishes what is queued. Every error is one JSON object {"error": "..."}.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CharTokenizer } from '../nn/models/tokenizer.js';
import { createBatcher, ServeError, type BatcherOptions } from './batcher.js';
import { TurnQueue, type TextGenerator } from './generation.js';
import { Metrics } from './metrics.js';
import { completions, embeddings, type LanguageModel } from './openai.js';
import { inferResponse, modelMetadata, parseInferRequest } from './protocol.js';
import { RequestError, type ServableModel } from './servable.js';

/** One model to serve under `name`. */
export interface ModelEntry {
  name: string;
  model: ServableModel;
  /** The v2 metadata `platform` (default 'forwardpass'). */
  platform?: string;
  /** Character vocabulary for text inputs of /v1/embeddings. */
  tokenizer?: CharTokenizer;
  /** Causal LMs: what /v1/completions generates with (its own KV cache per completion). */
  generator?: TextGenerator;
}

export interface ServerOptions {
  models: ModelEntry[];
  /** Batching for every model (maxBatchSize, maxDelayMs, maxQueue; maxQueue also bounds the completions generating at once per model). */
  batch?: Omit<BatcherOptions, 'onBatch'>;
  /** Larger request bodies get 413 (default 16 MiB). */
  maxBodyBytes?: number;
  /** Per-request timeout in ms, queue and forward pass (default 30000). */
  timeoutMs?: number;
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface ModelServer {
  url: string;
  port: number;
  /** The underlying node:http Server, typed structurally so the published .d.ts need no @types/node. */
  server: { readonly listening: boolean; address(): unknown };
  metrics: Metrics;
  /** Stop accepting connections, answer 503 to new requests on open ones, finish queued work, then resolve. */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const VERSION = '0.1.0';

/** The status an error is answered with: 4xx for the caller's mistakes (the model's own input checks included). */
function statusOf(e: unknown): number {
  if (e instanceof HttpError || e instanceof RequestError || e instanceof ServeError) return e.status;
  const msg = (e as Error)?.message ?? '';
  return msg.startsWith('forwardpass:') && (e instanceof RangeError || e instanceof TypeError) ? 400 : 500;
}

/** Read the body up to `limit` bytes; over it, a 413 HttpError (the rest is drained and dropped). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    return Promise.reject(new HttpError(413, `forwardpass: serve: the request body is ${declared} bytes; the limit is ${limit}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) { over = true; reject(new HttpError(413, `forwardpass: serve: the request body is over the limit of ${limit} bytes`)); return; }
      chunks.push(c);
    });
    req.on('end', () => { if (!over) resolve(Buffer.concat(chunks)); });
    req.on('error', reject);
  });
}

function parseJson(buf: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `forwardpass: serve: the request body is not valid JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, `forwardpass: serve: expected a JSON object as the request body, found ${Array.isArray(v) ? 'an array' : JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}

/**
 * Serve `opts.models` over HTTP; resolves once listening.
 * @example const s = await startModelServer({ models: [{ name: 'mlp', model: servableFromModel(m) }], port: 0 });
 *          await fetch(`${s.url}/v2/models/mlp/infer`, { method: 'POST', body: JSON.stringify({ inputs: [...] }) });
 */
export async function startModelServer(opts: ServerOptions): Promise<ModelServer> {
  const metrics = new Metrics();
  const limit = opts.maxBodyBytes ?? 16 * 1024 * 1024;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const models = new Map<string, LanguageModel & { platform: string }>();
  for (const e of opts.models) {
    if (!/^[A-Za-z0-9_.-]+$/.test(e.name)) throw new Error(`forwardpass: serve: model name '${e.name}' may hold only letters, digits, '_', '.' and '-'`);
    if (models.has(e.name)) throw new Error(`forwardpass: serve: two models are named '${e.name}'; give each a --name`);
    const batcher = createBatcher(e.model, { ...opts.batch, onBatch: (i) => metrics.batch(e.name, i.rows) });
    const embedBatcher = e.model.embed ? createBatcher(e.model.embed, { ...opts.batch, onBatch: (i) => metrics.batch(`${e.name}:embed`, i.rows) }) : undefined;
    const lm: LanguageModel & { platform: string } = { name: e.name, model: e.model, batcher, embedBatcher, tokenizer: e.tokenizer, platform: e.platform ?? 'forwardpass' };
    if (e.generator) {
      const active = { count: 0, max: opts.batch?.maxQueue ?? 256 };
      const turns = new TurnQueue();
      Object.assign(lm, { generator: e.generator, turns, active, onTokens: (n: number) => metrics.tokens(e.name, n) });
      metrics.watchCompletions(e.name, () => active.count);
    }
    metrics.watchQueue(e.name, () => batcher.queueDepth + (embedBatcher?.queueDepth ?? 0) + (lm.turns?.depth ?? 0));
    models.set(e.name, lm);
  }
  const host = opts.host ?? '127.0.0.1';
  let loopbackHosts: Set<string> | undefined;
  let closing = false;
  let inFlight = 0;
  let idle: (() => void) | null = null;

  const model = (raw: string) => {
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      throw new HttpError(400, `forwardpass: serve: the model name '${raw}' in the path is not valid percent-encoding`);
    }
    const m = models.get(name);
    if (!m) throw new HttpError(404, `forwardpass: serve: no model named '${name}' (served: ${[...models.keys()].join(', ')})`);
    return m;
  };
  const pickLm = (body: Record<string, unknown>, want: 'decoder' | 'encoder') => {
    const names = [...models.keys()].map((k) => `'${k}'`).join(', ');
    if (typeof body.model === 'string') {
      if (!models.has(body.model)) throw new HttpError(404, `forwardpass: serve: expected "model" to name one of ${names}, found ${JSON.stringify(body.model)}`);
      return models.get(body.model)!;
    }
    const fits = [...models.values()].filter((m) => (want === 'decoder' ? m.generator !== undefined : m.model.kind === want));
    if (fits.length === 1 && body.model === undefined) return fits[0]!;
    throw new HttpError(400, `forwardpass: serve: expected "model" to name one of ${names}, found ${JSON.stringify(body.model) ?? 'nothing'}`);
  };

  async function route(req: IncomingMessage, res: ServerResponse, path: string, signal: AbortSignal): Promise<{ status: number; model: string; endpoint: string }> {
    const json = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)); };
    const empty = (status: number) => { res.writeHead(status, { 'content-length': '0' }).end(); };
    const method = req.method ?? 'GET';
    const want = (m: string) => { if (method !== m) throw new HttpError(405, `forwardpass: serve: ${path} takes ${m}, not ${method}`); };
    const io = { signal, timeoutMs };
    // on a loopback address, answer only to loopback Host names: a web page that rebinds its own name to 127.0.0.1
    // sends that name as Host and is refused (as the step-through page's server does)
    if (loopbackHosts && !loopbackHosts.has((req.headers.host ?? '').toLowerCase())) throw new HttpError(403, `forwardpass: serve: this server on ${host} answers only to Host 127.0.0.1, localhost or [::1] with its port, got '${req.headers.host ?? ''}'`);
    if (path === '/v2/health/live') { want('GET'); empty(200); return { status: 200, model: '', endpoint: 'live' }; }
    if (path === '/v2/health/ready') { want('GET'); const s = closing ? 503 : 200; empty(s); return { status: s, model: '', endpoint: 'ready' }; }
    if (path === '/v2' || path === '/v2/') { want('GET'); json(200, { name: 'forwardpass', version: VERSION, extensions: [] }); return { status: 200, model: '', endpoint: 'server_metadata' }; }
    if (path === '/metrics') { want('GET'); res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.text()); return { status: 200, model: '', endpoint: 'metrics' }; }
    const mm = /^\/v2\/models\/([^/]+)(?:\/versions\/1)?(\/ready|\/infer)?$/.exec(path);
    if (mm) {
      const m = model(mm[1]!);
      if (mm[2] === '/ready') { want('GET'); const s = closing ? 503 : 200; empty(s); return { status: s, model: m.name, endpoint: 'model_ready' }; }
      if (!mm[2]) { want('GET'); json(200, modelMetadata(m.name, m.model, m.platform)); return { status: 200, model: m.name, endpoint: 'model_metadata' }; }
      want('POST');
      if (closing) throw new ServeError('forwardpass: serve: the server is shutting down and takes no new requests', 'closed', 503);
      const body = parseJson(await readBody(req, limit));
      const r = parseInferRequest(body, m.model);
      const outs = await m.batcher.infer(r.inputs, io);
      json(200, inferResponse(m.name, r, outs));
      return { status: 200, model: m.name, endpoint: 'infer' };
    }
    if (path === '/v1/completions' || path === '/v1/embeddings') {
      want('POST');
      if (closing) throw new ServeError('forwardpass: serve: the server is shutting down and takes no new requests', 'closed', 503);
      const body = parseJson(await readBody(req, limit));
      if (path === '/v1/embeddings') {
        const lm = pickLm(body, 'encoder');
        json(200, await embeddings(lm, body, io));
        return { status: 200, model: lm.name, endpoint: 'embeddings' };
      }
      const lm = pickLm(body, 'decoder');
      return { status: await completions(lm, body, res, io), model: lm.name, endpoint: 'completions' };
    }
    throw new HttpError(404, `forwardpass: serve: no endpoint ${method} ${path} (see GET /v2, /v2/models/{name}, POST /v2/models/{name}/infer, /v1/completions, /v1/embeddings, /metrics)`);
  }

  const server = createServer((req, res) => {
    const t0 = performance.now();
    inFlight++;
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
      if (--inFlight === 0) idle?.();
    });
    if (closing) res.setHeader('connection', 'close');
    const path = (req.url ?? '/').split('?')[0]!;
    route(req, res, path, ac.signal).then(
      (r) => metrics.request(r.model, r.endpoint, r.status, (performance.now() - t0) / 1000),
      (e: unknown) => {
        const status = statusOf(e);
        const msg = (e as Error)?.message ?? String(e);
        const modelName = /^\/v2\/models\/([^/]+)/.exec(path)?.[1] ?? '';
        metrics.request(models.has(modelName) ? modelName : '', path.startsWith('/v1/') ? path.slice(4) : 'v2', status, (performance.now() - t0) / 1000);
        if (res.headersSent) { if (!res.writableEnded) res.end(`data: ${JSON.stringify({ error: msg })}\n\n`); return; }
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (status === 413) headers.connection = 'close';
        res.writeHead(status, headers).end(JSON.stringify({ error: msg }));
      },
    );
  });
  server.on('clientError', (_e, socket) => { if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n'); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  if (['127.0.0.1', 'localhost', '::1'].includes(host)) loopbackHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  let closed: Promise<void> | null = null;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    server,
    metrics,
    close() {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        // requests already received finish first (a completion needs the batcher for each of its tokens), then the batchers drain
        if (inFlight > 0) await new Promise<void>((r) => (idle = r));
        await Promise.all([...models.values()].flatMap((m) => [m.batcher.close(), m.embedBatcher?.close()]));
        server.closeAllConnections();
        await stopped;
      })();
      return closed;
    },
  };
}
