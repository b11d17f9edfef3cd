import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Training imports the image helpers; loading the native onnxruntime there would cost startup time
// and break on machines without it. A fresh process shows what an import really loads.
function loadedModules(specifier: string): { onnxruntime: boolean; sharp: boolean } {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(specifier)});
    const cache = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify({
      onnxruntime: cache.some((path) => path.includes('onnxruntime-node')),
      sharp: cache.some((path) => /[\\\\/]sharp[\\\\/]/.test(path)),
    }));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as { onnxruntime: boolean; sharp: boolean };
}

test('importing the package or its image entry point does not load onnxruntime-node', () => {
  for (const specifier of ['@gantry/inference-node', '@gantry/files/image']) {
    const loaded = loadedModules(specifier);
    assert.equal(loaded.sharp, true, `${specifier} should load sharp (sanity check of the probe)`);
    assert.equal(loaded.onnxruntime, false, `${specifier} loaded onnxruntime-node`);
  }
});

test('the public API is exported from the package root', async () => {
  const api = await import('@gantry/inference-node');
  for (const name of ['createSession', 'ModelRegistry', 'UnknownModelError', 'createServer', 'listen', 'canonicalSamples']) {
    assert.ok(name in api, `missing export ${name}`);
  }
});
