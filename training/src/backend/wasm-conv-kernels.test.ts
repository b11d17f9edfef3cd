import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select.js';
import { setWasmConvStrategy } from './wasm-conv-kernels.js';

interface Case {
  batch: number;
  size: [number, number];
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number | [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
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
// Enough channels on both sides for the 'auto' strategy to pick the XNNPACK convolutions (the cpu
// backend takes seconds for the reference DCGAN's 64 → 128 channels).
cases.push({ batch: 2, size: [10, 10], inChannels: 16, outChannels: 24, kernel: 4, stride: 2, pad: 'same' });
// A stride above the kernel size leaves input pixels no tap reaches; strides 3 split dx into 9 phases.
cases.push({ batch: 2, size: [10, 8], inChannels: 2, outChannels: 3, kernel: 2, stride: 3, pad: 'valid' });
cases.push({ batch: 2, size: [11, 9], inChannels: 3, outChannels: 2, kernel: 5, stride: 3, pad: 'same' });
// Unequal strides, and explicit paddings larger than the kernel reach (negative padding per phase).
cases.push({ batch: 2, size: [9, 8], inChannels: 3, outChannels: 5, kernel: 3, stride: [2, 1], pad: 'same' });
cases.push({ batch: 2, size: [8, 9], inChannels: 3, outChannels: 4, kernel: 3, stride: 2, pad: 4 });
cases.push({
  batch: 1,
  size: [9, 7],
  inChannels: 2,
  outChannels: 3,
  kernel: 3,
  stride: 2,
  pad: [
    [0, 0],
    [4, 1],
    [0, 3],
    [0, 0],
  ],
});
cases.push({
  batch: 2,
  size: [7, 7],
  inChannels: 3,
  outChannels: 2,
  kernel: 4,
  stride: 1,
  pad: [
    [0, 0],
    [0, 2],
    [5, 1],
    [0, 0],
  ],
});

function seeded(shape: number[], seed: number): Float32Array {
  const t = tf.randomNormal(shape, 0, 1, 'float32', seed);
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

/** Runs conv2d's two gradients (filter and input) on one backend. */
async function gradients(backend: 'cpu' | 'wasm', c: Case): Promise<Float32Array[]> {
  await selectBackend(backend);
  // tidy returns tensors: walking a large typed array as a tensor container takes seconds.
  const results = tf.tidy(() => {
    const x = tf.tensor4d(seeded([c.batch, ...c.size, c.inChannels], 1), [c.batch, ...c.size, c.inChannels]);
    const w = tf.tensor4d(seeded([c.kernel, c.kernel, c.inChannels, c.outChannels], 2), [
      c.kernel,
      c.kernel,
      c.inChannels,
      c.outChannels,
    ]);
    const y = tf.conv2d(x, w, c.stride, c.pad);
    const dy = tf.tensor(seeded(y.shape, 3), y.shape);
    // d/dw and d/dx of <conv2d(x, w), dy> run Conv2DBackpropFilter and Conv2DBackpropInput.
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy)),
    )([x, w]);
    return [dw!, dx!];
  });
  const values = results.map((t) => t.dataSync() as Float32Array);
  tf.dispose(results);
  return values;
}

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(scale, 1e-12));
  return worst;
}

test('wasm Conv2DBackpropFilter and Conv2DBackpropInput match the cpu backend, by either strategy', async () => {
  for (const c of cases) {
    const reference = await gradients('cpu', c);
    for (const strategy of ['columns', 'convolution', 'auto'] as const) {
      setWasmConvStrategy(strategy);
      const candidate = await gradients('wasm', c);
      setWasmConvStrategy('auto');
      const label = `${JSON.stringify(c)} (${strategy})`;
      assert.equal(candidate[0]!.length, reference[0]!.length, `filter gradient size for ${label}`);
      assert.equal(candidate[1]!.length, reference[1]!.length, `input gradient size for ${label}`);
      assert.ok(maxRelativeError(candidate[0]!, reference[0]!) <= 1e-4, `filter gradient for ${label}`);
      assert.ok(maxRelativeError(candidate[1]!, reference[1]!) <= 1e-4, `input gradient for ${label}`);
    }
  }
});

test('wasm convolution kernels leak no tensors and no wasm buffers, by either strategy', async () => {
  await selectBackend('wasm');
  for (const strategy of ['columns', 'convolution'] as const) {
    setWasmConvStrategy(strategy);
    for (const c of [cases[0]!, cases.find((k) => k.stride === 3)!]) {
      const run = (): void => {
        tf.tidy(() => {
          const x = tf.randomNormal([c.batch, ...c.size, c.inChannels]) as tf.Tensor4D;
          const w = tf.randomNormal([c.kernel, c.kernel, c.inChannels, c.outChannels]) as tf.Tensor4D;
          tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad)))([
            x,
            w,
          ]);
        });
      };
      run();
      const before = { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
      run();
      assert.deepEqual(
        { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() },
        before,
        `${strategy} ${JSON.stringify(c)}`,
      );
    }
  }
  setWasmConvStrategy('auto');
});
