// The mode-collapse experiment's runs: each unit trains its method on its mixture with the project's
// trainer into `units/<id>/run/` (checkpoints every `checkpointEvery` steps, so a killed experiment
// resumes inside the unit it was training), then draws the samples to score from the final
// generator (batch norm in inference mode) with latents from the unit's seed.
import { sampleCheckpoint } from '../run/checkpoint.js';
import { parseTrainConfig, type TrainConfig } from '../run/config.js';
import {
  methodSettings,
  modeCollapseExperiment,
  type GenerateSamples,
  type ModeCollapseParameters,
  type ModeCollapseUnit,
} from './mode-collapse.js';
import { trainUnit } from './unit-training.js';

/** Seeds of the scored samples' latents, apart from the training stream. */
const evaluationSeedOffset = 0xe7a1;

/** The trainer config of one unit: PacGAN's setup with the method's changes. */
export function modeCollapseConfig(unit: ModeCollapseUnit, p: ModeCollapseParameters): TrainConfig {
  const t = p.training;
  const method = methodSettings(unit.method);
  const adam = { type: 'adam' as const, learningRate: t.learningRate, beta1: t.beta1 };
  return parseTrainConfig(
    {
      name: `mode-collapse-${unit.id}`.toLowerCase(),
      seed: 1000 * unit.seed + 1,
      data: { dataset: unit.mixture, points: t.points },
      model: {
        architecture: 'mlp',
        latentSize: 2,
        // PacGAN's published code: N(0, 0.02) weights, zero biases, no bias before G's batch norms.
        mlp: {
          generatorWidths: t.generatorWidths,
          discriminatorWidths: t.discriminatorWidths,
          maxoutPieces: t.maxoutPieces,
          generatorNorm: 'batch',
          activation: 'relu',
          weightInit: 'normal',
          generatorHiddenBias: false,
        },
      },
      // WGAN-GP as Gulrajani et al. train it (λ 10, 5 critic steps, β2 0.9); the rest as PacGAN trains them.
      objective: method.wasserstein ? 'wasserstein' : 'non-saturating',
      penalty: method.wasserstein ? { type: 'gradient', lambda: 10 } : { type: 'none' },
      // PacGAN's code updates D and G simultaneously from one batch; Unrolled GAN and WGAN-GP keep their own schedules.
      strategy:
        method.unrolledSteps > 0
          ? { type: 'unrolled', steps: method.unrolledSteps }
          : method.wasserstein
            ? { type: 'alternating' }
            : { type: 'simultaneous' },
      transforms: { packing: method.packing },
      optimizer: method.wasserstein
        ? { generator: { ...adam, beta2: 0.9 }, discriminator: { ...adam, beta2: 0.9 } }
        : { generator: adam, discriminator: adam },
      training: { steps: t.steps, batchSize: t.batchSize, discriminatorSteps: method.wasserstein ? 5 : 1 },
      logging: {
        logEvery: Math.min(100, t.steps),
        sampleEvery: Math.max(1, Math.min(t.steps, 10 * t.checkpointEvery)),
        checkpointEvery: t.checkpointEvery,
        keepCheckpoints: 2,
        sampleCount: 256,
      },
    },
    `the mode-collapse config of ${unit.id}`,
  );
}

export const trainAndSample: GenerateSamples = async (unit, p, context) => {
  const config = modeCollapseConfig(unit, p);
  const result = await trainUnit(unit.id, config, context);
  const { values } = await sampleCheckpoint(result.checkpoint, config, p.samples, (config.seed + evaluationSeedOffset) >>> 0);
  return values;
};

export const modeCollapseTrainingExperiment = modeCollapseExperiment(trainAndSample);
