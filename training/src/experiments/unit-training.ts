// Training one experiment unit with the project's trainer: into `units/<id>/run/`, resuming from its
// newest checkpoint when a killed experiment is run again, with a progress line every 30 s.
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { latestCheckpoint } from '../run/checkpoint.js';
import type { TrainConfig } from '../run/config.js';
import { train, type TrainResult } from '../run/trainer.js';
import type { UnitContext } from './experiment.js';

const REPORT_EVERY_SECONDS = 30;

/** Trains (or resumes) the unit `id`'s run with `config` on the current tfjs backend. */
export async function trainUnit(id: string, config: TrainConfig, context: UnitContext): Promise<TrainResult> {
  const runDir = join(context.unitDir, 'run');
  const existing = await latestCheckpoint(runDir);
  let lastReport = 0;
  return train({
    runDir,
    config,
    backend: tf.getBackend(),
    resume: existing !== undefined,
    onEvent: (event) => {
      if (event.type === 'start' && event.resumedFrom !== undefined)
        context.log(`${id}: resuming at step ${event.fromStep} of ${event.totalSteps}`);
      if (
        event.type === 'step' &&
        (event.elapsedSeconds - lastReport >= REPORT_EVERY_SECONDS || event.step === event.totalSteps)
      ) {
        lastReport = event.elapsedSeconds;
        const stepsPerSecond = event.imagesPerSecond / config.training.batchSize;
        context.log(`${id}: step ${event.step}/${event.totalSteps}, ${stepsPerSecond.toFixed(2)} steps/s`);
      }
    },
  });
}
