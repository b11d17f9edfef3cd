// Transforms of D's input, applied alike to real and generated batches.
// - Packing (PacGAN, Lin et al. 2018): D judges m samples at once, concatenated along the last
//   (feature or channel) axis, so a batch of n·m samples becomes n packed inputs. A generator that
//   collapses onto few modes makes packs whose members look alike, which D can see.
// - Instance noise (Sønderby et al. 2017; Arjovsky & Bottou 2017): N(0, σ²) added to every D input
//   makes the real and generated distributions overlap, so D's gradient stays informative; σ is
//   annealed towards 0 over the run.
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../run/config.js';

/** The shape D sees for samples of `shape` packed by m: the last axis m times wider. */
export function packedShape(shape: readonly number[], m: number): number[] {
  return [...shape.slice(0, -1), shape[shape.length - 1]! * m];
}

/**
 * [n·m, ...s] → [n, ...packedShape(s, m)]: consecutive groups of m samples become one input, sample j
 * of a group filling slice j of the last axis.
 */
export function packSamples(x: tf.Tensor, m: number): tf.Tensor {
  if (m === 1) return x;
  const [count, ...shape] = x.shape;
  if (count! % m !== 0) throw new RangeError(`packSamples: ${count} samples do not split into packs of ${m}`);
  const n = count! / m;
  const rank = shape.length;
  return tf.tidy(() => {
    const grouped = tf.reshape(x, [n, m, ...shape]);
    // Move the pack axis (1) to just before the last axis, then merge the two.
    const perm = [0, ...Array.from({ length: rank - 1 }, (_, i) => i + 2), 1, rank + 1];
    return tf.reshape(tf.transpose(grouped, perm), [n, ...packedShape(shape, m)]);
  });
}

export type InstanceNoiseConfig = TrainConfig['transforms']['instanceNoise'];

/** σ at (0-based) step `step` of `totalSteps`: constant, linearly to 0 at the end, or halving every halfLife steps. */
export function instanceNoiseSigma(noise: InstanceNoiseConfig, step: number, totalSteps: number): number {
  if (noise.sigma === 0) return 0;
  switch (noise.anneal) {
    case 'none':
      return noise.sigma;
    case 'linear':
      return noise.sigma * Math.max(0, 1 - step / totalSteps);
    case 'exponential':
      return noise.sigma * 2 ** (-step / (noise.halfLife ?? Math.max(1, totalSteps / 10)));
  }
}

/** Packs a batch of samples and adds its pre-drawn noise (null: none). */
export function toDiscriminatorInput(samples: tf.Tensor, m: number, noise: tf.Tensor | null): tf.Tensor {
  const packed = packSamples(samples, m);
  return noise === null ? packed : tf.add(packed, noise);
}
