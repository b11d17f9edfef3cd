// HTTP API over a ModelRegistry, on node:http alone (a handful of routes does not justify a framework).
//
//   GET  /                              HTML page: every model with a sample grid
//   GET  /healthz                       {"status":"ok","models":[names]}
//   GET  /v1/models                     {"models":[cards]}
//   GET  /v1/models/:name               the card
//   POST /v1/models/:name/generate      body {"n"?, "seed"?, "scale"?, "class"?} → PNG grid, or JSON
//                                       with Accept: application/json
//   GET  /v1/models/:name/grid.png      ?n=&seed=&scale=&class= → PNG grid (for <img> tags and browsers)
//
// A class-conditional model needs "class": one integer for every sample, or one per sample (a JSON
// array, or comma-separated in a query string); other models refuse it.
//
// Every error is JSON {"error": message, ...details} with a fitting status code.

import { randomInt } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClassRequestError, resolveClasses, type ModelCard } from '@gantry/core';
import { sampleAt, samplesToGridPng, sampleToPng } from '@gantry/files/image';
import { UnknownModelError, type ModelRegistry } from './registry.js';

export const DEFAULT_MAX_N = 64;
export const DEFAULT_N = 16;
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;
export const MAX_SCALE = 8;
const UINT32_MAX = 0xffffffff;

export interface ServerOptions {
  /** Largest n one request may ask for (default 64). */
  maxN?: number;
  /** Largest accepted request body in bytes (default 16 KiB); larger bodies get 413. */
  maxBodyBytes?: number;
  /** Where unexpected (500) errors are reported; default console.error. */
  logError?: (message: string) => void;
}

/** An error that becomes an HTTP response: `status` and a JSON body {error, ...details}. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface GenerateParams {
  n: number;
  seed: number;
  scale: number;
  /** Each sample's class, for a class-conditional model. */
  classes: Int32Array | undefined;
}

type Route =
  | { kind: 'index' }
  | { kind: 'health' }
  | { kind: 'models' }
  | { kind: 'model'; name: string }
  | { kind: 'generate'; name: string }
  | { kind: 'grid'; name: string };

const ALLOWED_METHODS: Record<Route['kind'], readonly string[]> = {
  index: ['GET', 'HEAD'],
  health: ['GET', 'HEAD'],
  models: ['GET', 'HEAD'],
  model: ['GET', 'HEAD'],
  generate: ['POST'],
  grid: ['GET', 'HEAD'],
};

const GENERATE_BODY_KEYS = ['n', 'seed', 'scale', 'class'] as const;

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in path segment ${JSON.stringify(segment)}`);
  }
}

function matchRoute(pathname: string): Route | undefined {
  // Tolerate one trailing slash ("/v1/models/") but not empty segments in the middle.
  const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  if (path === '/') return { kind: 'index' };
  if (path === '/healthz') return { kind: 'health' };
  if (path === '/v1/models') return { kind: 'models' };
  const parts = path.split('/').slice(1);
  if (parts.length < 3 || parts[0] !== 'v1' || parts[1] !== 'models' || parts[2] === '') return undefined;
  const name = decodeSegment(parts[2]!);
  if (parts.length === 3) return { kind: 'model', name };
  if (parts.length === 4 && parts[3] === 'generate') return { kind: 'generate', name };
  if (parts.length === 4 && parts[3] === 'grid.png') return { kind: 'grid', name };
  return undefined;
}

/** Whether the client prefers JSON over PNG; PNG wins ties and wildcards, as the default format. */
export function prefersJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const quality = { json: -1, png: -1 };
  const specificity = { json: -1, png: -1 };
  for (const part of accept.split(',')) {
    const [rawType, ...params] = part.trim().toLowerCase().split(';');
    const type = rawType!.trim();
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q)) continue;
    // The most specific matching range decides each type's quality (RFC 9110 §12.5.1).
    const consider = (key: 'json' | 'png', exact: string, family: string): void => {
      const level = type === exact ? 2 : type === `${family}/*` ? 1 : type === '*/*' ? 0 : -1;
      if (level > specificity[key]) {
        specificity[key] = level;
        quality[key] = q;
      }
    };
    consider('json', 'application/json', 'application');
    consider('png', 'image/png', 'image');
  }
  return quality.json > 0 && quality.json > quality.png;
}

function parseIntegerField(value: unknown, name: string, min: number, max: number, fromQuery: boolean): number {
  // Query strings carry text; accept only plain decimal integers there, not "1e1" or " 16".
  const number = fromQuery && typeof value === 'string' ? (/^\d+$/.test(value) ? Number(value) : Number.NaN) : value;
  if (!(typeof number === 'number' && Number.isInteger(number) && number >= min && number <= max)) {
    throw new HttpError(400, `${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`, {
      parameter: name,
      min,
      max,
    });
  }
  return number;
}

/** A query string's class: "3" → 3, "0,1,2" → [0, 1, 2]; a token that is not plain digits stays text, for the error. */
function classFromQuery(value: string): unknown {
  const tokens = value.split(',').map((token) => (/^\d+$/.test(token) ? Number(token) : token));
  return tokens.length === 1 && value.indexOf(',') === -1 ? tokens[0] : tokens;
}

function generateParams(source: Record<string, unknown>, maxN: number, fromQuery: boolean, name: string, card: ModelCard): GenerateParams {
  const n = source.n === undefined ? Math.min(DEFAULT_N, maxN) : parseIntegerField(source.n, 'n', 1, maxN, fromQuery);
  const seed = source.seed === undefined ? randomInt(0, UINT32_MAX + 1) : parseIntegerField(source.seed, 'seed', 0, UINT32_MAX, fromQuery);
  const scale = source.scale === undefined ? 1 : parseIntegerField(source.scale, 'scale', 1, MAX_SCALE, fromQuery);
  const request = fromQuery && typeof source.class === 'string' ? classFromQuery(source.class) : source.class;
  try {
    return { n, seed, scale, classes: resolveClasses(card.classInput, request, n, { model: name }) };
  } catch (error) {
    if (error instanceof ClassRequestError) throw new HttpError(400, error.message, { parameter: error.parameter, classes: error.classes });
    throw error;
  }
}

/** The x-gantry-class header: the one class of every sample, or the list. */
function classHeader(classes: Int32Array): string {
  return classes.every((c) => c === classes[0]) ? String(classes[0]) : classes.join(',');
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

function parseJsonObject(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, `request body must be a JSON object like {"n": 16, "seed": 7}, got ${JSON.stringify(value)}`);
  }
  const unknownKeys = Object.keys(value).filter((key) => !(GENERATE_BODY_KEYS as readonly string[]).includes(key));
  if (unknownKeys.length > 0) {
    throw new HttpError(400, `unknown field(s) ${unknownKeys.map((k) => JSON.stringify(k)).join(', ')} in request body; allowed: ${GENERATE_BODY_KEYS.join(', ')}`, {
      allowed: GENERATE_BODY_KEYS,
    });
  }
  return value as Record<string, unknown>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function sendBytes(res: ServerResponse, contentType: string, bytes: Buffer | string, headers: Record<string, string> = {}): void {
  res.writeHead(200, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(bytes),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(bytes);
}

function escapeHtml(text: string): string {
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  return text.replace(/[&<>"']/g, (c) => entities[c]!);
}

function indexPage(registry: ModelRegistry): string {
  const sections = registry.names().map((name) => {
    const model = registry.get(name);
    const card: ModelCard = model.card;
    const path = `/v1/models/${encodeURIComponent(name)}`;
    const [h, w, c] = card.output.shape;
    const scale = Math.max(1, Math.min(MAX_SCALE, Math.round(96 / Math.max(h, w))));
    const classes = card.classInput?.classes;
    const facts = [
      `dataset ${card.dataset}`,
      `${h}×${w}×${c} output`,
      `latent ${card.latent.size}-d ${card.latent.distribution}`,
      ...(classes !== undefined ? [`class-conditional: ${classes} classes`] : []),
      ...(card.training ? [`${card.training.steps} training steps`] : []),
      `running on ${model.provider}`,
    ];
    // A conditional model's grid starts with one sample per class in turn; the form picks one class.
    const everyClass = classes === undefined ? undefined : Array.from({ length: 16 }, (_, i) => i % classes).join(',');
    const query = `n=16&seed=7&scale=${scale}${everyClass === undefined ? '' : `&class=${everyClass}`}`;
    const picker =
      classes === undefined
        ? ''
        : `
  <form class="classes" action="${escapeHtml(`${path}/grid.png`)}" method="get">
    <input type="hidden" name="n" value="16"><input type="hidden" name="seed" value="7"><input type="hidden" name="scale" value="${scale}">
    <label>class <select name="class"><option value="${everyClass}">every class in turn</option>${Array.from({ length: classes }, (_, k) => `<option value="${k}">${escapeHtml(card.classInput?.names?.[k] === undefined ? String(k) : `${k} ${card.classInput.names[k]}`)}</option>`).join('')}</select></label>
    <button>show</button>
  </form>`;
    return `<section>
  <h2><a href="${escapeHtml(path)}">${escapeHtml(name)}</a></h2>
  <p>${escapeHtml(card.description)}</p>
  <p class="facts">${facts.map(escapeHtml).join(' · ')}</p>${picker}
  <img alt="16 samples from ${escapeHtml(name)}" src="${escapeHtml(`${path}/grid.png?${query}`)}">
</section>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Gantry models</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 60rem; }
  img { image-rendering: pixelated; border: 1px solid #ccc; }
  .facts { color: #555; font-size: 0.9rem; }
  code { background: #f3f3f3; padding: 0.1rem 0.3rem; }
</style>
</head>
<body>
<h1>Gantry models</h1>
<p>Each grid shows 16 samples for seed 7. Generate your own with
<code>curl -X POST -d '{"n":16,"seed":7}' http://HOST/v1/models/NAME/generate -o grid.png</code>
(send <code>Accept: application/json</code> for latents and per-sample PNGs; a class-conditional model
also takes <code>"class": 3</code>, or one class per sample <code>"class": [0, 1, …]</code>).</p>
${sections.join('\n')}
<script>
// Without script the form opens the grid itself; with it, the grid above the form changes in place.
for (const form of document.querySelectorAll('form.classes')) {
  const show = (event) => {
    event?.preventDefault();
    form.nextElementSibling.src = form.action + '?' + new URLSearchParams(new FormData(form));
  };
  form.addEventListener('submit', show);
  form.querySelector('select').addEventListener('change', () => show());
}
</script>
</body>
</html>
`;
}

/** Creates (does not start) the HTTP server; see {@link listen}. */
export function createServer(registry: ModelRegistry, options: ServerOptions = {}): Server {
  const maxN = options.maxN ?? DEFAULT_MAX_N;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const logError = options.logError ?? ((message: string) => console.error(message));
  if (!(Number.isInteger(maxN) && maxN >= 1 && maxN <= 65536)) {
    throw new RangeError(`maxN must be an integer in [1, 65536], got ${String(maxN)}`);
  }
  if (!(Number.isInteger(maxBodyBytes) && maxBodyBytes >= 64)) {
    throw new RangeError(`maxBodyBytes must be an integer >= 64, got ${String(maxBodyBytes)}`);
  }

  const requireModel = (name: string): ModelCard => {
    try {
      return registry.get(name).card;
    } catch (error) {
      if (error instanceof UnknownModelError) {
        throw new HttpError(404, error.message, { known: error.known });
      }
      throw error;
    }
  };

  const respondWithGeneration = async (res: ServerResponse, name: string, params: GenerateParams, json: boolean): Promise<void> => {
    const result = await registry.generate(name, { n: params.n, seed: params.seed, ...(params.classes !== undefined ? { class: Array.from(params.classes) } : {}) });
    const headers = {
      'x-gantry-model': name,
      'x-gantry-seed': String(params.seed),
      'x-gantry-n': String(params.n),
      ...(params.classes !== undefined ? { 'x-gantry-class': classHeader(params.classes) } : {}),
    };
    if (!json) {
      const png = await samplesToGridPng(result.samples, result.n, result.shape, result.range, { scale: params.scale });
      sendBytes(res, 'image/png', png, headers);
      return;
    }
    const latentSize = result.latents.length / result.n;
    const latents = Array.from({ length: result.n }, (_, i) => Array.from(result.latents.subarray(i * latentSize, (i + 1) * latentSize)));
    const images = await Promise.all(
      Array.from({ length: result.n }, async (_, i) =>
        (await sampleToPng(sampleAt(result.samples, result.shape, i), result.shape, result.range, { scale: params.scale })).toString('base64'),
      ),
    );
    const classes = result.classes === null ? {} : { classes: Array.from(result.classes) };
    sendJson(res, 200, { model: name, n: result.n, seed: params.seed, shape: result.shape, ...classes, latents, images }, headers);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = matchRoute(url.pathname);
    if (route === undefined) {
      throw new HttpError(404, `no route for ${url.pathname}; try GET /, /healthz, /v1/models, /v1/models/:name, POST /v1/models/:name/generate`);
    }
    const method = req.method ?? 'GET';
    const allowed = ALLOWED_METHODS[route.kind];
    if (!allowed.includes(method)) {
      throw new HttpError(405, `method ${method} is not allowed on ${url.pathname}; allowed: ${allowed.join(', ')}`, { allowed }, { allow: allowed.join(', ') });
    }
    switch (route.kind) {
      case 'index':
        sendBytes(res, 'text/html; charset=utf-8', indexPage(registry));
        return;
      case 'health':
        sendJson(res, 200, { status: 'ok', models: registry.names() });
        return;
      case 'models':
        sendJson(res, 200, { models: registry.cards() });
        return;
      case 'model':
        sendJson(res, 200, requireModel(route.name));
        return;
      case 'grid': {
        const card = requireModel(route.name);
        const params = generateParams(Object.fromEntries(url.searchParams), maxN, true, route.name, card);
        await respondWithGeneration(res, route.name, params, false);
        return;
      }
      case 'generate': {
        const card = requireModel(route.name);
        const body = parseJsonObject(await readBody(req, maxBodyBytes));
        const params = generateParams(body, maxN, false, route.name, card);
        await respondWithGeneration(res, route.name, params, prefersJson(req.headers.accept));
        return;
      }
    }
  };

  return createHttpServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        // Too late for a JSON error: cut the response so the client sees it is incomplete.
        logError(`gantry server: ${req.method} ${req.url} failed mid-response: ${(error as Error).message}`);
        res.destroy();
        return;
      }
      if (error instanceof HttpError) {
        // Unread request bodies (413, early 4xx on POST) are drained so keep-alive stays usable,
        // unless the error asked to close the connection.
        if (!req.readableEnded && error.headers.connection !== 'close') req.resume();
        sendJson(res, error.status, { error: error.message, ...error.details }, error.headers);
        return;
      }
      logError(`gantry server: ${req.method} ${req.url} failed: ${(error as Error).stack ?? String(error)}`);
      sendJson(res, 500, { error: `internal error: ${(error as Error).message ?? String(error)}` });
    });
  });
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
