import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/core';
import { exportGenerator } from '@gantry/export';
import { selectBackend } from '../backend/select.js';
import type { ImageDataset } from '../data/image-dataset.js';
import { parseTrainConfig } from '../run/config.js';
import { buildPlayers, disposePlayers } from '../run/players.js';
import { alternatingStep } from '../strategies/alternating.js';
import { buildDcganDiscriminator, buildDcganGenerator, upsamplingStages, type DcganOptions } from './dcgan.js';

const SHAPES: [number, number, number][] = [
  [28, 28, 1],
  [32, 32, 1],
  [32, 32, 3],
  [64, 64, 1],
  [64, 64, 3],
];

const small = (imageShape: [number, number, number]): DcganOptions => ({
  imageShape,
  latentSize: 6,
  generatorWidth: 16,
  discriminatorWidth: 4,
  seed: 3,
});

function randomImages(count: number, shape: [number, number, number]): ImageDataset {
  const rng = Rng.fromSeed(5);
  const images = new Float32Array(count * shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < images.length; i++) images[i] = 2 * rng.nextFloat() - 1;
  return { name: 'noise', count, shape, images };
}

test('G and D are sized from the image side and channels', async () => {
  await selectBackend('cpu');
  for (const shape of SHAPES) {
    const g = buildDcganGenerator(small(shape));
    const d = buildDcganDiscriminator(small(shape));
    assert.deepEqual(g.outputs[0]!.shape, [null, ...shape], `G output for ${shape}`);
    assert.deepEqual(d.inputs[0]!.shape, [null, ...shape], `D input for ${shape}`);
    assert.deepEqual(d.outputs[0]!.shape, [null, 1]);
    // G's smallest map is side / 2^stages: 7 for 28, 4 for the powers of two.
    assert.deepEqual(g.layers[0]!.outputShape, [null, (shape[0] === 28 ? 49 : 16) * 16]);
    const images = tf.tidy(() => g.predict(tf.randomNormal([2, 6], 0, 1, 'float32', 1)) as tf.Tensor);
    const values = images.dataSync();
    assert.ok(
      values.every((v) => v >= -1 && v <= 1),
      'tanh range',
    );
    assert.deepEqual(
      tf.tidy(() => (d.predict(images) as tf.Tensor).shape),
      [2, 1],
    );
    images.dispose();
    g.dispose();
    d.dispose();
  }
});

test('unsupported image shapes are refused with what is allowed', () => {
  assert.throws(() => upsamplingStages(48), /must be 28 or 4·2\^k \(8, 16, 32, 64, 128, 256\); got 48 \(set data\.imageSize/);
  assert.throws(() => buildDcganGenerator(small([32, 64, 3])), /must be square; got 32×64/);
  assert.throws(() => buildDcganDiscriminator(small([32, 32, 0])), /channels must be a positive integer; got 0/);
});

test('32×32 and 64×64 DCGANs with 1 or 3 channels take a training step on wasm', async () => {
  await selectBackend('wasm');
  const config = parseTrainConfig({
    model: { latentSize: 6, generatorWidth: 16, discriminatorWidth: 4 },
    training: { batchSize: 2 },
  });
  for (const shape of SHAPES.slice(1)) {
    const players = buildPlayers(config, shape);
    const before = players.generator.getWeights()[0]!.dataSync().slice();
    const losses = alternatingStep(config, players, randomImages(4, shape), Rng.fromSeed(1));
    assert.ok(
      Number.isFinite(losses.discriminator) && Number.isFinite(losses.generator),
      `${shape}: finite losses ${JSON.stringify(losses)}`,
    );
    assert.notDeepEqual(players.generator.getWeights()[0]!.dataSync(), before, `${shape}: G moved`);
    disposePlayers(players);
  }
});

test('32×32×3 and 64×64×1 generators export to ONNX and match tfjs', async (t) => {
  await selectBackend('cpu');
  const work = await mkdtemp(join(tmpdir(), 'gantry-dcgan-export-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  for (const shape of [
    [32, 32, 3],
    [64, 64, 1],
  ] as [number, number, number][]) {
    const generator = buildDcganGenerator(small(shape));
    // Kernels scaled from N(0, 0.02) to N(0, 0.2) so the images are far from 0 and a layout mistake shows.
    const scaled = generator.getWeights().map((w) => (w.rank >= 2 ? tf.mul(w, 10) : tf.clone(w)));
    generator.setWeights(scaled);
    tf.dispose(scaled);
    const result = await exportGenerator({
      model: generator,
      outDir: join(work, shape.join('x')),
      name: `dcgan-${shape.join('x')}`,
      dataset: 'noise',
      latent: { size: 6, distribution: 'normal' },
      outputRange: [-1, 1],
      training: { configSha256: '0'.repeat(64), steps: 0, wallSeconds: 0, backend: 'cpu' },
      paritySamples: 8,
    });
    assert.deepEqual(result.card.output.shape, shape);
    assert.ok(result.maxAbsDiff <= 1e-5, `${shape}: max abs diff ${result.maxAbsDiff}`);
    const spread = tf.tidy(
      () => tf.moments(generator.predict(tf.randomNormal([8, 6], 0, 1, 'float32', 2)) as tf.Tensor).variance.dataSync()[0]!,
    );
    assert.ok(spread > 1e-3, `${shape}: output variance ${spread}`);
    t.diagnostic(`${shape}: parity ${result.maxAbsDiff.toExponential(2)}, output variance ${spread.toFixed(3)}`);
    generator.dispose();
  }
});
