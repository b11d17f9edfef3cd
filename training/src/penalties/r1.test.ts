import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/core';
import { selectBackend } from '../backend/select.js';
import { nonSaturating } from '../objectives/non-saturating.js';
import { r1Penalty } from './r1.js';
import {
  checkPenaltyGradient,
  euclideanNorm,
  IN,
  leakyRelu,
  makeVariables,
  PARAMETER_COUNT,
  preActivations,
  referenceInputGradient,
  rows,
  softplus,
  tanh,
  tfCritic,
  uniformValues,
  type Activation,
} from './testing/reference-critic.js';

const GAMMA = 10;

function referenceR1(params: readonly number[], act: Activation, real: readonly number[][]): number {
  const squaredNorms = real.map((x) => euclideanNorm(referenceInputGradient(params, act, x)) ** 2);
  return ((GAMMA / 2) * squaredNorms.reduce((a, b) => a + b, 0)) / squaredNorms.length;
}

test('on a linear critic R1 equals γ/2·‖w‖², whatever the samples', async () => {
  await selectBackend('cpu');
  const weights = [0.4, -1.2, 0.7];
  const w = tf.tensor2d(weights, [3, 1]);
  const real = tf.tensor2d(uniformValues(Rng.fromSeed(3), 15, -2, 2), [5, 3]);
  const value = r1Penalty((x) => tf.matMul(x as tf.Tensor2D, w), real, { gamma: GAMMA }).arraySync();
  const expected = (GAMMA / 2) * euclideanNorm(weights) ** 2;
  assert.ok(Math.abs(value - expected) < 1e-5 * expected, `R1 ${value} vs ${expected}`);
});

test('R1 and its gradient in the critic weights match float64 finite differences (softplus, tanh, LeakyReLU MLPs)', async (t) => {
  await selectBackend('cpu');
  for (const act of [softplus, tanh, leakyRelu]) {
    const rng = Rng.fromSeed(21);
    const n = 5;
    const params = uniformValues(rng, PARAMETER_COUNT, -1, 1);
    const real = tf.tensor2d(uniformValues(rng, n * IN, -2, 2), [n, IN]);
    const realRows = rows(real);
    const nearestKink = Math.min(...realRows.flatMap((x) => preActivations(params, x).map(Math.abs)));
    assert.ok(nearestKink > 1e-2, `test data: a pre-activation ${nearestKink} too close to the LeakyReLU kink`);
    const variables = makeVariables(params);
    const critic = tfCritic(act, variables);
    checkPenaltyGradient(
      `R1, ${act.name}`,
      params,
      variables,
      () => r1Penalty(critic, real, { gamma: GAMMA }),
      (p) => referenceR1(p, act, realRows),
      (line) => t.diagnostic(line),
    );
    variables.forEach((v) => v.dispose());
  }
});

test('no NaN where the critic is flat, and R1 is 0 there', async () => {
  await selectBackend('cpu');
  const real = tf.tensor2d(uniformValues(Rng.fromSeed(4), 12, -1, 1), [4, 3]);
  const fake = tf.tensor2d(uniformValues(Rng.fromSeed(5), 12, -1, 1), [4, 3]);
  const w = tf.variable(tf.zeros([3, 1]));
  const b = tf.variable(tf.tensor1d([0.2]));
  const critic = (x: tf.Tensor): tf.Tensor => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Variable<tf.Rank.R2>), b);
  const { value, grads } = tf.variableGrads(
    () => tf.add(nonSaturating.discriminatorLoss(critic(real), critic(fake)), r1Penalty(critic, real, { gamma: GAMMA })),
    [w, b],
  );
  assert.ok(Number.isFinite(value.arraySync()));
  for (const g of Object.values(grads)) assert.ok(Array.from(g.dataSync()).every(Number.isFinite), `gradient ${g.toString()}`);
  assert.equal(r1Penalty(critic, real, { gamma: GAMMA }).arraySync(), 0);
});

test('R1 bad arguments name the parameter and what is allowed', async () => {
  await selectBackend('cpu');
  const real = tf.zeros([2, 3]);
  const critic = (x: tf.Tensor): tf.Tensor => tf.sum(x, 1);
  assert.throws(() => r1Penalty(critic, real, { gamma: -1 }), /r1Penalty: options\.gamma must be a finite number ≥ 0, got -1/);
  assert.throws(() => r1Penalty(critic, tf.zeros([3]), { gamma: 1 }), /r1Penalty: real must have rank ≥ 2/);
  assert.throws(
    () => r1Penalty((x) => tf.mean(x), real, { gamma: 1 }),
    /r1Penalty: critic must return scores of shape \[2, \.\.\.\]/,
  );
});
