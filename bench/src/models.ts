// The networks the benchmarks time, shared by train-step.ts and profile-step.ts.
import { Rng } from '@gantry/latent';
import type { ImageDataset, TrainConfigInput } from '@gantry/training';

export interface BenchModel {
  /** Name shared with bench/pytorch_reference.py. */
  name: string;
  description: string;
  config: TrainConfigInput;
  imageShape: [number, number, number];
  /** Fewer timed steps for models whose step takes tens of seconds. */
  heavy?: boolean;
}

export const benchModels: BenchModel[] = [
  {
    name: 'dcgan-mnist',
    description: 'reference DCGAN, 28×28×1 (ANCHORS.md)',
    config: { model: { generatorWidth: 128, discriminatorWidth: 64 }, training: { batchSize: 64 } },
    imageShape: [28, 28, 1],
  },
  {
    name: 'dcgan-64',
    description: 'DCGAN 64×64×3, 4 up-sampling stages',
    config: { model: { generatorWidth: 512, discriminatorWidth: 64 }, training: { batchSize: 64 } },
    imageShape: [64, 64, 3],
    heavy: true,
  },
  {
    name: 'wgan-gp-mnist',
    description: 'WGAN-GP step on the reference networks: critic loss + gradient penalty (double backprop)',
    config: {
      objective: 'wasserstein',
      penalty: { type: 'gradient', lambda: 10 },
      optimizer: { generator: { learningRate: 1e-4, beta1: 0, beta2: 0.9 }, discriminator: { learningRate: 1e-4, beta1: 0, beta2: 0.9 } },
      model: { generatorWidth: 128, discriminatorWidth: 64 },
      training: { batchSize: 64 },
    },
    imageShape: [28, 28, 1],
  },
];

export function syntheticImages(shape: [number, number, number], count: number): ImageDataset {
  const rng = Rng.fromSeed(9);
  const images = new Float32Array(count * shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < images.length; i++) images[i] = 2 * rng.nextFloat() - 1;
  return { name: 'synthetic', count, shape, images };
}
