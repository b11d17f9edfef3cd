import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select.js';

// A gradient penalty differentiates a gradient: d/dx of ||d/dx f(x)||² with f built from LeakyRelu.
// Checked against central finite differences of the same first-order gradient.
test('second-order gradients flow through LeakyRelu and Relu (comparison ops have zero gradients)', async () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    await selectBackend(backend);
    const w = tf.tensor1d([0.7, -1.3, 0.4]);
    const f = (x: tf.Tensor): tf.Tensor => tf.sum(tf.mul(tf.relu(tf.leakyRelu(tf.mul(x, w), 0.2)), tf.mul(x, x)));
    const gradNormSq = (x: tf.Tensor): tf.Tensor => tf.sum(tf.square(tf.grad(f)(x)));
    const x0 = [0.3, 0.5, -0.8];
    const analytic = tf.grad(gradNormSq)(tf.tensor1d(x0)).arraySync() as number[];
    const h = 1e-2;
    for (let i = 0; i < x0.length; i++) {
      const plus = [...x0];
      const minus = [...x0];
      plus[i]! += h;
      minus[i]! -= h;
      const numeric = ((gradNormSq(tf.tensor1d(plus)).arraySync() as number) - (gradNormSq(tf.tensor1d(minus)).arraySync() as number)) / (2 * h);
      assert.ok(Math.abs(numeric - analytic[i]!) < 1e-2 * Math.max(1, Math.abs(numeric)), `${backend} d/dx${i}: ${analytic[i]} vs ${numeric}`);
    }
  }
});
