// The pieces every strategy composes: one batch of the game as D sees it, the two players' losses on
// it (objective + penalty, through D's input transforms), and a plain D update.
//
// Class-conditional training (model.conditional; the contract in architectures/conditional.ts): real
// batches carry their labels, fakes get labels drawn with the data's class frequencies, and D is read
// through a Judge that feeds a projection D the labels beside the images and splits an
// auxiliary-classifier D's two outputs. A projection D then needs nothing else; an auxiliary-classifier
// D adds λ times the class cross-entropy to both players' losses. Unconditional runs take exactly the
// ops and random draws they always took.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@gantry/core';
import { sampleShape, type Dataset } from '../data/datasets.js';
import { auxiliaryClassifierLoss } from '../objectives/auxiliary-classifier.js';
import { objectives, type Objective } from '../objectives/index.js';
import { constrainDiscriminator, preparePenalty, type Critic, type PenaltyTerm } from '../penalties/index.js';
import type { TrainConfig } from '../run/config.js';
import type { Players } from '../run/players.js';
import { fakeLabelBatch, latentBatch, normalNoise, realBatch } from './batches.js';
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
  /** Auxiliary-classifier D only: the class cross-entropy of the last D step, real plus fake, before λ. */
  classification?: number;
  /** Global L2 norms of the last D update's gradient and of G's (strategies that update G by plain gradients). */
  discriminatorGradientNorm?: number;
  generatorGradientNorm?: number;
}

/** What G's samples for one batch are made from. */
export interface FakeDraw {
  /** n·m latents for the fake samples. */
  latents: tf.Tensor2D;
  /** Class-conditional runs: the classes G is asked for, [n, 1] int32, drawn with the data's class frequencies (else null). */
  fakeLabels: tf.Tensor2D | null;
  /** Instance noise for the packed fakes (null when σ is 0). */
  fakeNoise: tf.Tensor | null;
}

/** One batch as D sees it. Every random draw is made here, in a fixed order, so strategies that reuse a batch reuse its randomness too. */
export interface GameBatch extends FakeDraw {
  /** Real samples, packed and noised: D's real input. */
  realInput: tf.Tensor;
  /** Class-conditional runs: the real samples' labels, [n, 1] int32 (else null). */
  realLabels: tf.Tensor2D | null;
  /** The penalty term with its ε drawn (null when the penalty adds no loss term). */
  penalty: PenaltyTerm | null;
}

/** D's outputs for one batch: the scores the objective reads and, from an auxiliary-classifier D, the class logits. */
export interface Judgement {
  scores: tf.Tensor;
  classLogits: tf.Tensor | null;
}

/** D's forward pass in training mode on inputs and their labels (null for an unconditional D); under withSubstituteWeights it runs at the substitutes. */
export type Judge = (inputs: tf.Tensor, labels: tf.Tensor | null) => Judgement;

export function objectiveOf(config: TrainConfig): Objective {
  return objectives[config.objective];
}

/** An unconditional D's forward pass in training mode; under withSubstituteWeights it runs at the substitutes. */
export function criticOf(players: Players): Critic {
  return (x) => players.discriminator.apply(x, { training: true }) as tf.Tensor;
}

function requireLabels(labels: tf.Tensor | null): tf.Tensor {
  if (labels === null) throw new Error('a projection discriminator needs the labels of the images it judges');
  return labels;
}

/** D as the config builds it, read as a Judge. */
export function judgeOf(config: TrainConfig, players: Players): Judge {
  const discriminator = players.discriminator;
  switch (config.model.conditional?.discriminator) {
    case undefined: {
      const critic = criticOf(players);
      return (inputs) => ({ scores: critic(inputs), classLogits: null });
    }
    case 'projection':
      return (inputs, labels) => ({
        scores: discriminator.apply([inputs, requireLabels(labels)], { training: true }) as tf.Tensor,
        classLogits: null,
      });
    case 'auxiliary-classifier':
      return (inputs) => {
        const [scores, classLogits] = discriminator.apply(inputs, { training: true }) as tf.Tensor[];
        return { scores: scores!, classLogits: classLogits! };
      };
  }
}

/** λ, the weight of an auxiliary-classifier D's class term in both players' losses. */
function auxiliaryWeight(config: TrainConfig): number {
  const conditional = config.model.conditional;
  return conditional?.discriminator === 'auxiliary-classifier' ? conditional.auxiliaryWeight : 0;
}

/** The class cross-entropy of a judgement against the labels (null when D has no class head). */
function classificationOf(judgement: Judgement, labels: tf.Tensor | null): tf.Scalar | null {
  if (judgement.classLogits === null) return null;
  return auxiliaryClassifierLoss(judgement.classLogits, requireLabels(labels));
}

function noiseSigma(context: StepContext): number {
  return instanceNoiseSigma(context.config.transforms.instanceNoise, context.step, context.config.training.steps);
}

/** Labels for n generated samples when the run is class-conditional (drawn after the latents), else null. */
function drawGeneratorLabels(context: StepContext, n: number): tf.Tensor2D | null {
  return context.config.model.conditional === undefined ? null : fakeLabelBatch(context.data, context.rng, n);
}

export function drawBatch(context: StepContext): GameBatch {
  const { config, data, rng } = context;
  const m = config.transforms.packing;
  const n = config.training.batchSize;
  const sigma = noiseSigma(context);
  const real = realBatch(data, rng, n * m, config.model.conditional !== undefined);
  const latents = latentBatch(config, rng, n * m);
  const fakeLabels = drawGeneratorLabels(context, n * m);
  const inputShape = [n, ...packedShape(real.samples.shape.slice(1), m)];
  const realNoise = sigma > 0 ? normalNoise(inputShape, sigma, rng) : null;
  const fakeNoise = sigma > 0 ? normalNoise(inputShape, sigma, rng) : null;
  const realInput = toDiscriminatorInput(real.samples, m, realNoise);
  const penalty = preparePenalty(config.penalty, n, realInput.rank, rng);
  return { realInput, realLabels: real.labels, latents, fakeLabels, fakeNoise, penalty };
}

/** Latents, labels and fake-input noise for a generator-only update. */
export function drawGeneratorBatch(context: StepContext): FakeDraw {
  const { config, rng } = context;
  const m = config.transforms.packing;
  const n = config.training.batchSize;
  const sigma = noiseSigma(context);
  const latents = latentBatch(config, rng, n * m);
  const fakeLabels = drawGeneratorLabels(context, n * m);
  const fakeNoise = sigma > 0 ? normalNoise([n, ...packedShape(sampleShape(context.data), m)], sigma, rng) : null;
  return { latents, fakeLabels, fakeNoise };
}

/** G's samples for a draw as D sees them (packed, noised); differentiable in G's weights. */
export function fakeInput(context: StepContext, draw: FakeDraw): tf.Tensor {
  const input = draw.fakeLabels === null ? draw.latents : [draw.latents, draw.fakeLabels];
  const fake = context.players.generator.apply(input, { training: true }) as tf.Tensor;
  return toDiscriminatorInput(fake, context.config.transforms.packing, draw.fakeNoise);
}

export interface DiscriminatorTerms {
  /** Objective plus penalty (plus λ·classification): what D minimises. */
  loss: tf.Scalar;
  realOutputs: tf.Tensor;
  fakeOutputs: tf.Tensor;
  penalty: tf.Scalar | null;
  /** Auxiliary-classifier D: the class cross-entropy on the real and the fake samples, summed, before λ (else null). */
  classification: tf.Scalar | null;
}

/** D's loss on one batch, with G's samples `fakeInputs` (made from batch.fakeLabels), for the D forward pass `judge`. */
export function discriminatorTerms(
  config: TrainConfig,
  judge: Judge,
  batch: GameBatch,
  fakeInputs: tf.Tensor,
): DiscriminatorTerms {
  const objective = objectiveOf(config);
  const real = judge(batch.realInput, batch.realLabels);
  const fake = judge(fakeInputs, batch.fakeLabels);
  const objectiveLoss = objective.discriminatorLoss(real.scores, fake.scores);
  const realClassification = classificationOf(real, batch.realLabels);
  const classification =
    realClassification === null ? null : tf.add<tf.Scalar>(realClassification, classificationOf(fake, batch.fakeLabels)!);
  const adversarial =
    classification === null ? objectiveLoss : tf.add<tf.Scalar>(objectiveLoss, tf.mul(auxiliaryWeight(config), classification));
  // The penalty sees D as a function of its image input alone: the labels stay fixed at the real
  // samples' (also for the points between real and fake), and only the adversarial score is penalised.
  const critic: Critic = (x) => judge(x, batch.realLabels).scores;
  const penaltyValue = batch.penalty === null ? null : batch.penalty(critic, batch.realInput, fakeInputs);
  return {
    loss: penaltyValue === null ? adversarial : tf.add(adversarial, penaltyValue),
    realOutputs: real.scores,
    fakeOutputs: fake.scores,
    penalty: penaltyValue,
    classification,
  };
}

/** G's loss for its samples `fakeInputs` made from `fakeLabels`: the objective's, plus λ·classification against an auxiliary-classifier D. */
export function generatorLossOf(
  config: TrainConfig,
  judge: Judge,
  fakeInputs: tf.Tensor,
  fakeLabels: tf.Tensor | null,
): tf.Scalar {
  const fake = judge(fakeInputs, fakeLabels);
  const adversarial = objectiveOf(config).generatorLoss(fake.scores);
  const classification = classificationOf(fake, fakeLabels);
  return classification === null ? adversarial : tf.add(adversarial, tf.mul(auxiliaryWeight(config), classification));
}

export interface DiscriminatorReport {
  loss: number;
  realScore: number;
  fakeScore: number;
  penalty: number;
  /** See DiscriminatorTerms.classification (null without a class head). */
  classification: number | null;
  /** Global L2 norm of D's gradient in the reported update. */
  gradientNorm: number;
}

/** The L2 norm of all the gradients together. */
export function globalNorm(grads: tf.NamedTensorMap): tf.Scalar {
  return tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
}

/**
 * optimizer.minimize, except that with `report` it also returns the loss and the global L2 norm of the
 * gradient (minimize is computeGradients then applyGradients; this splits them to see the gradients).
 */
export function minimizeReporting(
  optimizer: tf.Optimizer,
  f: () => tf.Scalar,
  report: boolean,
  variables: tf.Variable[],
): { loss: tf.Scalar | null; gradientNorm: tf.Scalar | null } {
  if (!report) return { loss: optimizer.minimize(f, false, variables), gradientNorm: null };
  const { value, grads } = optimizer.computeGradients(f, variables);
  const gradientNorm = globalNorm(grads);
  optimizer.applyGradients(grads);
  tf.dispose(Object.values(grads));
  return { loss: value, gradientNorm };
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
    const fakeInputs = fakeInput(context, batch);
    const judge = judgeOf(config, players);
    const objective = objectiveOf(config);
    const kept: tf.Tensor[] = [];
    const dVars = trainableVariables(players.discriminator);
    const { loss, gradientNorm } = minimizeReporting(
      players.discriminatorOptimizer,
      () => {
        const terms = discriminatorTerms(config, judge, batch, fakeInputs);
        // Kept past minimize's own cleanup for the report; disposed below.
        if (report) {
          kept.push(
            tf.keep(objective.meanScore(terms.realOutputs)),
            tf.keep(objective.meanScore(terms.fakeOutputs)),
            tf.keep(terms.penalty ?? tf.scalar(0)),
          );
          if (terms.classification !== null) kept.push(tf.keep(terms.classification));
        }
        return terms.loss;
      },
      report,
      dVars,
    );
    constrainDiscriminator(config.penalty, dVars);
    if (!report) return;
    const [realScore, fakeScore, penalty, classification] = kept.map((t) => t.dataSync()[0]!);
    kept.forEach((t) => t.dispose());
    result = {
      loss: loss!.dataSync()[0]!,
      realScore: realScore!,
      fakeScore: fakeScore!,
      penalty: penalty!,
      classification: classification ?? null,
      gradientNorm: gradientNorm!.dataSync()[0]!,
    };
  });
  return result;
}

export function lossesOf(d: DiscriminatorReport, generator: { loss: number; gradientNorm?: number }): StepLosses {
  const losses = {
    discriminator: d.loss,
    generator: generator.loss,
    realScore: d.realScore,
    fakeScore: d.fakeScore,
    penalty: d.penalty,
    discriminatorGradientNorm: d.gradientNorm,
    ...(generator.gradientNorm === undefined ? {} : { generatorGradientNorm: generator.gradientNorm }),
  };
  return d.classification === null ? losses : { ...losses, classification: d.classification };
}
