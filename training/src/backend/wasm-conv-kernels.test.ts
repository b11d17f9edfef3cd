import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select.js';

interface Case {
  batch: number;
  size: [number, number];
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: 'same' | 'valid';
}

const cases: Case[] = [];
for (const stride of [1, 2]) {
  for (const pad of ['same', 'valid'] as const) {
    for (const kernel of [3, 4, 5]) {
      cases.push({ batch: 2, size: [9, 7], inChannels: 3, outChannels: 4, kernel, stride, pad });
    }
  }
}
cases.push({ batch: 1, size: [8, 8], inChannels: 1, outChannels: 64, kernel: 4, stride: 2, pad: 'same' });
cases.push({ batch: 3, size: [7, 7], inChannels: 64, outChannels: 1, kernel: 4, stride: 2, pad: 'same' });
cases.push({ batch: 1, size: [6, 11], inChannels: 64, outChannels: 3, kernel: 5, stride: 1, pad: 'same' });

function seeded(shape: number[], seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync() as Float32Array);
}

/** Runs conv2d's two gradients (filter and input) on one backend. */
async function gradients(backend: 'cpu' | 'wasm', c: Case): Promise<Float32Array[]> {
  await selectBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(seeded([c.batch, ...c.size, c.inChannels], 1), [c.batch, ...c.size, c.inChannels]);
    const w = tf.tensor4d(seeded([c.kernel, c.kernel, c.inChannels, c.outChannels], 2), [c.kernel, c.kernel, c.inChannels, c.outChannels]);
    const y = tf.conv2d(x, w, c.stride, c.pad);
    const dy = tf.tensor(seeded(y.shape, 3), y.shape);
    // d/dw and d/dx of <conv2d(x, w), dy> run Conv2DBackpropFilter and Conv2DBackpropInput.
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy)))([x, w]);
    return [dw!.dataSync() as Float32Array, dx!.dataSync() as Float32Array];
  });
}

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(scale, 1e-12));
  return worst;
}

test('wasm Conv2DBackpropFilter and Conv2DBackpropInput match the cpu backend', async () => {
  for (const c of cases) {
    const reference = await gradients('cpu', c);
    const candidate = await gradients('wasm', c);
    const label = JSON.stringify(c);
    assert.equal(candidate[0]!.length, reference[0]!.length, `filter gradient size for ${label}`);
    assert.equal(candidate[1]!.length, reference[1]!.length, `input gradient size for ${label}`);
    assert.ok(maxRelativeError(candidate[0]!, reference[0]!) <= 1e-4, `filter gradient for ${label}`);
    assert.ok(maxRelativeError(candidate[1]!, reference[1]!) <= 1e-4, `input gradient for ${label}`);
  }
});

test('wasm convolution kernels leak no tensors and no wasm buffers', async () => {
  await selectBackend('wasm');
  const c = cases[0]!;
  const run = (): void => {
    tf.tidy(() => {
      const x = tf.randomNormal([c.batch, ...c.size, c.inChannels]) as tf.Tensor4D;
      const w = tf.randomNormal([c.kernel, c.kernel, c.inChannels, c.outChannels]) as tf.Tensor4D;
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, w]);
    });
  };
  run();
  const before = { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
  run();
  assert.deepEqual({ tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() }, before);
});
