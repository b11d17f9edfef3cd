import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@gantry/core';
import type { ImageDataset } from './image-dataset.js';
import { drawFakeLabels } from './labels.js';

const dataset = (labels?: number[]): ImageDataset => ({
  name: 'tiny',
  count: labels?.length ?? 4,
  shape: [1, 1, 1],
  images: new Float32Array(labels?.length ?? 4),
  ...(labels ? { labels: Uint8Array.from(labels), classNames: ['a', 'b', 'c'] } : {}),
});

test('fake labels follow the data set’s class frequencies, one rng draw each', () => {
  // 70% class 0, 20% class 1, 10% class 2.
  const data = dataset([...Array(7).fill(0), 1, 1, 2]);
  const n = 20000;
  const drawn = drawFakeLabels(data, Rng.fromSeed(4), n);
  const shares = [0, 1, 2].map((c) => drawn.filter((l) => l === c).length / n);
  // Three standard errors of a share p over n draws: 3·sqrt(p(1-p)/n) < 0.011.
  [0.7, 0.2, 0.1].forEach((p, c) => assert.ok(Math.abs(shares[c]! - p) < 0.011, `class ${c}: ${shares[c]} vs ${p}`));

  const rng = Rng.fromSeed(9);
  const check = Rng.fromSeed(9);
  assert.deepEqual(
    [...drawFakeLabels(data, rng, 5)],
    Array.from({ length: 5 }, () => data.labels![check.nextInt(10)]),
  );
  assert.equal(rng.nextUint32(), check.nextUint32(), 'the stream advanced by exactly one draw per label');
});

test('an unlabelled data set cannot give fake labels', () => {
  assert.throws(
    () => drawFakeLabels(dataset(), Rng.fromSeed(1), 2),
    /dataset "tiny" has no labels, so a class-conditional model cannot train on it/,
  );
});
