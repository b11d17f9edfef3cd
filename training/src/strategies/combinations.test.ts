// Every objective × penalty × strategy the config schema allows trains on toy data: 20 steps each
// with tiny MLPs (maxout critic, packing 2, annealed instance noise), finite losses, both players
// moving, and no tensor left behind by any step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/core';
import { selectBackend } from '../backend/select.js';
import { loadDataset } from '../data/datasets.js';
import { objectiveNames } from '../objectives/index.js';
import { parseTrainConfig } from '../run/config.js';
import { buildPlayers, disposePlayers } from '../run/players.js';
import { createStrategy } from './index.js';

const penalties = [
  { type: 'none' },
  { type: 'gradient', lambda: 1 },
  { type: 'one-sided', lambda: 1 },
  { type: 'r1', gamma: 1 },
  { type: 'weight-clipping', clip: 0.5 },
] as const;
const strategies = [
  { type: 'alternating' },
  { type: 'unrolled', steps: 1 },
  { type: 'best-response', solverIterations: 1, retractionSteps: 1 },
] as const;
const STEPS = 20;

test(`every objective × penalty × strategy trains ${STEPS} steps on ring-8 with finite losses and no leaks`, async (t) => {
  await selectBackend('cpu');
  const data = await loadDataset(
    parseTrainConfig({ data: { dataset: 'ring-8', points: 256 }, model: { architecture: 'mlp' } }).data,
    { seed: 1 },
  );
  const started = performance.now();
  let combinations = 0;
  for (const objective of objectiveNames) {
    for (const penalty of penalties) {
      for (const strategy of strategies) {
        const label = `${objective} × ${penalty.type} × ${strategy.type}`;
        const config = parseTrainConfig({
          seed: 2,
          data: { dataset: 'ring-8', points: 256 },
          model: {
            architecture: 'mlp',
            latentSize: 2,
            mlp: { generatorWidths: [4], discriminatorWidths: [4], maxoutPieces: 2, generatorNorm: 'batch' },
          },
          objective,
          penalty,
          strategy,
          transforms: { packing: 2, instanceNoise: { sigma: 0.05 } },
          optimizer: { generator: { learningRate: 1e-3 }, discriminator: { learningRate: 1e-3 } },
          training: { steps: STEPS, batchSize: 4 },
        });
        const players = buildPlayers(config, [2]);
        const run = createStrategy(config);
        const rng = Rng.fromSeed(combinations);
        const snapshot = (): number[] =>
          [...players.generator.getWeights(), ...players.discriminator.getWeights()].flatMap((w) => Array.from(w.dataSync()));
        const before = snapshot();
        let tensors = 0;
        for (let step = 0; step < STEPS; step++) {
          const losses = run.step({ config, players, data, rng, step });
          for (const [name, value] of Object.entries(losses))
            assert.ok(Number.isFinite(value), `${label}, step ${step}: ${name} is ${value}`);
          // Step 0 creates the optimizers' slots; after that the count must not move.
          if (step === 1) tensors = tf.memory().numTensors;
          if (step > 1) assert.equal(tf.memory().numTensors, tensors, `${label}: step ${step} leaked tensors`);
        }
        const after = snapshot();
        assert.ok(
          after.some((v, i) => v !== before[i]),
          `${label}: the weights moved`,
        );
        if (penalty.type === 'weight-clipping') {
          const clipped = players.discriminator.trainableWeights.flatMap((w) => Array.from(w.read().dataSync()));
          assert.ok(
            clipped.every((v) => Math.abs(v) <= 0.5),
            `${label}: D's weights stay within the clip`,
          );
        }
        run.dispose();
        disposePlayers(players);
        combinations += 1;
      }
    }
  }
  t.diagnostic(`${combinations} combinations × ${STEPS} steps in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(combinations, 75);
});

test('unrolled and best-response steps through a packed DCGAN critic with a gradient penalty (third order through convolutions) run on wasm and leak nothing', async () => {
  await selectBackend('wasm');
  const rng = Rng.fromSeed(5);
  const images = Float32Array.from({ length: 16 * 28 * 28 }, () => 2 * rng.nextFloat() - 1);
  const data = { name: 'noise', count: 16, shape: [28, 28, 1] as [number, number, number], images };
  for (const strategy of [
    { type: 'unrolled', steps: 1 },
    { type: 'best-response', solverIterations: 2, retractionSteps: 1 },
  ] as const) {
    const config = parseTrainConfig({
      model: { latentSize: 8, generatorWidth: 8, discriminatorWidth: 4 },
      objective: 'wasserstein',
      penalty: { type: 'gradient' },
      strategy,
      transforms: { packing: 2 },
      training: { batchSize: 4 },
    });
    const players = buildPlayers(config, [28, 28, 1]);
    const run = createStrategy(config);
    run.step({ config, players, data, rng, step: 0 });
    const before = { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
    const losses = run.step({ config, players, data, rng, step: 1 });
    assert.ok(Object.values(losses).every(Number.isFinite), `${strategy.type}: ${JSON.stringify(losses)}`);
    assert.deepEqual(
      { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() },
      before,
      `${strategy.type}: nothing leaked`,
    );
    run.dispose();
    disposePlayers(players);
  }
});
