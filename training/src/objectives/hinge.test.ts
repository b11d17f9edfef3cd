import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.js';
import { hinge } from './hinge.js';

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

test('hinge losses equal their closed forms', async () => {
  await selectBackend('cpu');
  const real = [2.0, -0.5, 0.1, 1.0];
  const fake = [-1.5, 0.3, 4.0];
  const expectedD = mean(real.map((s) => Math.max(0, 1 - s))) + mean(fake.map((s) => Math.max(0, 1 + s)));
  const expectedG = -mean(fake);
  const d = hinge.discriminatorLoss(tf.tensor2d(real, [4, 1]), tf.tensor2d(fake, [3, 1])).arraySync();
  const g = hinge.generatorLoss(tf.tensor2d(fake, [3, 1])).arraySync();
  assert.ok(Math.abs(d - expectedD) < 1e-6, `D loss ${d} vs ${expectedD}`);
  assert.ok(Math.abs(g - expectedG) < 1e-6, `G loss ${g} vs ${expectedG}`);
});

test('D stops pushing samples beyond the margin; G keeps pushing every fake up', async () => {
  await selectBackend('cpu');
  // Real scores above 1 and fake scores below −1 are outside the margin: zero gradient there.
  const real = tf.tensor1d([1.5, 0.5]);
  const fake = tf.tensor1d([-3, -0.5]);
  const [dReal, dFake] = tf.grads((r: tf.Tensor, f: tf.Tensor) => hinge.discriminatorLoss(r, f))([real, fake]);
  assert.deepEqual(
    Array.from(dReal!.dataSync(), (g) => g + 0),
    [0, -0.5],
  ); // + 0 turns −0 into 0
  assert.deepEqual(Array.from(dFake!.dataSync()), [0, 0.5]);
  assert.deepEqual(
    Array.from(
      tf
        .grad((f: tf.Tensor) => hinge.generatorLoss(f))(fake)
        .dataSync(),
    ),
    [-0.5, -0.5],
  );
});
