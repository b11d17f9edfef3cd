// Guards the tfjs-layers internal that unrolled and best-response training rely on: a layer reads its
// weights through LayerVariable.read() when called (see model-weights.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.js';
import { buildMlpDiscriminator } from '../architectures/mlp.js';
import { buildDcganDiscriminator } from '../architectures/dcgan.js';
import { trainableVariables, withSubstituteWeights } from './model-weights.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tolerance: number): boolean =>
  a.length === b.length && Array.from(a).every((v, i) => Math.abs(v - b[i]!) <= tolerance * Math.max(1, Math.abs(b[i]!)));

test('a model evaluated with substitute weights equals the model with those weights set (dense, batch norm, layer norm, maxout, conv)', async () => {
  await selectBackend('cpu');
  const cases = [
    {
      build: () =>
        buildMlpDiscriminator({ inputShape: [3], widths: [5, 4], norm: 'batch', activation: 'tanh', maxoutPieces: 1, seed: 3 }),
      input: tf.randomNormal([6, 3], 0, 1, 'float32', 1),
    },
    {
      build: () =>
        buildMlpDiscriminator({ inputShape: [3], widths: [5], norm: 'layer', activation: 'relu', maxoutPieces: 3, seed: 3 }),
      input: tf.randomNormal([6, 3], 0, 1, 'float32', 2),
    },
    {
      build: () =>
        buildDcganDiscriminator({ imageShape: [8, 8, 2], latentSize: 4, generatorWidth: 4, discriminatorWidth: 3, seed: 3 }),
      input: tf.randomNormal([2, 8, 8, 2], 0, 1, 'float32', 3),
    },
  ];
  for (const { build, input } of cases) {
    const model = build();
    const twin = build();
    const substitutes = model.trainableWeights.map((w, i) => tf.add(tf.mul(w.read(), 1.5), 0.01 * (i + 1)));
    twin.setWeights([...substitutes, ...twin.nonTrainableWeights.map((w) => w.read())]);
    const original = (model.apply(input, { training: true }) as tf.Tensor).dataSync();
    const substituted = withSubstituteWeights(model, substitutes, () =>
      (model.apply(input, { training: true }) as tf.Tensor).dataSync(),
    );
    const expected = (twin.apply(input, { training: true }) as tf.Tensor).dataSync();
    assert.ok(
      close(substituted, expected, 1e-5),
      `${model.layers.map((l) => l.getClassName()).join('/')}: substituted ${Array.from(substituted).slice(0, 3)} vs twin ${Array.from(expected).slice(0, 3)}`,
    );
    assert.ok(!close(substituted, original, 1e-3), 'the substitutes changed the output');
    // Restored afterwards: the model reads its own weights again.
    assert.ok(close((model.apply(input, { training: true }) as tf.Tensor).dataSync(), original, 1e-6));
  }
});

test('gradients flow into the substitutes, equal to the gradients in the weights themselves', async () => {
  await selectBackend('cpu');
  const model = buildMlpDiscriminator({
    inputShape: [3],
    widths: [5],
    norm: 'layer',
    activation: 'tanh',
    maxoutPieces: 1,
    seed: 4,
  });
  const x = tf.randomNormal([4, 3], 0, 1, 'float32', 5);
  const loss = (): tf.Scalar => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor));
  const variables = trainableVariables(model);
  const { grads } = tf.variableGrads(loss, variables);
  const values = variables.map((v) => tf.clone(v));
  const substituteGrads = tf.grads((...weights: tf.Tensor[]) => withSubstituteWeights(model, weights, loss))(values);
  variables.forEach((v, i) =>
    assert.ok(close(substituteGrads[i]!.dataSync(), grads[v.name]!.dataSync(), 1e-5), `gradient of ${v.name}`),
  );
});

test('the weights are restored when the function throws, and bad substitutes are refused', async () => {
  await selectBackend('cpu');
  const model = buildMlpDiscriminator({
    inputShape: [2],
    widths: [3],
    norm: 'none',
    activation: 'relu',
    maxoutPieces: 1,
    seed: 6,
  });
  const x = tf.ones([1, 2]);
  const before = (model.predict(x) as tf.Tensor).dataSync()[0];
  const zeros = model.trainableWeights.map((w) => tf.zerosLike(w.read()));
  assert.throws(
    () =>
      withSubstituteWeights(model, zeros, () => {
        throw new Error('inside');
      }),
    /inside/,
  );
  assert.equal((model.predict(x) as tf.Tensor).dataSync()[0], before);
  assert.throws(() => withSubstituteWeights(model, zeros.slice(1), () => 0), /has 4 trainable weights, got 3 substitutes/);
  assert.throws(
    () => withSubstituteWeights(model, [tf.zeros([3, 2]), ...zeros.slice(1)], () => 0),
    /has shape \[2, 3\], its substitute \[3, 2\]/,
  );
  assert.throws(
    () => withSubstituteWeights(model, zeros, () => withSubstituteWeights(model, zeros, () => 0)),
    /already substituted/,
  );
});
