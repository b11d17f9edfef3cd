import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadLayersModelFromFile, serializeLayersModel } from '@gantry/export/model-files';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../backend/select.js';
import { gradientPenalty, perSampleUniform } from '../penalties/gradient-penalty.js';
import { Rng } from '@gantry/core';
import { buildMlpDiscriminator, buildMlpGenerator } from './mlp.js';

async function roundTrip(model: tfl.LayersModel, dir: string): Promise<tfl.LayersModel> {
  const files = await serializeLayersModel(model);
  await writeFile(join(dir, 'model.json'), files['model.json']);
  await writeFile(join(dir, 'weights.bin'), files['weights.bin']);
  return loadLayersModelFromFile(join(dir, 'model.json'));
}

test('a maxout unit is the max over its k Dense pieces (unit j, piece p = Dense output p·width + j)', async () => {
  await selectBackend('cpu');
  const width = 3;
  const k = 4;
  const d = buildMlpDiscriminator({
    inputShape: [2],
    widths: [width],
    norm: 'none',
    activation: 'relu',
    maxoutPieces: k,
    seed: 1,
  });
  const x = tf.tensor2d([0.3, -1.2, 2.0, 0.5], [2, 2]);
  const [kernel, bias] = d.layers[0]!.getWeights() as [tf.Tensor2D, tf.Tensor1D];
  const pieces = tf.add(tf.matMul(x, kernel), bias).arraySync() as number[][];
  const expected = pieces.map((row) =>
    Array.from({ length: width }, (_, j) => Math.max(...Array.from({ length: k }, (_, p) => row[p * width + j]!))),
  );
  const hidden = tfl.model({ inputs: d.inputs, outputs: d.layers[2]!.output as tfl.SymbolicTensor }).predict(x) as tf.Tensor;
  const actual = hidden.arraySync() as number[][];
  actual.forEach((row, i) =>
    row.forEach((v, j) =>
      assert.ok(Math.abs(v - expected[i]![j]!) < 1e-6, `unit ${j} of sample ${i}: ${v} vs ${expected[i]![j]}`),
    ),
  );
  assert.deepEqual((d.predict(x) as tf.Tensor).shape, [2, 1]);
});

test('MLP players have the configured shapes and survive a save/load round trip (batch norm, layer norm, maxout)', async (t) => {
  await selectBackend('cpu');
  const dir = await mkdtemp(join(tmpdir(), 'gantry-mlp-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const g = buildMlpGenerator({
    latentSize: 3,
    outputShape: [2],
    widths: [8, 8],
    norm: 'batch',
    activation: 'relu',
    outputActivation: 'linear',
    seed: 2,
  });
  const imageG = buildMlpGenerator({
    latentSize: 3,
    outputShape: [4, 4, 1],
    widths: [8],
    norm: 'layer',
    activation: 'tanh',
    outputActivation: 'tanh',
    seed: 2,
  });
  const d = buildMlpDiscriminator({
    inputShape: [4, 4, 2],
    widths: [6, 5],
    norm: 'layer',
    activation: 'leaky-relu',
    maxoutPieces: 3,
    seed: 2,
  });
  const z = tf.randomNormal([5, 3], 0, 1, 'float32', 7);
  assert.deepEqual((g.predict(z) as tf.Tensor).shape, [5, 2]);
  const images = imageG.predict(z) as tf.Tensor;
  assert.deepEqual(images.shape, [5, 4, 4, 1]);
  assert.ok(Math.max(...Array.from(tf.abs(images).dataSync())) <= 1, 'tanh output for images');
  const packed = tf.randomNormal([5, 4, 4, 2], 0, 1, 'float32', 8);
  for (const [model, input] of [
    [g, z],
    [imageG, z],
    [d, packed],
  ] as const) {
    const loaded = await roundTrip(model, dir);
    const a = Array.from((model.predict(input) as tf.Tensor).dataSync());
    const b = Array.from((loaded.predict(input) as tf.Tensor).dataSync());
    assert.deepEqual(b, a, `${model.name} reloads to the same function`);
  }
});

test('a gradient penalty through a maxout + layer-norm critic is finite and nonzero (second order through max and layer norm)', async () => {
  await selectBackend('cpu');
  const d = buildMlpDiscriminator({
    inputShape: [2],
    widths: [8, 8],
    norm: 'layer',
    activation: 'relu',
    maxoutPieces: 3,
    seed: 5,
  });
  const rng = Rng.fromSeed(1);
  const real = tf.randomNormal([6, 2], 0, 1, 'float32', 1);
  const fake = tf.randomNormal([6, 2], 0, 1, 'float32', 2);
  const epsilon = perSampleUniform(6, 2, rng);
  const critic = (x: tf.Tensor): tf.Tensor => d.apply(x, { training: true }) as tf.Tensor;
  const variables = d.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const { grads } = tf.variableGrads(() => gradientPenalty(critic, real, fake, { lambda: 10, epsilon }), variables);
  const values = Object.values(grads).flatMap((g) => Array.from(g.dataSync()));
  assert.ok(values.every(Number.isFinite) && values.some((v) => v !== 0), 'finite, nonzero penalty gradient');
});

test('a gradient penalty through the maxout critic has the same weight gradient on wasm (Gantry kernels) as on cpu', async () => {
  // PacGAN's critic, narrowed: 3 maxout layers of 8 units × 5 pieces on packed pairs of points.
  const penaltyGradient = async (backend: 'cpu' | 'wasm'): Promise<number[]> => {
    await selectBackend(backend);
    const d = buildMlpDiscriminator({
      inputShape: [4],
      widths: [8, 8, 8],
      norm: 'none',
      activation: 'relu',
      maxoutPieces: 5,
      seed: 3,
    });
    const real = tf.randomNormal([7, 4], 0, 1, 'float32', 1);
    const fake = tf.randomNormal([7, 4], 0, 1, 'float32', 2);
    const epsilon = perSampleUniform(7, 2, Rng.fromSeed(4));
    const critic = (x: tf.Tensor): tf.Tensor => d.apply(x, { training: true }) as tf.Tensor;
    const variables = d.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const { grads } = tf.variableGrads(() => gradientPenalty(critic, real, fake, { lambda: 10, epsilon }), variables);
    // The output bias does not move the input gradient, so it gets none.
    const values = variables.flatMap((v) => Array.from(grads[v.name]?.dataSync() ?? []));
    tf.dispose([real, fake, epsilon, ...Object.values(grads)]);
    d.dispose();
    return values;
  };
  const cpu = await penaltyGradient('cpu');
  const wasm = await penaltyGradient('wasm');
  assert.equal(wasm.length, cpu.length);
  const scale = Math.max(...cpu.map(Math.abs));
  assert.ok(scale > 0, 'a nonzero penalty gradient');
  cpu.forEach((v, i) =>
    assert.ok(
      Math.abs(wasm[i]! - v) <= 1e-4 * Math.max(scale, Math.abs(v)),
      `weight gradient [${i}]: wasm ${wasm[i]} vs cpu ${v}`,
    ),
  );
});
