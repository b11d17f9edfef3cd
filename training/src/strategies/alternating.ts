// Goodfellow et al.'s alternating schedule: k discriminator updates, then one generator update.
// With WGAN's critic warm-up, D gets 100 updates before each of G's first 25 updates and before every
// 500th (Arjovsky et al.'s code), so the critic is near its optimum when its gradient matters most.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@gantry/core';
import type { Dataset } from '../data/datasets.js';
import type { TrainConfig } from '../run/config.js';
import type { Players } from '../run/players.js';
import {
  discriminatorUpdate,
  drawGeneratorBatch,
  fakeInput,
  generatorLossOf,
  judgeOf,
  lossesOf,
  minimizeReporting,
  type StepContext,
  type StepLosses,
} from './game.js';
import { trainableVariables } from './model-weights.js';

export type { StepLosses } from './game.js';

export const WGAN_WARMUP = { criticSteps: 100, firstGeneratorSteps: 25, every: 500 } as const;

/** D updates before G's update number `step` (0-based). */
export function discriminatorStepsAt(config: TrainConfig, step: number): number {
  const warmup = config.strategy.type === 'alternating' && config.strategy.criticWarmup;
  if (warmup && (step < WGAN_WARMUP.firstGeneratorSteps || step % WGAN_WARMUP.every === 0)) return WGAN_WARMUP.criticSteps;
  return config.training.discriminatorSteps;
}

/** `count` D updates; the last one's figures are returned. */
export function discriminatorUpdates(context: StepContext, count: number) {
  for (let k = 1; k < count; k++) discriminatorUpdate(context, false);
  return discriminatorUpdate(context, true)!;
}

/** One plain generator update against the current D; returns G's loss and gradient norm. */
export function generatorUpdate(context: StepContext): { loss: number; gradientNorm: number } {
  const { config, players } = context;
  return tf.tidy(() => {
    const draw = drawGeneratorBatch(context);
    const judge = judgeOf(config, players);
    const { loss, gradientNorm } = minimizeReporting(
      players.generatorOptimizer,
      () => generatorLossOf(config, judge, fakeInput(context, draw), draw.fakeLabels),
      true,
      trainableVariables(players.generator),
    );
    return { loss: loss!.dataSync()[0]!, gradientNorm: gradientNorm!.dataSync()[0]! };
  });
}

/** One step of the alternating strategy. */
export function takeAlternatingStep(context: StepContext): StepLosses {
  return lossesOf(discriminatorUpdates(context, discriminatorStepsAt(context.config, context.step)), generatorUpdate(context));
}

/** takeAlternatingStep with its context spelled out; `step` is the number of generator steps already taken (it drives the warm-up and noise schedules). */
export function alternatingStep(config: TrainConfig, players: Players, data: Dataset, rng: Rng, step = 0): StepLosses {
  return takeAlternatingStep({ config, players, data, rng, step });
}
