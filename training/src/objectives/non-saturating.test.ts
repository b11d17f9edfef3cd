import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.js';
import { nonSaturating } from './non-saturating.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

test('non-saturating losses equal their closed forms in probabilities', async () => {
  await selectBackend('cpu');
  const real = [2.0, -0.5, 0.1];
  const fake = [-1.5, 0.3, 4.0];
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const expectedD = mean(real.map((l) => -Math.log(sigmoid(l)))) + mean(fake.map((l) => -Math.log(1 - sigmoid(l))));
  const expectedG = mean(fake.map((l) => -Math.log(sigmoid(l))));
  const d = nonSaturating.discriminatorLoss(tf.tensor1d(real), tf.tensor1d(fake)).arraySync() as number;
  const g = nonSaturating.generatorLoss(tf.tensor1d(fake)).arraySync() as number;
  assert.ok(Math.abs(d - expectedD) < 1e-5, `D loss ${d} vs ${expectedD}`);
  assert.ok(Math.abs(g - expectedG) < 1e-5, `G loss ${g} vs ${expectedG}`);
});

test('the generator loss does not saturate where D rejects the fakes', async () => {
  await selectBackend('cpu');
  // At logit −10 the minimax loss log(1 − σ(l)) has gradient σ(l) ≈ 4.5e-5; −log σ(l) keeps ≈ 1.
  const grad = tf
    .grad((l: tf.Tensor) => nonSaturating.generatorLoss(l))(tf.tensor1d([-10]))
    .arraySync() as number[];
  assert.ok(Math.abs(grad[0]! + (1 - sigmoid(-10))) < 1e-5, `gradient ${grad[0]}`);
});
