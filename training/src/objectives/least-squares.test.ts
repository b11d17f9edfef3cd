import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.js';
import { leastSquares } from './least-squares.js';

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

test("least-squares losses equal Mao et al.'s a=0, b=1, c=1 closed forms", async () => {
  await selectBackend('cpu');
  const real = [2.0, -0.5, 0.1, 1.0];
  const fake = [-1.5, 0.3, 4.0];
  const expectedD = 0.5 * mean(real.map((s) => (s - 1) ** 2)) + 0.5 * mean(fake.map((s) => s ** 2));
  const expectedG = 0.5 * mean(fake.map((s) => (s - 1) ** 2));
  const d = leastSquares.discriminatorLoss(tf.tensor2d(real, [4, 1]), tf.tensor2d(fake, [3, 1])).arraySync();
  const g = leastSquares.generatorLoss(tf.tensor2d(fake, [3, 1])).arraySync();
  assert.ok(Math.abs(d - expectedD) < 1e-5, `D loss ${d} vs ${expectedD}`);
  assert.ok(Math.abs(g - expectedG) < 1e-5, `G loss ${g} vs ${expectedG}`);
  // The optimum: D scores real 1 and fake 0 → loss 0; G's fakes scored 1 → loss 0.
  assert.equal(leastSquares.discriminatorLoss(tf.ones([3]), tf.zeros([2])).arraySync(), 0);
  assert.equal(leastSquares.generatorLoss(tf.ones([2])).arraySync(), 0);
});

test('least-squares gradients are linear in the scores: (s − 1)/n for real and for G, s/n for fake', async () => {
  await selectBackend('cpu');
  const real = tf.tensor1d([3, -1]);
  const fake = tf.tensor1d([0.5, -2, 1.5, 4]);
  const [dReal, dFake] = tf.grads((r: tf.Tensor, f: tf.Tensor) => leastSquares.discriminatorLoss(r, f))([real, fake]);
  const dG = tf.grad((f: tf.Tensor) => leastSquares.generatorLoss(f))(fake);
  assert.deepEqual(Array.from(dReal!.dataSync()), [1, -1]);
  assert.deepEqual(Array.from(dFake!.dataSync()), [0.125, -0.5, 0.375, 1]);
  assert.deepEqual(Array.from(dG.dataSync()), [-0.125, -0.75, 0.125, 0.75]);
});
