// The pieces every strategy composes: one batch of the game as D sees it, the two players' losses on
// it (objective + penalty, through D's input transforms), and a plain D update.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@gantry/latent';
import { sampleShape, type Dataset } from '../data/datasets.js';
import { objectives, type Objective } from '../objectives/index.js';
import { constrainDiscriminator, preparePenalty, type Critic, type PenaltyTerm } from '../penalties/index.js';
import type { TrainConfig } from '../run/config.js';
import type { Players } from '../run/players.js';
import { latentBatch, normalNoise, realBatch } from './batches.js';
import { instanceNoiseSigma, packedShape, toDiscriminatorInput } from './discriminator-input.js';
import { trainableVariables } from './model-weights.js';

export interface StepContext {
  config: TrainConfig;
  players: Players;
  data: Dataset;
  rng: Rng;
  /** Generator steps completed before this one: schedules (critic warm-up, noise annealing) read it. */
  step: number;
}

export interface StepLosses {
  discriminator: number;
  generator: number;
  /** Mean D(x) (a probability for logit objectives, a raw score otherwise) of the last D step. */
  realScore: number;
  fakeScore: number;
  /** The penalty's value in the last D step (0 without a loss-term penalty). */
  penalty: number;
}

/** One batch as D sees it. Every random draw is made here, in a fixed order, so strategies that reuse a batch reuse its randomness too. */
export interface GameBatch {
  /** Real samples, packed and noised: D's real input. */
  realInput: tf.Tensor;
  /** n·m latents for the fake samples. */
  latents: tf.Tensor2D;
  /** Instance noise for the packed fakes (null when σ is 0). */
  fakeNoise: tf.Tensor | null;
  /** The penalty term with its ε drawn (null when the penalty adds no loss term). */
  penalty: PenaltyTerm | null;
}

export function objectiveOf(config: TrainConfig): Objective {
  return objectives[config.objective];
}

/** D's forward pass in training mode; under withSubstituteWeights it runs at the substitutes. */
export function criticOf(players: Players): Critic {
  return (x) => players.discriminator.apply(x, { training: true }) as tf.Tensor;
}

function noiseSigma(context: StepContext): number {
  return instanceNoiseSigma(context.config.transforms.instanceNoise, context.step, context.config.training.steps);
}

export function drawBatch(context: StepContext): GameBatch {
  const { config, data, rng } = context;
  const m = config.transforms.packing;
  const n = config.training.batchSize;
  const sigma = noiseSigma(context);
  const real = realBatch(data, rng, n * m);
  const latents = latentBatch(config, rng, n * m);
  const inputShape = [n, ...packedShape(real.shape.slice(1), m)];
  const realNoise = sigma > 0 ? normalNoise(inputShape, sigma, rng) : null;
  const fakeNoise = sigma > 0 ? normalNoise(inputShape, sigma, rng) : null;
  const realInput = toDiscriminatorInput(real, m, realNoise);
  const penalty = preparePenalty(config.penalty, n, realInput.rank, rng);
  return { realInput, latents, fakeNoise, penalty };
}

/** Latents and fake-input noise for a generator-only update. */
export function drawGeneratorBatch(context: StepContext): { latents: tf.Tensor2D; fakeNoise: tf.Tensor | null } {
  const { config, rng } = context;
  const m = config.transforms.packing;
  const n = config.training.batchSize;
  const sigma = noiseSigma(context);
  const latents = latentBatch(config, rng, n * m);
  const fakeNoise = sigma > 0 ? normalNoise([n, ...packedShape(sampleShape(context.data), m)], sigma, rng) : null;
  return { latents, fakeNoise };
}

/** G's samples for `latents` as D sees them (packed, noised); differentiable in G's weights. */
export function fakeInput(context: StepContext, latents: tf.Tensor2D, fakeNoise: tf.Tensor | null): tf.Tensor {
  const fake = context.players.generator.apply(latents, { training: true }) as tf.Tensor;
  return toDiscriminatorInput(fake, context.config.transforms.packing, fakeNoise);
}

export interface DiscriminatorTerms {
  /** Objective plus penalty: what D minimises. */
  loss: tf.Scalar;
  realOutputs: tf.Tensor;
  fakeOutputs: tf.Tensor;
  penalty: tf.Scalar | null;
}

/** D's loss on one batch for the D forward pass `critic`. */
export function discriminatorTerms(config: TrainConfig, critic: Critic, realInput: tf.Tensor, fakeInputs: tf.Tensor, penalty: PenaltyTerm | null): DiscriminatorTerms {
  const objective = objectiveOf(config);
  const realOutputs = critic(realInput);
  const fakeOutputs = critic(fakeInputs);
  const objectiveLoss = objective.discriminatorLoss(realOutputs, fakeOutputs);
  const penaltyValue = penalty === null ? null : penalty(critic, realInput, fakeInputs);
  return { loss: penaltyValue === null ? objectiveLoss : tf.add(objectiveLoss, penaltyValue), realOutputs, fakeOutputs, penalty: penaltyValue };
}

export interface DiscriminatorReport {
  loss: number;
  realScore: number;
  fakeScore: number;
  penalty: number;
}

/**
 * One D update on a fresh batch (its optimizer, then the penalty's weight constraint). With `report`
 * it also returns the loss and mean scores as numbers (a device sync, so only for the step logged).
 */
export function discriminatorUpdate(context: StepContext, report: boolean): DiscriminatorReport | null {
  const { config, players } = context;
  let result = null as DiscriminatorReport | null;
  tf.tidy(() => {
    const batch = drawBatch(context);
    // Made outside the optimizer's tape: D's update must not differentiate through G.
    const fakeInputs = fakeInput(context, batch.latents, batch.fakeNoise);
    const critic = criticOf(players);
    const objective = objectiveOf(config);
    const kept: tf.Tensor[] = [];
    const dVars = trainableVariables(players.discriminator);
    const loss = players.discriminatorOptimizer.minimize(
      () => {
        const terms = discriminatorTerms(config, critic, batch.realInput, fakeInputs, batch.penalty);
        // Kept past minimize's own cleanup for the report; disposed below.
        if (report) kept.push(tf.keep(objective.meanScore(terms.realOutputs)), tf.keep(objective.meanScore(terms.fakeOutputs)), tf.keep(terms.penalty ?? tf.scalar(0)));
        return terms.loss;
      },
      report,
      dVars,
    );
    constrainDiscriminator(config.penalty, dVars);
    if (!report) return;
    const [realScore, fakeScore, penalty] = kept.map((t) => t.dataSync()[0]!);
    kept.forEach((t) => t.dispose());
    result = { loss: loss!.dataSync()[0]!, realScore: realScore!, fakeScore: fakeScore!, penalty: penalty! };
  });
  return result;
}

export function lossesOf(d: DiscriminatorReport, generator: number): StepLosses {
  return { discriminator: d.loss, generator, realScore: d.realScore, fakeScore: d.fakeScore, penalty: d.penalty };
}
