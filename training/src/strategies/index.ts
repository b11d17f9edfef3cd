// The strategy a config names: how one training step is taken.
import type * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../run/config.js';
import { takeAlternatingStep } from './alternating.js';
import type { StepContext, StepLosses } from './game.js';
import { takeSimultaneousStep } from './simultaneous.js';
import { takeUnrolledStep } from './unrolled.js';
import { BestResponseStrategy } from './best-response.js';

export type { StepContext, StepLosses } from './game.js';

/** A named tensor, as tfjs optimizers' getWeights() returns them. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export interface Strategy {
  /** One generator step with whatever D updates the strategy takes around it. */
  step(context: StepContext): StepLosses;
  /** What an exact resume needs beyond the players and the Rng (e.g. a solver's warm start); [] if nothing. */
  getState(): NamedTensor[];
  /** Restores getState()'s tensors (copied; the caller keeps ownership). */
  setState(state: readonly NamedTensor[]): void;
  dispose(): void;
}

const stateless = { getState: (): NamedTensor[] => [], setState: (): void => {}, dispose: (): void => {} };

export function createStrategy(config: TrainConfig): Strategy {
  switch (config.strategy.type) {
    case 'alternating':
      return { ...stateless, step: takeAlternatingStep };
    case 'simultaneous':
      return { ...stateless, step: takeSimultaneousStep };
    case 'unrolled':
      return { ...stateless, step: takeUnrolledStep };
    case 'best-response':
      return new BestResponseStrategy();
  }
}
