// Node-only helpers for tests and benchmarks of the page (not part of the browser bundle): a static file
// server for the built site, optionally cross-origin isolated, and Chromium started the way DEVELOPERS.md says.

import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { siteDir } from '../site.js';

export { siteDir };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
};

export interface StaticServerOptions {
  /** Folder served at / (default: the built site). */
  root?: string;
  /** Folder served at /models/ instead of root/models (a folder made with build-site's copyModels). */
  models?: string;
  /** Send COOP/COEP so the page is cross-origin isolated (default true). */
  isolated?: boolean;
}

export interface StaticServer {
  url: string;
  /** Paths requested, in order (to check what a cached load did not fetch). */
  requests: string[];
  close(): Promise<void>;
}

/** An empty page under the site's origin, for scripts that drive the library without the explorer. */
export const BLANK_PAGE = '/__blank.html';

function headers(isolated: boolean): Record<string, string> {
  return isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
}

function inside(root: string, relative: string): string | null {
  const path = normalize(join(root, relative));
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep) ? path : null;
}

export async function startStaticServer(options: StaticServerOptions = {}): Promise<StaticServer> {
  const root = resolve(options.root ?? siteDir);
  const models = options.models === undefined ? undefined : resolve(options.models);
  const isolated = options.isolated ?? true;
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(pathname);
    if (pathname === BLANK_PAGE) {
      res
        .writeHead(200, { ...headers(isolated), 'content-type': 'text/html; charset=utf-8' })
        .end('<!doctype html><title>blank</title>');
      return;
    }
    const relative = pathname.endsWith('/') ? `${pathname}index.html` : pathname;
    const file =
      models !== undefined && relative.startsWith('/models/')
        ? inside(models, relative.slice('/models/'.length))
        : inside(root, relative.slice(1));
    if (file === null || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { ...headers(isolated), 'content-type': 'text/plain' }).end('not found');
      return;
    }
    // Revalidated on every use, as most static hosts do: a warm browser cache gets 304s, and Chromium
    // reuses its compiled code for a wasm file it was given unchanged.
    const stats = statSync(file);
    const modified = stats.mtime.toUTCString();
    const validators = { 'last-modified': modified, 'cache-control': 'no-cache' };
    if (req.headers['if-modified-since'] === modified) {
      res.writeHead(304, { ...headers(isolated), ...validators }).end();
      return;
    }
    res.writeHead(200, {
      ...headers(isolated),
      ...validators,
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': String(stats.size),
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
