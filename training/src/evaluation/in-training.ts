// The cheap metrics a run computes every `logging.evaluateEvery` steps and logs under `metrics`: for
// MNIST and Fashion-MNIST, the evaluation classifier's score, confident share, class coverage and the
// Fréchet distance to as many training images (and the requested-class share for conditional runs);
// for the toy mixtures grid-25 and ring-8, modes, high-quality share and reverse KL.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { sampleLatents } from '@gantry/core';
import { isPointDataset, type Dataset } from '../data/datasets.js';
import type { TrainConfig } from '../run/config.js';
import { labelTensor } from '../strategies/batches.js';
import { modeCoverage } from '../metrics/mode-coverage.js';
import { loadClassifier, type EvaluationClassifier } from './classifier.js';
import { classifierDatasets } from './classifier-data.js';
import { drawImages, mixtureModes } from './evaluate.js';
import { fitGaussian, frechetDistance, type GaussianFit } from './feature-metrics.js';
import { classCoverage, confidentFraction, inceptionScore, predictedClasses } from './scores.js';

/** Seed offset of the evaluation latents, apart from the sample grid's and the training stream's. */
const evaluationSeedOffset = 0xe7a1;
const CHUNK = 250;

export type TrainingEvaluator = (generator: tfl.LayersModel) => Promise<Record<string, number>>;

function generate(generator: tfl.LayersModel, latents: Float32Array, size: number, classes: number[] | null): Float32Array {
  const count = latents.length / size;
  const parts: Float32Array[] = [];
  for (let start = 0; start < count; start += CHUNK) {
    const n = Math.min(CHUNK, count - start);
    const out = tf.tidy(() => {
      const z = tf.tensor2d(latents.subarray(start * size, (start + n) * size), [n, size]);
      return generator.predict(classes === null ? z : [z, labelTensor(classes.slice(start, start + n))]) as tf.Tensor;
    });
    parts.push(out.dataSync() as Float32Array);
    out.dispose();
  }
  const values = new Float32Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    values.set(part, offset);
    offset += part.length;
  }
  return values;
}

/**
 * The evaluator for a run, or null when the config asks for none (evaluateEvery 0) or the data has no
 * metric (folders, 1-D toy data). The classifier comes from `logging.classifier`, by default
 * models/classifiers/<dataset> below the working folder.
 */
export async function createTrainingEvaluator(
  config: TrainConfig,
  data: Dataset,
  classes: number | null,
): Promise<TrainingEvaluator | null> {
  const { evaluateEvery, evaluateSamples } = config.logging;
  if (evaluateEvery === 0) return null;
  const spec = { size: config.model.latentSize, distribution: config.model.latentDistribution };
  const latents = sampleLatents(spec, evaluateSamples, (config.seed + evaluationSeedOffset) >>> 0);
  const requested = classes === null ? null : Array.from({ length: evaluateSamples }, (_, i) => i % classes);
  if (isPointDataset(data)) {
    const modes = mixtureModes(config.data.dataset);
    if (modes === undefined) return null;
    const centres = modes.centres.map((c) => [...c]);
    return async (generator) => {
      const coverage = modeCoverage(generate(generator, latents, spec.size, requested), centres, modes.sigma);
      return {
        modes: coverage.modes,
        highQualityFraction: coverage.highQualityFraction,
        ...(coverage.reverseKl === null ? {} : { reverseKl: coverage.reverseKl }),
      };
    };
  }
  if (!(classifierDatasets as readonly string[]).includes(config.data.dataset)) return null;
  const folder = config.logging.classifier ?? `models/classifiers/${config.data.dataset}`;
  const { classifier } = await loadClassifier(folder);
  const referenceImages = drawImages(data, evaluateSamples, config.seed);
  const referenceFit: GaussianFit = (() => {
    const outputs = classifier.run(referenceImages, referenceImages.length / (data.shape[0] * data.shape[1] * data.shape[2]));
    return fitGaussian(outputs.features, outputs.featureSize);
  })();
  return async (generator) =>
    scoreSamples(classifier, generate(generator, latents, spec.size, requested), evaluateSamples, referenceFit, requested);
}

function scoreSamples(
  classifier: EvaluationClassifier,
  images: Float32Array,
  count: number,
  reference: GaussianFit,
  requested: number[] | null,
): Record<string, number> {
  const outputs = classifier.run(images, count);
  const coverage = classCoverage(outputs.probabilities, outputs.classes);
  const metrics: Record<string, number> = {
    inceptionScore: inceptionScore(outputs.probabilities, outputs.classes),
    confident: confidentFraction(outputs.probabilities, outputs.classes),
    classesCovered: coverage.covered,
    frechetDistance: frechetDistance(reference, fitGaussian(outputs.features, outputs.featureSize)),
  };
  if (Number.isFinite(coverage.maxMinRatio)) metrics.classMaxMinRatio = coverage.maxMinRatio;
  if (requested !== null) {
    const predicted = predictedClasses(outputs.probabilities, outputs.classes);
    metrics.classAccuracy = predicted.reduce((hits, c, i) => hits + (c === requested[i] ? 1 : 0), 0) / count;
  }
  return metrics;
}
