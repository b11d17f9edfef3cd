import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.js';
import { minimax } from './minimax.js';
import { nonSaturating } from './non-saturating.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

test('minimax losses equal their closed forms in probabilities', async () => {
  await selectBackend('cpu');
  const real = [2.0, -0.5, 0.1];
  const fake = [-1.5, 0.3, 4.0, -0.2];
  const expectedD = mean(real.map((l) => -Math.log(sigmoid(l)))) + mean(fake.map((l) => -Math.log(1 - sigmoid(l))));
  const expectedG = mean(fake.map((l) => Math.log(1 - sigmoid(l))));
  const d = minimax.discriminatorLoss(tf.tensor1d(real), tf.tensor1d(fake)).arraySync();
  const g = minimax.generatorLoss(tf.tensor1d(fake)).arraySync();
  assert.ok(Math.abs(d - expectedD) < 1e-5, `D loss ${d} vs ${expectedD}`);
  assert.ok(Math.abs(g - expectedG) < 1e-5, `G loss ${g} vs ${expectedG}`);
});

test('the minimax generator gradient saturates where D rejects the fakes, unlike the non-saturating one', async () => {
  await selectBackend('cpu');
  // d/dl log(1 − σ(l)) = −σ(l): at l = −10 that is −4.5e-5, while −log σ(l) keeps −(1 − σ(l)) ≈ −1.
  const logits = tf.tensor1d([-10, 0, 3]);
  const saturating = Array.from(
    tf
      .grad((l: tf.Tensor) => minimax.generatorLoss(l))(logits)
      .dataSync(),
  );
  const nonSat = Array.from(
    tf
      .grad((l: tf.Tensor) => nonSaturating.generatorLoss(l))(logits)
      .dataSync(),
  );
  [-10, 0, 3].forEach((l, i) => {
    assert.ok(Math.abs(saturating[i]! + sigmoid(l) / 3) < 1e-7, `minimax ∂/∂l at ${l}: ${saturating[i]}`);
    assert.ok(Math.abs(nonSat[i]! + (1 - sigmoid(l)) / 3) < 1e-7, `non-saturating ∂/∂l at ${l}: ${nonSat[i]}`);
  });
  assert.ok(Math.abs(saturating[0]!) < 1e-4 * Math.abs(nonSat[0]!), 'saturated by four orders of magnitude at l = −10');
});

test('minimax losses stay finite at extreme logits (softplus form)', async () => {
  await selectBackend('cpu');
  const extreme = tf.tensor1d([-200, 200]);
  const d = minimax.discriminatorLoss(extreme, extreme).arraySync();
  const g = minimax.generatorLoss(extreme).arraySync();
  const grad = Array.from(
    tf
      .grad((l: tf.Tensor) => minimax.generatorLoss(l))(extreme)
      .dataSync(),
  );
  // −log σ(−200) + −log σ(200) = 200 for D's real term, same for its fake term, each averaged over 2.
  assert.ok(Math.abs(d - 200) < 1e-3, `D loss ${d}`);
  assert.ok(Math.abs(g + 100) < 1e-3, `G loss ${g}`);
  assert.ok(grad.every(Number.isFinite), `gradient ${grad}`);
});
