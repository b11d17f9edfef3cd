// Mescheder et al.'s R1 regulariser ("Which training methods for GANs do actually converge?", 2018):
// γ/2·E_x~P_data[‖∇D(x)‖²] added to D's loss. It penalises D's input gradient on real data only,
// which makes the Dirac-GAN equilibrium locally convergent where unregularised training circles. No
// square root, so no NaN where the gradient vanishes.
import * as tf from '@tensorflow/tfjs-core';
import { assertFloatTensor, describe, squaredInputGradientNorms, type Critic } from './gradient-penalty.js';

export interface R1Options {
  /** Weight γ, a finite number ≥ 0 (the term is γ/2 times the mean squared norm; Mescheder et al. use 10 on images). */
  gamma: number;
}

/** γ/2 · mean over real samples of ‖∇D(x)‖², for D's raw output (logit or score); see squaredInputGradientNorms for the critic's requirements. */
export function r1Penalty(critic: Critic, real: tf.Tensor, options: R1Options): tf.Scalar {
  if (typeof critic !== 'function')
    throw new TypeError(`r1Penalty: critic must be a function from a batch tensor to scores, got ${describe(critic)}`);
  assertFloatTensor(real, 'real', 'r1Penalty');
  if (real.rank < 2)
    throw new RangeError(`r1Penalty: real must have rank ≥ 2 ([n, ...features]), got shape [${real.shape.join(', ')}]`);
  const gamma = options?.gamma;
  if (typeof gamma !== 'number' || !Number.isFinite(gamma) || gamma < 0) {
    throw new RangeError(`r1Penalty: options.gamma must be a finite number ≥ 0, got ${describe(gamma)}`);
  }
  return tf.tidy(() => tf.mul(gamma / 2, tf.mean<tf.Scalar>(squaredInputGradientNorms(critic, real, 'r1Penalty'))));
}
