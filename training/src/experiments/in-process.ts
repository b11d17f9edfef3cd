// Training inside an experiment, without a run folder: the players, strategy and data a config
// describes, stepped by the project's strategies exactly as the trainer steps them, so an experiment
// can read the weights between steps (trajectories, gradient norms). Experiments that only need the
// final model use the trainer itself (run/trainer.ts), which also checkpoints.
import { Rng } from '@gantry/core';
import { loadDataset, type Dataset } from '../data/datasets.js';
import { parseTrainConfig, type TrainConfig, type TrainConfigInput } from '../run/config.js';
import { buildPlayersFor, disposePlayers, type Players } from '../run/players.js';
import { createStrategy, type Strategy, type StepLosses } from '../strategies/index.js';
import type { StepContext } from '../strategies/game.js';

export interface InProcessRun {
  config: TrainConfig;
  data: Dataset;
  players: Players;
  strategy: Strategy;
  rng: Rng;
  /** Generator steps taken so far. */
  step: number;
}

export async function startRun(input: TrainConfigInput, source: string): Promise<InProcessRun> {
  const config = parseTrainConfig(input, source);
  const data = await loadDataset(config.data, { seed: config.seed });
  // The trainer's stream: the run seed drives batches as it does in `gantry train`.
  return {
    config,
    data,
    players: buildPlayersFor(config, data),
    strategy: createStrategy(config),
    rng: Rng.fromSeed(config.seed),
    step: 0,
  };
}

export function contextOf(run: InProcessRun): StepContext {
  return { config: run.config, players: run.players, data: run.data, rng: run.rng, step: run.step };
}

/** One generator step of the run's strategy; a NaN/Inf loss is an error naming the step. */
export function takeStep(run: InProcessRun): StepLosses {
  const losses = run.strategy.step(contextOf(run));
  run.step += 1;
  const bad = Object.entries(losses).find(([, v]) => !Number.isFinite(v));
  if (bad !== undefined) throw new Error(`${run.config.name}: the ${bad[0]} loss became ${bad[1]} at step ${run.step}`);
  return losses;
}

export function endRun(run: InProcessRun): void {
  run.strategy.dispose();
  disposePlayers(run.players);
}

/** Calls `fn` with a fresh run and always frees it. */
export async function withRun<T>(input: TrainConfigInput, source: string, fn: (run: InProcessRun) => Promise<T> | T): Promise<T> {
  const run = await startRun(input, source);
  try {
    return await fn(run);
  } finally {
    endRun(run);
  }
}
