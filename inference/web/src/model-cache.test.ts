import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cacheKey, fetchModel, sha256Hex, type DownloadProgress } from './model-cache.js';

const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 251);
const digest = createHash('sha256').update(bytes).digest('hex');

function serve(body: Uint8Array, status = 200): typeof fetch {
  return async () =>
    new Response(
      new ReadableStream({
        start(controller) {
          for (let i = 0; i < body.length; i += 30_000) controller.enqueue(body.slice(i, i + 30_000));
          controller.close();
        },
      }),
      { status, headers: { 'content-length': String(body.length) } },
    );
}

test('SHA-256 matches node:crypto, with crypto.subtle and with the fallback used where it is missing', async () => {
  assert.equal(await sha256Hex(bytes), digest);
  const subtle = Object.getOwnPropertyDescriptor(globalThis, 'crypto')!;
  Object.defineProperty(globalThis, 'crypto', { value: {}, configurable: true });
  try {
    assert.equal(await sha256Hex(bytes), digest);
  } finally {
    Object.defineProperty(globalThis, 'crypto', subtle);
  }
});

test('a download reports progress and is checked against the card hash', async () => {
  const progress: DownloadProgress[] = [];
  const fetched = await fetchModel('http://h/m/generator.onnx', digest, {
    fetch: serve(bytes),
    onProgress: (p) => progress.push(p),
  });
  assert.deepEqual(fetched.bytes, bytes);
  assert.equal(fetched.cached, false);
  assert.deepEqual(
    progress.map((p) => p.loaded),
    [0, 30_000, 60_000, 90_000, 100_000],
  );
  assert.ok(progress.every((p) => p.total === 100_000));
  const damaged = bytes.slice();
  damaged[5] ^= 1;
  await assert.rejects(
    fetchModel('http://h/m/generator.onnx', digest, { fetch: serve(damaged) }),
    /generator.onnx: SHA-256 is [0-9a-f]{64} but card.json's onnx.sha256 is/,
  );
  await assert.rejects(fetchModel('http://h/m/generator.onnx', digest, { fetch: serve(bytes, 404) }), /the server answered 404/);
  assert.equal(cacheKey(digest, 'http://h/m/generator.onnx'), `http://h/.gantry-model-cache/sha256/${digest}`);
});
