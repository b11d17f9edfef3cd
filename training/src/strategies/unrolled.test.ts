import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/core';
import { selectBackend } from '../backend/select.js';
import { loadDataset } from '../data/datasets.js';
import { parseTrainConfig, type TrainConfigInput } from '../run/config.js';
import { buildPlayers, disposePlayers } from '../run/players.js';
import { drawBatch, type StepContext } from './game.js';
import { trainableVariables } from './model-weights.js';
import { unrolledGeneratorLoss, unrollOptions, type UnrollOptions } from './unrolled.js';

const base: TrainConfigInput = {
  seed: 7,
  data: { dataset: 'ring-8', points: 200 },
  model: {
    architecture: 'mlp',
    latentSize: 2,
    mlp: { generatorWidths: [3], discriminatorWidths: [3], activation: 'tanh', generatorNorm: 'none', maxoutPieces: 1 },
  },
  strategy: { type: 'unrolled', steps: 2, learningRate: 0.5 },
  training: { batchSize: 4 },
};

async function setup(overrides: TrainConfigInput): Promise<StepContext> {
  const config = parseTrainConfig({ ...base, ...overrides });
  const data = await loadDataset(config.data, { seed: config.seed });
  return { config, players: buildPlayers(config, [2]), data, rng: Rng.fromSeed(3), step: 0 };
}

function flatGradient(context: StepContext, loss: () => tf.Scalar): number[] {
  const variables = trainableVariables(context.players.generator);
  const { value, grads } = tf.variableGrads(loss, variables);
  value.dispose();
  const flat = variables.flatMap((v) => Array.from(grads[v.name]!.dataSync()));
  Object.values(grads).forEach((g) => g.dispose());
  return flat;
}

/** Central differences of the unrolled loss in each of G's parameters (float32, h = 1e-2). */
function finiteDifferences(context: StepContext, loss: () => tf.Scalar): number[] {
  const h = 1e-2;
  const variables = trainableVariables(context.players.generator);
  const result: number[] = [];
  for (const variable of variables) {
    const original = variable.dataSync().slice();
    for (let i = 0; i < original.length; i++) {
      const at = (delta: number): number => {
        const shifted = original.slice();
        shifted[i]! += delta;
        variable.assign(tf.tensor(shifted, variable.shape));
        return tf.tidy(() => loss().dataSync()[0]!);
      };
      result.push((at(h) - at(-h)) / (2 * h));
      variable.assign(tf.tensor(original, variable.shape));
    }
  }
  return result;
}

const maxAbsDiff = (a: readonly number[], b: readonly number[]): number => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

test('the unrolled generator gradient (through K = 2 simulated D updates) matches finite differences; the first-order one does not', async (t) => {
  await selectBackend('cpu');
  for (const penalty of [{ type: 'none' as const }, { type: 'gradient' as const, lambda: 1 }]) {
    const context = await setup({ penalty });
    const batch = drawBatch(context);
    const full = unrollOptions(context);
    assert.deepEqual(full, { steps: 2, learningRate: 0.5, firstOrder: false });
    const firstOrder: UnrollOptions = { ...full, firstOrder: true };
    const autodiff = flatGradient(context, () => unrolledGeneratorLoss(context, batch, full));
    const approximate = flatGradient(context, () => unrolledGeneratorLoss(context, batch, firstOrder));
    const numeric = finiteDifferences(context, () => unrolledGeneratorLoss(context, batch, full));
    const scale = Math.max(...numeric.map(Math.abs));
    const error = maxAbsDiff(autodiff, numeric);
    const firstOrderGap = maxAbsDiff(approximate, numeric);
    t.diagnostic(
      `penalty ${penalty.type}: max |∂L/∂θG| ${scale.toFixed(4)}; |autodiff − FD| ${error.toExponential(2)}; |first-order − FD| ${firstOrderGap.toExponential(2)}`,
    );
    assert.ok(error <= 2e-3 * Math.max(1, scale), `penalty ${penalty.type}: autodiff vs finite differences off by ${error}`);
    assert.ok(
      firstOrderGap > 20 * error,
      `penalty ${penalty.type}: the higher-order terms matter here (first-order gap ${firstOrderGap})`,
    );
    disposePlayers(context.players);
  }
});

test('with K = 0 the unrolled loss is the plain generator loss and both orders agree; D itself is never changed', async () => {
  await selectBackend('cpu');
  const context = await setup({ strategy: { type: 'unrolled', steps: 0 } });
  const batch = drawBatch(context);
  const dBefore = context.players.discriminator.getWeights().map((w) => Array.from(w.dataSync()));
  const a = flatGradient(context, () =>
    unrolledGeneratorLoss(context, batch, { steps: 0, learningRate: 0.5, firstOrder: false }),
  );
  const b = flatGradient(context, () => unrolledGeneratorLoss(context, batch, { steps: 0, learningRate: 0.5, firstOrder: true }));
  assert.deepEqual(a, b);
  flatGradient(context, () => unrolledGeneratorLoss(context, batch, { steps: 3, learningRate: 0.5, firstOrder: false }));
  assert.deepEqual(
    context.players.discriminator.getWeights().map((w) => Array.from(w.dataSync())),
    dBefore,
  );
  disposePlayers(context.players);
});
