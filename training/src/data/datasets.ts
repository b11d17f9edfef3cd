import { Rng } from '@gantry/core';
import type { TrainConfig } from '../run/config.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadImageFolder } from './image-folder.js';
import type { ImageDataset, ProgressCallback } from './image-dataset.js';
import { loadMnist } from './mnist.js';
import { loadStackedMnist } from './stacked-mnist.js';
import { DEFAULT_TOY_POINTS, generateToyDataset, type PointDataset } from './toy.js';

/** What the trainer draws real batches from: images (NHWC in [-1, 1]) or points. */
export type Dataset = ImageDataset | PointDataset;

export interface LoadDatasetOptions {
  /** Toy datasets are drawn from this seed (the run's). */
  seed?: number;
  /** Reports files read (image folders, the Fashion-MNIST package), for a progress bar. */
  onProgress?: ProgressCallback;
}

/** Seed offset for generated datasets, so their points never coincide with the training stream's draws. */
const toyDataSeedOffset = 0xda7a;
const stackedDataSeedOffset = 0x57ac;

/** Loads the dataset a config names. */
export async function loadDataset(
  data: TrainConfig['data'],
  { seed = 1, onProgress }: LoadDatasetOptions = {},
): Promise<Dataset> {
  switch (data.dataset) {
    case 'mnist':
      return loadMnist({ folder: data.path, limit: data.limit });
    case 'fashion-mnist':
      return loadFashionMnist({ folder: data.path, limit: data.limit, onProgress });
    case 'stacked-mnist':
      return loadStackedMnist({ folder: data.path, images: data.images, seed: (seed + stackedDataSeedOffset) >>> 0 });
    case 'folder':
      return loadImageFolder({ ...data, onProgress });
    case 'grid-25':
    case 'ring-8':
    case 'gaussian-1d':
    case 'swiss-roll':
      return generateToyDataset(data.dataset, data.points ?? DEFAULT_TOY_POINTS, Rng.fromSeed((seed + toyDataSeedOffset) >>> 0));
  }
}

export function isPointDataset(data: Dataset): data is PointDataset {
  return 'points' in data;
}

/** One sample's shape: [height, width, channels] or [dimensions]. */
export function sampleShape(data: Dataset): number[] {
  return isPointDataset(data) ? [data.dimensions] : [...data.shape];
}

/** Every sample's values, row-major (count × the product of sampleShape). */
export function sampleValues(data: Dataset): Float32Array {
  return isPointDataset(data) ? data.points : data.images;
}
