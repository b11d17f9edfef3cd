// A hostile client, generated: thousands of random and malformed requests (each fault the service was
// once found with included: deep JSON, odd targets, wrong content types, bodies too large, clients that
// hang up mid-body, floods on one model) against a live server. Only 2xx/4xx may come back, the
// server stays up, no request reaches the 500 path, and its memory stays bounded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ModelRegistry } from './registry.js';
import { createServer } from './server.js';
import { writeTinyModelFolder } from './testing/tiny-model.js';

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
  /** Send only part of the body, then hang up. */
  hangUp: boolean;
}

const MODELS = ['digits', 'labels', 'ziffern-数字', 'missing', '', '..', '%E0%A4%A'];
const ACTIONS = ['generate', 'interpolate', 'arithmetic', 'latents', 'grid.png', '', 'nope'];
const ODD_TARGETS = [
  '//[',
  '/%',
  '/%%',
  '/v1/models/%ZZ/generate',
  '/v1//models',
  '/../../etc/passwd',
  '/models/digits/..%2F..%2Fcard.json',
  '/models/x/y/z',
  `/?${'a=1&'.repeat(200)}`,
  '/\u00e9',
  '/v1/models/digits/generate?format=gif',
  '/metrics?x',
  '/openapi.json/',
];
const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
  'application/vnd.api+json',
  'application/jsonx',
];
const ACCEPTS = [
  '*/*',
  'image/png',
  'image/jpeg',
  'image/webp',
  'application/json',
  'application/x-npy',
  'application/octet-stream',
  'text/html',
  'image/png;q=0',
  'application/json;q=abc',
  '',
];

const number = fc.oneof(
  fc.integer({ min: -5, max: 40 }),
  fc.constantFrom(0, 1, 2, 2 ** 32, 2 ** 32 - 1, -1, 1.5, 1e308, -0),
  fc.double(),
);
const value: fc.Arbitrary<unknown> = fc.oneof(
  number,
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(number, { maxLength: 9 }),
  fc.array(fc.array(number, { maxLength: 8 }), { maxLength: 3 }),
);
const fieldNames = [
  'n',
  'seed',
  'seeds',
  'latents',
  'truncation',
  'class',
  'classes',
  'scale',
  'columns',
  'steps',
  'method',
  'loop',
  'terms',
  'coef',
  'extra',
];
const plausibleBody = fc.dictionary(
  fc.constantFrom(...fieldNames),
  fc.oneof(
    value,
    fc.array(fc.record({ coef: number, seeds: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 3 }) }), { maxLength: 3 }),
    fc.constantFrom('lerp', 'slerp'),
  ),
  { maxKeys: 5 },
);
const validBody = fc.oneof(
  fc.record({ n: fc.integer({ min: 1, max: 6 }), seed: fc.integer({ min: 0, max: 100 }) }),
  fc.record({
    seeds: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 2, maxLength: 3 }),
    steps: fc.integer({ min: 2, max: 5 }),
    method: fc.constantFrom('lerp', 'slerp'),
  }),
  fc.record({
    terms: fc.array(
      fc.record({
        coef: fc.integer({ min: -2, max: 2 }),
        seeds: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 2 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  }),
);
const bodyText = fc.oneof(
  { weight: 4, arbitrary: plausibleBody.map((b) => JSON.stringify(b)) },
  { weight: 6, arbitrary: validBody.map((b) => JSON.stringify(b)) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 17, max: 20_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth % 3 === 0 ? depth : 0)),
  },
  { weight: 1, arbitrary: fc.integer({ min: 17, max: 5000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', 'null', '[]', '"x"', '1', '{', '{"n":', '\u0000', '{"__proto__":{"n":1}}', 'x'.repeat(70_000)),
  },
);

const randomRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'POST', 'GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
    path: fc.oneof(
      {
        weight: 4,
        arbitrary: fc.constantFrom('/v1/models/digits/generate', '/v1/models/digits/interpolate', '/v1/models/digits/arithmetic'),
      },
      {
        weight: 6,
        arbitrary: fc
          .tuple(fc.constantFrom(...MODELS), fc.constantFrom(...ACTIONS))
          .map(([m, a]) => `/v1/models/${m === 'ziffern-数字' ? encodeURIComponent(m) : m}${a === '' ? '' : `/${a}`}`),
      },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          ...ODD_TARGETS,
          '/',
          '/healthz',
          '/v1/models',
          '/models/index.json',
          '/models/digits/card.json',
          '/models/digits/generator.onnx',
        ),
      },
      { weight: 1, arbitrary: fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)) },
    ),
    contentType: fc.constantFrom(...CONTENT_TYPES),
    accept: fc.constantFrom(...ACCEPTS),
    body: fc.option(bodyText, { freq: 8 }),
    hangUp: fc.boolean().map((b) => b && Math.random() < 0.1),
    origin: fc.option(fc.constantFrom('https://evil.example', 'null'), { freq: 5 }),
  })
  .map(({ method, path, contentType, accept, body, hangUp, origin }) => ({
    method,
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the fuzzer's paths lose the control characters fetch refuses to send
    path: path.replace(/[\u0000-\u0020\u007f]/g, ''),
    headers: {
      ...(contentType !== '' ? { 'content-type': contentType } : {}),
      ...(accept !== '' ? { accept } : {}),
      ...(origin !== null ? { origin } : {}),
    },
    body,
    hangUp: hangUp && body !== null && body.length > 4,
  }));

/** Well-formed requests (so queues fill and batches merge), with any Accept header. */
const validRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.oneof(
      fc
        .record({ n: fc.integer({ min: 1, max: 6 }), seed: fc.integer({ min: 0, max: 100 }) })
        .map((b) => ['generate', b] as const),
      fc
        .record({
          seeds: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 2, maxLength: 3 }),
          steps: fc.integer({ min: 2, max: 5 }),
          method: fc.constantFrom('lerp', 'slerp'),
        })
        .map((b) => ['interpolate', b] as const),
      fc
        .record({
          terms: fc.array(
            fc.record({
              coef: fc.integer({ min: -2, max: 2 }),
              seeds: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 2 }),
            }),
            { minLength: 1, maxLength: 3 },
          ),
        })
        .map((b) => ['arithmetic', b] as const),
      fc
        .record({ seeds: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 4 }) })
        .map((b) => ['latents', b] as const),
    ),
    fc.constantFrom(...ACCEPTS),
  )
  .map(([[action, body], accept]) => ({
    method: 'POST',
    path: `/v1/models/digits/${action}`,
    headers: { 'content-type': 'application/json', ...(accept !== '' ? { accept } : {}) },
    body: JSON.stringify(body),
    hangUp: false,
  }));

const fuzzRequest = fc.oneof({ weight: 1, arbitrary: validRequest }, { weight: 3, arbitrary: randomRequest });

test('property: ≥ 2000 random and malformed requests get only 2xx/4xx, the server stays up and its memory bounded', async (t) => {
  const scratch = await mkdtemp(join(tmpdir(), 'gantry-fuzz-'));
  await writeTinyModelFolder(scratch, 'digits', { latentSize: 7, shape: [8, 6, 1], seed: 3 });
  await writeTinyModelFolder(scratch, 'labels', { latentSize: 5, shape: [4, 4, 3], classes: 3, seed: 8 });
  await writeTinyModelFolder(scratch, 'ziffern-数字', { latentSize: 4, shape: [4, 5, 3] });
  const registry = await ModelRegistry.load(scratch, { device: 'cpu', maxQueueRows: 64 });
  const failures: string[] = [];
  const server = createServer(registry, {
    maxBodyBytes: 64 * 1024,
    log: () => {},
    logError: (message) => failures.push(message),
  });
  const base = new URL(await server.listen(0));
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const statuses = new Map<number, number>();

  const send = (r: FuzzRequest): Promise<number | 'hung-up'> =>
    new Promise((resolve, reject) => {
      if (r.hangUp) {
        // Announce the whole body, send part of it, and disconnect.
        const socket = connect(Number(base.port), '127.0.0.1', () => {
          const body = Buffer.from(r.body!);
          const head = `${r.method} ${r.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
          socket.write(head + body.subarray(0, Math.floor(body.length / 2)).toString('latin1'), () =>
            setTimeout(() => socket.destroy(), 1),
          );
        });
        socket.on('close', () => resolve('hung-up'));
        socket.on('error', () => {});
        return;
      }
      const req = request(
        { host: '127.0.0.1', port: base.port, method: r.method, path: r.path, headers: r.headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(r.body ?? undefined);
    });

  const check = (status: number | 'hung-up', r: FuzzRequest): void => {
    if (status === 'hung-up') return;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    assert.ok(
      status >= 200 && status < 500,
      `${r.method} ${r.path.slice(0, 80)} ${JSON.stringify(r.headers)} body ${JSON.stringify(r.body?.slice(0, 80))} → ${status}`,
    );
  };

  try {
    // Warm-up, then the baseline for memory.
    for (const r of fc.sample(fuzzRequest, { numRuns: 100, seed: 1 })) check(await send(r), r);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    // One request at a time, shrinking to the smallest failing request if one fails...
    await fc.assert(
      fc.asyncProperty(fuzzRequest, async (r) => check(await send(r), r)),
      { numRuns: 1500, seed: 42 },
    );
    // ...and 600 more, 24 at a time, so queues fill and batches merge.
    const burst = fc.sample(fuzzRequest, { numRuns: 600, seed: 7 });
    for (let i = 0; i < burst.length; i += 24) {
      const slice = burst.slice(i, i + 24);
      const results = await Promise.all(slice.map(send));
      results.forEach((status, j) => check(status, slice[j]!));
    }
    const health = await fetch(new URL('/healthz', base));
    assert.equal(health.status, 200, 'the server is still up');
    const growth = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    assert.ok(growth < 200, `RSS grew by ${growth.toFixed(0)} MiB`);
    assert.deepEqual(failures, [], 'no request reached the 500 path');
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    assert.ok(total >= 2000, `${total} answered requests`);
    t.diagnostic(
      `${total} answered requests by status: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; RSS growth ${growth.toFixed(1)} MiB`,
    );
    assert.ok((statuses.get(200) ?? 0) > 100, `enough valid requests succeeded: ${JSON.stringify([...statuses])}`);
  } finally {
    agent.destroy();
    await server.drain();
    await registry.close();
    await rm(scratch, { recursive: true, force: true });
  }
});

test('a body that trickles in slower than the request timeout is cut off with 408', async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'gantry-slow-'));
  await writeTinyModelFolder(scratch, 'digits', { latentSize: 7, shape: [8, 6, 1] });
  const registry = await ModelRegistry.load(scratch, { device: 'cpu' });
  const server = createServer(registry, { requestTimeoutMs: 300, log: () => {} });
  const base = new URL(await server.listen(0));
  try {
    const started = performance.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(base.port), '127.0.0.1', () =>
        socket.write(
          'POST /v1/models/digits/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"n":',
        ),
      );
      let text = '';
      socket.on('data', (c) => (text += c));
      socket.on('close', () => resolve(text));
      socket.on('error', () => {});
    });
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.ok(performance.now() - started < 5000);
  } finally {
    await server.drain();
    await registry.close();
    await rm(scratch, { recursive: true, force: true });
  }
});
