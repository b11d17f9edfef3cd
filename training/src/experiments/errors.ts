import { GantryError } from '@gantry/core';

/** An experiment that cannot run as asked: an unknown parameter, a bad shard, a folder holding other results. */
export class ExperimentError extends GantryError {
  override name = 'ExperimentError';
  constructor(message: string) {
    super('experiment', message);
  }
}
