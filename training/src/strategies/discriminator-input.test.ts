import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.js';
import { instanceNoiseSigma, packedShape, packSamples } from './discriminator-input.js';

test('packing concatenates consecutive groups of m samples along the last axis', async () => {
  await selectBackend('cpu');
  const points = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [6, 2]);
  assert.deepEqual(packSamples(points, 3).arraySync(), [
    [1, 2, 3, 4, 5, 6],
    [7, 8, 9, 10, 11, 12],
  ]);
  assert.equal(packSamples(points, 1), points);
  assert.deepEqual(packedShape([2], 3), [6]);
  // Images: channel block j of a packed input is sample j of its group, pixel for pixel.
  const images = tf.tensor4d(
    Array.from({ length: 4 * 2 * 2 * 3 }, (_, i) => i),
    [4, 2, 2, 3],
  );
  const packed = packSamples(images, 2);
  assert.deepEqual(packed.shape, [2, 2, 2, 6]);
  assert.deepEqual(packedShape([2, 2, 3], 2), [2, 2, 6]);
  const p = packed.arraySync() as number[][][][];
  const s = images.arraySync() as number[][][][];
  for (let n = 0; n < 2; n++)
    for (let j = 0; j < 2; j++)
      for (let y = 0; y < 2; y++)
        for (let x = 0; x < 2; x++)
          for (let c = 0; c < 3; c++) {
            assert.equal(p[n]![y]![x]![j * 3 + c], s[n * 2 + j]![y]![x]![c]);
          }
  assert.throws(() => packSamples(points, 4), /6 samples do not split into packs of 4/);
});

test('instance noise σ: constant, linear to 0 at the last step, or halving every halfLife steps', () => {
  const sigma = 0.4;
  assert.equal(instanceNoiseSigma({ sigma, anneal: 'none' }, 70, 100), 0.4);
  assert.equal(instanceNoiseSigma({ sigma, anneal: 'linear' }, 0, 100), 0.4);
  assert.ok(Math.abs(instanceNoiseSigma({ sigma, anneal: 'linear' }, 75, 100) - 0.1) < 1e-12);
  assert.equal(instanceNoiseSigma({ sigma, anneal: 'linear' }, 100, 100), 0);
  assert.ok(Math.abs(instanceNoiseSigma({ sigma, anneal: 'exponential', halfLife: 20 }, 40, 100) - 0.1) < 1e-12);
  assert.ok(
    Math.abs(instanceNoiseSigma({ sigma, anneal: 'exponential' }, 10, 100) - 0.2) < 1e-12,
    'default half-life: a tenth of the run',
  );
  assert.equal(instanceNoiseSigma({ sigma: 0, anneal: 'none' }, 5, 100), 0);
});
