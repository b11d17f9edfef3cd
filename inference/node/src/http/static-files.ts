// Files served as they are: a static site directory (the browser runtime's page and its assets) and
// the model files the page loads (card.json and the ONNX file). Paths are resolved segment by segment
// and checked against the real path of the site root, so no request can reach outside it, symlinks
// included. Every file carries an ETag, answers If-None-Match with 304, and is marked
// Cross-Origin-Resource-Policy: same-origin (the page runs cross-origin isolated for wasm threads).

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { HttpError } from './errors.js';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

export function mimeType(path: string): string {
  return MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Headers every file response carries. */
export const FILE_HEADERS = { 'cross-origin-resource-policy': 'same-origin', 'x-content-type-options': 'nosniff' } as const;

export function etagOf(bytes: Uint8Array): string {
  return `"${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}"`;
}

function notModified(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (header === undefined) return false;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag.replace(/^W\//, '') || tag.trim() === '*');
}

/** Sends bytes held in memory with an ETag (304 when the client has them). */
export function sendStoredBytes(
  req: IncomingMessage,
  res: ServerResponse,
  bytes: Uint8Array,
  contentType: string,
  etag: string,
): void {
  const headers = { ...FILE_HEADERS, etag, 'cache-control': 'no-cache' };
  if (notModified(req, etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': contentType, 'content-length': bytes.byteLength });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

/** Streams a file from disk with the given ETag. */
export async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  contentType: string,
  etag: string,
): Promise<void> {
  const info = await stat(path);
  const headers = { ...FILE_HEADERS, etag, 'cache-control': 'no-cache' };
  if (notModified(req, etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': contentType, 'content-length': info.size });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(path);
    stream.on('error', reject);
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

/** A URL path's segments, percent-decoded; refuses encoded slashes, NUL and dot segments. */
export function pathSegments(pathname: string): string[] {
  const segments = pathname.split('/').filter((s) => s !== '');
  return segments.map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new HttpError(400, `malformed percent-encoding in path segment ${JSON.stringify(segment.slice(0, 100))}`);
    }
    if (decoded === '.' || decoded === '..' || /[/\\\0]/.test(decoded)) throw new HttpError(404, 'no such file');
    return decoded;
  });
}

/** A static site folder: `/` is its index.html. */
export class StaticSite {
  private rootReal: Promise<string>;

  constructor(readonly root: string) {
    this.rootReal = realpath(root);
  }

  /** Resolves the request path to a file inside the site, or undefined when there is none. */
  async resolve(pathname: string): Promise<string | undefined> {
    const root = await this.rootReal;
    let path = join(root, ...pathSegments(pathname));
    let real: string;
    try {
      real = await realpath(path);
      if ((await stat(real)).isDirectory()) {
        path = join(real, 'index.html');
        real = await realpath(path);
      }
    } catch {
      return undefined;
    }
    if (real !== root && !real.startsWith(root + sep)) return undefined;
    return (await stat(real)).isFile() ? real : undefined;
  }

  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    const file = await this.resolve(pathname);
    if (file === undefined) return false;
    const info = await stat(file);
    await sendFile(req, res, file, mimeType(file), `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`);
    return true;
  }
}
