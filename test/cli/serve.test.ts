// `forwardpass serve`'s server: the page, the library bundle under /lib/, the model list and model files, on
// 127.0.0.1 only; nothing outside those folders is reachable (by path or symlink); only its own Host names are
// answered; read failures answer 500 without killing it; clear errors for a missing build or a bad flag.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listModels, serveCommand, startServer, type WebServer } from '../../src/cli/serve.js';
import { fixturePath } from '../helpers.js';

let server: WebServer;
let dist = '';
let outside = '';

/** A raw request (no URL normalization by a client) to `port`: status, content type and body; `host` replaces the Host header. */
function get(path: string, method = 'GET', host?: string, port = server.port): Promise<{ status: number; type: string; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method, ...(host !== undefined ? { setHost: false, headers: host ? { host } : {} } : {}) }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => ok({ status: res.statusCode!, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** `files` (path -> text) written under `root`, folders made as needed. */
function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), body);
  }
}

beforeAll(async () => {
  dist = mkdtempSync(join(tmpdir(), 'fp-serve-'));
  outside = mkdtempSync(join(tmpdir(), 'fp-serve-outside-'));
  writeTree(dist, {
    'web/index.html': '<!doctype html><title>page</title>',
    'web/app.js': 'import "/lib/index.js";',
    'index.js': 'export const lib = 1;',
    'secret.txt': 'not for the page',
  });
  writeTree(outside, { 'outside.txt': 'not for the page either' });
  // symlinks out of the roots (a file, a folder), one that stays inside, and a loop that cannot be read
  symlinkSync(join(outside, 'outside.txt'), join(dist, 'web', 'leak.txt'));
  symlinkSync(join(dist, 'secret.txt'), join(dist, 'web', 'leak2.txt'));
  symlinkSync(outside, join(dist, 'web', 'out'));
  symlinkSync(join(outside, 'outside.txt'), join(dist, 'leak.js'));
  symlinkSync('app.js', join(dist, 'web', 'alias.js'));
  symlinkSync('loop.js', join(dist, 'web', 'loop.js'));
  // the page folder itself reached through a symlink still serves
  symlinkSync(join(dist, 'web'), join(outside, 'web-link'));
  server = await startServer({ port: 0, web: join(outside, 'web-link'), lib: dist, models: fixturePath() });
});
afterAll(() => server.close());

describe('forwardpass serve', () => {
  it('listens on 127.0.0.1 and serves the page, its script and the library bundle', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get('/');
    expect([page.status, page.type, page.body]).toEqual([200, 'text/html; charset=utf-8', '<!doctype html><title>page</title>']);
    expect((await get('/app.js')).type).toBe('text/javascript; charset=utf-8');
    expect((await get('/lib/index.js')).body).toBe('export const lib = 1;');
    expect((await get('/', 'HEAD')).body).toBe('');
    expect((await get('/', 'POST')).status).toBe(405);
  });

  it('lists the fixture models with their files and serves exactly those files', async () => {
    const list = JSON.parse((await get('/models/index.json')).body) as { name: string; files: string[] }[];
    expect(list.map((m) => m.name)).toEqual(['cnn-digits', 'cnn-mnist', 'mlp-digits', 'tiny-bert-cls', 'tiny-gpt']);
    for (const m of list) expect(m.files).toEqual(['config.json', 'model.safetensors', 'model.onnx']);
    expect(JSON.parse((await get('/models/tiny-gpt/config.json')).body).vocab_size).toBe(80);
    expect((await get('/models/tiny-gpt/io.json')).status).toBe(404);
    expect((await get('/models/nope/config.json')).status).toBe(404);
    expect(listModels(fixturePath('mlp-digits')).map((m) => m.name)).toEqual(['mlp-digits']);
  });

  it('reaches nothing outside its folders, however the path is spelled', async () => {
    for (const p of ['/../secret.txt', '/lib/../secret.txt', '/..%2fsecret.txt', '/lib/..%2f..%2fpackage.json', '/models/..%2f..%2fpackage.json/x', '/%2e%2e/secret.txt', '/web/../../secret.txt']) {
      const r = await get(p);
      expect(r.body, p).not.toContain('not for the page');
      expect(r.body, p).not.toContain('"name": "forwardpass"');
    }
    expect((await get('/%E0%A4%A')).status).toBe(400);
  });

  it('follows no symlink out of the page or bundle folder; one that stays inside still serves', async () => {
    for (const p of ['/leak.txt', '/leak2.txt', '/out/outside.txt', '/lib/leak.js']) {
      const r = await get(p);
      expect([r.status, r.body], p).toEqual([404, 'not found']);
    }
    expect((await get('/alias.js')).body).toBe('import "/lib/index.js";');
    expect((await get('/lib/')).status).toBe(404);
  });

  it('answers a file it cannot read with 500 and no details, and keeps serving', async () => {
    const r = await get('/loop.js');
    expect([r.status, r.body]).toEqual([500, 'cannot read this file']);
    expect((await get('/')).status).toBe(200);
  });

  it('answers only to its own host names and port (no DNS rebinding)', async () => {
    const port = server.port;
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', `127.0.0.1.evil.example:${port}`]) {
      const r = await get('/', 'GET', host);
      expect([r.status, r.body], host).toEqual([403, 'forbidden: this server answers only to 127.0.0.1, localhost or [::1] on its own port']);
    }
    expect((await get('/models/index.json', 'GET', 'evil.example')).status).toBe(403);
    const none = await get('/', 'GET', ''); // no Host at all: node answers 400 itself, or we do 403
    expect([400, 403]).toContain(none.status);
    expect(none.body).not.toContain('page');
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) expect((await get('/', 'GET', host)).status, host).toBe(200);
  });

  it('without a built page or bundle it refuses to start rather than serve the current folder', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'fp-serve-empty-'));
    await expect(startServer({ port: 0 }, empty)).rejects.toThrow(/^forwardpass: serve: the web page is not built \(no dist\/web\/index\.html next to '.*fp-serve-empty-.*'\); run npm run build first$/);
    await expect(startServer({ port: 0, web: join(dist, 'web') }, empty)).rejects.toThrow(/^forwardpass: serve: the library bundle is missing \(no dist\/index\.js next to '.*fp-serve-empty-.*'\); run npm run build first$/);
  });

  it('serves the example models only from inside the forwardpass package (none from an installed copy)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fp-serve-inst-'));
    const pkg = join(root, 'node_modules', 'forwardpass');
    const model = { 'mlp-digits/config.json': '{"task": "digits"}', 'mlp-digits/model.safetensors': 'x' };
    writeTree(pkg, { 'package.json': '{"name": "forwardpass"}', 'dist/index.js': 'export {};', 'dist/web/index.html': '<title>installed</title>' });
    // where the old default looked from dist/: node_modules/test/fixtures, outside the package
    writeTree(join(root, 'node_modules', 'test', 'fixtures'), model);
    const s1 = await startServer({ port: 0 }, join(pkg, 'dist'));
    try {
      expect(s1.models).toEqual([]);
      expect((await get('/models/index.json', 'GET', undefined, s1.port)).body).toBe('[]');
      expect((await get('/', 'GET', undefined, s1.port)).body).toBe('<title>installed</title>');
    } finally {
      await s1.close();
    }
    // a package that ships its fixtures serves them
    writeTree(join(pkg, 'test', 'fixtures'), model);
    const s2 = await startServer({ port: 0 }, join(pkg, 'dist'));
    await s2.close();
    expect(s2.models).toEqual([{ name: 'mlp-digits', files: ['config.json', 'model.safetensors'], task: 'digits' }]);
    // a dist/ copied into some other package is not forwardpass's: no models
    const other = mkdtempSync(join(tmpdir(), 'fp-serve-other-'));
    writeTree(other, { 'package.json': '{"name": "my-app"}', 'dist/index.js': 'export {};', 'dist/web/index.html': '<title>x</title>' });
    writeTree(join(other, 'test', 'fixtures'), model);
    const s3 = await startServer({ port: 0 }, join(other, 'dist'));
    await s3.close();
    expect(s3.models).toEqual([]);
    // from this checkout's src/cli: the repository's fixtures
    const repoCli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli');
    const s4 = await startServer({ port: 0, web: join(dist, 'web'), lib: dist }, repoCli);
    await s4.close();
    expect(s4.models.map((m) => m.name)).toEqual(['cnn-digits', 'cnn-mnist', 'mlp-digits', 'tiny-bert-cls', 'tiny-gpt']);
  });

  it('says what is missing: an unbuilt page, a models folder that is not there, a bad port', async () => {
    await expect(startServer({ port: 0, web: join(dist, 'nowhere'), lib: dist })).rejects.toThrow(/^forwardpass: serve: the web page is not built \(no index\.html in '.*nowhere'\); run npm run build first$/);
    await expect(startServer({ port: 0, web: join(dist, 'web'), lib: dist, models: join(dist, 'none') })).rejects.toThrow(/^forwardpass: serve: --models expects a folder of model folders, got '.*none'$/);
    await expect(serveCommand(['--port', 'x'])).rejects.toThrow("serve: --port must be an integer from 0 to 65535, got 'x'");
    await expect(serveCommand(['extra'])).rejects.toThrow(/^serve: takes no positional arguments, got 'extra'/);
    await expect(startServer({ port: server.port, web: join(dist, 'web'), lib: dist })).rejects.toThrow(`forwardpass: serve: cannot listen on 127.0.0.1:${server.port} (EADDRINUSE)`);
  });
});
