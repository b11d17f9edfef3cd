import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.js';
import { wasserstein } from './wasserstein.js';

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

test('wasserstein losses equal their closed forms', async () => {
  await selectBackend('cpu');
  // Unequal batch sizes: each expectation is a mean over its own batch.
  const real = [2.0, -0.5, 0.1, 3.25];
  const fake = [-1.5, 0.3, 4.0];
  const expectedCritic = mean(fake) - mean(real);
  const expectedGenerator = -mean(fake);
  const critic = wasserstein.discriminatorLoss(tf.tensor2d(real, [4, 1]), tf.tensor2d(fake, [3, 1])).arraySync();
  const generator = wasserstein.generatorLoss(tf.tensor2d(fake, [3, 1])).arraySync();
  assert.ok(Math.abs(critic - expectedCritic) < 1e-6, `critic loss ${critic} vs ${expectedCritic}`);
  assert.ok(Math.abs(generator - expectedGenerator) < 1e-6, `generator loss ${generator} vs ${expectedGenerator}`);
  assert.equal(wasserstein.name, 'wasserstein');
});

test('the critic is pushed up on real and down on fake samples; the generator pushes fake scores up', async () => {
  await selectBackend('cpu');
  const real = tf.tensor1d([0.4, -2.0, 1.0, 0.0]);
  const fake = tf.tensor1d([1.5, -0.7]);
  const [dReal, dFake] = tf.grads((r: tf.Tensor, f: tf.Tensor) => wasserstein.discriminatorLoss(r, f))([real, fake]);
  const dGenerator = tf.grad((f: tf.Tensor) => wasserstein.generatorLoss(f))(fake);
  // Descending the critic loss raises every real score and lowers every fake one, each by 1/batch size,
  // whatever the scores are (the loss is linear in them: no saturation).
  assert.deepEqual(Array.from(dReal!.dataSync()), [-0.25, -0.25, -0.25, -0.25]);
  assert.deepEqual(Array.from(dFake!.dataSync()), [0.5, 0.5]);
  assert.deepEqual(Array.from(dGenerator.dataSync()), [-0.5, -0.5]);
});
