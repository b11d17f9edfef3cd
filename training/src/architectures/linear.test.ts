import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModelFromFile, serializeLayersModel } from '@gantry/export/model-files';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../backend/select.js';
import { buildLinearDiscriminator, buildLinearGenerator } from './linear.js';

test('the 1-D pair: G(z) = z + θG with θG its only trainable weight, D(x) = θD·x (+ b)', async (t) => {
  await selectBackend('cpu');
  const options = { initialShift: 1.5, initialWeight: -0.25, discriminatorBias: false, discriminatorInputs: 1 };
  const g = buildLinearGenerator(options);
  const d = buildLinearDiscriminator(options);
  assert.deepEqual(
    g.trainableWeights.map((w) => w.shape),
    [[1]],
  );
  assert.deepEqual(
    d.trainableWeights.map((w) => w.shape),
    [[1, 1]],
  );
  const z = tf.tensor2d([-1, 0, 2.5], [3, 1]);
  assert.deepEqual(Array.from((g.predict(z) as tf.Tensor).dataSync()), [0.5, 1.5, 4]);
  assert.deepEqual(
    Array.from((d.predict(z) as tf.Tensor).dataSync(), (v) => v + 0),
    [0.25, 0, -0.625],
  );
  // G's gradient in θG is the sum of the upstream gradients: ∂/∂θ Σ G(z_i) = n.
  const shift = (g.trainableWeights[0] as unknown as { val: tf.Variable }).val;
  const { grads } = tf.variableGrads(() => tf.sum(g.apply(z) as tf.Tensor) as tf.Scalar, [shift]);
  assert.deepEqual(Array.from(grads[shift.name]!.dataSync()), [3]);

  const affine = buildLinearDiscriminator({ ...options, discriminatorBias: true, discriminatorInputs: 3 });
  assert.deepEqual(
    affine.trainableWeights.map((w) => w.shape),
    [[3, 1], [1]],
  );

  // The shift layer is registered, so checkpoints of G load back.
  const dir = await mkdtemp(join(tmpdir(), 'gantry-linear-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files = await serializeLayersModel(g);
  await writeFile(join(dir, 'model.json'), files['model.json']);
  await writeFile(join(dir, 'weights.bin'), files['weights.bin']);
  const loaded = await loadLayersModelFromFile(join(dir, 'model.json'));
  assert.deepEqual(Array.from((loaded.predict(z) as tf.Tensor).dataSync()), [0.5, 1.5, 4]);
});
