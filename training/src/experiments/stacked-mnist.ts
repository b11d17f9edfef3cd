// PacGAN's Table 2 experiment: DCGAN against PacDCGAN2 (the same networks, D seeing 2 packed samples) on
// Stacked MNIST, scored by its protocol (modes of 1 000 and KL to uniform over 26 000 samples, each
// channel labelled by the shipped MNIST classifier). Each unit trains with the project's trainer into
// units/<id>/run/ (checkpointed, so a killed experiment resumes inside the unit).
import { loadClassifier } from '../evaluation/classifier.js';
import { PACGAN_STACKED_SAMPLES, PACGAN_TABLE_2, stackedModeCoverage, stackedModesOf } from '../evaluation/stacked-mnist.js';
import { meanWithStandardError, type MeanWithError } from '../metrics/statistics.js';
import { sampleCheckpoint } from '../run/checkpoint.js';
import { parseTrainConfig, type TrainConfig } from '../run/config.js';
import type { Experiment } from './experiment.js';
import { trainUnit } from './unit-training.js';
import { formatNumber, markdownTable } from './table.js';

export const STACKED_METHODS = ['DCGAN', 'PacDCGAN2'] as const;
export type StackedMethod = (typeof STACKED_METHODS)[number];

export interface StackedMnistParameters {
  seeds: number;
  steps: number;
  batchSize: number;
  /** Stacked images drawn for training. */
  images: number;
  samples: number;
  generatorWidth: number;
  discriminatorWidth: number;
  checkpointEvery: number;
  classifier: string;
}

export interface StackedMnistUnit {
  id: string;
  method: StackedMethod;
  seed: number;
}

export interface StackedMnistResult {
  modes: number;
  klToUniform: number;
  samples: number;
  trainingSeconds: number;
}

export function stackedMnistConfig(unit: StackedMnistUnit, p: StackedMnistParameters): TrainConfig {
  const adam = { type: 'adam' as const, learningRate: 2e-4, beta1: 0.5 };
  return parseTrainConfig(
    {
      name: `stacked-mnist-${unit.id}`.toLowerCase(),
      seed: 1000 * unit.seed + 7,
      data: { dataset: 'stacked-mnist', images: p.images },
      model: {
        architecture: 'dcgan',
        latentSize: 100,
        generatorWidth: p.generatorWidth,
        discriminatorWidth: p.discriminatorWidth,
      },
      objective: 'non-saturating',
      transforms: { packing: unit.method === 'PacDCGAN2' ? 2 : 1 },
      optimizer: { generator: adam, discriminator: adam },
      training: { steps: p.steps, batchSize: p.batchSize },
      logging: {
        logEvery: Math.min(50, p.steps),
        sampleEvery: Math.max(1, Math.min(p.steps, 4 * p.checkpointEvery)),
        checkpointEvery: p.checkpointEvery,
        keepCheckpoints: 2,
      },
    },
    `the stacked-mnist config of ${unit.id}`,
  );
}

/** Seeds of the scored samples' latents, apart from the training stream. */
const evaluationSeedOffset = 0x57e7;

export const stackedMnistExperiment: Experiment<StackedMnistParameters, StackedMnistUnit, StackedMnistResult> = {
  name: 'stacked-mnist',
  description: "DCGAN vs PacDCGAN2 on Stacked MNIST (1 000 modes), PacGAN's Table 2 protocol with the shipped MNIST classifier",
  backend: 'wasm',
  parameters: {
    quick: {
      seeds: 1,
      steps: 2,
      batchSize: 8,
      images: 64,
      samples: 200,
      generatorWidth: 8,
      discriminatorWidth: 8,
      checkpointEvery: 1,
      classifier: 'models/classifiers/mnist',
    },
    // PacGAN trains each network for 50 epochs of its 128 000 images with batch 64 (100 000 steps); this is a tenth.
    full: {
      seeds: 10,
      steps: 10_000,
      batchSize: 64,
      images: 50_000,
      samples: PACGAN_STACKED_SAMPLES,
      generatorWidth: 64,
      discriminatorWidth: 64,
      checkpointEvery: 500,
      classifier: 'models/classifiers/mnist',
    },
  },
  units: (p) =>
    STACKED_METHODS.flatMap((method) =>
      Array.from({ length: p.seeds }, (_, seed) => ({ id: `${method}-seed${seed}`, method, seed })),
    ),
  async run(unit, p, context) {
    const config = stackedMnistConfig(unit, p);
    const result = await trainUnit(unit.id, config, context);
    const { values } = await sampleCheckpoint(result.checkpoint, config, p.samples, (config.seed + evaluationSeedOffset) >>> 0);
    const { classifier } = await loadClassifier(p.classifier);
    try {
      const coverage = stackedModeCoverage(stackedModesOf(classifier, values, p.samples));
      return {
        modes: coverage.modes,
        klToUniform: coverage.klToUniform,
        samples: p.samples,
        trainingSeconds: result.wallSeconds,
      };
    } finally {
      classifier.dispose();
    }
  },
  async summarise(completed, p) {
    const rows = STACKED_METHODS.map((method) => {
      const results = completed.filter((c) => c.unit.method === method).map((c) => c.result);
      return {
        method,
        runs: results.length,
        modes: results.length === 0 ? null : meanWithStandardError(results.map((r) => r.modes)),
        kl: results.length === 0 ? null : meanWithStandardError(results.map((r) => r.klToUniform)),
        trainingSeconds: results.reduce((sum, r) => sum + r.trainingSeconds, 0),
      };
    });
    const cell = (m: MeanWithError | null, digits: number): string =>
      m === null
        ? '–'
        : m.standardError === null
          ? formatNumber(m.mean, digits)
          : `${formatNumber(m.mean, digits)} ± ${formatNumber(m.standardError, digits)}`;
    const table = markdownTable(
      ['method', 'runs', 'modes (of 1000)', 'KL to uniform', 'PacGAN modes', 'PacGAN KL', 'training s'],
      rows.map((r) => [
        r.method,
        String(r.runs),
        cell(r.modes, 1),
        cell(r.kl, 3),
        formatNumber(PACGAN_TABLE_2[r.method].modes, 1),
        formatNumber(PACGAN_TABLE_2[r.method].kl, 2),
        formatNumber(r.trainingSeconds, 0),
      ]),
    );
    return { numbers: { rows, pacganTable2: PACGAN_TABLE_2, steps: p.steps, samples: p.samples }, table, plots: [] };
  },
};
