import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gantry/core';
import type { ImageDataset } from '../data/image-dataset.js';
import {
  buildClassifier,
  float16Bits,
  loadClassifier,
  saveClassifierModel,
  writeClassifierCard,
  shiftedBatch,
  trainClassifier,
  type ClassifierCard,
  type ClassifierTrainingEvent,
} from './classifier.js';
import { stratifiedSplit } from './classifier-data.js';

await tf.setBackend('cpu');

const SIDE = 12;
const PIXELS = SIDE * SIDE;

/** Two classes anyone can tell apart: a bright 4×4 square in the top-left or the bottom-right quarter. */
function quarters(count: number, seed: number): ImageDataset {
  const rng = Rng.fromSeed(seed);
  const images = new Float32Array(count * PIXELS).fill(-1);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = rng.nextInt(2);
    labels[i] = label;
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 4; x++) images[i * PIXELS + (y + 2 + 4 * label) * SIDE + x + 2 + 4 * label] = 1;
  }
  return { name: 'quarters', count, shape: [SIDE, SIDE, 1], images, labels, classNames: ['top-left', 'bottom-right'] };
}

test('shiftedBatch moves each image by at most `shift` pixels and fills the border with black', () => {
  const data = quarters(4, 1);
  const shifted = shiftedBatch(data, [0, 1, 2, 3], 2, Rng.fromSeed(2));
  for (let i = 0; i < 4; i++) {
    const bright = Array.from(shifted.subarray(i * PIXELS, (i + 1) * PIXELS)).filter((v) => v === 1).length;
    assert.ok(bright === 16, `the 4×4 square stays whole inside the frame (${bright})`);
    assert.notDeepEqual(shifted.subarray(i * PIXELS, (i + 1) * PIXELS), new Float32Array(PIXELS).fill(-1));
  }
  assert.deepEqual(shiftedBatch(data, [1], 0, Rng.fromSeed(2)), data.images.subarray(PIXELS, 2 * PIXELS));
});

test('a trained classifier separates two easy classes, resumes from its epoch checkpoint, and round-trips through its folder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-classifier-'));
  try {
    const train = quarters(96, 3);
    const test = quarters(40, 4);
    const options = { epochs: 1, batchSize: 16, learningRate: 2e-3, shift: 1, dropout: 0.1, seed: 5 };
    const events: ClassifierTrainingEvent[] = [];
    const first = await trainClassifier(train, test, options, dir, (e) => events.push(e));
    first.classifier.dispose();
    const second = await trainClassifier(train, test, { ...options, epochs: 2 }, dir, (e) => events.push(e));
    const epochs = events.filter((e) => e.kind === 'epoch').map((e) => (e as { epoch: number }).epoch);
    assert.deepEqual(epochs, [1, 2], 'the second call continues at epoch 2');
    const last = events.filter((e) => e.kind === 'epoch').at(-1) as { testAccuracy: number };
    assert.ok(last.testAccuracy >= 0.95, `test accuracy ${last.testAccuracy}`);
    const outputs = second.classifier.run(test.images, test.count);
    assert.equal(outputs.featureSize, 128);
    const card = { format: 'gantry-classifier-card/1' } as ClassifierCard;
    const written = await saveClassifierModel(second.classifier, join(dir, 'shipped'));
    await writeClassifierCard(card, join(dir, 'shipped'));
    const loaded = await loadClassifier(join(dir, 'shipped'));
    const again = loaded.classifier.run(test.images, test.count);
    assert.deepEqual(
      again.probabilities,
      written.run(test.images, test.count).probabilities,
      'the folder holds what was written',
    );
    // float16 weights: 3 significant digits, so the probabilities move by far less than 1e-2.
    const drift = again.probabilities.reduce((m, p, i) => Math.max(m, Math.abs(p - outputs.probabilities[i]!)), 0);
    assert.ok(drift < 1e-2, `float16 storage moved a probability by ${drift}`);
    // Fine-tuning (`start`): the trained weights copied into a dropout-free network, then an epoch at a
    // vanishingly small learning rate: the classes stay separated (a fresh network would sit at chance;
    // only batch norm's running statistics move).
    const start = buildClassifier(train.shape, 2, 0);
    start.setWeights(second.classifier.model.getWeights());
    const tuningEvents: ClassifierTrainingEvent[] = [];
    const tuned = await trainClassifier(
      train,
      test,
      { ...options, learningRate: 1e-12, dropout: 0 },
      join(dir, 'tuned'),
      (e) => tuningEvents.push(e),
      start,
    );
    const tunedAccuracy = (tuningEvents.find((e) => e.kind === 'epoch') as { testAccuracy: number }).testAccuracy;
    assert.ok(tunedAccuracy >= 0.95, `fine-tuned from the trained weights, test accuracy ${tunedAccuracy}`);
    [second.classifier, written, loaded.classifier, tuned.classifier].forEach((c) => c.dispose());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the stratified split holds out the same number per class, disjoint from training, the same for the same seed', () => {
  const labels = Uint8Array.from({ length: 300 }, (_, i) => i % 3);
  const data: ImageDataset = {
    name: 'x',
    count: 300,
    shape: [1, 1, 1],
    images: new Float32Array(300),
    labels,
    classNames: ['a', 'b', 'c'],
  };
  const split = stratifiedSplit(data, 20, 13);
  assert.equal(split.test.length, 60);
  assert.equal(split.train.length, 240);
  for (let c = 0; c < 3; c++) assert.equal(split.test.filter((i) => labels[i] === c).length, 20);
  assert.equal(new Set([...split.train, ...split.test]).size, 300);
  assert.deepEqual(stratifiedSplit(data, 20, 13), split);
  assert.notDeepEqual(stratifiedSplit(data, 20, 14).test, split.test);
});

test('float16Bits rounds like numpy.float16, subnormals, overflow and ties to even included', () => {
  const rng = Rng.fromSeed(11);
  assert.equal(float16Bits(-0), 0x8000, 'negative zero keeps its sign');
  const values = [
    0,
    1,
    -1,
    65504,
    65520,
    1e6,
    -1e6,
    6e-8,
    3e-8,
    2.98e-8,
    1e-10,
    0.1,
    1 / 3,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    Infinity,
    -Infinity,
  ];
  for (let i = 0; i < 300; i++) values.push((rng.nextFloat() - 0.5) * 10 ** (rng.nextInt(12) - 6));
  const f32 = Array.from(Float32Array.from(values));
  const script =
    'import json,sys,numpy as np; v=np.array(json.load(sys.stdin),dtype=np.float32); print(json.dumps(v.astype(np.float16).view(np.uint16).tolist()))';
  const expected = JSON.parse(
    execFileSync('python3', ['-c', script], {
      input: JSON.stringify(f32.map((v) => (Number.isFinite(v) ? v : String(v)))),
    }).toString(),
  ) as number[];
  f32.forEach((v, i) => assert.equal(float16Bits(v), expected[i], `${v}`));
});
