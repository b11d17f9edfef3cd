import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { sampleLatents, type ModelCard } from '@gantry/core';
import { ModelRegistry } from './registry.js';
import { createServer, listen, prefersJson } from './server.js';
import { writeTinyModelFolder } from './testing/tiny-model.js';

const GREY_SHAPE: [number, number, number] = [8, 6, 1];
const RGB_SHAPE: [number, number, number] = [4, 5, 3];

let scratch: string;
let registry: ModelRegistry;
let server: Server;
let base: string;
const errors: string[] = [];

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gantry-server-'));
  await writeTinyModelFolder(scratch, 'digits', { latentSize: 7, shape: GREY_SHAPE, seed: 3 });
  await writeTinyModelFolder(scratch, 'colour', { latentSize: 4, shape: RGB_SHAPE, distribution: 'uniform' });
  registry = await ModelRegistry.load(scratch, { device: 'cpu' });
  server = createServer(registry, { maxN: 20, maxBodyBytes: 256, logError: (message) => errors.push(message) });
  base = await listen(server, 0);
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await registry.close();
  await rm(scratch, { recursive: true, force: true });
  assert.deepEqual(errors, [], 'no request should have hit the 500 path');
});

async function decodePng(bytes: ArrayBuffer | Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const png = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const meta = await sharp(png).metadata();
  const pipeline = meta.channels === 1 ? sharp(png).extractChannel(0) : sharp(png);
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

async function expectError(response: Response, status: number, message: RegExp): Promise<Record<string, unknown>> {
  assert.equal(response.status, status);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await response.json()) as Record<string, unknown>;
  assert.match(String(body.error), message);
  return body;
}

test('listen on port 0 returns the bound URL', () => {
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(new URL(base).port, '0');
});

test('GET /healthz lists the models', async () => {
  const response = await fetch(`${base}/healthz`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'ok', models: ['colour', 'digits'] });
});

test('GET /v1/models returns the cards; GET /v1/models/:name one card', async () => {
  const all = (await (await fetch(`${base}/v1/models`)).json()) as { models: ModelCard[] };
  assert.deepEqual(all.models.map((card) => card.name), ['colour', 'digits']);
  assert.deepEqual(all.models, registry.cards());
  const one = await fetch(`${base}/v1/models/digits`);
  assert.equal(one.status, 200);
  assert.deepEqual(await one.json(), registry.get('digits').card);
});

test('POST generate returns a PNG grid of the right size that is not constant', async () => {
  const response = await post('/v1/models/digits/generate', JSON.stringify({ n: 16, seed: 7 }));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'image/png');
  assert.equal(response.headers.get('x-gantry-seed'), '7');
  const image = await decodePng(await response.arrayBuffer());
  const [h, w] = GREY_SHAPE;
  assert.equal(image.width, 4 * w + 5 * 2);
  assert.equal(image.height, 4 * h + 5 * 2);
  assert.equal(image.channels, 1);
  // Look inside the first tile (past the padding) so the border does not count as variation.
  const tile = Array.from({ length: h * w }, (_, i) => image.data[(2 + Math.floor(i / w)) * image.width + 2 + (i % w)]!);
  assert.ok(new Set(tile).size > 5, `tile pixels ${tile.join(',')}`);
});

test('POST generate with no body uses n = 16 and a random, reported seed', async () => {
  const response = await post('/v1/models/colour/generate', '');
  assert.equal(response.status, 200);
  const seed = Number(response.headers.get('x-gantry-seed'));
  assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32);
  assert.equal(response.headers.get('x-gantry-n'), '16');
  const image = await decodePng(await response.arrayBuffer());
  assert.equal(image.channels, 3);
  assert.equal(image.width, 4 * RGB_SHAPE[1] + 5 * 2);
});

test('Accept: application/json returns latents equal to sampleLatents and one PNG per sample', async () => {
  const response = await post('/v1/models/digits/generate', JSON.stringify({ n: 3, seed: 11 }), { accept: 'application/json' });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { model: string; n: number; seed: number; shape: number[]; latents: number[][]; images: string[] };
  assert.equal(body.model, 'digits');
  assert.equal(body.n, 3);
  assert.equal(body.seed, 11);
  assert.deepEqual(body.shape, GREY_SHAPE);
  const expected = sampleLatents({ size: 7, distribution: 'normal' }, 3, 11);
  assert.deepEqual(body.latents, [0, 1, 2].map((i) => Array.from(expected.subarray(i * 7, (i + 1) * 7))));
  assert.equal(body.images.length, 3);
  for (const image of body.images) {
    const decoded = await decodePng(Buffer.from(image, 'base64'));
    assert.deepEqual([decoded.width, decoded.height], [GREY_SHAPE[1], GREY_SHAPE[0]]);
  }
  // A random seed is reported in the JSON too, and reproduces the latents.
  const random = (await (await post('/v1/models/colour/generate', '{"n": 2}', { accept: 'application/json' })).json()) as { seed: number; latents: number[][] };
  assert.deepEqual(random.latents.flat(), Array.from(sampleLatents({ size: 4, distribution: 'uniform' }, 2, random.seed)));
});

test('GET grid.png serves the same grid as POST generate for the same n and seed', async () => {
  const viaGet = await fetch(`${base}/v1/models/digits/grid.png?n=4&seed=7&scale=2`);
  assert.equal(viaGet.status, 200);
  assert.equal(viaGet.headers.get('content-type'), 'image/png');
  const viaPost = await post('/v1/models/digits/generate', JSON.stringify({ n: 4, seed: 7, scale: 2 }));
  const [a, b] = await Promise.all([decodePng(await viaGet.arrayBuffer()), decodePng(await viaPost.arrayBuffer())]);
  assert.equal(a.width, 2 * GREY_SHAPE[1] * 2 + 3 * 2);
  assert.deepEqual(a.data, b.data);
  await expectError(await fetch(`${base}/v1/models/digits/grid.png?n=abc`), 400, /n must be an integer in \[1, 20\], got "abc"/);
});

test('GET / is an HTML page with a sample grid per model', async () => {
  const response = await fetch(`${base}/`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  const html = await response.text();
  for (const name of ['digits', 'colour']) {
    const match = new RegExp(`<img [^>]*src="(/v1/models/${name}/grid\\.png\\?n=16&amp;seed=7&amp;scale=\\d+)"`).exec(html);
    assert.ok(match, `no grid image for ${name}`);
    const image = await fetch(`${base}${match[1]!.replaceAll('&amp;', '&')}`);
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), 'image/png');
    await image.arrayBuffer();
  }
});

test('unknown model → 404 with the known names', async () => {
  const body = await expectError(await post('/v1/models/faces/generate', '{"n": 1}'), 404, /unknown model "faces"/);
  assert.deepEqual(body.known, ['colour', 'digits']);
  const card = await expectError(await fetch(`${base}/v1/models/faces`), 404, /unknown model/);
  assert.deepEqual(card.known, ['colour', 'digits']);
});

test('n outside [1, maxN] → 400 naming the limit', async () => {
  for (const n of [0, 21, 2.5, '4']) {
    const body = await expectError(await post('/v1/models/digits/generate', JSON.stringify({ n })), 400, /n must be an integer in \[1, 20\]/);
    assert.equal(body.max, 20);
  }
  await expectError(await post('/v1/models/digits/generate', '{"seed": -1}'), 400, /seed must be an integer in \[0, 4294967295\], got -1/);
  await expectError(await post('/v1/models/digits/generate', '{"count": 3}'), 400, /unknown field\(s\) "count".*allowed: n, seed, scale/);
});

test('malformed JSON → 400; non-object JSON → 400', async () => {
  await expectError(await post('/v1/models/digits/generate', '{"n": '), 400, /request body is not valid JSON/);
  await expectError(await post('/v1/models/digits/generate', '[1, 2]'), 400, /must be a JSON object/);
});

test('body larger than maxBodyBytes → 413', async () => {
  const body = await expectError(await post('/v1/models/digits/generate', JSON.stringify({ n: 1, pad: 'x'.repeat(1000) })), 413, /larger than the 256-byte limit/);
  assert.equal(body.limit, 256);
});

test('wrong method → 405 with Allow; unknown route → 404', async () => {
  const put = await fetch(`${base}/healthz`, { method: 'PUT' });
  assert.equal(put.headers.get('allow'), 'GET, HEAD');
  await expectError(put, 405, /method PUT is not allowed on \/healthz; allowed: GET, HEAD/);
  const getGenerate = await fetch(`${base}/v1/models/digits/generate`);
  assert.equal(getGenerate.headers.get('allow'), 'POST');
  await expectError(getGenerate, 405, /allowed: POST/);
  await expectError(await fetch(`${base}/v2/things`), 404, /no route for \/v2\/things/);
  await expectError(await fetch(`${base}/v1/models/digits/extra/parts`), 404, /no route/);
  await expectError(await fetch(`${base}/v1/models/%E0%A4%A`), 400, /malformed percent-encoding/);
});

test('HEAD works on GET routes without a body', async () => {
  const response = await fetch(`${base}/healthz`, { method: 'HEAD' });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), '');
});

test('prefersJson picks JSON only when it outranks PNG', () => {
  assert.equal(prefersJson(undefined), false);
  assert.equal(prefersJson('application/json'), true);
  assert.equal(prefersJson('*/*'), false);
  assert.equal(prefersJson('text/html,application/xhtml+xml,image/avif,image/webp,*/*;q=0.8'), false);
  assert.equal(prefersJson('application/json, image/png;q=0.5'), true);
  assert.equal(prefersJson('image/png, application/json'), false);
  assert.equal(prefersJson('application/json;q=0, */*'), false);
  assert.equal(prefersJson('image/*;q=0.1, application/*'), true);
});

test('createServer and listen validate their options', async () => {
  assert.throws(() => createServer(registry, { maxN: 0 }), /maxN must be an integer in \[1, 65536\], got 0/);
  await assert.rejects(listen(createServer(registry), 70000), /port must be an integer in \[0, 65535\], got 70000/);
});

test('class-conditional models: class per request, validated; NCHW uint8 exports give the float grid to ±1; the page picks a class', async (t) => {
  const folder = join(scratch, 'conditional');
  const options = { latentSize: 5, shape: [4, 4, 3] as [number, number, number], classes: 3, seed: 8 };
  await writeTinyModelFolder(folder, 'labels', options);
  const pixelsCard = await writeTinyModelFolder(folder, 'labels-pixels', { ...options, layout: 'NCHW', pixels: 'uint8', classRank: 1 });
  // This one's card also names its classes: the picker shows the names.
  await writeFile(join(folder, 'labels-pixels', 'card.json'), JSON.stringify({ ...pixelsCard, classInput: { ...pixelsCard.classInput!, names: ['cat', 'dog', '<owl>'] } }));
  await writeTinyModelFolder(folder, 'plain', { latentSize: 5, shape: [4, 4, 3] });
  const conditional = await ModelRegistry.load(folder, { device: 'cpu' });
  const classServer = createServer(conditional, { maxN: 20, logError: (message) => errors.push(message) });
  const url = await listen(classServer, 0);
  t.after(async () => {
    classServer.closeAllConnections();
    await new Promise((resolve) => classServer.close(resolve));
    await conditional.close();
  });
  const generate = (model: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${url}/v1/models/${model}/generate`, { method: 'POST', body: JSON.stringify(body), headers });

  const response = await generate('labels', { n: 4, seed: 2, class: [2, 0, 1, 2], scale: 2 });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-gantry-class'), '2,0,1,2');
  const served = await decodePng(await response.arrayBuffer());
  // The same grid straight from the library, and from the query-string route.
  const direct = await conditional.generate('labels', { n: 4, seed: 2, class: [2, 0, 1, 2] });
  const { samplesToGridPng } = await import('@gantry/files/image');
  assert.deepEqual(served, await decodePng(await samplesToGridPng(direct.samples, 4, direct.shape, direct.range, { scale: 2 })));
  const viaGet = await fetch(`${url}/v1/models/labels/grid.png?n=4&seed=2&scale=2&class=2,0,1,2`);
  assert.deepEqual(await decodePng(await viaGet.arrayBuffer()), served);
  // One class for all: the header says it once, and the grid differs from the mixed one.
  const single = await generate('labels', { n: 4, seed: 2, class: 1, scale: 2 });
  assert.equal(single.headers.get('x-gantry-class'), '1');
  assert.notDeepEqual((await decodePng(await single.arrayBuffer())).data, served.data);

  const pixels = await decodePng(await (await generate('labels-pixels', { n: 4, seed: 2, class: [2, 0, 1, 2], scale: 2 })).arrayBuffer());
  assert.deepEqual([pixels.width, pixels.height, pixels.channels], [served.width, served.height, served.channels]);
  const worst = pixels.data.reduce((max, v, i) => Math.max(max, Math.abs(v - served.data[i]!)), 0);
  assert.ok(worst <= 1, `uint8 NCHW export differs from the float NHWC one by ${worst} grey levels`);

  const json = (await (await generate('labels', { n: 2, seed: 2, class: 0 }, { accept: 'application/json' })).json()) as { classes: number[]; latents: number[][] };
  assert.deepEqual(json.classes, [0, 0]);
  const plainJson = (await (await generate('plain', { n: 1, seed: 2 }, { accept: 'application/json' })).json()) as Record<string, unknown>;
  assert.equal('classes' in plainJson, false);

  const missing = await expectError(await generate('labels', { n: 2 }), 400, /^class is required: model "labels" is class-conditional with 3 classes; give an integer in \[0, 2\] for every sample, or an array of 2 such integers, one per sample$/);
  assert.deepEqual([missing.parameter, missing.classes], ['class', 3]);
  const unconditional = await expectError(await generate('plain', { n: 1, class: 0 }), 400, /^class was given \(0\) but model "plain" is unconditional: it has no class input; leave class out$/);
  assert.deepEqual([unconditional.parameter, unconditional.classes], ['class', null]);
  await expectError(await generate('labels', { n: 2, class: 3 }), 400, /^class must be an integer in \[0, 2\] \(model "labels" has 3 classes\), got 3$/);
  await expectError(await generate('labels', { n: 2, class: '1' }), 400, /^class must be an integer in \[0, 2\] for every sample, or an array of 2 such integers, one per sample; got "1"$/);
  await expectError(await generate('labels', { n: 3, class: [0, 1] }), 400, /^class has 2 entries but 3 samples are asked for/);
  await expectError(await fetch(`${url}/v1/models/labels/grid.png?n=2&class=abc`), 400, /^class must be an integer in \[0, 2\] for every sample.*got "abc"$/);
  await expectError(await fetch(`${url}/v1/models/labels/grid.png?n=2&class=1,1.5`), 400, /^class\[1\] must be an integer in \[0, 2\] \(model "labels" has 3 classes\), got "1.5"$/);
  await expectError(await fetch(`${url}/v1/models/labels/grid.png?n=2`), 400, /^class is required/);

  const html = await (await fetch(`${url}/`)).text();
  assert.match(html, /class-conditional: 3 classes/);
  const form = /<form class="classes" action="\/v1\/models\/labels\/grid\.png"[\s\S]*?<\/form>/.exec(html)?.[0];
  assert.ok(form, 'a class picker for the conditional model');
  assert.deepEqual([...form.matchAll(/<option value="([^"]*)">/g)].map((m) => m[1]), ['0,1,2,0,1,2,0,1,2,0,1,2,0,1,2,0', '0', '1', '2']);
  assert.equal(html.match(/<form class="classes"/g)?.length, 2, 'one picker per conditional model, none for the unconditional one');
  assert.match(html, /<option value="0">0 cat<\/option><option value="1">1 dog<\/option><option value="2">2 &lt;owl&gt;<\/option>/, 'class names, escaped');
  const src = new RegExp('<img [^>]*src="(/v1/models/labels/grid\\.png\\?[^"]*)"').exec(html)![1]!.replaceAll('&amp;', '&');
  assert.match(src, /class=0,1,2,0,/);
  assert.equal((await fetch(`${url}${src}`)).status, 200);
  // The form's own request (without script) is a valid grid request.
  assert.equal((await fetch(`${url}/v1/models/labels/grid.png?n=16&seed=7&scale=3&class=2`)).status, 200);
});
