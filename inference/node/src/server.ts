// The HTTP server over a ModelRegistry, on node:http. This file does the connection-level work (limits,
// timeouts, Host and CORS checks, content types, logging, metrics, draining on shutdown) and hands each
// request to one of the parts under http/: routes.ts (which handler), schemas.ts (request bodies and
// /openapi.json), api.ts (model endpoints), encoding.ts (output formats), static-files.ts (the site and
// model files), page.ts (the built-in page), metrics.ts.
//
//   GET  /  /healthz  /metrics  /openapi.json  /v1/models  /v1/models/:name
//   POST /v1/models/:name/{generate,interpolate,arithmetic,latents}   (application/json bodies)
//   GET  /v1/models/:name/grid.png?n=&seed=&scale=&class=
//   GET  /models/index.json  /models/:name/card.json  /models/:name/<onnx file>   (for the browser runtime)
//
// Every client error is a 4xx with a JSON body {"error": message, ...} and no stack or server path.

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { QueueFullError, WorkAbortedError } from './batcher.js';
import type { ModelRegistry } from './registry.js';
import { gridQueryBody, modelAction, requireGenerator, type Limits } from './http/api.js';
import type { Encoded } from './http/encoding.js';
import { HttpError } from './http/errors.js';
import { ServerMetrics } from './http/metrics.js';
import { indexPage } from './http/page.js';
import { ALLOWED_METHODS, matchRoute, routeLabel, type Route } from './http/routes.js';
import { jsonDepth, MAX_JSON_DEPTH, openApiDocument } from './http/schemas.js';
import { etagOf, sendFile, sendStoredBytes, StaticSite } from './http/static-files.js';
import { stdoutTurnLines } from './http/turn-lines.js';

export { HttpError } from './http/errors.js';
export { negotiate, headerText, contentDisposition, type OutputFormat } from './http/encoding.js';
export { openApiDocument } from './http/schemas.js';

export const DEFAULT_MAX_N = 256;
export const DEFAULT_MAX_WORK = 2 ** 25;
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_WORK_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_CONNECTIONS = 512;

export interface ServerOptions {
  /** Most images one request may produce (default 256). */
  maxN?: number;
  /** Most output values one request may produce, images × pixels × channels × scale² (default 2^25). */
  maxWork?: number;
  /** Largest accepted request body in bytes (default 256 KiB); larger bodies get 413. */
  maxBodyBytes?: number;
  /** Time to receive a request's headers and body (default 10 s); slower clients get 408. */
  requestTimeoutMs?: number;
  /** Time a request may wait for and run its generation (default 60 s); then 503. */
  workTimeoutMs?: number;
  /** Most open connections (default 512); more are closed at once. */
  maxConnections?: number;
  /** Origin allowed to call the API from a browser (CORS), or '*'; default none. */
  cors?: string;
  /** Host names accepted in the Host header besides this machine's own, when bound beyond loopback. */
  allowedHosts?: readonly string[];
  /** A static site folder served at / (the browser runtime's page). */
  site?: string;
  /** One JSON line per request; default stdout, one write per event-loop turn. */
  log?: (line: string) => void;
  /** Unexpected (500) failures, with their stack; default stderr. */
  logError?: (message: string) => void;
}

const SECURITY_HEADERS = {
  // The browser runtime needs cross-origin isolation (SharedArrayBuffer for wasm threads).
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'x-content-type-options': 'nosniff',
} as const;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The host part of a Host header ("example.com:8080" → "example.com", "[::1]:80" → "[::1]"). */
function hostOf(header: string): string {
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) return value.slice(0, value.indexOf(']') + 1);
  const colon = value.lastIndexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

function machineHosts(): Set<string> {
  const hosts = new Set(['localhost', '127.0.0.1', '[::1]', hostname().toLowerCase()]);
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? [])
      hosts.add(address.family === 'IPv6' ? `[${address.address.toLowerCase()}]` : address.address);
  }
  return hosts;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = (): HttpError =>
    new HttpError(413, `request body is larger than the ${limit}-byte limit`, { limit }, { connection: 'close' });
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  if (jsonDepth(text) > MAX_JSON_DEPTH)
    throw new HttpError(400, `request body nests deeper than ${MAX_JSON_DEPTH} levels; no request needs that`, {
      code: 'invalid-json',
    });
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `request body is not valid JSON: ${(error as Error).message.slice(0, 200)}`, {
      code: 'invalid-json',
    });
  }
}

function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const type = header.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** What one request did, for its log line. */
interface RequestRecord {
  route: Route | undefined;
  /** The client hung up before the response was complete. */
  aborted: boolean;
  model?: string;
  rows?: number;
}

/** A running Gantry HTTP server; see {@link createServer}. */
export class GantryServer {
  readonly http: Server;
  readonly metrics: ServerMetrics;
  private draining = false;
  private boundHost = '127.0.0.1';
  private readonly hosts: Set<string>;
  private readonly site: StaticSite | undefined;
  private readonly limits: Limits;
  private readonly maxBodyBytes: number;
  private readonly workTimeoutMs: number;
  private readonly log: (line: string) => void;
  private readonly flushLog: () => void;
  private readonly logError: (message: string) => void;
  /** Open connections and how many requests each has in flight. */
  private readonly sockets = new Map<Socket, number>();

  constructor(
    readonly registry: ModelRegistry,
    private readonly options: ServerOptions = {},
  ) {
    const integer = (value: number, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
      if (!(Number.isInteger(value) && value >= min && value <= max))
        throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
      return value;
    };
    this.limits = {
      maxRows: integer(options.maxN ?? DEFAULT_MAX_N, 'maxN', 1, 65536),
      maxWork: integer(options.maxWork ?? DEFAULT_MAX_WORK, 'maxWork', 1),
    };
    this.maxBodyBytes = integer(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, 'maxBodyBytes', 64);
    this.workTimeoutMs = integer(options.workTimeoutMs ?? DEFAULT_WORK_TIMEOUT_MS, 'workTimeoutMs', 1);
    const requestTimeout = integer(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, 'requestTimeoutMs', 1);
    const stdout = options.log === undefined ? stdoutTurnLines() : undefined;
    this.flushLog = () => stdout?.flush();
    this.log = options.log ?? ((line) => stdout!.line(line));
    this.logError = options.logError ?? ((message) => console.error(message));
    this.hosts = new Set([...machineHosts(), ...(options.allowedHosts ?? []).map((h) => h.toLowerCase())]);
    this.site = options.site === undefined ? undefined : new StaticSite(options.site);
    this.metrics = new ServerMetrics(registry);

    this.http = createHttpServer(
      {
        requestTimeout,
        headersTimeout: Math.min(requestTimeout, 60_000),
        keepAliveTimeout: 5_000,
        // Node checks the timeouts on this interval (30 s by default, which would let slow bodies linger).
        connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(requestTimeout / 4))),
      },
      (req, res) => this.handle(req, res),
    );
    this.http.maxConnections = integer(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, 'maxConnections', 1);
    this.http.on('connection', (socket: Socket) => {
      this.sockets.set(socket, 0);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // Malformed HTTP (bad request lines, oversized headers): a plain 400 and no log noise.
    this.http.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      if (socket.writable && error.code !== 'ECONNRESET') {
        const status =
          error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : error.code === 'HPE_HEADER_OVERFLOW'
              ? '431 Request Header Fields Too Large'
              : '400 Bad Request';
        if (status.startsWith('408')) this.metrics.rejections.inc({ reason: 'timeout' });
        socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      } else socket.destroy();
    });
  }

  /** Starts listening; resolves with the base URL. Port 0 picks a free port. */
  listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.boundHost = host;
    return listen(this.http, port, host);
  }

  /**
   * Stops taking connections and requests (new requests on open connections get 503), lets in-flight
   * requests finish, and resolves when every connection is closed.
   */
  async drain(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    // Connections without a request in flight (keep-alive ones, and ones opened ahead by a client's
    // pool that never sent a request) are closed as soon as they are found; the others after their response.
    const sweepIdle = (): void => {
      for (const [socket, active] of this.sockets) if (active === 0) socket.destroy();
    };
    sweepIdle();
    const sweep = setInterval(sweepIdle, 25);
    await closed;
    clearInterval(sweep);
    this.metrics.close();
    this.flushLog();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const record: RequestRecord = { route: undefined, aborted: false };
    // Stops the request's work when its client hangs up (and, for model work, when the work timeout passes).
    const controller = new AbortController();
    const socket = req.socket;
    this.sockets.set(socket, (this.sockets.get(socket) ?? 0) + 1);
    res.on('close', () => {
      if (this.sockets.has(socket)) this.sockets.set(socket, this.sockets.get(socket)! - 1);
      if (!res.writableFinished) {
        record.aborted = true;
        controller.abort();
      }
      const status = record.aborted ? 499 : res.statusCode;
      const seconds = (performance.now() - started) / 1000;
      const route = routeLabel(record.route);
      this.metrics.requests.inc({ route, method: req.method ?? '', status: String(status) });
      this.metrics.latency.observe({ route }, seconds);
      this.log(
        JSON.stringify({
          time: new Date().toISOString(),
          method: req.method,
          path: (req.url ?? '').slice(0, 200),
          route,
          status,
          ms: Math.round(seconds * 10000) / 10,
          bytes: Number(res.getHeader('content-length') ?? 0),
          ...(record.model !== undefined ? { model: record.model } : {}),
          ...(record.rows !== undefined ? { rows: record.rows } : {}),
          // A client that hangs up is not a server failure.
          outcome: record.aborted ? 'aborted' : status >= 500 ? 'error' : status >= 400 ? 'client-error' : 'ok',
        }),
      );
    });
    for (const [key, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(key, value);
    this.route(req, res, record, controller).catch((error: unknown) => this.fail(req, res, error, record.aborted));
  }

  private fail(req: IncomingMessage, res: ServerResponse, error: unknown, aborted: boolean): void {
    if (aborted || error instanceof WorkAbortedError || res.destroyed) {
      if (!res.headersSent && !res.destroyed) res.destroy();
      return;
    }
    if (res.headersSent) {
      this.logError(
        `gantry server: ${req.method} ${(req.url ?? '').slice(0, 200)} failed mid-response: ${(error as Error).stack ?? String(error)}`,
      );
      res.destroy();
      return;
    }
    let http: HttpError;
    if (error instanceof HttpError) http = error;
    else if (error instanceof QueueFullError) {
      this.metrics.rejections.inc({ reason: 'queue_full' });
      http = new HttpError(429, error.message, { code: error.code }, { 'retry-after': String(error.retryAfterSeconds) });
    } else if ((error as NodeJS.ErrnoException).code === 'ECONNRESET' || (error as Error).message === 'aborted') {
      res.destroy();
      return;
    } else {
      this.logError(
        `gantry server: ${req.method} ${(req.url ?? '').slice(0, 200)} failed: ${(error as Error).stack ?? String(error)}`,
      );
      http = new HttpError(500, 'internal error; the server log has the details', { code: 'internal' });
    }
    // Unread request bodies are drained so keep-alive stays usable, unless the error closes the connection.
    if (!req.readableEnded && http.headers.connection !== 'close') req.resume();
    this.sendJson(res, http.status, { error: http.message, ...http.details }, http.headers);
  }

  private sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}): void {
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      ...headers,
    });
    res.end(text);
  }

  private sendEncoded(req: IncomingMessage, res: ServerResponse, encoded: Encoded): void {
    res.writeHead(200, {
      'content-type': encoded.contentType,
      'content-length': encoded.body.length,
      'cache-control': 'no-store',
      ...encoded.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : encoded.body);
  }

  /** CORS for the configured origin; true when the request was a preflight and is answered. */
  private cors(req: IncomingMessage, res: ServerResponse): boolean {
    const allowed = this.options.cors;
    const origin = req.headers.origin;
    if (allowed === undefined || origin === undefined || (allowed !== '*' && origin !== allowed)) return false;
    res.setHeader('access-control-allow-origin', allowed === '*' ? '*' : origin);
    res.setHeader('vary', 'Origin');
    res.setHeader(
      'access-control-expose-headers',
      'x-gantry-model, x-gantry-seed, x-gantry-n, x-gantry-shape, x-gantry-class, retry-after',
    );
    if (req.method !== 'OPTIONS') return false;
    res
      .writeHead(204, {
        'access-control-allow-methods': 'GET, HEAD, POST',
        'access-control-allow-headers': 'content-type, accept',
        'access-control-max-age': '600',
      })
      .end();
    return true;
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    record: RequestRecord,
    controller: AbortController,
  ): Promise<void> {
    const target = req.url ?? '/';
    if (!target.startsWith('/')) throw new HttpError(400, 'the request target must be a path starting with "/"');
    if (!isLoopback(this.boundHost)) {
      const host = req.headers.host;
      if (host === undefined || !this.hosts.has(hostOf(host))) {
        this.metrics.rejections.inc({ reason: 'host' });
        throw new HttpError(
          400,
          `Host ${JSON.stringify((host ?? '').slice(0, 100))} is not one this server answers to; start it with --allowed-host NAME to add one`,
          { code: 'host' },
        );
      }
    }
    if (this.cors(req, res)) return;
    if (this.draining) {
      this.metrics.rejections.inc({ reason: 'draining' });
      throw new HttpError(503, 'the server is shutting down', { code: 'draining' }, { connection: 'close', 'retry-after': '1' });
    }
    const query = target.indexOf('?');
    const pathname = query === -1 ? target : target.slice(0, query);
    const params = new URLSearchParams(query === -1 ? '' : target.slice(query + 1));
    const route = matchRoute(pathname, this.site !== undefined);
    record.route = route;
    if (route === undefined) throw new HttpError(404, 'no such route; see /openapi.json', { code: 'not-found' });
    const method = req.method ?? 'GET';
    const allowed = ALLOWED_METHODS[route.kind];
    if (!allowed.includes(method))
      throw new HttpError(
        405,
        `method ${method.slice(0, 20)} is not allowed here; allowed: ${allowed.join(', ')}`,
        { allowed },
        { allow: allowed.join(', ') },
      );
    const { registry } = this;
    switch (route.kind) {
      case 'index':
        if (this.site !== undefined && (await this.site.serve(req, res, '/'))) return;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : indexPage(registry));
        return;
      case 'site':
        if (!(await this.site!.serve(req, res, pathname))) throw new HttpError(404, 'no such file', { code: 'not-found' });
        return;
      case 'health':
        this.sendJson(res, 200, { status: this.draining ? 'draining' : 'ok', models: registry.names() });
        return;
      case 'metrics': {
        const text = await this.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(text);
        return;
      }
      case 'openapi':
        this.sendJson(res, 200, openApiDocument());
        return;
      case 'models':
        this.sendJson(res, 200, { models: registry.cards() });
        return;
      case 'model':
        this.sendJson(res, 200, requireGenerator(registry, route.name).card);
        return;
      case 'model-index': {
        const bytes = Buffer.from(`${JSON.stringify({ models: registry.names() })}\n`);
        sendStoredBytes(req, res, bytes, 'application/json; charset=utf-8', etagOf(bytes));
        return;
      }
      case 'model-file': {
        const generator = requireGenerator(registry, route.name);
        if (route.file === 'card.json') {
          const bytes = registry.cardBytes(route.name);
          sendStoredBytes(req, res, bytes, 'application/json; charset=utf-8', etagOf(bytes));
        } else if (route.file === generator.card.onnx.file) {
          await sendFile(
            req,
            res,
            join(registry.get(route.name).folder, generator.card.onnx.file),
            'application/octet-stream',
            `"${generator.card.onnx.sha256}"`,
          );
        } else
          throw new HttpError(
            404,
            `model ${JSON.stringify(route.name)} has no file ${JSON.stringify(route.file.slice(0, 100))}; it serves card.json and ${generator.card.onnx.file}`,
            { code: 'not-found' },
          );
        return;
      }
      case 'grid':
      case 'action': {
        record.model = route.name;
        let body: unknown;
        if (route.kind === 'grid') body = gridQueryBody(params);
        else {
          // Only JSON: a form or text/plain POST from any web page cannot reach the API (no CORS preflight for those).
          if (!isJsonContentType(req.headers['content-type'])) {
            throw new HttpError(
              415,
              `Content-Type must be application/json, got ${JSON.stringify((req.headers['content-type'] ?? '(none)').slice(0, 100))}`,
              { code: 'unsupported-media-type' },
            );
          }
          body = parseJson(await readBody(req, this.maxBodyBytes));
        }
        // The work stops when the client hangs up or the work timeout passes: the request's controller
        // and a plain timer (AbortSignal.any with AbortSignal.timeout costs tens of microseconds a request).
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, this.workTimeoutMs);
        const context = {
          registry,
          limits: this.limits,
          accept: route.kind === 'grid' ? 'image/png' : req.headers.accept,
          formatQuery: route.kind === 'grid' ? 'png' : params.get('format'),
          signal: controller.signal,
          reject: (reason: string) => this.metrics.rejections.inc({ reason }),
        };
        let encoded: Encoded;
        try {
          encoded = await modelAction(context, route.name, route.kind === 'grid' ? 'generate' : route.action, body);
        } catch (error) {
          if (error instanceof WorkAbortedError && timedOut && !record.aborted) {
            this.metrics.rejections.inc({ reason: 'timeout' });
            throw new HttpError(
              503,
              `the request waited longer than ${this.workTimeoutMs} ms for the model; retry later`,
              { code: 'timeout' },
              { 'retry-after': '5' },
            );
          }
          throw error;
        } finally {
          clearTimeout(timer);
        }
        if (record.aborted) return;
        record.rows = Number(encoded.headers['x-gantry-n'] ?? encoded.headers['x-gantry-shape']?.split(',')[0] ?? 0);
        this.sendEncoded(req, res, encoded);
        return;
      }
    }
  }
}

/** Creates (does not start) the HTTP server; see {@link GantryServer.listen}. */
export function createServer(registry: ModelRegistry, options: ServerOptions = {}): GantryServer {
  return new GantryServer(registry, options);
}

/**
 * Starts listening and resolves with the base URL, e.g. "http://127.0.0.1:8080". Port 0 picks a
 * free port. An unspecified host (0.0.0.0, ::) is reported as localhost, which is where a browser
 * on the same machine reaches it.
 */
export function listen(server: Server, port = 0, host = '127.0.0.1'): Promise<string> {
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    return Promise.reject(new RangeError(`port must be an integer in [0, 65535], got ${String(port)}`));
  }
  return new Promise((resolvePromise, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const hint = error.code === 'EADDRINUSE' ? '; the port is taken, choose another or 0 for any free port' : '';
      reject(new Error(`cannot listen on ${host}:${port}: ${error.message}${hint}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address() as AddressInfo;
      const unspecified = address.address === '0.0.0.0' || address.address === '::';
      const shownHost = unspecified ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolvePromise(`http://${shownHost}:${address.port}`);
    });
  });
}
