import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.js';
import { clipWeights } from './weight-clipping.js';

test('every weight is clamped to [−c, c] in place; values inside are untouched', async () => {
  await selectBackend('cpu');
  const a = tf.variable(tf.tensor2d([0.5, -0.02, 0.005, -0.3], [2, 2]));
  const b = tf.variable(tf.tensor1d([0.009, -0.011]));
  const before = tf.memory().numTensors;
  clipWeights([a, b], 0.01);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
  assert.deepEqual(Array.from(a.dataSync()), [0.01, -0.01, 0.005, -0.01].map(Math.fround));
  assert.deepEqual(Array.from(b.dataSync()), [0.009, -0.01].map(Math.fround));
});

test('a clip that is not a positive finite number is refused, saying why', async () => {
  await selectBackend('cpu');
  const v = tf.variable(tf.zeros([2]));
  assert.throws(() => clipWeights([v], 0), /clip must be a finite number > 0 \(clipping at 0 would zero the critic\), got 0/);
  assert.throws(() => clipWeights([v], NaN), /got NaN/);
});
