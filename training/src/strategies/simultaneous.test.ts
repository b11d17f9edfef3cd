import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/core';
import { selectBackend } from '../backend/select.js';
import { generateToyDataset } from '../data/toy.js';
import { parseTrainConfig, type TrainConfigInput } from '../run/config.js';
import { buildPlayers, disposePlayers, type Players } from '../run/players.js';
import { takeAlternatingStep } from './alternating.js';
import { takeSimultaneousStep } from './simultaneous.js';
import type { StepContext, StepLosses } from './game.js';

// PacGAN's toy players, shrunk; N(0, 0.02) init and no bias before G's batch norms, as its code has them.
function configWith(dLearningRate: number, strategy: 'alternating' | 'simultaneous'): TrainConfigInput {
  const adam = { type: 'adam' as const, learningRate: 1e-2, beta1: 0.8 };
  return {
    seed: 4,
    data: { dataset: 'grid-25', points: 400 },
    model: {
      architecture: 'mlp',
      latentSize: 2,
      mlp: {
        generatorWidths: [16, 16],
        discriminatorWidths: [8],
        maxoutPieces: 3,
        weightInit: 'normal',
        generatorHiddenBias: false,
      },
    },
    strategy: { type: strategy },
    transforms: { packing: 2 },
    optimizer: { generator: adam, discriminator: { ...adam, learningRate: dLearningRate } },
    training: { batchSize: 10 },
  };
}

const snapshot = (players: Players, which: 'generator' | 'discriminator'): Float32Array[] =>
  players[which].getWeights().map((w) => w.dataSync() as Float32Array);

/** One step from the config's initial weights; returns both players' weights after it. */
function stepOnce(
  input: TrainConfigInput,
  take: (c: StepContext) => StepLosses,
): { g: Float32Array[]; d: Float32Array[]; losses: StepLosses } {
  const config = parseTrainConfig(input);
  const players = buildPlayers(config, [2]);
  const data = generateToyDataset('grid-25', 400, Rng.fromSeed(2));
  try {
    const losses = take({ config, players, data, rng: Rng.fromSeed(11), step: 0 });
    return { g: snapshot(players, 'generator'), d: snapshot(players, 'discriminator'), losses };
  } finally {
    disposePlayers(players);
  }
}

test('simultaneous: G steps against the D of before the step, D takes the alternating D update', async () => {
  await selectBackend('cpu');
  const simultaneous = stepOnce(configWith(1e-2, 'simultaneous'), takeSimultaneousStep);
  const frozenD = stepOnce(configWith(1e-9, 'simultaneous'), takeSimultaneousStep);
  // G's update does not see D's move of the same step: changing D's learning rate leaves G's step alone.
  assert.deepEqual(simultaneous.g, frozenD.g);
  // In the alternating schedule it does (the check can fail).
  const alternating = stepOnce(configWith(1e-2, 'alternating'), takeAlternatingStep);
  const alternatingFrozen = stepOnce(configWith(1e-9, 'alternating'), takeAlternatingStep);
  assert.notDeepEqual(alternating.g, alternatingFrozen.g);
  // D's update is the alternating one: same batch, same draws, same weights.
  assert.deepEqual(simultaneous.d, alternating.d);
  assert.ok(
    Number.isFinite(simultaneous.losses.generator) && simultaneous.losses.realScore > 0 && simultaneous.losses.realScore < 1,
  );
});

test('simultaneous steps leak nothing on wasm; N(0, 0.02) init and no hidden bias reach the players', async () => {
  await selectBackend('wasm');
  const config = parseTrainConfig(configWith(1e-2, 'simultaneous'));
  const players = buildPlayers(config, [2]);
  const data = generateToyDataset('grid-25', 400, Rng.fromSeed(2));
  const rng = Rng.fromSeed(3);
  const hidden = players.generator.layers.filter((layer) => layer.getClassName() === 'Dense').slice(0, -1);
  assert.ok(
    hidden.length === 2 && hidden.every((layer) => layer.getWeights().length === 1),
    'G hidden Dense layers have no bias',
  );
  const kernel = Array.from(players.discriminator.getWeights()[0]!.dataSync());
  const std = Math.sqrt(kernel.reduce((s, v) => s + v * v, 0) / kernel.length);
  assert.ok(Math.abs(std - 0.02) < 0.006, `D's kernel std ${std}`);
  takeSimultaneousStep({ config, players, data, rng, step: 0 });
  const before = tf.memory().numTensors;
  for (let i = 1; i < 4; i++) takeSimultaneousStep({ config, players, data, rng, step: i });
  assert.equal(tf.memory().numTensors, before);
  disposePlayers(players);
});

test('simultaneous with more than one D step is refused, naming the key', () => {
  assert.throws(
    () => parseTrainConfig({ ...configWith(1e-2, 'simultaneous'), training: { discriminatorSteps: 2 } }),
    /training\.discriminatorSteps/,
  );
});
