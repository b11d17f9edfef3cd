// Reading a run folder back (train --resume, export --run, sample --run): its config.json and its
// checkpoints' state.json, each checked, so a missing or damaged file is reported by name with what to do.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GantryError, messageOf } from '@gantry/core';
import { z } from 'zod';
import { parseTrainConfig, type TrainConfig } from './config.js';

/** A run folder that cannot be used as asked: missing, not a folder, damaged, no loadable checkpoint... */
export class RunFolderError extends GantryError {
  override name = 'RunFolderError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('run-folder', message, options);
  }
}

/** A JSON file of a run folder, parsed; `what` says what the file is for the message. */
async function readRunJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new RunFolderError(`${path}: ${missing ? 'missing' : `cannot be read (${messageOf(error)})`}; ${what}`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RunFolderError(`${path} is not valid JSON (${messageOf(error)}); the file is damaged: ${what}`, { cause: error });
  }
}

/** The config a run was trained with (its config.json, validated). */
export async function readRunConfig(runDir: string): Promise<TrainConfig> {
  const path = join(runDir, 'config.json');
  const json = await readRunJson(
    path,
    `every run folder has the config it was trained with; is ${runDir} a run folder (gantry train --run)?`,
  );
  return parseTrainConfig(json, path);
}

const checkpointStateSchema = z.looseObject({
  step: z.number().int().min(0),
  wallSeconds: z.number().min(0),
  rng: z.unknown().refine((value) => value !== undefined, 'the RNG state'),
  backend: z.string(),
  savedAt: z.string(),
  classNames: z.array(z.string()).optional(),
});

export interface CheckpointState<RngState> {
  step: number;
  /** Seconds of training wall time up to this checkpoint, summed over resumed sessions. */
  wallSeconds: number;
  rng: RngState;
  backend: string;
  savedAt: string;
  /** Class-conditional runs: the data's class names, by class index (what `gantry sample --class K` picks from). */
  classNames?: string[];
}

/** A checkpoint's state.json, checked. */
export async function readCheckpointState<RngState>(checkpoint: string): Promise<CheckpointState<RngState>> {
  const path = join(checkpoint, 'state.json');
  const hint = 'use another checkpoint (gantry export --step N) or delete this one';
  const result = checkpointStateSchema.safeParse(await readRunJson(path, hint));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `"${issue.path.join('.')}": ${issue.message}`).join('; ');
    throw new RunFolderError(`${path} is not a checkpoint state (${problems}); the file is damaged: ${hint}`);
  }
  return result.data as unknown as CheckpointState<RngState>;
}
