// Batches drawn from the run's Rng: real samples from the dataset and latents for G.
import * as tf from '@tensorflow/tfjs-core';
import { sampleLatentsWithRng, type Rng } from '@gantry/latent';
import { sampleShape, sampleValues, type Dataset } from '../data/datasets.js';
import type { TrainConfig } from '../run/config.js';

export function latentBatch(config: TrainConfig, rng: Rng, n: number): tf.Tensor2D {
  const spec = { size: config.model.latentSize, distribution: config.model.latentDistribution };
  return tf.tensor2d(sampleLatentsWithRng(spec, n, rng), [n, spec.size]);
}

/** `n` samples drawn uniformly with replacement, shape [n, ...sampleShape]. */
export function realBatch(data: Dataset, rng: Rng, n: number): tf.Tensor {
  const shape = sampleShape(data);
  const source = sampleValues(data);
  const perSample = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n * perSample);
  for (let i = 0; i < n; i++) {
    const index = rng.nextInt(data.count);
    values.set(source.subarray(index * perSample, (index + 1) * perSample), i * perSample);
  }
  return tf.tensor(values, [n, ...shape]);
}

/** `shape`-shaped N(0, σ²) noise from the run's Rng. */
export function normalNoise(shape: readonly number[], sigma: number, rng: Rng): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = sigma * rng.nextNormal();
  return tf.tensor(values, [...shape]);
}
