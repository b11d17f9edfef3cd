import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { registerLazyFusedGradients, unregisterLazyFusedGradients } from './lazy-fused-gradients.js';
import { selectBackend } from './select.js';

// A layers model whose Conv2D and Dense layers have biases and linear activations: the case tfjs keeps
// fused while recording gradients.
function smallCritic(): tfl.Sequential {
  const model = tfl.sequential();
  model.add(
    tfl.layers.conv2d({
      inputShape: [7, 7, 2],
      filters: 3,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      kernelInitializer: tfl.initializers.randomNormal({ seed: 1 }),
      biasInitializer: tfl.initializers.randomNormal({ seed: 2 }),
    }),
  );
  model.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  model.add(tfl.layers.flatten());
  model.add(
    tfl.layers.dense({
      units: 1,
      kernelInitializer: tfl.initializers.randomNormal({ seed: 3 }),
      biasInitializer: tfl.initializers.randomNormal({ seed: 4 }),
    }),
  );
  return model;
}

/** Kernel names run while differentiating the critic's mean output with respect to `wrt`. */
async function gradientsAndKernels(
  model: tfl.Sequential,
  x: tf.Tensor,
  wrt: 'weights' | 'input',
): Promise<{ grads: number[][]; kernels: string[] }> {
  let grads: number[][] = [];
  const profile = await tf.profile(() => {
    grads = tf.tidy(() => {
      const mean = (input: tf.Tensor): tf.Scalar => tf.mean(model.apply(input, { training: true }) as tf.Tensor);
      if (wrt === 'input') return [Array.from(tf.grad(mean)(x).dataSync())];
      const { grads: byName } = tf.variableGrads(
        () => mean(x),
        model.trainableWeights.map((w) => w.read() as tf.Variable),
      );
      return Object.values(byName).map((g) => Array.from(g.dataSync()));
    });
  });
  return { grads, kernels: profile.kernels.map((k) => k.name) };
}

test('recorded linear Conv2D / Dense compute only the gradients asked for, with the stock values', async () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    await selectBackend(backend);
    const model = smallCritic();
    const x = tf.randomNormal([2, 7, 7, 2], 0, 1, 'float32', 5);
    try {
      for (const wrt of ['weights', 'input'] as const) {
        unregisterLazyFusedGradients();
        const stock = await gradientsAndKernels(model, x, wrt);
        registerLazyFusedGradients();
        const lazy = await gradientsAndKernels(model, x, wrt);
        assert.equal(lazy.grads.length, stock.grads.length);
        lazy.grads.forEach((g, i) =>
          g.forEach((v, j) =>
            assert.ok(
              Math.abs(v - stock.grads[i]![j]!) <= 1e-5 * Math.max(1, Math.abs(stock.grads[i]![j]!)),
              `${backend} ${wrt} gradient ${i}[${j}]: ${v} vs stock ${stock.grads[i]![j]}`,
            ),
          ),
        );
        // The stock fused gradient computes both; the lazy one only the one asked for.
        assert.ok(
          stock.kernels.includes('Conv2DBackpropFilter') && stock.kernels.includes('Conv2DBackpropInput'),
          `${backend}: stock fused gradient ran ${stock.kernels.join(', ')}`,
        );
        const unwanted = wrt === 'weights' ? 'Conv2DBackpropInput' : 'Conv2DBackpropFilter';
        assert.ok(!lazy.kernels.includes(unwanted), `${backend} ${wrt}: ${unwanted} ran although no gradient needed it`);
      }
    } finally {
      registerLazyFusedGradients();
      x.dispose();
      model.dispose();
    }
  }
});

test('outside gradient recording the stock fused kernels still run', async () => {
  await selectBackend('wasm');
  const model = smallCritic();
  const x = tf.randomNormal([2, 7, 7, 2], 0, 1, 'float32', 6);
  const profile = await tf.profile(() => tf.tidy(() => model.predict(x) as tf.Tensor).dispose());
  const names = profile.kernels.map((k) => k.name);
  assert.ok(names.includes('FusedConv2D') && names.includes('_FusedMatMul'), `inference ran ${names.join(', ')}`);
  x.dispose();
  model.dispose();
});
