// The training state before a step, held in memory so that a step whose losses or weights turn
// NaN/Inf can be undone and the last good state saved as a checkpoint. Weights and optimizer slots
// are cloned (a reference, or a copy on backends whose Identity copies), which costs far less than
// the step itself.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { RngState } from '@gantry/core';
import type { NamedTensor, Strategy, StepLosses } from '../strategies/index.js';
import type { Players } from './players.js';

export interface TrainingSnapshot {
  step: number;
  rng: RngState;
  models: { model: tfl.LayersModel; weights: tf.Tensor[] }[];
  optimizers: { optimizer: tf.Optimizer; weights: NamedTensor[] }[];
  strategy: NamedTensor[];
}

// The EMA generator is left out: it is updated only after a step has passed the check, so a step
// that is undone never touched it.
function models(players: Players): tfl.LayersModel[] {
  return [players.generator, players.discriminator];
}

export async function takeSnapshot(players: Players, strategy: Strategy, rng: RngState, step: number): Promise<TrainingSnapshot> {
  const optimizers = [];
  for (const optimizer of [players.generatorOptimizer, players.discriminatorOptimizer]) {
    const live = await optimizer.getWeights();
    // getWeights() returns the slot variables themselves (and a fresh iteration count): clone the slots.
    optimizers.push({
      optimizer,
      weights: live.map(({ name, tensor }, i) => ({ name, tensor: i === 0 ? tensor : tf.clone(tensor) })),
    });
  }
  return {
    step,
    rng,
    models: models(players).map((model) => ({ model, weights: model.weights.map((w) => tf.clone(w.read())) })),
    optimizers,
    strategy: strategy.getState(),
  };
}

/** Puts the snapshot's state back into the players and the strategy (the caller restores the Rng from snapshot.rng). */
export async function restoreSnapshot(snapshot: TrainingSnapshot, strategy: Strategy): Promise<void> {
  for (const { model, weights } of snapshot.models) model.setWeights(weights);
  for (const { optimizer, weights } of snapshot.optimizers) await optimizer.setWeights(weights);
  strategy.setState(snapshot.strategy);
}

export function disposeSnapshot(snapshot: TrainingSnapshot): void {
  for (const { weights } of snapshot.models) weights.forEach((w) => w.dispose());
  for (const { weights } of snapshot.optimizers) weights.forEach((w) => w.tensor.dispose());
  snapshot.strategy.forEach((s) => s.tensor.dispose());
}

const quantityNames: Record<string, string> = {
  discriminator: 'the discriminator loss',
  generator: 'the generator loss',
  realScore: 'the mean D(x)',
  fakeScore: 'the mean D(G(z))',
  penalty: 'the penalty',
  classification: "the auxiliary classifier's class cross-entropy",
};

/** What went non-finite in a step, e.g. "the generator loss became NaN"; undefined if everything is finite. */
export function firstNonFinite(losses: StepLosses, players: Players): string | undefined {
  // Gradient norms are diagnostics: their sum of squares overflows float32 long before the weights do.
  const loss = Object.entries(losses).find(([key, v]) => !key.endsWith('GradientNorm') && !Number.isFinite(v));
  if (loss !== undefined) return `${quantityNames[loss[0]] ?? loss[0]} became ${loss[1]}`;
  for (const [name, model] of [
    ['generator', players.generator],
    ['discriminator', players.discriminator],
  ] as const) {
    // A sum is NaN or ±Inf when any term is; one reduction per weight keeps this cheap.
    const total = tf.tidy(() => tf.addN(model.weights.map((w) => tf.sum(w.read()))).dataSync()[0]!);
    if (!Number.isFinite(total)) return `the ${name} weights became non-finite (their sum is ${total})`;
  }
  return undefined;
}
