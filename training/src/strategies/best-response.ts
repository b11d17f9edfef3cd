// Training on the best-response manifold. With D at a best response θD*(θG) (∇_θD L_D = 0), G should
// descend its loss along the manifold, L_G(θG, θD*(θG)), whose gradient by the implicit function
// theorem is
//   ∇_θG L_G − H_GD w,   where H_DD w = ∇_θD L_G,
// H_DD = ∂²L_D/∂θD² and H_GD = ∂²L_D/∂θG∂θD (the mixed derivative): G's plain gradient minus its
// component in the span of the mixed second derivative that D's response would cancel. w solves a
// symmetric, possibly indefinite or singular system: MINRES with Hessian-vector products (double
// backprop through D, third order with a gradient penalty), a fixed number of iterations, warm-started
// from the previous step's w (checkpointed, so a resume is exact). H_GD w is the θG-gradient of
// ⟨∇_θD L_D, w⟩, so G's whole update is the gradient of L_G − ⟨∇_θD L_D, w⟩ with w held fixed.
// Each step first retracts D onto the manifold with strategy.retractionSteps ordinary D updates.
// In the 1-D case study this finds the spurious equilibrium of the two-sided penalty (docs/REFERENCES.md#the-1-d-case-study).
import * as tf from '@tensorflow/tfjs-core';
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
import type { NamedTensor, Strategy } from './index.js';
import { minres } from './minres.js';
import { trainableVariables, withSubstituteWeights } from './model-weights.js';

function flatten(tensors: readonly tf.Tensor[]): Float64Array {
  const out = new Float64Array(tensors.reduce((n, t) => n + t.size, 0));
  let offset = 0;
  for (const t of tensors) {
    out.set(t.dataSync(), offset);
    offset += t.size;
  }
  return out;
}

function split(vector: Float32Array | Float64Array, like: readonly tf.Tensor[]): tf.Tensor[] {
  let offset = 0;
  return like.map((t) => {
    const part = tf.tensor(Float32Array.from(vector.subarray(offset, offset + t.size)), t.shape);
    offset += t.size;
    return part;
  });
}

/** fn's result, with every tensor fn made disposed (tf.tidy for results that are not tensors). */
function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}

/** Σ_i ⟨a_i, b_i⟩ as a scalar tensor. */
const innerProduct = (a: readonly tf.Tensor[], b: readonly tf.Tensor[]): tf.Scalar =>
  tf.addN(a.map((ai, i) => tf.sum(tf.mul(ai, b[i]!)))) as tf.Scalar;

/** tf.grads refuses a weight a loss does not reach; tying each in with weight 0 makes its gradient 0 instead. */
const tiedIn = (loss: tf.Scalar, weights: readonly tf.Tensor[]): tf.Scalar =>
  tf.add(loss, tf.addN(weights.map((w) => tf.sum(tf.mul(w, 0)))));

export const FLOAT32_SINGULAR_TOLERANCE = 1e-5;

export interface BestResponseGradient {
  /** G's gradient along the manifold, by G's variable names. */
  gradient: NamedTensor[];
  /** The solution of H_DD w = ∇_θD L_G (float32, the next warm start). */
  solution: Float32Array;
  generatorLoss: number;
}

/**
 * G's best-response gradient for `batch`, with `iterations` MINRES iterations from `warmStart`
 * (null: zeros). The gradient tensors are the caller's to dispose; call it inside a tf.tidy.
 */
export function bestResponseGradient(
  context: StepContext,
  batch: GameBatch,
  warmStart: Float32Array | null,
  iterations: number,
): BestResponseGradient {
  const { config, players } = context;
  const judge = judgeOf(config, players);
  const dVars = trainableVariables(players.discriminator);
  const gVars = trainableVariables(players.generator);
  const dLoss =
    (fakeInputs: tf.Tensor) =>
    (...weights: tf.Tensor[]): tf.Scalar =>
      withSubstituteWeights(players.discriminator, weights, () =>
        tiedIn(discriminatorTerms(config, judge, batch, fakeInputs).loss, weights),
      );

  // G's samples as constants: the system for w is taken at the current θG.
  const fixedFakes = fakeInput(context, batch);
  const gLossOfD = (...weights: tf.Tensor[]): tf.Scalar =>
    withSubstituteWeights(players.discriminator, weights, () =>
      tiedIn(generatorLossOf(config, judge, fixedFakes, batch.fakeLabels), weights),
    );
  const b = scoped(() => flatten(tf.grads(gLossOfD)(dVars)));
  // H_DD v = ∇_θD ⟨∇_θD L_D, v⟩.
  const applyHessian = (v: Float64Array): Float64Array =>
    scoped(() => {
      const direction = split(v, dVars);
      const directional = (...weights: tf.Tensor[]): tf.Scalar =>
        tiedIn(innerProduct(tf.grads(dLoss(fixedFakes))(weights), direction), weights);
      return flatten(tf.grads(directional)(dVars));
    });
  const start = warmStart ?? new Float32Array(b.length);
  if (start.length !== b.length)
    throw new RangeError(`best-response: the warm start has ${start.length} entries but D has ${b.length} weights`);
  // The products are float32: curvature below ~1e-5 of the system's scale is rounding noise (a
  // piecewise-linear loss such as the one-sided penalty's has none), not a direction to divide by.
  const solution = Float32Array.from(
    minres(applyHessian, b, Float64Array.from(start), iterations, 1e-12, FLOAT32_SINGULAR_TOLERANCE).x,
  );

  return scoped(() => {
    const w = split(solution, dVars);
    let generatorLoss = tf.scalar(0);
    const { grads } = tf.variableGrads(() => {
      const fakeInputs = fakeInput(context, batch);
      generatorLoss = tf.keep(generatorLossOf(config, judge, fakeInputs, batch.fakeLabels));
      const coupling = innerProduct(tf.grads(dLoss(fakeInputs))(dVars), w);
      return tf.sub(generatorLoss, coupling);
    }, gVars);
    const loss = generatorLoss.dataSync()[0]!;
    generatorLoss.dispose();
    return { gradient: gVars.map((v) => ({ name: v.name, tensor: tf.keep(grads[v.name]!) })), solution, generatorLoss: loss };
  });
}

export class BestResponseStrategy implements Strategy {
  private warmStart: Float32Array | null = null;

  step(context: StepContext): StepLosses {
    const { strategy } = context.config;
    if (strategy.type !== 'best-response') throw new Error(`BestResponseStrategy: strategy is "${strategy.type}"`);
    const d = discriminatorUpdates(context, strategy.retractionSteps);
    const generatorLoss = scoped(() => {
      const result = bestResponseGradient(context, drawBatch(context), this.warmStart, strategy.solverIterations);
      this.warmStart = result.solution;
      context.players.generatorOptimizer.applyGradients(result.gradient);
      result.gradient.forEach((g) => g.tensor.dispose());
      return result.generatorLoss;
    });
    return lossesOf(d, { loss: generatorLoss });
  }

  getState(): NamedTensor[] {
    return this.warmStart === null ? [] : [{ name: 'warmStart', tensor: tf.tensor1d(this.warmStart) }];
  }

  setState(state: readonly NamedTensor[]): void {
    const saved = state.find((s) => s.name === 'warmStart');
    this.warmStart = saved === undefined ? null : Float32Array.from(saved.tensor.dataSync());
  }

  dispose(): void {}
}
