import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseBackend, threadCount, type BrowserEnvironment, type GpuLike } from './backend.js';

const adapter: GpuLike = { requestAdapter: async () => ({ info: { vendor: 'google', architecture: 'swiftshader' } }) };
const noAdapter: GpuLike = { requestAdapter: async () => null };
const env = (gpu: GpuLike | undefined, crossOriginIsolated = true, hardwareConcurrency = 4): BrowserEnvironment => ({
  gpu,
  crossOriginIsolated,
  hardwareConcurrency,
});

test('auto takes WebGPU only when an adapter is really there, and says why', async () => {
  const found = await chooseBackend('auto', env(adapter));
  assert.equal(found.backend, 'webgpu');
  assert.match(found.reason, /auto found WebGPU adapter google swiftshader/);
  const none = await chooseBackend('auto', env(noAdapter));
  assert.equal(none.backend, 'wasm');
  assert.match(none.reason, /auto fell back to wasm: navigator.gpu.requestAdapter\(\) gave no adapter/);
  const software: GpuLike = {
    requestAdapter: async () => ({ info: { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true } }),
  };
  const fallback = await chooseBackend('auto', env(software));
  assert.equal(fallback.backend, 'wasm');
  assert.match(fallback.reason, /auto chose wasm: the only WebGPU adapter google swiftshader is a software fallback/);
  const asked = await chooseBackend('webgpu', env(software));
  assert.equal(asked.backend, 'webgpu');
  assert.match(asked.reason, /webgpu as asked, on WebGPU adapter google swiftshader \(a software fallback\)/);
  const missing = await chooseBackend('auto', env(undefined));
  assert.match(missing.reason, /navigator.gpu is missing/);
  const throwing: GpuLike = {
    requestAdapter: async () => {
      throw new Error('blocked');
    },
  };
  assert.match((await chooseBackend('auto', env(throwing))).reason, /gave no adapter: blocked/);
});

test('an explicit webgpu without an adapter is refused; wasm is taken as asked', async () => {
  await assert.rejects(chooseBackend('webgpu', env(noAdapter)), /device "webgpu" is unavailable: .*use device "wasm" or "auto"/);
  assert.equal((await chooseBackend('wasm', env(adapter))).backend, 'wasm');
  await assert.rejects(chooseBackend('gpu' as never, env(adapter)), /device must be one of "auto", "webgpu", "wasm", got "gpu"/);
});

test('threads: every core when cross-origin isolated, 1 otherwise; more than 1 without isolation is refused', () => {
  assert.deepEqual(threadCount(env(undefined, true, 6)).threads, 6);
  assert.deepEqual(threadCount(env(undefined, true, 64)).threads, 16);
  const single = threadCount(env(undefined, false, 8));
  assert.equal(single.threads, 1);
  assert.match(single.why, /not cross-origin isolated/);
  assert.equal(threadCount(env(undefined, true, 8), 2).threads, 2);
  assert.throws(() => threadCount(env(undefined, false), 2), /threads 2 needs a cross-origin isolated page/);
  assert.throws(() => threadCount(env(undefined, true), 0), /threads must be an integer in \[1, 16\]/);
});
