// The headless-Chromium tests' static server: /dist/* from a fresh build, everything else from the repository, on
// 127.0.0.1 only, optionally with extra response headers (COOP/COEP for a cross-origin isolated page).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { ROOT } from '../bundle.js';

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.json': 'application/json', '.map': 'application/json' };

/** The headers that make a page cross-origin isolated (SharedArrayBuffer, shared Wasm memory, worker threads). */
export const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/** Start serving `dist` at /dist/ and the repository elsewhere; resolves to the base URL and a close(). */
export function serveStatic(dist: string, headers: Record<string, string> = {}): Promise<{ base: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = path.startsWith('/dist/') ? join(dist, path.slice(6)) : join(ROOT, path);
    if (!file.startsWith(dist) && !file.startsWith(ROOT)) { res.writeHead(403).end(); return; }
    if (!existsSync(file) || !statSync(file).isFile()) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...headers }).end(readFileSync(file));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  })));
}
