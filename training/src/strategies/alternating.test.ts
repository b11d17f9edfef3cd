import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/core';
import { selectBackend } from '../backend/select.js';
import type { ImageDataset } from '../data/image-dataset.js';
import { parseTrainConfig } from '../run/config.js';
import { buildPlayers, disposePlayers } from '../run/players.js';
import { alternatingStep, discriminatorStepsAt } from './alternating.js';

function randomImages(count: number, side: number): ImageDataset {
  const rng = Rng.fromSeed(5);
  const images = new Float32Array(count * side * side);
  for (let i = 0; i < images.length; i++) images[i] = 2 * rng.nextFloat() - 1;
  return { name: 'noise', count, shape: [side, side, 1], images };
}

// The leak guard of tfjs-examples' ACGAN: a training step must leave no tensor (and, on wasm, no heap
// buffer) behind, or memory grows until the process dies hours into a run.
test('a training step leaves the live tensor and buffer counts unchanged', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await selectBackend(backend);
    const config = parseTrainConfig({
      model: { latentSize: 8, generatorWidth: 8, discriminatorWidth: 4 },
      training: { batchSize: 4, discriminatorSteps: 2 },
    });
    const players = buildPlayers(config, [28, 28, 1]);
    const data = randomImages(16, 28);
    const rng = Rng.fromSeed(1);
    alternatingStep(config, players, data, rng); // creates the optimizer slots
    const before = { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
    for (let i = 0; i < 3; i++) {
      const losses = alternatingStep(config, players, data, rng);
      assert.ok(Number.isFinite(losses.discriminator) && Number.isFinite(losses.generator), `${backend}: finite losses`);
    }
    assert.deepEqual(
      { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() },
      before,
      `${backend}: nothing leaked`,
    );
    disposePlayers(players);
  }
});

test('a WGAN-GP step (Wasserstein critic + gradient penalty, double backprop) runs on wasm and leaks nothing', async () => {
  await selectBackend('wasm');
  const config = parseTrainConfig({
    objective: 'wasserstein',
    penalty: { type: 'gradient', lambda: 10 },
    model: { latentSize: 8, generatorWidth: 8, discriminatorWidth: 4 },
    training: { batchSize: 4, discriminatorSteps: 2 },
  });
  const players = buildPlayers(config, [28, 28, 1]);
  const data = randomImages(16, 28);
  const rng = Rng.fromSeed(3);
  const first = alternatingStep(config, players, data, rng);
  assert.ok(first.penalty > 0 && Number.isFinite(first.penalty), `penalty ${first.penalty}`);
  const before = tf.memory().numTensors;
  const second = alternatingStep(config, players, data, rng);
  assert.ok(Number.isFinite(second.discriminator) && Number.isFinite(second.generator));
  assert.equal(tf.memory().numTensors, before);
  disposePlayers(players);
});

test('the discriminator step updates only D and the generator step only G', async () => {
  await selectBackend('cpu');
  const config = parseTrainConfig({
    model: { latentSize: 8, generatorWidth: 8, discriminatorWidth: 4 },
    training: { batchSize: 4 },
  });
  const players = buildPlayers(config, [28, 28, 1]);
  const snapshot = (m: typeof players.generator): Float32Array[] =>
    m.trainableWeights.map((w) => w.read().dataSync() as Float32Array);
  const g0 = snapshot(players.generator);
  const d0 = snapshot(players.discriminator);
  alternatingStep({ ...config, training: { ...config.training } }, players, randomImages(8, 28), Rng.fromSeed(2));
  const changed = (a: Float32Array[], b: Float32Array[]): boolean => a.some((w, i) => w.some((v, j) => v !== b[i]![j]));
  assert.ok(changed(g0, snapshot(players.generator)), 'G moved');
  assert.ok(changed(d0, snapshot(players.discriminator)), 'D moved');
  disposePlayers(players);
});

test("WGAN's critic warm-up: 100 D steps for G's first 25 steps and every 500th, else k", () => {
  const warm = parseTrainConfig({ strategy: { type: 'alternating', criticWarmup: true }, training: { discriminatorSteps: 5 } });
  const plain = parseTrainConfig({ training: { discriminatorSteps: 5 } });
  assert.deepEqual(
    [0, 24, 25, 499, 500, 501, 1000].map((s) => discriminatorStepsAt(warm, s)),
    [100, 100, 5, 5, 100, 5, 100],
  );
  assert.deepEqual(
    [0, 500].map((s) => discriminatorStepsAt(plain, s)),
    [5, 5],
  );
});
