import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import sharp from 'sharp';
import { seedLatents, type ModelCard } from '@gantry/core';
import { samplesToGridPng } from '@gantry/files/image';
import { decodeNpy } from '@gantry/files/npy';
import { ModelRegistry } from './registry.js';
import { contentDisposition, createServer, negotiate, type GantryServer, type ServerOptions } from './server.js';
import { writeTinyModelFolder } from './testing/tiny-model.js';

const GREY_SHAPE: [number, number, number] = [8, 6, 1];
const UNICODE_NAME = 'ziffern-数字';

let scratch: string;
let registry: ModelRegistry;
let server: GantryServer;
let base: string;
const errors: string[] = [];
const logLines: Record<string, unknown>[] = [];

async function start(models: ModelRegistry, options: ServerOptions = {}): Promise<{ server: GantryServer; url: string }> {
  const started = createServer(models, {
    log: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>),
    logError: (message) => errors.push(message),
    ...options,
  });
  return { server: started, url: await started.listen(0) };
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gantry-server-'));
  await writeTinyModelFolder(join(scratch, 'models'), 'digits', { latentSize: 7, shape: GREY_SHAPE, seed: 3 });
  await writeTinyModelFolder(join(scratch, 'models'), 'labels', { latentSize: 5, shape: [4, 4, 3], classes: 3, seed: 8 });
  await writeTinyModelFolder(join(scratch, 'models'), UNICODE_NAME, { latentSize: 4, shape: [4, 5, 3], distribution: 'uniform' });
  registry = await ModelRegistry.load(join(scratch, 'models'), { device: 'cpu' });
  ({ server, url: base } = await start(registry, { maxN: 20, maxWork: 20 * 48 * 4, maxBodyBytes: 4096 }));
});

after(async () => {
  await server.drain();
  await registry.close();
  await rm(scratch, { recursive: true, force: true });
  assert.deepEqual(errors, [], 'no request should have hit the 500 path');
});

async function decodePng(
  bytes: ArrayBuffer | Buffer,
): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const png = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

function post(path: string, body: unknown, headers: Record<string, string> = {}, url = base): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
}

async function expectError(response: Response, status: number, message: RegExp): Promise<Record<string, unknown>> {
  assert.equal(response.status, status);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await response.json()) as Record<string, unknown>;
  assert.match(String(body.error), message);
  assert.doesNotMatch(
    JSON.stringify(body),
    new RegExp(scratch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    'no server path in an error',
  );
  assert.doesNotMatch(JSON.stringify(body), /\n\s+at /, 'no stack trace in an error');
  return body;
}

/** A raw HTTP exchange, for targets and bodies fetch would not send. */
function raw(text: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

test('health, cards, OpenAPI and metrics', async () => {
  const health = await fetch(`${base}/healthz`);
  assert.deepEqual(await health.json(), { status: 'ok', models: ['digits', 'labels', UNICODE_NAME] });
  assert.equal(health.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(health.headers.get('cross-origin-embedder-policy'), 'require-corp');
  const all = (await (await fetch(`${base}/v1/models`)).json()) as { models: ModelCard[] };
  assert.deepEqual(all.models, registry.cards());
  assert.deepEqual(
    await (await fetch(`${base}/v1/models/${encodeURIComponent(UNICODE_NAME)}`)).json(),
    registry.get(UNICODE_NAME).card,
  );
  const openapi = (await (await fetch(`${base}/openapi.json`)).json()) as {
    paths: Record<
      string,
      { post?: { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } } }
    >;
  };
  const generateSchema = openapi.paths['/v1/models/{name}/generate']!.post!.requestBody.content['application/json']!.schema;
  assert.deepEqual(Object.keys(generateSchema.properties).sort(), [
    'class',
    'columns',
    'latents',
    'n',
    'scale',
    'seed',
    'seeds',
    'truncation',
  ]);
  for (const action of ['interpolate', 'arithmetic', 'latents'])
    assert.ok(openapi.paths[`/v1/models/{name}/${action}`]?.post, action);
  await post('/v1/models/digits/generate', { n: 2, seed: 1 });
  const metrics = await (await fetch(`${base}/metrics`)).text();
  for (const name of [
    'gantry_http_requests_total',
    'gantry_http_request_duration_seconds_bucket',
    'gantry_batch_rows_bucket',
    'gantry_queue_rows',
    'gantry_rejections_total',
  ])
    assert.match(metrics, new RegExp(name));
  assert.match(metrics, /gantry_http_requests_total\{route="generate",method="POST",status="200"\} [1-9]/);
  const line = logLines.find((l) => l.route === 'generate' && l.status === 200)!;
  assert.deepEqual(Object.keys(line).sort(), [
    'bytes',
    'method',
    'model',
    'ms',
    'outcome',
    'path',
    'route',
    'rows',
    'status',
    'time',
  ]);
});

test('generate: a PNG grid equal to the library’s, and every other format of the same samples', async () => {
  const response = await post('/v1/models/digits/generate', { n: 4, seed: 7, scale: 2 });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-gantry-seed'), '7');
  const direct = await registry.generator('digits').generate({ n: 4, seed: 7 });
  assert.deepEqual(
    await decodePng(Buffer.from(await response.arrayBuffer())),
    await decodePng(await samplesToGridPng(direct.samples, 4, direct.shape, direct.range, { scale: 2 })),
  );
  for (const [accept, type] of [
    ['image/jpeg', 'image/jpeg'],
    ['image/webp', 'image/webp'],
  ]) {
    const picture = await post('/v1/models/digits/generate', { n: 4, seed: 7, scale: 2 }, { accept });
    assert.equal(picture.headers.get('content-type'), type);
    const decoded = await decodePng(Buffer.from(await picture.arrayBuffer()));
    assert.deepEqual([decoded.width, decoded.height], [2 * 2 * 6 + 3 * 2, 2 * 2 * 8 + 3 * 2]);
  }
  const npy = decodeNpy(
    Buffer.from(await (await post('/v1/models/digits/generate?format=npy', { n: 4, seed: 7 })).arrayBuffer()),
  );
  assert.deepEqual(npy.shape, [4, ...GREY_SHAPE]);
  assert.deepEqual(npy.data, direct.samples);
  const f32 = await post('/v1/models/digits/generate', { n: 4, seed: 7 }, { accept: 'application/octet-stream' });
  assert.equal(f32.headers.get('x-gantry-shape'), '4,8,6,1');
  assert.deepEqual(new Float32Array(await f32.arrayBuffer()), direct.samples);
  const json = (await (await post('/v1/models/digits/generate', { seeds: [3, 4] }, { accept: 'application/json' })).json()) as {
    latents: number[][];
    images: string[];
    classes: null;
  };
  assert.deepEqual(Float32Array.from(json.latents.flat()), seedLatents({ size: 7, distribution: 'normal' }, [3, 4]));
  assert.equal(json.images.length, 2);
  assert.equal(json.classes, null);
  assert.equal((await decodePng(Buffer.from(json.images[0]!, 'base64'))).width, 6);
  await expectError(await post('/v1/models/digits/generate', { n: 1 }, { accept: 'text/html' }), 406, /none of image\/png/);
});

test('property: the same seed gives byte-identical PNGs across calls and across restarts', async () => {
  const restarted = await ModelRegistry.load(join(scratch, 'models'), { device: 'cpu' });
  const second = await start(restarted);
  try {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 6 }), async (seed, n) => {
        const body = { n, seed };
        const [a, b, c] = await Promise.all([
          post('/v1/models/digits/generate', body),
          post('/v1/models/digits/generate', body),
          post('/v1/models/digits/generate', body, {}, second.url),
        ]);
        const [x, y, z] = await Promise.all([a, b, c].map(async (r) => Buffer.from(await r.arrayBuffer())));
        assert.ok(x!.equals(y!) && x!.equals(z!), `seed ${seed}`);
      }),
      { numRuns: 15 },
    );
  } finally {
    await second.server.drain();
    await restarted.close();
  }
});

test('interpolate, arithmetic and latents endpoints', async () => {
  const walk = await post(
    '/v1/models/digits/interpolate',
    { seeds: [1, 2], steps: 5, method: 'lerp' },
    { accept: 'application/json' },
  );
  const body = (await walk.json()) as { n: number; keyFrames: number[]; images: string[] };
  assert.deepEqual([body.n, body.keyFrames], [5, [0, 4]]);
  const keys = (await (await post('/v1/models/digits/generate', { seeds: [1, 2] }, { accept: 'application/json' })).json()) as {
    images: string[];
  };
  assert.deepEqual([body.images[0], body.images[4]], keys.images, 'end frames are the key points’ images');
  const grid = await decodePng(
    Buffer.from(await (await post('/v1/models/digits/interpolate', { seeds: [1, 2], steps: 5 })).arrayBuffer()),
  );
  assert.deepEqual([grid.width, grid.height], [5 * 6 + 6 * 2, 8 + 2 * 2], 'one row of frames');
  const labelled = await post(
    '/v1/models/labels/interpolate',
    { seeds: [1, 2], steps: 4, classes: [0, 2] },
    { accept: 'application/json' },
  );
  assert.deepEqual(((await labelled.json()) as { classes: number[] }).classes, [0, 0, 2, 2]);

  const sum = await post('/v1/models/digits/arithmetic', {
    terms: [
      { coef: 1, seeds: [1, 2] },
      { coef: -1, seeds: [3] },
      { coef: 1, seeds: [4] },
    ],
    scale: 1,
  });
  const row = await decodePng(Buffer.from(await sum.arrayBuffer()));
  assert.deepEqual([row.width, row.height], [4 * 6 + 5 * 2, 8 + 2 * 2], 'the three term means, then the result, in one row');
  const one = (await (
    await post('/v1/models/digits/arithmetic', { terms: [{ coef: 1, seeds: [9] }] }, { accept: 'application/json' })
  ).json()) as { images: string[] };
  const nine = (await (await post('/v1/models/digits/generate', { seeds: [9] }, { accept: 'application/json' })).json()) as {
    images: string[];
  };
  assert.deepEqual(one.images, [nine.images[0], nine.images[0]]);

  const latents = (await (await post('/v1/models/digits/latents', { seeds: [5, 6] })).json()) as { latents: number[][] };
  assert.deepEqual(Float32Array.from(latents.latents.flat()), seedLatents({ size: 7, distribution: 'normal' }, [5, 6]));
  const npy = decodeNpy(
    Buffer.from(await (await post('/v1/models/digits/latents', { seeds: [5] }, { accept: 'application/x-npy' })).arrayBuffer()),
  );
  assert.deepEqual(npy.shape, [1, 7]);
  const back = await post('/v1/models/digits/generate', { latents: latents.latents }, { accept: 'application/octet-stream' });
  const viaSeeds = await post('/v1/models/digits/generate', { seeds: [5, 6] }, { accept: 'application/octet-stream' });
  assert.deepEqual(new Float32Array(await back.arrayBuffer()), new Float32Array(await viaSeeds.arrayBuffer()));
});

test('client mistakes are 4xx naming the parameter', async () => {
  await expectError(
    await post('/v1/models/digits/generate', { n: 1 }, { 'content-type': 'text/plain' }),
    415,
    /Content-Type must be application\/json, got "text\/plain"/,
  );
  await expectError(
    await fetch(`${base}/v1/models/digits/generate`, { method: 'POST', body: '{}' }),
    415,
    /Content-Type must be application\/json/,
  );
  await expectError(await post('/v1/models/digits/generate', '['.repeat(3000)), 400, /nests deeper than 16 levels/);
  await expectError(await post('/v1/models/digits/generate', '{"n": 1,'), 400, /not valid JSON/);
  await expectError(await post('/v1/models/digits/generate', { n: 1, seeed: 3 }), 400, /Unrecognized key.*seeed/);
  await expectError(
    await post('/v1/models/digits/generate', { latents: [[1, 2]] }),
    400,
    /^latents\[0\] must be an array of 7 numbers/,
  );
  await expectError(await post('/v1/models/digits/generate', { n: 30 }), 400, /at most 20 per request/);
  await expectError(
    await post('/v1/models/digits/generate', { n: 20, scale: 3 }),
    400,
    /allows at most 3840 \(images × pixels × channels × scale²\)/,
  );
  await expectError(await post('/v1/models/digits/interpolate', { seeds: [1], steps: 4 }), 400, /at least 2 key points/);
  const manySeeds = Array.from({ length: 30 }, (_, i) => i);
  await expectError(
    await post('/v1/models/digits/arithmetic', { terms: [{ coef: 1, seeds: manySeeds }] }),
    400,
    /names 30 latents; .* at most 20/,
  );
  await expectError(await post('/v1/models/digits/latents', { seeds: manySeeds }), 400, /names 30 latents/);
  await expectError(await post('/v1/models/digits/interpolate', { seeds: [1, 2], steps: 40 }), 400, /makes 40 images/);
  await expectError(
    await post('/v1/models/labels/generate', { n: 2, seed: 1, class: 3 }),
    400,
    /class must be an integer in \[0, 2\]/,
  );
  await expectError(
    await post('/v1/models/digits/arithmetic', { terms: [{ coef: 1 }] }),
    400,
    /terms\[0\]\.seeds or terms\[0\]\.latents must be given/,
  );
  await expectError(await post('/v1/models/nope/generate', { n: 1 }), 404, /unknown model "nope"/);
  await expectError(await fetch(`${base}/v1/models/digits/generate`), 405, /method GET is not allowed/);
  await expectError(await post('/v1/models/digits/generate', 'x'.repeat(5000)), 413, /larger than the 4096-byte limit/);
  for (const target of [
    '//[',
    '/v1/models/%',
    '/v1/models/a/..%2F..%2Fetc',
    '/models/digits/..%2Fcard.json',
    'http://example.com/x',
    '/%00',
  ]) {
    const answer = await raw(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 4\d\d /, `${target} → ${answer.split('\r\n')[0]}`);
  }
});

test('model names may be any Unicode: URLs and headers carry them percent-encoded', async () => {
  const response = await post(`/v1/models/${encodeURIComponent(UNICODE_NAME)}/generate`, { n: 1, seed: 1 });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-gantry-model'), encodeURIComponent(UNICODE_NAME));
  assert.match(response.headers.get('content-disposition')!, /filename\*=UTF-8''ziffern-%E6%95%B0%E5%AD%97\.png/);
  assert.equal(contentDisposition('a"b.png'), `inline; filename="a_b.png"; filename*=UTF-8''a%22b.png`);
});

test('negotiate: ?format first, then the most preferred acceptable type; PNG for wildcards', () => {
  const offered = ['png', 'jpeg', 'webp', 'json', 'npy', 'f32'] as const;
  assert.equal(negotiate(undefined, null, offered), 'png');
  assert.equal(negotiate('*/*', null, offered), 'png');
  assert.equal(negotiate('text/html,application/xhtml+xml,image/avif,image/webp,*/*;q=0.8', null, offered), 'webp');
  assert.equal(negotiate('application/json, image/png;q=0.5', null, offered), 'json');
  assert.equal(negotiate('image/*;q=0.1, application/*', null, offered), 'json');
  assert.equal(negotiate('application/json', 'npy', offered), 'npy');
  assert.throws(() => negotiate(undefined, 'gif', offered), /format must be one of/);
});

test('the browser runtime’s files: model index, card and ONNX with ETags; a static site without traversal', async () => {
  const index = await fetch(`${base}/models/index.json`);
  assert.deepEqual(await index.json(), { models: ['digits', 'labels', UNICODE_NAME] });
  const card = await fetch(`${base}/models/${encodeURIComponent(UNICODE_NAME)}/card.json`);
  assert.equal(card.status, 200);
  assert.equal(card.headers.get('cross-origin-resource-policy'), 'same-origin');
  const etag = card.headers.get('etag')!;
  assert.equal(
    (await fetch(`${base}/models/${encodeURIComponent(UNICODE_NAME)}/card.json`, { headers: { 'if-none-match': etag } })).status,
    304,
  );
  const onnx = await fetch(`${base}/models/digits/generator.onnx`);
  assert.equal(onnx.headers.get('etag'), `"${registry.get('digits').card.onnx.sha256}"`);
  assert.equal(Buffer.from(await onnx.arrayBuffer()).length, Number(onnx.headers.get('content-length')));
  await expectError(await fetch(`${base}/models/digits/other.onnx`), 404, /serves card.json and generator.onnx/);

  const site = join(scratch, 'site');
  await mkdir(join(site, 'assets'), { recursive: true });
  await writeFile(join(site, 'index.html'), '<!doctype html><title>site</title>');
  await writeFile(join(site, 'assets', 'ort.wasm'), Buffer.from([0, 97, 115, 109]));
  await writeFile(join(scratch, 'secret.txt'), 'secret');
  await symlink(join(scratch, 'secret.txt'), join(site, 'assets', 'link.txt'));
  const withSite = await start(registry, { site });
  try {
    const page = await fetch(`${withSite.url}/`);
    assert.equal(await page.text(), '<!doctype html><title>site</title>');
    assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
    const wasm = await fetch(`${withSite.url}/assets/ort.wasm`);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.equal(wasm.headers.get('cross-origin-resource-policy'), 'same-origin');
    for (const target of [
      '/../secret.txt',
      '/assets/..%2F..%2Fsecret.txt',
      '/assets/link.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/nothing.js',
    ]) {
      const answer = await new Promise<string>((resolve, reject) => {
        const req = httpRequest(`${withSite.url}${target}`, { method: 'GET' }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        });
        req.on('error', reject);
        req.end();
      });
      assert.match(answer, /^4\d\d /, target);
      assert.doesNotMatch(answer, /secret/, target);
    }
    assert.equal(
      (await post('/v1/models/digits/generate', { n: 1, seed: 1 }, {}, withSite.url)).status,
      200,
      'the API beside the site',
    );
  } finally {
    await withSite.server.drain();
  }
});

test('CORS is off unless an origin is configured; the Host header is checked beyond loopback', async () => {
  const plain = await fetch(`${base}/healthz`, { headers: { origin: 'https://example.com' } });
  assert.equal(plain.headers.get('access-control-allow-origin'), null);
  const cors = await start(registry, { cors: 'https://app.example' });
  try {
    const allowed = await fetch(`${cors.url}/healthz`, { headers: { origin: 'https://app.example' } });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
    const preflight = await fetch(`${cors.url}/v1/models/digits/generate`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 204);
    const other = await fetch(`${cors.url}/healthz`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  } finally {
    await cors.server.drain();
  }
  const wide = createServer(registry, { log: () => {}, allowedHosts: ['gantry.test'] });
  const url = await wide.listen(0, '0.0.0.0');
  try {
    const port = new URL(url).port;
    const ask = (host: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end();
      });
    assert.equal(await ask(`localhost:${port}`), 200);
    assert.equal(await ask('gantry.test'), 200);
    assert.equal(await ask('attacker.example'), 400, 'DNS rebinding: an unknown Host is refused');
  } finally {
    await wide.drain();
  }
});

test('a full queue answers 429 with Retry-After; a client that hangs up costs no run and is not logged as a failure', async () => {
  const tight = await ModelRegistry.load(join(scratch, 'models'), {
    device: 'cpu',
    only: ['digits'],
    maxQueueRows: 4,
    maxWaitMs: 50,
    maxBatchRows: 64,
  });
  const batches: number[] = [];
  tight.generator('digits').batcher.onBatch((rows) => batches.push(rows));
  const busy = await start(tight);
  try {
    // Within the 50 ms wait the queue holds 4 rows: the fifth row is refused.
    const accepted = [1, 2, 3, 4].map((seed) => post('/v1/models/digits/generate', { n: 1, seed }, {}, busy.url));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const refused = await post('/v1/models/digits/generate', { n: 1, seed: 5 }, {}, busy.url);
    await expectError(refused, 429, /queue is full/);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.deepEqual(
      (await Promise.all(accepted)).map((r) => r.status),
      [200, 200, 200, 200],
    );
    assert.deepEqual(batches, [4], 'the four requests ran as one batch');

    // A request whose client disconnects while it waits is dropped from the queue.
    const gone = new AbortController();
    const kept = post('/v1/models/digits/generate', { n: 3, seed: 1 }, {}, busy.url);
    const controllerRequest = fetch(`${busy.url}/v1/models/digits/generate`, {
      method: 'POST',
      body: '{"n":1,"seed":2}',
      headers: { 'content-type': 'application/json' },
      signal: gone.signal,
    }).catch(() => 'aborted');
    await new Promise((resolve) => setTimeout(resolve, 10));
    gone.abort();
    assert.equal(await controllerRequest, 'aborted');
    assert.equal((await kept).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepEqual(batches, [4, 3], 'only the request still waited for ran');
    const line = logLines.find((l) => l.outcome === 'aborted');
    assert.ok(line, 'the abandoned request is logged as aborted');
    assert.equal(line.status, 499);
  } finally {
    await busy.server.drain();
    await tight.close();
  }
});

test('work that waits past the work timeout answers 503 with Retry-After and never runs; the server goes on', async () => {
  const waiting = await ModelRegistry.load(join(scratch, 'models'), { device: 'cpu', only: ['digits'], maxWaitMs: 400 });
  const batches: number[] = [];
  waiting.generator('digits').batcher.onBatch((rows) => batches.push(rows));
  const timed = await start(waiting, { workTimeoutMs: 50 });
  try {
    const response = await post('/v1/models/digits/generate', { n: 1, seed: 1 }, {}, timed.url);
    await expectError(response, 503, /waited longer than 50 ms/);
    assert.equal(response.headers.get('retry-after'), '5');
    assert.ok(
      logLines.some((l) => l.status === 503 && l.route === 'generate'),
      'the timed-out request has its log line',
    );
    await new Promise((resolve) => setTimeout(resolve, 450));
    assert.deepEqual(batches, [], 'the abandoned work did not run');
    const metrics = await (await fetch(`${timed.url}/metrics`)).text();
    assert.match(metrics, /gantry_rejections_total\{reason="timeout"\} 1/);
    assert.equal((await fetch(`${timed.url}/healthz`)).status, 200);
  } finally {
    await timed.server.drain();
    await waiting.close();
  }
});

test('/healthz answers at once while the model is busy; drain finishes in-flight requests and refuses new ones', async () => {
  const slow = await ModelRegistry.load(join(scratch, 'models'), { device: 'cpu', only: ['digits'], maxWaitMs: 300 });
  const draining = await start(slow);
  try {
    const inFlight = post('/v1/models/digits/generate', { n: 2, seed: 1 }, {}, draining.url);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const started = performance.now();
    assert.equal((await fetch(`${draining.url}/healthz`)).status, 200);
    assert.ok(performance.now() - started < 200, 'health did not wait for the queued generation');
    const drained = draining.server.drain();
    await assert.rejects(fetch(`${draining.url}/healthz`), 'no new connections while draining');
    assert.equal((await inFlight).status, 200, 'the in-flight request finished');
    await drained;
  } finally {
    await slow.close();
  }
});

test('connections beyond the cap are closed at once', async () => {
  const capped = await start(registry, { maxConnections: 2 });
  const { port } = new URL(capped.url);
  const open = (): Promise<{ socket: ReturnType<typeof connect>; closed: Promise<void> }> =>
    new Promise((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => resolve({ socket, closed }));
      const closed = new Promise<void>((done) => socket.on('close', () => done()));
      socket.on('error', () => {});
    });
  const first = await open();
  const second = await open();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const third = await open();
  await third.closed; // the server drops it without a request
  const answer = await new Promise<string>((resolve) => {
    first.socket.once('data', (chunk) => resolve(chunk.toString('latin1')));
    first.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  });
  assert.match(answer, /^HTTP\/1\.1 200/, 'the connections within the cap are served');
  first.socket.destroy();
  second.socket.destroy();
  await capped.server.drain();
});
