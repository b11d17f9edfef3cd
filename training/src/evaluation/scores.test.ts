import { test } from 'node:test';
import assert from 'node:assert/strict';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '@gantry/core';
import { generateToyDataset } from '../data/toy.js';
import { stackDigits } from '../data/stacked-mnist.js';
import type { ImageDataset } from '../data/image-dataset.js';
import { parseTrainConfig } from '../run/config.js';
import { classCoverage, confidentFraction, inceptionScore } from './scores.js';
import { stackedModeCoverage } from './stacked-mnist.js';
import { createTrainingEvaluator } from './in-training.js';

await tf.setBackend('cpu');

const oneHot = (labels: number[], classes: number): Float32Array => {
  const p = new Float32Array(labels.length * classes);
  labels.forEach((l, i) => (p[i * classes + l] = 1));
  return p;
};

test('the Inception-style score is the class count for confident, balanced predictions and 1 for uninformative ones', () => {
  const balanced = oneHot(
    Array.from({ length: 40 }, (_, i) => i % 10),
    10,
  );
  assert.ok(Math.abs(inceptionScore(balanced, 10) - 10) < 1e-9);
  assert.ok(Math.abs(inceptionScore(new Float32Array(40 * 10).fill(0.1), 10) - 1) < 1e-6);
  assert.ok(Math.abs(inceptionScore(oneHot(new Array(40).fill(3), 10), 10) - 1) < 1e-9, 'one repeated class');
  // Two classes, p(y|x) = (0.9, 0.1) and (0.1, 0.9): exp(KL((0.9, 0.1) ‖ (0.5, 0.5))).
  const kl = 0.9 * Math.log(0.9 / 0.5) + 0.1 * Math.log(0.1 / 0.5);
  assert.ok(Math.abs(inceptionScore(Float32Array.from([0.9, 0.1, 0.1, 0.9]), 2) - Math.exp(kl)) < 1e-6);
});

test('confident share and class coverage count the top classes', () => {
  const p = Float32Array.from([0.95, 0.05, 0, 0.5, 0.5, 0, 0.05, 0.95, 0, 0.91, 0.09, 0]);
  assert.equal(confidentFraction(p, 3), 0.75);
  assert.deepEqual(classCoverage(p, 3), { histogram: [3, 1, 0], covered: 2, maxMinRatio: Infinity });
  assert.equal(classCoverage(oneHot([0, 0, 1, 2, 2, 2], 3), 3).maxMinRatio, 3);
});

test('Stacked MNIST: each channel is a digit of the mode 100·r + 10·g + b; coverage and KL to uniform', () => {
  // Ten 2×2 "digits", digit k filled with k / 10, so each channel's value names its digit.
  const digits: ImageDataset = {
    name: 'digits',
    count: 10,
    shape: [2, 2, 1],
    images: Float32Array.from({ length: 40 }, (_, i) => Math.floor(i / 4) / 10),
    labels: Uint8Array.from({ length: 10 }, (_, k) => k),
    classNames: Array.from({ length: 10 }, (_, k) => String(k)),
  };
  const { images, modes } = stackDigits(digits, 500, Rng.fromSeed(3));
  for (let i = 0; i < 500; i++) {
    const channels = [0, 1, 2].map((c) => Math.round(images[i * 12 + c]! * 10));
    assert.equal(modes[i], 100 * channels[0]! + 10 * channels[1]! + channels[2]!);
    for (let p = 1; p < 4; p++) for (let c = 0; c < 3; c++) assert.equal(images[(i * 4 + p) * 3 + c], images[i * 12 + c]);
  }
  assert.ok(new Set(modes).size > 300, 'draws spread over the modes');
  const every = stackedModeCoverage(Array.from({ length: 2000 }, (_, i) => i % 1000));
  assert.equal(every.modes, 1000);
  assert.ok(every.klToUniform < 1e-12);
  const single = stackedModeCoverage(new Array(100).fill(42));
  assert.equal(single.modes, 1);
  assert.ok(Math.abs(single.klToUniform - Math.log(1000)) < 1e-9);
});

test('the in-training evaluator scores a generator stuck on one grid-25 centre: 1 mode, all high quality, KL log 25', async () => {
  const config = parseTrainConfig(
    {
      data: { dataset: 'grid-25', points: 100 },
      model: { architecture: 'mlp', latentSize: 2 },
      logging: { evaluateEvery: 5, evaluateSamples: 50 },
    },
    'test',
  );
  const data = generateToyDataset('grid-25', 100, Rng.fromSeed(1));
  const evaluate = await createTrainingEvaluator(config, data, null);
  assert.ok(evaluate !== null);
  const stuck = tfl.sequential({
    layers: [
      tfl.layers.dense({
        inputShape: [2],
        units: 2,
        kernelInitializer: 'zeros',
        biasInitializer: tfl.initializers.constant({ value: 2 }),
      }),
    ],
  });
  const metrics = await evaluate(stuck);
  assert.equal(metrics.modes, 1);
  assert.equal(metrics.highQualityFraction, 1);
  assert.ok(Math.abs(metrics.reverseKl! - Math.log(25)) < 1e-9);
  const off = parseTrainConfig(
    { data: { dataset: 'grid-25', points: 100 }, model: { architecture: 'mlp', latentSize: 2 } },
    'test',
  );
  assert.equal(await createTrainingEvaluator(off, data, null), null, 'evaluateEvery 0 evaluates nothing');
});
