// The whole product on a small scale: train ~30 steps on 2 000 MNIST images, export with the parity
// check, serve on a free port, and fetch a PNG grid a person would look at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runGantry, startGantry } from './cli.js';

const config = {
  name: 'e2e',
  seed: 3,
  data: { dataset: 'mnist', limit: 2000 },
  model: { generatorWidth: 32, discriminatorWidth: 16 },
  training: { steps: 30, batchSize: 32 },
  logging: { logEvery: 5, sampleEvery: 15, checkpointEvery: 10, sampleCount: 16 },
};

test('train → export → serve on an MNIST subset', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'gantry-e2e-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const configPath = join(work, 'train.json');
  await writeFile(configPath, JSON.stringify(config));
  const runDir = join(work, 'run');

  const trained = await runGantry(['train', '--config', configPath, '--run', runDir, '--backend', 'wasm']);
  assert.equal(trained.code, 0, trained.stderr);
  assert.match(trained.stderr, /backend: wasm/);
  const written = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8')) as {
    optimizer: { generator: { learningRate: number } };
  };
  assert.equal(written.optimizer.generator.learningRate, 2e-4, 'defaults are filled into the run config');
  const log = (await readFile(join(runDir, 'log.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; discriminator: number });
  assert.deepEqual(
    log.map((l) => l.step),
    [5, 10, 15, 20, 25, 30],
  );
  assert.ok(log.every((l) => Number.isFinite(l.discriminator)));
  assert.deepEqual((await readdir(join(runDir, 'samples'))).sort(), ['0.png', '15.png', '30.png']);
  assert.deepEqual((await readdir(join(runDir, 'checkpoints'))).sort(), ['10', '20', '30']);

  const modelsDir = join(work, 'models');
  const exported = await runGantry(['export', '--run', runDir, '--out', join(modelsDir, 'e2e')]);
  assert.equal(exported.code, 0, exported.stderr);
  const parity = Number(/max abs(?:olute)? diff(?:erence)?\D*([0-9.eE+-]+)/i.exec(exported.stderr + exported.stdout)?.[1]);
  assert.ok(parity <= 1e-4, `parity figure ${parity} printed and within 1e-4`);
  const card = JSON.parse(await readFile(join(modelsDir, 'e2e', 'card.json'), 'utf8')) as {
    onnx: { sha256: string };
    training: { steps: number };
  };
  const onnx = await readFile(join(modelsDir, 'e2e', 'generator.onnx'));
  assert.equal(card.onnx.sha256, createHash('sha256').update(onnx).digest('hex'));
  assert.equal(card.training.steps, 30);

  const server = await startGantry(['serve', '--models', modelsDir, '--port', '0'], /(http:\/\/127\.0\.0\.1:\d+)/);
  t.after(() => server.child.kill('SIGKILL'));
  const url = server.match[1]!;
  const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string; models: string[] };
  assert.deepEqual(health, { status: 'ok', models: ['e2e'] });

  const response = await fetch(`${url}/v1/models/e2e/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ n: 16, seed: 7 }),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'image/png');
  const png = Buffer.from(await response.arrayBuffer());
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.ok(
    info.width >= 4 * 28 && info.width < 4 * 28 + 20,
    `a 4×4 grid of 28-pixel digits is about 112 pixels wide, got ${info.width}`,
  );
  assert.ok(info.height >= 4 * 28 && info.height < 4 * 28 + 20, `grid height ${info.height}`);
  assert.ok(new Set(data).size > 10, 'the grid is not a constant image');

  const unknown = await fetch(`${url}/v1/models/nope/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"n":1}',
  });
  assert.equal(unknown.status, 404);
  assert.deepEqual(((await unknown.json()) as { known: string[] }).known, ['e2e']);
  const tooMany = await fetch(`${url}/v1/models/e2e/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"n":100000}',
  });
  assert.equal(tooMany.status, 400);
  assert.match(((await tooMany.json()) as { error: string }).error, /n/);

  const npyPath = join(work, 'samples.npy');
  const sampled = await runGantry(['sample', '--model', join(modelsDir, 'e2e'), '--n', '3', '--seed', '7', '--out', npyPath]);
  assert.equal(sampled.code, 0, sampled.stderr);
  const npy = await readFile(npyPath);
  assert.equal(npy.subarray(1, 6).toString('latin1'), 'NUMPY');
  assert.match(npy.toString('latin1', 10, 128), /'shape': \(3, 28, 28, 1\)/);
});
