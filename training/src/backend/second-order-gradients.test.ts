import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select.js';
import { centralDifference } from './test-support.js';

// Second-order gradients are checked against central finite differences of first-order ones, on
// both the wasm backend (Gantry's kernels) and the cpu backend (tfjs' reference kernels).

function assertClose(analytic: number, numeric: number, label: string, tolerance = 2e-2): void {
  assert.ok(
    Math.abs(analytic - numeric) <= tolerance * Math.max(1, Math.abs(numeric)),
    `${label}: autodiff ${analytic} vs finite differences ${numeric}`,
  );
}

test('second-order gradients flow through LeakyRelu and Relu (comparison ops have zero gradients)', async () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    await selectBackend(backend);
    const w = tf.tensor1d([0.7, -1.3, 0.4]);
    const f = (x: tf.Tensor): tf.Tensor => tf.sum(tf.mul(tf.relu(tf.leakyRelu(tf.mul(x, w), 0.2)), tf.mul(x, x)));
    const gradNormSq = (x: tf.Tensor): tf.Tensor => tf.sum(tf.square(tf.grad(f)(x)));
    const x0 = new Float32Array([0.3, 0.5, -0.8]);
    const analytic = tf.grad(gradNormSq)(tf.tensor1d(x0)).arraySync() as number[];
    for (let i = 0; i < x0.length; i++) {
      const numeric = centralDifference((v) => gradNormSq(tf.tensor1d(v)).arraySync() as number, x0, i, 1e-2);
      assertClose(analytic[i]!, numeric, `${backend} d/dx${i}`);
    }
  }
});

test('Tanh, Sigmoid and Exp are exact to second order', async () => {
  await selectBackend('cpu');
  for (const [name, op] of [
    ['tanh', tf.tanh],
    ['sigmoid', tf.sigmoid],
    ['exp', tf.exp],
  ] as const) {
    // d/dx of (f'(x))² = 2 f'(x) f''(x): wrong when f'' is dropped.
    const slopeSq = (x: tf.Tensor): tf.Tensor => tf.sum(tf.square(tf.grad((y: tf.Tensor) => tf.sum(op(y)))(x)));
    const x0 = new Float32Array([0.4, -0.9]);
    const analytic = tf.grad(slopeSq)(tf.tensor1d(x0)).arraySync() as number[];
    for (let i = 0; i < x0.length; i++) {
      assertClose(
        analytic[i]!,
        centralDifference((v) => slopeSq(tf.tensor1d(v)).arraySync() as number, x0, i, 1e-3),
        `${name} x${i}`,
      );
    }
  }
});

/**
 * A small critic in raw ops: fused conv (bias) → activation → conv → batch-norm statistics → dense →
 * tanh. Finite differences of a derivative jump at a LeakyRelu kink, so the mixed check uses softplus.
 */
function critic(
  x: tf.Tensor4D,
  w1: tf.Tensor4D,
  b1: tf.Tensor1D,
  w2: tf.Tensor4D,
  dense: tf.Tensor2D,
  smooth = false,
): tf.Tensor {
  const z1 = tf.fused.conv2d({ x, filter: w1, bias: b1, strides: 2, pad: 'same' });
  const h1 = smooth ? tf.softplus(z1) : tf.leakyRelu(z1, 0.2);
  const h2 = tf.conv2d(h1 as tf.Tensor4D, w2, 1, 'valid');
  const { mean, variance } = tf.moments(h2, [0, 1, 2]);
  const normed = tf.div(tf.sub(h2, mean), tf.sqrt(tf.add(variance, 1e-3)));
  return tf.tanh(tf.matMul(tf.reshape(normed, [x.shape[0], -1]), dense));
}

test('gradient penalty and mixed second derivatives through conv, dense, batch norm and activations match finite differences', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await selectBackend(backend);
    const x0 = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w1 = tf.randomNormal([3, 3, 2, 3], 0, 0.5, 'float32', 2) as tf.Tensor4D;
    const b1 = tf.randomNormal([3], 0, 0.1, 'float32', 3) as tf.Tensor1D;
    const w2 = tf.randomNormal([2, 2, 3, 2], 0, 0.5, 'float32', 4) as tf.Tensor4D;
    const dense = tf.randomNormal([(2 * 2 * 2 * 2) / 2, 1], 0, 0.5, 'float32', 5) as tf.Tensor2D;

    // (1) Gradient penalty: d/dw2 of ‖∇x f(x)‖².
    const penalty = (w: tf.Tensor4D): tf.Scalar =>
      tf.sum(tf.square(tf.grad((x: tf.Tensor) => tf.sum(critic(x as tf.Tensor4D, w1, b1, w, dense)))(x0))) as tf.Scalar;
    const analyticW = tf
      .grad((w: tf.Tensor) => penalty(w as tf.Tensor4D))(w2)
      .dataSync();
    const w2Values = w2.dataSync() as Float32Array;
    for (const i of [0, 5, 11, 23]) {
      const numeric = centralDifference((v) => penalty(tf.tensor4d(v, w2.shape)).dataSync()[0]!, w2Values, i, 1e-2);
      assertClose(analyticW[i]!, numeric, `${backend} penalty d/dw2[${i}]`);
    }

    // (2) Mixed: d/dx of <∇w1 f(x), V>, through Conv2DBackpropFilter's own gradient.
    const direction = tf.randomNormal(w1.shape, 0, 1, 'float32', 6);
    const mixed = (x: tf.Tensor4D): tf.Scalar =>
      tf.sum(
        tf.mul(tf.grad((w: tf.Tensor) => tf.sum(critic(x, w as tf.Tensor4D, b1, w2, dense, true)))(w1), direction),
      ) as tf.Scalar;
    const analyticX = tf
      .grad((x: tf.Tensor) => mixed(x as tf.Tensor4D))(x0)
      .dataSync();
    const xValues = x0.dataSync() as Float32Array;
    for (const i of [0, 7, 30, 71]) {
      const numeric = centralDifference((v) => mixed(tf.tensor4d(v, x0.shape)).dataSync()[0]!, xValues, i, 1e-2);
      assertClose(analyticX[i]!, numeric, `${backend} mixed d/dx[${i}]`);
    }
  }
});
