// `forwardpass serve` without --model: the step-through web page on 127.0.0.1 only (node:http, no dependencies). Serves the built page
// (dist/web), the library bundle it imports (dist, under /lib/), and model folders under /models/ (a JSON list at
// /models/index.json): the package's own test/fixtures when it ships them, or --models DIR.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, parseArgs, UsageError } from './args.js';
import { SERVE_SPEC, SERVE_USAGE } from './specs.js';
import { applyThreadsFlag } from './threads.js';
import { serveModelsCommand } from './serve-models.js';


/** Where the page, the library bundle and the models come from. */
export interface ServeOptions {
  /** TCP port on 127.0.0.1 (default 8080; 0 picks a free one). */
  port?: number;
  /** A folder of model folders (or one model folder); default: the package's own test/fixtures in a source checkout, none when installed. */
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

/** The forwardpass package folder holding `from` (the nearest package.json above it must be forwardpass's), or undefined. */
function packageRoot(from: string): string | undefined {
  for (let d = resolve(from); ; d = dirname(d)) {
    const pj = join(d, 'package.json');
    if (existsSync(pj)) {
      try {
        return (JSON.parse(readFileSync(pj, 'utf8')) as { name?: unknown }).name === 'forwardpass' ? d : undefined;
      } catch {
        return undefined;
      }
    }
    if (dirname(d) === d) return undefined;
  }
}

/** dist/ holding the built page: `from` itself (the bundled CLI, dist/cli.js) or the package's dist/ (running from src/cli). */
function defaultDist(from: string): string | undefined {
  const root = packageRoot(from);
  return [resolve(from), ...(root ? [join(root, 'dist')] : [])].find((d) => existsSync(join(d, 'web', 'index.html')));
}

/** The package's own test/fixtures (a source checkout); never a folder outside the package (an installed copy has none). */
function defaultModels(from: string): string | undefined {
  const root = packageRoot(from);
  const dir = root ? join(root, 'test', 'fixtures') : undefined;
  return dir && existsSync(dir) && statSync(dir).isDirectory() ? dir : undefined;
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

/** `rel` inside `root` (textually), or undefined when it would leave it. */
function inside(root: string, rel: string): string | undefined {
  const p = resolve(root, '.' + sep + rel);
  return p === root || p.startsWith(root + sep) ? p : undefined;
}

const text = (res: ServerResponse, status: number, body: string) => res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
/** Errors that mean "no such file here" rather than a fault of the server. */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_ARG_TYPE']);

/**
 * Send `file`, a regular file; 404 when it is missing or, with `root`, when its real path (symlinks resolved) leaves
 * the real `root`; 500 (no details to the client) when it cannot be read.
 */
function sendFile(res: ServerResponse, file: string | undefined, head: boolean, root?: string): void {
  let body: Buffer;
  try {
    if (!file) return void text(res, 404, 'not found');
    const real = realpathSync(file);
    if (root !== undefined) {
      const top = realpathSync(root);
      if (real !== top && !real.startsWith(top.endsWith(sep) ? top : top + sep)) return void text(res, 404, 'not found');
    }
    if (!statSync(real).isFile()) return void text(res, 404, 'not found');
    body = readFileSync(real);
  } catch (e) {
    return void text(res, MISSING.has((e as NodeJS.ErrnoException).code ?? '') ? 404 : 500, MISSING.has((e as NodeJS.ErrnoException).code ?? '') ? 'not found' : 'cannot read this file');
  }
  // cross-origin isolation: the page's performance.now() then resolves 5 us instead of 100 us (per-op times)
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-store',
    'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
  });
  res.end(head ? undefined : body);
}

/**
 * Start the page's server on 127.0.0.1. `home` is where the CLI runs from (its dist/ or src/cli), which decides the
 * default page, bundle and models; tests pass another.
 *
 * @example const s = await startServer({ port: 0 }); console.log(s.url); await s.close();
 */
export async function startServer(opts: ServeOptions = {}, home: string = here): Promise<WebServer> {
  const dist = opts.web !== undefined && opts.lib !== undefined ? undefined : defaultDist(home);
  const build = 'run npm run build first';
  if (opts.web === undefined && !dist) throw new Error(`forwardpass: serve: the web page is not built (no dist/web/index.html next to '${home}'); ${build}`);
  const web = resolve(opts.web ?? join(dist!, 'web'));
  if (!existsSync(join(web, 'index.html'))) throw new Error(`forwardpass: serve: the web page is not built (no index.html in '${web}'); ${build}`);
  if (opts.lib === undefined && !dist) throw new Error(`forwardpass: serve: the library bundle is missing (no dist/index.js next to '${home}'); ${build}`);
  const lib = resolve(opts.lib ?? dist!);
  if (!existsSync(join(lib, 'index.js'))) throw new Error(`forwardpass: serve: the library bundle is missing (no index.js in '${lib}'); ${build}`);
  const modelsDir = opts.models !== undefined ? resolve(opts.models) : defaultModels(home);
  if (opts.models !== undefined && (!existsSync(modelsDir!) || !statSync(modelsDir!).isDirectory())) throw new Error(`forwardpass: serve: --models expects a folder of model folders, got '${opts.models}'`);
  const found = scanModels(modelsDir);
  const models = found.map((m) => m.model);
  const port = opts.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`forwardpass: serve: port must be an integer from 0 to 65535, got ${String(port)}`);
  // DNS rebinding: a page from another site that resolves its name to 127.0.0.1 sends its own Host; only ours pass.
  let hosts = new Set<string>();

  const route = (req: IncomingMessage, res: ServerResponse) => {
    if (!hosts.has((req.headers.host ?? '').toLowerCase())) return void text(res, 403, 'forbidden: this server answers only to 127.0.0.1, localhost or [::1] on its own port');
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }).end(); return; }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const head = req.method === 'HEAD';
    if (path === '/' || path === '/index.html') return sendFile(res, join(web, 'index.html'), head, web);
    if (path === '/models/index.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(head ? undefined : JSON.stringify(models));
      return;
    }
    const m = /^\/models\/([^/]+)\/([^/]+)$/.exec(path);
    if (m) {
      // only the listed file names of a listed folder; their symlinks are followed (a model cache links to blobs)
      const hit = found.find((x) => x.model.name === m[1]);
      return sendFile(res, hit && hit.model.files.includes(m[2]!) ? join(hit.folder, m[2]!) : undefined, head);
    }
    if (path.startsWith('/lib/')) return sendFile(res, inside(lib, path.slice(5)), head, lib);
    return sendFile(res, inside(web, path.slice(1)), head, web);
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    try {
      route(req, res);
    } catch {
      if (!res.headersSent) text(res, 500, 'internal error');
      else res.destroy();
    }
  };

  const server = createServer(handle);
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(new Error(`forwardpass: serve: cannot listen on 127.0.0.1:${port} (${e.code ?? e.message})`)));
    server.listen(port, '127.0.0.1', () => ok());
  });
  const actual = (server.address() as AddressInfo).port;
  hosts = new Set([`127.0.0.1:${actual}`, `localhost:${actual}`, `[::1]:${actual}`]);
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    models,
    close: () => new Promise<void>((ok) => { server.closeAllConnections?.(); server.close(() => ok()); }),
  };
}

/** The CLI command: with --model the model server (serve-models.ts), else the page until interrupted (Ctrl-C). */
export async function serveCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, SERVE_SPEC);
  if (args.flags.has('model')) {
    applyThreadsFlag(args, 'serve');
    if (args.positionals.length) throw new UsageError(`serve: takes no positional arguments, got '${args.positionals[0]}'; give models with --model PATH; usage: ${SERVE_USAGE}`);
    return serveModelsCommand(args);
  }
  const modelOnly = ['name', 'host', 'max-batch', 'max-delay-ms', 'max-pad-fraction', 'max-queue', 'timeout-ms', 'max-body-mb', 'backend', 'threads'].find((k) => args.flags.has(k));
  if (modelOnly) throw new UsageError(`serve: --${modelOnly} applies to the model server; give --model PATH too (without --model, serve shows the step-through page)`);
  if (args.positionals.length) throw new UsageError(`serve: takes no positional arguments, got '${args.positionals[0]}'; usage: ${SERVE_USAGE}`);
  const p = flag(args, 'port', '8080')!;
  const port = Number(p);
  if (!/^\d+$/.test(p) || port > 65535) throw new UsageError(`serve: --port must be an integer from 0 to 65535, got '${p}'`);
  const s = await startServer({ port, ...(args.flags.has('models') ? { models: flag(args, 'models')! } : {}) });
  process.stdout.write(`forwardpass: serving the step-through page at ${s.url} (${s.models.length} model${s.models.length === 1 ? '' : 's'}: ${s.models.map((m) => m.name).join(', ') || 'this install ships none; pass --models DIR or open your own files in the page'}); Ctrl-C stops\n`);
  await new Promise<void>((done) => process.once('SIGINT', () => { void s.close().then(done); }));
}
