// PacGAN's Stacked MNIST protocol (Lin et al. 2018, Table 2): classify each of a sample's three
// channels with the MNIST classifier; the digit triple is its mode. Report the number of modes with at
// least one sample (of 1 000) and KL(mode histogram ‖ uniform) in nats, over 26 000 samples.
import { klDivergence } from '../metrics/divergences.js';
import { STACKED_MNIST_MODES } from '../data/stacked-mnist.js';
import type { EvaluationClassifier } from './classifier.js';
import { predictedClasses } from './scores.js';

export const PACGAN_STACKED_SAMPLES = 26_000;

/** PacGAN's Table 2 (mean over 10 runs): modes and KL to uniform on Stacked MNIST. */
export const PACGAN_TABLE_2 = {
  DCGAN: { modes: 99.0, kl: 3.4 },
  PacDCGAN2: { modes: 1000.0, kl: 0.06 },
} as const;

export interface StackedModes {
  samples: number;
  /** Modes (digit triples) with at least one sample. */
  modes: number;
  /** KL(histogram ‖ uniform over 1 000 modes), nats. */
  klToUniform: number;
  /** Samples per mode, index 100·r + 10·g + b. */
  histogram: number[];
}

/** Splits count × H × W × 3 images into one count × H × W × 1 array per channel. */
function channel(images: Float32Array, count: number, pixels: number, c: number): Float32Array {
  const out = new Float32Array(count * pixels);
  for (let i = 0; i < count * pixels; i++) out[i] = images[i * 3 + c]!;
  return out;
}

/** The digit triple of each stacked image by the MNIST classifier (28×28×1 input). */
export function stackedModesOf(classifier: EvaluationClassifier, images: Float32Array, count: number): Uint16Array {
  const [height, width] = classifier.inputShape;
  const pixels = height * width;
  const modes = new Uint16Array(count);
  for (let c = 0; c < 3; c++) {
    const digits = predictedClasses(classifier.run(channel(images, count, pixels, c), count).probabilities, 10);
    for (let i = 0; i < count; i++) modes[i] = 10 * modes[i]! + digits[i]!;
  }
  return modes;
}

export function stackedModeCoverage(modes: ArrayLike<number>): StackedModes {
  const histogram = new Array<number>(STACKED_MNIST_MODES).fill(0);
  for (let i = 0; i < modes.length; i++) histogram[modes[i]!]!++;
  const uniform = new Array<number>(STACKED_MNIST_MODES).fill(1);
  return {
    samples: modes.length,
    modes: histogram.filter((n) => n > 0).length,
    klToUniform: klDivergence(histogram, uniform),
    histogram,
  };
}
