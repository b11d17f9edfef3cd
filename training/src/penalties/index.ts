// The penalty a config names, as the strategies use it: a term added to D's loss (gradient,
// one-sided, r1) or a constraint applied to D's weights after each update (weight-clipping).
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../run/config.js';
import { gradientPenalty, perSampleUniform, type Critic, type UniformSource } from './gradient-penalty.js';
import { r1Penalty } from './r1.js';
import { clipWeights } from './weight-clipping.js';

export { gradientPenalty, perSampleUniform, squaredInputGradientNorms, GRADIENT_NORM_STABILISER } from './gradient-penalty.js';
export type { Critic, GradientPenaltyOptions, UniformSource } from './gradient-penalty.js';
export { r1Penalty, type R1Options } from './r1.js';
export { clipWeights } from './weight-clipping.js';

export type PenaltyConfig = TrainConfig['penalty'];

/** The penalty term of one batch: D's (possibly substituted) forward pass, D's real and fake inputs → a scalar. */
export type PenaltyTerm = (critic: Critic, real: tf.Tensor, fake: tf.Tensor) => tf.Scalar;

/**
 * The loss term for one batch of `n` D inputs of rank `rank`, or null when the penalty adds none.
 * The gradient penalties' interpolation weights ε are drawn from `rng` here, once per sample, so a
 * strategy that evaluates the term several times (unrolled, best-response) uses the same ε each time.
 */
export function preparePenalty(config: PenaltyConfig, n: number, rank: number, rng: UniformSource): PenaltyTerm | null {
  switch (config.type) {
    case 'none':
    case 'weight-clipping':
      return null;
    case 'gradient':
    case 'one-sided': {
      const epsilon = perSampleUniform(n, rank, rng);
      const oneSided = config.type === 'one-sided';
      return (critic, real, fake) => gradientPenalty(critic, real, fake, { lambda: config.lambda, epsilon, oneSided });
    }
    case 'r1':
      return (critic, real) => r1Penalty(critic, real, { gamma: config.gamma });
  }
}

/** After a D update: the penalty's constraint on D's weights (weight clipping), else nothing. */
export function constrainDiscriminator(config: PenaltyConfig, variables: readonly tf.Variable[]): void {
  if (config.type === 'weight-clipping') clipWeights(variables, config.clip);
}

/** The same constraint on simulated weights (unrolled training), differentiably: clipping passes gradients where it does not bind. */
export function constrainWeightTensors(config: PenaltyConfig, weights: readonly tf.Tensor[]): tf.Tensor[] {
  return config.type === 'weight-clipping' ? weights.map((w) => tf.clipByValue(w, -config.clip, config.clip)) : [...weights];
}
