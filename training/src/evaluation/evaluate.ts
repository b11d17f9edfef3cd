// Evaluates generated images against a dataset with its evaluation classifier, and the dataset's own
// test split against its training split with the same measures (the real-vs-real row every figure is
// read beside): Fréchet distance, Inception-style score, confident share, class coverage, k-NN
// precision and recall, and for a class-conditional generator the share drawn in the requested class.
import { Rng } from '@gantry/core';
import type { ImageDataset } from '../data/image-dataset.js';
import { generateToyDataset } from '../data/toy.js';
import { stackDigits } from '../data/stacked-mnist.js';
import { stackedModeCoverage, stackedModesOf, type StackedModes } from './stacked-mnist.js';
import { modeCoverage, type ModeCoverage } from '../metrics/mode-coverage.js';
import { GRID_25, RING_8, type MixtureModes } from '../metrics/mixture-modes.js';
import type { EvaluationClassifier, ClassifierOutputs } from './classifier.js';
import { fitGaussian, frechetDistance, precisionRecall } from './feature-metrics.js';
import { classCoverage, confidentFraction, inceptionScore, predictedClasses, type ClassCoverage } from './scores.js';

export interface ImageScores {
  samples: number;
  /** Fréchet distance to the reference (training-split) features. */
  frechetDistance: number;
  inceptionScore: number;
  /** Share with top class probability ≥ 0.9. */
  confident: number;
  coverage: ClassCoverage;
  precision: number;
  recall: number;
  /** Share of samples the classifier puts in the class they were asked for (class-conditional only). */
  classAccuracy?: number;
}

export interface ImageEvaluation {
  classifier: string;
  k: number;
  /** The training-split images the other rows are compared with. */
  referenceSamples: number;
  generator: ImageScores;
  /** The test split scored like a generator: the best a generator can expect at this sample count. */
  realVsReal: ImageScores;
}

/** `count` distinct images of `data`, chosen by a seeded permutation. */
export function drawImages(data: ImageDataset, count: number, seed: number): Float32Array {
  const n = Math.min(count, data.count);
  const order = Array.from({ length: data.count }, (_, i) => i);
  const rng = Rng.fromSeed(seed);
  for (let i = 0; i < n; i++) {
    const j = i + rng.nextInt(data.count - i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const pixels = data.shape[0] * data.shape[1] * data.shape[2];
  const out = new Float32Array(n * pixels);
  for (let i = 0; i < n; i++) out.set(data.images.subarray(order[i]! * pixels, (order[i]! + 1) * pixels), i * pixels);
  return out;
}

function scores(outputs: ClassifierOutputs, reference: ClassifierOutputs, k: number, requested?: ArrayLike<number>): ImageScores {
  const pr = precisionRecall(reference.features, outputs.features, outputs.featureSize, k);
  const result: ImageScores = {
    samples: outputs.count,
    frechetDistance: frechetDistance(
      fitGaussian(reference.features, reference.featureSize),
      fitGaussian(outputs.features, outputs.featureSize),
    ),
    inceptionScore: inceptionScore(outputs.probabilities, outputs.classes),
    confident: confidentFraction(outputs.probabilities, outputs.classes),
    coverage: classCoverage(outputs.probabilities, outputs.classes),
    precision: pr.precision,
    recall: pr.recall,
  };
  if (requested !== undefined) {
    const predicted = predictedClasses(outputs.probabilities, outputs.classes);
    result.classAccuracy = predicted.reduce((hits, c, i) => hits + (c === requested[i] ? 1 : 0), 0) / predicted.length;
  }
  return result;
}

export type EvaluationStage = 'reference' | 'real' | 'generated' | 'metrics';

export interface EvaluateImagesOptions {
  classifierName: string;
  k?: number;
  /** Seed of the reference and real-vs-real draws. */
  seed?: number;
  /** The class each generated image was asked for, for class-conditional generators. */
  requestedClasses?: ArrayLike<number>;
  onProgress?: (stage: EvaluationStage, done: number, total: number) => void;
}

/** Scores `generated` (count × H × W × C in [-1, 1]) and the test split against the training split. */
export function evaluateImages(
  classifier: EvaluationClassifier,
  generated: Float32Array,
  count: number,
  train: ImageDataset,
  test: ImageDataset,
  { classifierName, k = 3, seed = 0, requestedClasses, onProgress = () => {} }: EvaluateImagesOptions,
): ImageEvaluation {
  const referenceImages = drawImages(train, count, seed);
  const referenceCount = referenceImages.length / (train.shape[0] * train.shape[1] * train.shape[2]);
  const reference = classifier.run(referenceImages, referenceCount, 500, (done) => onProgress('reference', done, referenceCount));
  const realImages = drawImages(test, count, seed + 1);
  const realCount = realImages.length / (test.shape[0] * test.shape[1] * test.shape[2]);
  const real = classifier.run(realImages, realCount, 500, (done) => onProgress('real', done, realCount));
  const fake = classifier.run(generated, count, 500, (done) => onProgress('generated', done, count));
  onProgress('metrics', 0, 2);
  const realVsReal = scores(real, reference, k);
  onProgress('metrics', 1, 2);
  const generator = scores(fake, reference, k, requestedClasses);
  onProgress('metrics', 2, 2);
  return { classifier: classifierName, k, referenceSamples: referenceCount, generator, realVsReal };
}

/** The flat numbers a model card's `metrics` records. */
export function cardMetrics(evaluation: ImageEvaluation): Record<string, number> {
  const g = evaluation.generator;
  const r = evaluation.realVsReal;
  return {
    frechetDistance: g.frechetDistance,
    frechetDistanceRealVsReal: r.frechetDistance,
    inceptionScore: g.inceptionScore,
    inceptionScoreReal: r.inceptionScore,
    confident: g.confident,
    classesCovered: g.coverage.covered,
    classMaxMinRatio: g.coverage.maxMinRatio,
    precision: g.precision,
    recall: g.recall,
    evaluationSamples: g.samples,
    ...(g.classAccuracy === undefined ? {} : { classAccuracy: g.classAccuracy }),
  };
}

export interface PointEvaluation {
  dataset: MixtureModes['name'];
  generator: ModeCoverage;
  /** As many points drawn from the mixture itself. */
  realVsReal: ModeCoverage;
}

/** The toy mixtures with known modes, which get modes, HQ share and reverse KL. */
export function mixtureModes(dataset: string): MixtureModes | undefined {
  return [GRID_25, RING_8].find((modes) => modes.name === dataset);
}

/** Mode coverage of generated 2-D points, beside that of as many points drawn from the mixture. */
export function evaluatePoints(samples: Float32Array, modes: MixtureModes, seed = 0): PointEvaluation {
  const count = samples.length / 2;
  const real = generateToyDataset(modes.name, count, Rng.fromSeed(seed)).points;
  const centres = modes.centres.map((c) => [...c]);
  return {
    dataset: modes.name,
    generator: modeCoverage(samples, centres, modes.sigma),
    realVsReal: modeCoverage(real, centres, modes.sigma),
  };
}

export interface StackedEvaluation {
  generator: StackedModes;
  /** As many stacked images of MNIST test digits, scored the same way. */
  realVsReal: StackedModes;
}

/** PacGAN's Stacked MNIST modes and KL of `generated`, beside stacks of the MNIST test digits. */
export function evaluateStacked(
  classifier: EvaluationClassifier,
  generated: Float32Array,
  count: number,
  testDigits: ImageDataset,
  seed = 0,
): StackedEvaluation {
  const real = stackDigits(testDigits, count, Rng.fromSeed(seed));
  return {
    generator: stackedModeCoverage(stackedModesOf(classifier, generated, count)),
    realVsReal: stackedModeCoverage(stackedModesOf(classifier, real.images, count)),
  };
}
