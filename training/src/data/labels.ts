// Labels for the fake half of a class-conditional batch.
import type { Rng } from '@gantry/core';
import { DatasetError } from './idx.js';
import type { ImageDataset } from './image-dataset.js';

/**
 * `n` class labels drawn with the dataset's own class frequencies: each is the label of an image
 * drawn uniformly, so an unbalanced folder keeps its balance in the fakes and a conditional D cannot
 * tell fakes by their label mix alone. Uses one rng.nextInt per label.
 */
export function drawFakeLabels(data: ImageDataset, rng: Rng, n: number): Int32Array {
  const labels = data.labels;
  if (labels === undefined) {
    throw new DatasetError(
      `dataset "${data.name}" has no labels, so a class-conditional model cannot train on it; use an unconditional model, or give an image folder one sub-folder per class`,
    );
  }
  return Int32Array.from({ length: n }, () => labels[rng.nextInt(data.count)]!);
}
