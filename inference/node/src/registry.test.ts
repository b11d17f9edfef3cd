import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleLatents } from '@gantry/latent';
import { HashMismatchError, ModelLoadError, ModelRegistry, ModelsFolderError, UnknownModelError, sha256File } from './registry.js';
import { tinyModelReference, writeTinyModelFolder, type TinyModelOptions } from './testing/tiny-model.js';

const scratch = await mkdtemp(join(tmpdir(), 'gantry-registry-'));
after(() => rm(scratch, { recursive: true, force: true }));

let folderCounter = 0;
async function modelsFolder(): Promise<string> {
  const folder = join(scratch, `models-${folderCounter++}`);
  await mkdir(folder, { recursive: true });
  return folder;
}

function assertClose(actual: Float32Array, expected: Float32Array, tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `index ${i}: ${actual[i]} vs ${expected[i]}`);
}

const greyOptions: TinyModelOptions = { latentSize: 5, shape: [4, 3, 1], seed: 2 };

test('loads every model folder, ignoring folders without card.json', async () => {
  const folder = await modelsFolder();
  await writeTinyModelFolder(folder, 'beta', greyOptions);
  await writeTinyModelFolder(folder, 'alpha', { latentSize: 3, shape: [2, 2, 3] });
  await mkdir(join(folder, 'notes'));
  await writeFile(join(folder, 'README.txt'), 'not a model');
  const registry = await ModelRegistry.load(folder, { device: 'cpu' });
  try {
    assert.deepEqual(registry.names(), ['alpha', 'beta']);
    assert.deepEqual(registry.cards().map((card) => card.name), ['alpha', 'beta']);
    const beta = registry.get('beta');
    assert.equal(beta.provider, 'cpu');
    assert.equal(beta.card.latent.size, 5);
    assert.equal(beta.onnxPath, join(folder, 'beta', 'generator.onnx'));
    assert.equal(registry.has('gamma'), false);
  } finally {
    await registry.close();
  }
});

test('generate samples latents with sampleLatents and runs them in chunks', async () => {
  const folder = await modelsFolder();
  await writeTinyModelFolder(folder, 'grey', greyOptions);
  // chunkSize 4 with n = 10 exercises two full chunks and a partial one.
  const registry = await ModelRegistry.load(folder, { device: 'cpu', chunkSize: 4 });
  try {
    const result = await registry.generate('grey', { n: 10, seed: 7 });
    const expectedLatents = sampleLatents({ size: 5, distribution: 'normal' }, 10, 7);
    assert.deepEqual(result.latents, expectedLatents);
    assert.equal(result.model, 'grey');
    assert.equal(result.n, 10);
    assert.equal(result.seed, 7);
    assert.deepEqual(result.shape, [4, 3, 1]);
    assert.deepEqual(result.range, [-1, 1]);
    assert.equal(result.samples.length, 10 * 12);
    assertClose(result.samples, tinyModelReference(expectedLatents, 10, greyOptions));

    const random = await registry.generate('grey', { n: 2 });
    assert.ok(Number.isInteger(random.seed) && random.seed! >= 0 && random.seed! < 2 ** 32);
    assert.deepEqual(random.latents, sampleLatents({ size: 5, distribution: 'normal' }, 2, random.seed!));

    const fromLatents = await registry.generateFromLatents('grey', expectedLatents.slice(0, 10), 2);
    assert.equal(fromLatents.seed, null);
    assertClose(fromLatents.samples, result.samples.subarray(0, 24));

    await assert.rejects(registry.generateFromLatents('grey', new Float32Array(9), 2), /latents.length must be n × latent size = 2 × 5 = 10 for model "grey", got 9/);
    await assert.rejects(registry.generate('grey', { n: 0 }), /n must be an integer in \[1, 65536\], got 0/);
    await assert.rejects(registry.generate('grey', { n: 1, seed: -1 }), /seed must be an integer in \[0, 4294967295\], got -1/);

    // Concurrent requests on one model are serialized but all answered correctly.
    const results = await Promise.all([1, 2, 3].map((seed) => registry.generate('grey', { n: 3, seed })));
    for (const [i, r] of results.entries()) {
      assertClose(r.samples, tinyModelReference(sampleLatents({ size: 5, distribution: 'normal' }, 3, i + 1), 3, greyOptions));
    }
  } finally {
    await registry.close();
  }
});

test('a fixed-batch export is fed padded batches of exactly its size', async () => {
  const folder = await modelsFolder();
  const options: TinyModelOptions = { ...greyOptions, batch: 4 };
  await writeTinyModelFolder(folder, 'fixed', { ...options, distribution: 'uniform' });
  const registry = await ModelRegistry.load(folder, { device: 'cpu' });
  try {
    const result = await registry.generate('fixed', { n: 6, seed: 1 });
    const latents = sampleLatents({ size: 5, distribution: 'uniform' }, 6, 1);
    assert.deepEqual(result.latents, latents);
    assertClose(result.samples, tinyModelReference(latents, 6, options));
  } finally {
    await registry.close();
  }
});

test('unknown model → UnknownModelError carrying the known names', async () => {
  const folder = await modelsFolder();
  await writeTinyModelFolder(folder, 'only', greyOptions);
  const registry = await ModelRegistry.load(folder, { device: 'cpu' });
  try {
    assert.throws(() => registry.get('other'), (error: Error) => {
      assert.ok(error instanceof UnknownModelError);
      assert.equal(error.requested, 'other');
      assert.deepEqual(error.known, ['only']);
      assert.match(error.message, /unknown model "other"; known models: only/);
      return true;
    });
    await assert.rejects(registry.generate('other', { n: 1, seed: 1 }), UnknownModelError);
  } finally {
    await registry.close();
  }
});

test('hash mismatch names the file and both hashes', async () => {
  const folder = await modelsFolder();
  const wrong = 'ab'.repeat(32);
  await writeTinyModelFolder(folder, 'tampered', { ...greyOptions, sha256: wrong });
  const onnxPath = join(folder, 'tampered', 'generator.onnx');
  const actual = await sha256File(onnxPath);
  await assert.rejects(ModelRegistry.load(folder, { device: 'cpu' }), (error: Error) => {
    assert.ok(error instanceof HashMismatchError);
    assert.equal(error.file, onnxPath);
    assert.equal(error.expected, wrong);
    assert.equal(error.actual, actual);
    for (const part of [onnxPath, wrong, actual]) assert.ok(error.message.includes(part), `message lacks ${part}: ${error.message}`);
    return true;
  });
});

test('missing or empty models folder says which folder and what a model folder holds', async () => {
  const missing = join(scratch, 'does-not-exist');
  await assert.rejects(ModelRegistry.load(missing), (error: Error) => {
    assert.ok(error instanceof ModelsFolderError);
    assert.equal(error.folder, missing);
    assert.match(error.message, /does not exist/);
    assert.match(error.message, /card\.json/);
    assert.match(error.message, /generator\.onnx/);
    return true;
  });
  const empty = await modelsFolder();
  await mkdir(join(empty, 'half-copied')); // a folder without card.json is not a model
  await assert.rejects(ModelRegistry.load(empty), (error: Error) => {
    assert.ok(error instanceof ModelsFolderError);
    assert.ok(error.message.includes(empty));
    assert.match(error.message, /contains no model/);
    assert.match(error.message, /card\.json/);
    return true;
  });
});

test('invalid cards and missing ONNX files are refused with the file named', async () => {
  const folder = await modelsFolder();
  await writeTinyModelFolder(folder, 'broken', greyOptions);
  const cardPath = join(folder, 'broken', 'card.json');
  const card = JSON.parse(await readFile(cardPath, 'utf8')) as Record<string, unknown>;

  await writeFile(cardPath, JSON.stringify({ ...card, latent: { size: 0, distribution: 'normal' } }));
  await assert.rejects(ModelRegistry.load(folder), (error: Error) => error instanceof ModelLoadError && error.file === cardPath && /latent.*size/.test(error.message));

  await writeFile(cardPath, '{ not json');
  await assert.rejects(ModelRegistry.load(folder), (error: Error) => error instanceof ModelLoadError && /cannot read the model card/.test(error.message));

  await writeFile(cardPath, JSON.stringify({ ...card, name: 'renamed' }));
  await assert.rejects(ModelRegistry.load(folder), /field "name" is "renamed" but the model folder is "broken"/);

  await writeFile(cardPath, JSON.stringify({ ...card, onnx: { ...(card.onnx as object), file: '../elsewhere.onnx' } }));
  await assert.rejects(ModelRegistry.load(folder), /expected a file name inside the model folder/);

  await writeFile(cardPath, JSON.stringify({ ...card, onnx: { ...(card.onnx as object), file: 'gone.onnx' } }));
  await assert.rejects(ModelRegistry.load(folder), (error: Error) => error instanceof ModelLoadError && error.file === join(folder, 'broken', 'gone.onnx'));

  await writeFile(cardPath, JSON.stringify({ ...card, onnx: { ...(card.onnx as object), inputName: 'z' } }));
  await assert.rejects(ModelRegistry.load(folder, { device: 'cpu' }), /model "broken":.*no input named "z"/);
});

test('load validates chunkSize', async () => {
  await assert.rejects(ModelRegistry.load(scratch, { chunkSize: 0 }), /chunkSize must be an integer in \[1, 65536\], got 0/);
});
