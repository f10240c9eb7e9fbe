// `forwardpass serve`: the step-through web page on 127.0.0.1 only (node:http, no dependencies). Serves the built page
// (dist/web), the library bundle it imports (dist, under /lib/), and model folders under /models/ (a JSON list at
// /models/index.json): the shipped fixtures when present, or --models DIR.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, parseArgs, UsageError } from './args.js';

export const SERVE_USAGE = 'forwardpass serve [--port N] [--models DIR]';

/** Where the page, the library bundle and the models come from. */
export interface ServeOptions {
  /** TCP port on 127.0.0.1 (default 8080; 0 picks a free one). */
  port?: number;
  /** A folder of model folders (or one model folder); default: the shipped test/fixtures when present. */
  models?: string;
  /** The built page (index.html, app.js); default: dist/web next to the CLI. */
  web?: string;
  /** The library bundle (index.js and its chunks); default: dist next to the CLI. */
  lib?: string;
}

/** A model folder as the page lists it. */
export interface ServedModel {
  name: string;
  /** Files the page may fetch: config.json, model.safetensors, model.onnx. */
  files: string[];
  task?: string;
}

export interface WebServer {
  url: string;
  port: number;
  models: ServedModel[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json',
  '.json': 'application/json', '.css': 'text/css', '.onnx': 'application/octet-stream', '.safetensors': 'application/octet-stream',
};
const MODEL_FILES = ['config.json', 'model.safetensors', 'model.onnx'];

const here = dirname(fileURLToPath(import.meta.url));
/** dist/ when this runs as the bundled CLI (dist/cli.js); the repository's dist/ when it runs from src/cli. */
const distCandidates = () => [here, resolve(here, '..', '..', 'dist')];

function defaultDist(): string | undefined {
  return distCandidates().find((d) => existsSync(join(d, 'web', 'index.html')));
}

function defaultModels(): string | undefined {
  return [resolve(here, '..', 'test', 'fixtures'), resolve(here, '..', '..', 'test', 'fixtures')].find((d) => existsSync(d));
}

/** The model folders under `dir` (or `dir` itself when it is one), sorted by name, with where each lies. */
function scanModels(dir: string | undefined): { model: ServedModel; folder: string }[] {
  if (!dir) return [];
  const one = (folder: string, name: string) => {
    const files = MODEL_FILES.filter((f) => existsSync(join(folder, f)));
    if (!files.includes('model.onnx') && !(files.includes('config.json') && files.includes('model.safetensors'))) return undefined;
    let task: unknown;
    try {
      task = files.includes('config.json') ? (JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as { task?: unknown }).task : undefined;
    } catch {
      task = undefined;
    }
    return { model: { name, files, ...(typeof task === 'string' ? { task } : {}) }, folder };
  };
  const self = one(dir, basename(dir) || 'model');
  if (self) return [self];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => one(join(dir, e.name), e.name))
    .filter((m) => m !== undefined)
    .sort((a, b) => a.model.name.localeCompare(b.model.name));
}

/** The model folders under `dir` (or `dir` itself when it is one) as the page lists them. @example listModels('test/fixtures') */
export function listModels(dir: string | undefined): ServedModel[] {
  return scanModels(dir).map((m) => m.model);
}

/** `rel` inside `root`, or undefined when it would leave it. */
function inside(root: string, rel: string): string | undefined {
  const p = resolve(root, '.' + sep + rel);
  return p === root || p.startsWith(root + sep) ? p : undefined;
}

function sendFile(res: ServerResponse, file: string | undefined, head: boolean): void {
  if (!file || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const body = readFileSync(file);
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-store' });
  res.end(head ? undefined : body);
}

/**
 * Start the page's server on 127.0.0.1.
 *
 * @example const s = await startServer({ port: 0 }); console.log(s.url); await s.close();
 */
export async function startServer(opts: ServeOptions = {}): Promise<WebServer> {
  const dist = defaultDist();
  const web = resolve(opts.web ?? (dist ? join(dist, 'web') : ''));
  const lib = resolve(opts.lib ?? dist ?? '');
  if (!existsSync(join(web, 'index.html'))) throw new Error(`forwardpass: serve: the web page is not built (no index.html in '${web}'); run npm run build first`);
  if (!existsSync(join(lib, 'index.js'))) throw new Error(`forwardpass: serve: the library bundle is missing (no index.js in '${lib}'); run npm run build first`);
  const modelsDir = opts.models !== undefined ? resolve(opts.models) : defaultModels();
  if (opts.models !== undefined && (!existsSync(modelsDir!) || !statSync(modelsDir!).isDirectory())) throw new Error(`forwardpass: serve: --models expects a folder of model folders, got '${opts.models}'`);
  const found = scanModels(modelsDir);
  const models = found.map((m) => m.model);
  const port = opts.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`forwardpass: serve: port must be an integer from 0 to 65535, got ${String(port)}`);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }).end(); return; }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const head = req.method === 'HEAD';
    if (path === '/' || path === '/index.html') return sendFile(res, join(web, 'index.html'), head);
    if (path === '/models/index.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(head ? undefined : JSON.stringify(models));
      return;
    }
    const m = /^\/models\/([^/]+)\/([^/]+)$/.exec(path);
    if (m) {
      const hit = found.find((x) => x.model.name === m[1]);
      return sendFile(res, hit && hit.model.files.includes(m[2]!) ? join(hit.folder, m[2]!) : undefined, head);
    }
    if (path.startsWith('/lib/')) return sendFile(res, inside(lib, path.slice(5)), head);
    return sendFile(res, inside(web, path.slice(1)), head);
  };

  const server = createServer(handle);
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(new Error(`forwardpass: serve: cannot listen on 127.0.0.1:${port} (${e.code ?? e.message})`)));
    server.listen(port, '127.0.0.1', () => ok());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    models,
    close: () => new Promise<void>((ok) => { server.closeAllConnections?.(); server.close(() => ok()); }),
  };
}

/** The CLI command: serve until interrupted (Ctrl-C). */
export async function serveCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, { port: { value: true }, models: { value: true } }, 'serve');
  if (args.positionals.length) throw new UsageError(`serve: takes no positional arguments, got '${args.positionals[0]}'; usage: ${SERVE_USAGE}`);
  const p = flag(args, 'port', '8080')!;
  const port = Number(p);
  if (!/^\d+$/.test(p) || port > 65535) throw new UsageError(`serve: --port must be an integer from 0 to 65535, got '${p}'`);
  const s = await startServer({ port, ...(args.flags.has('models') ? { models: flag(args, 'models')! } : {}) });
  process.stdout.write(`forwardpass: serving the step-through page at ${s.url} (${s.models.length} model${s.models.length === 1 ? '' : 's'}: ${s.models.map((m) => m.name).join(', ') || 'none; open your own files'}); Ctrl-C stops\n`);
  await new Promise<void>((done) => process.once('SIGINT', () => { void s.close().then(done); }));
}
