// Batches drawn from the run's Rng: real samples from the dataset (with their labels for
// class-conditional training), latents and class labels for G.
import * as tf from '@tensorflow/tfjs-core';
import { sampleLatentsWithRng, type Rng } from '@gantry/core';
import { isPointDataset, sampleShape, sampleValues, type Dataset } from '../data/datasets.js';
import type { ImageDataset } from '../data/image-dataset.js';
import { drawFakeLabels } from '../data/labels.js';
import type { TrainConfig } from '../run/config.js';

export function latentBatch(config: TrainConfig, rng: Rng, n: number): tf.Tensor2D {
  const spec = { size: config.model.latentSize, distribution: config.model.latentDistribution };
  return tf.tensor2d(sampleLatentsWithRng(spec, n, rng), [n, spec.size]);
}

/** Class labels as a conditional model's label input: [n, 1] int32. */
export function labelTensor(labels: ArrayLike<number>): tf.Tensor2D {
  return tf.tensor2d(Int32Array.from(labels), [labels.length, 1], 'int32');
}

function labelledImages(data: Dataset): ImageDataset & { labels: Uint8Array } {
  if (isPointDataset(data) || data.labels === undefined) {
    throw new RangeError(
      `dataset "${data.name}" has no labels, so class-conditional training cannot draw labelled batches from it`,
    );
  }
  return data as ImageDataset & { labels: Uint8Array };
}

export interface RealBatch {
  /** [n, ...sampleShape]. */
  samples: tf.Tensor;
  /** The samples' class labels [n, 1] int32 when asked for (class-conditional training), else null. */
  labels: tf.Tensor2D | null;
}

/** `n` samples drawn uniformly with replacement (one rng.nextInt each; the labels cost no draws). */
export function realBatch(data: Dataset, rng: Rng, n: number, withLabels = false): RealBatch {
  const shape = sampleShape(data);
  const source = sampleValues(data);
  const perSample = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n * perSample);
  const classes = withLabels ? labelledImages(data).labels : null;
  const labels = classes === null ? null : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const index = rng.nextInt(data.count);
    values.set(source.subarray(index * perSample, (index + 1) * perSample), i * perSample);
    if (labels !== null) labels[i] = classes![index]!;
  }
  return { samples: tf.tensor(values, [n, ...shape]), labels: labels === null ? null : labelTensor(labels) };
}

/** Labels for `n` generated samples, drawn with the data's class frequencies (see drawFakeLabels). */
export function fakeLabelBatch(data: Dataset, rng: Rng, n: number): tf.Tensor2D {
  return labelTensor(drawFakeLabels(labelledImages(data), rng, n));
}

/** `shape`-shaped N(0, σ²) noise from the run's Rng. */
export function normalNoise(shape: readonly number[], sigma: number, rng: Rng): tf.Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = sigma * rng.nextNormal();
  return tf.tensor(values, [...shape]);
}
