// The networks the benchmarks time, shared by train-step.ts and profile-step.ts.
import { Rng } from '@gantry/core';
import {
  generateToyDataset,
  modeCollapseConfig,
  MODE_COLLAPSE_PARAMETERS,
  type Dataset,
  type ImageDataset,
  type ModeCollapseMethod,
  type TrainConfigInput,
} from '@gantry/training';

export interface BenchModel {
  /** Name shared with bench/pytorch_reference.py where it has a PyTorch twin. */
  name: string;
  description: string;
  config: TrainConfigInput;
  /** One real sample's shape. */
  sampleShape: number[];
  /** The batch a timed step uses on wasm. */
  batch: number;
  /** The real data the steps draw from, at least `count` samples. */
  data(count: number): Dataset;
  /** Fewer timed steps for models whose step takes tens of seconds. */
  heavy?: boolean;
  /** Whether bench/pytorch_reference.py runs the same networks. */
  pytorchReference: boolean;
}

export function syntheticImages(shape: [number, number, number], count: number): ImageDataset {
  const rng = Rng.fromSeed(9);
  const images = new Float32Array(count * shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < images.length; i++) images[i] = 2 * rng.nextFloat() - 1;
  return { name: 'synthetic', count, shape, images };
}

function dcgan(
  name: string,
  description: string,
  config: TrainConfigInput,
  imageShape: [number, number, number],
  heavy = false,
): BenchModel {
  return {
    name,
    description,
    config,
    sampleShape: imageShape,
    batch: 64,
    data: (count) => syntheticImages(imageShape, count),
    heavy,
    pytorchReference: true,
  };
}

/** A mode-collapse experiment run at PacGAN's size (its `full` parameters) on grid-25. */
function modeCollapse(method: ModeCollapseMethod): BenchModel {
  const parameters = MODE_COLLAPSE_PARAMETERS.full;
  const config = modeCollapseConfig({ id: `bench_${method}`, method, mixture: 'grid-25', seed: 0 }, parameters);
  return {
    name: `mode-collapse-${method.toLowerCase()}`,
    description: `${method} on grid-25 at PacGAN's size: G 2→400×4→2 (BN, ReLU), D 3 maxout layers 200×5, batch ${parameters.training.batchSize}, simultaneous updates`,
    config,
    sampleShape: [2],
    batch: parameters.training.batchSize,
    data: (count) => generateToyDataset('grid-25', Math.max(count, parameters.training.points), Rng.fromSeed(5)),
    pytorchReference: true,
  };
}

export const benchModels: BenchModel[] = [
  dcgan(
    'dcgan-mnist',
    'reference DCGAN, 28×28×1 (docs/REFERENCES.md)',
    { model: { generatorWidth: 128, discriminatorWidth: 64 }, training: { batchSize: 64 } },
    [28, 28, 1],
  ),
  dcgan(
    'dcgan-64',
    'DCGAN 64×64×3, 4 up-sampling stages',
    { model: { generatorWidth: 512, discriminatorWidth: 64 }, training: { batchSize: 64 } },
    [64, 64, 3],
    true,
  ),
  dcgan(
    'wgan-gp-mnist',
    'WGAN-GP step on the reference networks: critic loss + gradient penalty (double backprop)',
    {
      objective: 'wasserstein',
      penalty: { type: 'gradient', lambda: 10 },
      optimizer: {
        generator: { learningRate: 1e-4, beta1: 0, beta2: 0.9 },
        discriminator: { learningRate: 1e-4, beta1: 0, beta2: 0.9 },
      },
      model: { generatorWidth: 128, discriminatorWidth: 64 },
      training: { batchSize: 64 },
    },
    [28, 28, 1],
  ),
  modeCollapse('GAN'),
  modeCollapse('PacGAN2'),
];
