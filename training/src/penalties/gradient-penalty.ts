// The WGAN-GP gradient penalty (Gulrajani et al. 2017). An optimal WGAN critic has gradient norm 1
// almost everywhere on lines between real and generated samples, so instead of clipping weights
// the critic's loss gets λ·E[(‖∇f(x̂)‖ − 1)²] at random points x̂ on those lines. The one-sided
// variant λ·E[ReLU(‖∇f(x̂)‖ − 1)] (not squared) only punishes norms above 1: in the project's
// "1-D case study" (docs/REFERENCES.md#the-1-d-case-study) the two-sided form has a spurious equilibrium that this one avoids.
//
// The penalty is itself a function of a gradient, so training the critic on it differentiates
// through tf.grad (double backprop): the backward ops of the inner tf.grad are recorded on the
// enclosing tape (optimizer.minimize / tf.variableGrads) like any other op. Critics built from
// Relu/LeakyRelu need the comparison gradients that selectBackend() registers; it also re-registers
// Tanh, Sigmoid and Exp gradients from their inputs (tfjs differentiates them from a saved output a
// second backward pass cannot trace, tensorflow/tfjs#3252). Elu and Softmax still have that flaw in
// tfjs 4.22: avoid them in critics trained with a penalty.
import * as tf from '@tensorflow/tfjs-core';

/** A critic as a function of a batch: sample i's score may depend on sample i only (see gradientPenalty). */
export type Critic = (x: tf.Tensor) => tf.Tensor;

export interface GradientPenaltyOptions {
  /** Weight λ of the penalty, a finite number ≥ 0 (Gulrajani et al. use 10). */
  lambda: number;
  /**
   * Interpolation weights ε ~ U[0, 1], one per sample, shape [n, 1, ..., 1] with the data's rank.
   * Supplied by the caller (see perSampleUniform) so a run's penalty is reproducible from its seed.
   */
  epsilon: tf.Tensor;
  /** λ·mean(ReLU(‖∇f‖ − 1)) instead of the two-sided λ·mean((‖∇f‖ − 1)²). Default false. */
  oneSided?: boolean;
}

/**
 * Added under the square root of the gradient norm. d‖g‖/dg = g/‖g‖ is 0/0 = NaN at g = 0 (a
 * critic that is flat somewhere, e.g. with zeroed weights or dead ReLUs), and that NaN reaches the
 * critic's weights even through a zero factor (0·NaN = NaN, so the one-sided ReLU does not stop
 * it). With sqrt(‖g‖² + c) the derivative is g/sqrt(‖g‖² + c), which is 0 at g = 0, while the
 * norm itself moves by at most sqrt(c) = 1e-6. c is far above float32's smallest normal (1.2e-38).
 */
export const GRADIENT_NORM_STABILISER = 1e-12;

/** The largest float32 below 1: where a float64 draw from [0, 1) would round up to 1. */
const LARGEST_FLOAT32_BELOW_ONE = 1 - 2 ** -24;

export function describe(value: unknown): string {
  if (value instanceof tf.Tensor) return `a ${value.dtype} tensor of shape [${value.shape.join(', ')}]`;
  if (typeof value === 'number') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function assertFloatTensor(value: unknown, name: string, caller = 'gradientPenalty'): asserts value is tf.Tensor {
  if (!(value instanceof tf.Tensor) || value.dtype !== 'float32') {
    throw new TypeError(`${caller}: ${name} must be a float32 tensor, got ${describe(value)}`);
  }
}

/**
 * λ·mean over samples of (‖∇f(x̂)‖ − 1)², or of ReLU(‖∇f(x̂)‖ − 1) when `oneSided`, where
 * x̂ = ε·real + (1 − ε)·fake per sample and ‖·‖ is the Euclidean norm over all non-batch axes.
 *
 * ∇f(x̂_i) is read off the gradient of Σ_i f(x̂_i) with respect to the batch, which is exact only
 * when sample i's score depends on x̂_i alone: no batch normalisation (or any other batch statistic)
 * in the critic, as Gulrajani et al. also require. `real` and `fake` must have equal shapes
 * [n, ...features] (rank ≥ 2); the critic must return one or more scores per sample ([n] or [n, ...]).
 *
 * Call it inside the critic's optimizer.minimize(() => loss + penalty) so its gradient with
 * respect to the critic's variables is taken; the result is a scalar, other intermediates are freed.
 */
export function gradientPenalty(critic: Critic, real: tf.Tensor, fake: tf.Tensor, options: GradientPenaltyOptions): tf.Scalar {
  if (typeof critic !== 'function') {
    throw new TypeError(`gradientPenalty: critic must be a function from a batch tensor to scores, got ${describe(critic)}`);
  }
  assertFloatTensor(real, 'real');
  assertFloatTensor(fake, 'fake');
  if (real.rank < 2) {
    throw new RangeError(`gradientPenalty: real must have rank ≥ 2 ([n, ...features]), got shape [${real.shape.join(', ')}]`);
  }
  if (!tf.util.arraysEqual(real.shape, fake.shape)) {
    throw new RangeError(
      `gradientPenalty: fake must have real's shape [${real.shape.join(', ')}], got [${fake.shape.join(', ')}]`,
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`gradientPenalty: options must be an object { lambda, epsilon, oneSided? }, got ${describe(options)}`);
  }
  const { lambda, epsilon, oneSided = false } = options;
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0) {
    throw new RangeError(`gradientPenalty: options.lambda must be a finite number ≥ 0, got ${describe(lambda)}`);
  }
  assertFloatTensor(epsilon, 'options.epsilon');
  const batchSize = real.shape[0]!;
  const expectedEpsilonShape = [batchSize, ...real.shape.slice(1).map(() => 1)];
  if (!tf.util.arraysEqual(epsilon.shape, expectedEpsilonShape)) {
    // A full-shape ε would mix real and fake per pixel, leaving the segment between the two samples.
    throw new RangeError(
      `gradientPenalty: options.epsilon must have shape [${expectedEpsilonShape.join(', ')}] (one weight per sample), ` +
        `got [${epsilon.shape.join(', ')}]`,
    );
  }
  if (typeof oneSided !== 'boolean') {
    throw new TypeError(`gradientPenalty: options.oneSided must be a boolean or undefined, got ${describe(oneSided)}`);
  }

  return tf.tidy((): tf.Scalar => {
    const interpolated = tf.add(tf.mul(epsilon, real), tf.mul(tf.sub(1, epsilon), fake));
    const norms = tf.sqrt(tf.add(squaredInputGradientNorms(critic, interpolated, 'gradientPenalty'), GRADIENT_NORM_STABILISER));
    const excess = tf.sub(norms, 1);
    const perSample = oneSided ? tf.relu(excess) : tf.square(excess);
    return tf.mul(lambda, tf.mean(perSample));
  });
}

/**
 * ‖∇f(x_i)‖² for every sample i of `x` ([n, ...features]), shape [n]. ∇f(x_i) is read off the
 * gradient of Σ_i f(x_i) with respect to the batch, which is exact only when sample i's score depends
 * on x_i alone (no batch statistics in the critic). Differentiable in the critic's weights (double
 * backprop); `caller` names the function in error messages.
 */
export function squaredInputGradientNorms(critic: Critic, x: tf.Tensor, caller: string): tf.Tensor1D {
  const batchSize = x.shape[0]!;
  return tf.tidy(() => {
    const summedScores = (input: tf.Tensor): tf.Tensor => {
      const scores = critic(input);
      if (!(scores instanceof tf.Tensor) || scores.rank < 1 || scores.shape[0] !== batchSize) {
        // A critic that averages over the batch itself would silently scale ∇f by 1/n.
        throw new RangeError(`${caller}: critic must return scores of shape [${batchSize}, ...], got ${describe(scores)}`);
      }
      // tf.grad throws, instead of returning zeros, for an input the result does not depend on. A
      // critic that ignores its input is legitimate (∇f = 0), so x is tied in with weight zero.
      return tf.add(tf.sum(scores), tf.sum(tf.mul(input, 0)));
    };
    const inputGradients = tf.grad(summedScores)(x);
    const featureAxes = Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
    return tf.sum(tf.square(inputGradients), featureAxes) as tf.Tensor1D;
  });
}

/** Any source of uniform floats in [0, 1), such as Rng from @gantry/core. */
export interface UniformSource {
  nextFloat(): number;
}

/**
 * ε for gradientPenalty: n draws of U[0, 1) from `rng`, in sample order, as a float32 tensor of
 * shape [n, 1, ..., 1] with `rank` axes (the data's rank, so it broadcasts over every feature axis).
 * Draws that float32 would round up to 1 are kept just below it.
 */
export function perSampleUniform(n: number, rank: number, rng: UniformSource): tf.Tensor {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`perSampleUniform: n (the batch size) must be an integer ≥ 1, got ${describe(n)}`);
  }
  if (!Number.isInteger(rank) || rank < 2) {
    throw new RangeError(
      `perSampleUniform: rank (the data's rank, batch axis included) must be an integer ≥ 2, got ${describe(rank)}`,
    );
  }
  if (typeof rng !== 'object' || rng === null || typeof rng.nextFloat !== 'function') {
    throw new TypeError(`perSampleUniform: rng must have a nextFloat() method, got ${describe(rng)}`);
  }
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const draw = rng.nextFloat();
    if (typeof draw !== 'number' || !(draw >= 0 && draw < 1)) {
      throw new RangeError(`perSampleUniform: rng.nextFloat() must return a number in [0, 1), got ${describe(draw)}`);
    }
    values[i] = Math.min(Math.fround(draw), LARGEST_FLOAT32_BELOW_ONE);
  }
  return tf.tensor(values, [n, ...Array.from({ length: rank - 1 }, () => 1)], 'float32');
}
