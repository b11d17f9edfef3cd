// Unrolled GAN (Metz et al. 2017). D is trained as usual (k updates a step), but G's loss is taken
// against D_K, the discriminator after K further simulated SGD steps on the same batch:
//   θ_0 = θD,  θ_{i+1} = θ_i − η ∇_θ L_D(θ_i, θG),  G minimises L_G(θG, θ_K(θG)).
// Because θ_K depends on θG, G's gradient includes how D would react to G's move (the higher-order
// terms, differentiated through all K updates: third order when L_D carries a gradient penalty);
// that anticipation is what damps mode hopping. The first-order option treats θ_K as a constant
// (Metz et al.'s cheaper ablation). The simulated updates are plain SGD at strategy.learningRate
// (default: D's optimizer's learning rate) and respect weight clipping; they never touch D itself.
import * as tf from '@tensorflow/tfjs-core';
import { constrainWeightTensors } from '../penalties/index.js';
import { discriminatorUpdates } from './alternating.js';
import {
  discriminatorTerms,
  drawBatch,
  fakeInput,
  generatorLossOf,
  judgeOf,
  lossesOf,
  type GameBatch,
  type StepContext,
  type StepLosses,
} from './game.js';
import { trainableVariables, withSubstituteWeights } from './model-weights.js';

/** x as a constant: the same value, a zero gradient (tfjs has no stop_gradient op). */
const detach = tf.customGrad((...inputs) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as (x: tf.Tensor) => tf.Tensor;

export interface UnrollOptions {
  /** K ≥ 0 simulated D updates. */
  steps: number;
  /** Their SGD step size η. */
  learningRate: number;
  /** Treat θ_K as a constant in G's gradient. */
  firstOrder: boolean;
}

export function unrollOptions(context: StepContext): UnrollOptions {
  const { strategy, optimizer } = context.config;
  if (strategy.type !== 'unrolled') throw new Error(`unrollOptions: strategy is "${strategy.type}", not "unrolled"`);
  return {
    steps: strategy.steps,
    learningRate: strategy.learningRate ?? optimizer.discriminator.learningRate,
    firstOrder: strategy.firstOrder,
  };
}

/**
 * θ_K: D's trainable weights after `steps` SGD steps of η on D's loss for this batch, starting from D's
 * current weights. Differentiable in whatever `fakeInputs` depends on (G's weights, when taped).
 */
export function unrolledDiscriminatorWeights(
  context: StepContext,
  batch: GameBatch,
  fakeInputs: tf.Tensor,
  steps: number,
  learningRate: number,
): tf.Tensor[] {
  const { config, players } = context;
  const judge = judgeOf(config, players);
  let weights: tf.Tensor[] = trainableVariables(players.discriminator);
  for (let k = 0; k < steps; k++) {
    const loss = (...current: tf.Tensor[]): tf.Scalar =>
      withSubstituteWeights(players.discriminator, current, () => {
        const terms = discriminatorTerms(config, judge, batch, fakeInputs);
        // tf.grads refuses a weight the loss does not reach; tie each in with weight 0 (its gradient is then 0).
        return tf.add(terms.loss, tf.addN(current.map((w) => tf.sum(tf.mul(w, 0)))));
      });
    const gradients = tf.grads(loss)(weights);
    weights = constrainWeightTensors(
      config.penalty,
      weights.map((w, i) => tf.sub(w, tf.mul(learningRate, gradients[i]!))),
    );
  }
  return weights;
}

/**
 * G's unrolled loss L_G(θG, θ_K(θG)) for `batch`, a function of G's weights to differentiate (through
 * the K updates, or with θ_K held constant when `firstOrder`).
 */
export function unrolledGeneratorLoss(context: StepContext, batch: GameBatch, options: UnrollOptions): tf.Scalar {
  const { config, players } = context;
  const judge = judgeOf(config, players);
  const fakeInputs = fakeInput(context, batch);
  // First order: θ_K from a copy of the fakes that G's gradient cannot flow back through.
  const unrollFakes = options.firstOrder ? detach(fakeInputs) : fakeInputs;
  const weights = unrolledDiscriminatorWeights(context, batch, unrollFakes, options.steps, options.learningRate);
  const frozen = options.firstOrder ? weights.map((w) => detach(w)) : weights;
  return withSubstituteWeights(players.discriminator, frozen, () => generatorLossOf(config, judge, fakeInputs, batch.fakeLabels));
}

/** One unrolled step: k plain D updates, then G's update against D_K. */
export function takeUnrolledStep(context: StepContext): StepLosses {
  const d = discriminatorUpdates(context, context.config.training.discriminatorSteps);
  const options = unrollOptions(context);
  const generator = tf.tidy(() => {
    const batch = drawBatch(context);
    const loss = context.players.generatorOptimizer.minimize(
      () => unrolledGeneratorLoss(context, batch, options),
      true,
      trainableVariables(context.players.generator),
    );
    return loss!.dataSync()[0]!;
  });
  return lossesOf(d, { loss: generator });
}
