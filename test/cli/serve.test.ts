// `forwardpass serve`'s server: the page, the library bundle under /lib/, the model list and model files, on
// 127.0.0.1 only; nothing outside those folders is reachable; clear errors for a missing build or a bad flag.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listModels, serveCommand, startServer, type WebServer } from '../../src/cli/serve.js';
import { fixturePath } from '../helpers.js';

let server: WebServer;
let dist = '';

/** A raw request (no URL normalization by a client): status, content type and body. */
function get(path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => ok({ status: res.statusCode!, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', fail);
    req.end();
  });
}

beforeAll(async () => {
  dist = mkdtempSync(join(tmpdir(), 'fp-serve-'));
  mkdirSync(join(dist, 'web'));
  writeFileSync(join(dist, 'web', 'index.html'), '<!doctype html><title>page</title>');
  writeFileSync(join(dist, 'web', 'app.js'), 'import "/lib/index.js";');
  writeFileSync(join(dist, 'index.js'), 'export const lib = 1;');
  writeFileSync(join(dist, 'secret.txt'), 'not for the page');
  server = await startServer({ port: 0, web: join(dist, 'web'), lib: dist, models: fixturePath() });
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

  it('says what is missing: an unbuilt page, a models folder that is not there, a bad port', async () => {
    await expect(startServer({ port: 0, web: join(dist, 'nowhere'), lib: dist })).rejects.toThrow(/^forwardpass: serve: the web page is not built \(no index\.html in '.*nowhere'\); run npm run build first$/);
    await expect(startServer({ port: 0, web: join(dist, 'web'), lib: dist, models: join(dist, 'none') })).rejects.toThrow(/^forwardpass: serve: --models expects a folder of model folders, got '.*none'$/);
    await expect(serveCommand(['--port', 'x'])).rejects.toThrow("serve: --port must be an integer from 0 to 65535, got 'x'");
    await expect(serveCommand(['extra'])).rejects.toThrow(/^serve: takes no positional arguments, got 'extra'/);
    await expect(startServer({ port: server.port, web: join(dist, 'web'), lib: dist })).rejects.toThrow(`forwardpass: serve: cannot listen on 127.0.0.1:${server.port} (EADDRINUSE)`);
  });
});
