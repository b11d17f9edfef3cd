// The training loop: builds the players and the strategy from the config, takes steps, and writes
// the run folder contract: config.json, log.jsonl, samples/<step>.png from fixed latents (a grid for
// images, one row per class for a class-conditional run; a scatter plot or histogram plus
// samples/<step>.npy for points), and atomic checkpoints it can resume from. A step whose losses or weights turn NaN/Inf is undone, the state before it is
// saved as a checkpoint, and training stops with a TrainingDivergedError naming the quantity.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { createTrainingEvaluator } from '../evaluation/in-training.js';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { GantryError, Rng, sampleLatents, type RngState } from '@gantry/core';
import { encodeNpy } from '@gantry/files/npy';
import { isPointDataset, loadDataset, sampleShape, type Dataset } from '../data/datasets.js';
import { labelTensor } from '../strategies/batches.js';
import type { DatasetProgress } from '../data/image-dataset.js';
import { createStrategy } from '../strategies/index.js';
import type { StepLosses } from '../strategies/game.js';
import { ConfigError, type TrainConfig } from './config.js';
import {
  checkpointFolder,
  latestCheckpoint,
  listCheckpointSteps,
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointState,
} from './checkpoint.js';
import { RunFolderError } from './run-folder.js';
import { updateEma } from './ema.js';
import { buildPlayersFor, disposePlayers } from './players.js';
import { plotRange, samplesToPng } from './point-plot.js';
import { disposeSnapshot, firstNonFinite, restoreSnapshot, takeSnapshot } from './snapshot.js';
import { checkFolderPath, removeStaleTemporaries, writeFileAtomic } from '@gantry/files/atomic';

export type TrainEvent =
  /** Loading the dataset (image folders and the Fashion-MNIST package report files read). */
  | { type: 'data'; progress: DatasetProgress }
  /** Resuming: a temporary that a killed write left behind was removed. */
  | { type: 'stale-temporary'; path: string }
  /** Resuming: a checkpoint that does not load was passed over for an older one. */
  | { type: 'checkpoint-skipped'; path: string; reason: string }
  | { type: 'start'; fromStep: number; totalSteps: number; dataset: string; images: number; resumedFrom?: string }
  | {
      type: 'step';
      step: number;
      totalSteps: number;
      losses: Record<string, number>;
      imagesPerSecond: number;
      elapsedSeconds: number;
    }
  | { type: 'sample'; step: number; path: string }
  | { type: 'checkpoint'; step: number; path: string; reason: 'interval' | 'final' | 'interrupt' | 'diverged' }
  | { type: 'done'; step: number; wallSeconds: number; interrupted: boolean };

export interface TrainOptions {
  runDir: string;
  config: TrainConfig;
  /** Name of the active tfjs backend, recorded in checkpoints and the log. */
  backend: string;
  /** Continue from the newest complete checkpoint in `runDir`. */
  resume?: boolean;
  /** When aborted, training stops after the current step and writes a checkpoint. */
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
}

export interface TrainResult {
  step: number;
  wallSeconds: number;
  interrupted: boolean;
  checkpoint: string;
}

export { RunFolderError } from './run-folder.js';

/** A step made a loss or the weights NaN/Inf; the state before that step is saved as `checkpoint`. */
export class TrainingDivergedError extends GantryError {
  override name = 'TrainingDivergedError';
  constructor(
    message: string,
    readonly step: number,
    readonly checkpoint: string,
  ) {
    super('training-diverged', message);
  }
}

/** Seed offset for the sample grids' latents, so they never coincide with the training stream. */
const sampleSeedOffset = 0x5eed;

/** What every sample grid is drawn from: fixed latents and, for a class-conditional G, fixed labels. */
interface SampleInputs {
  latents: tf.Tensor2D;
  labels: tf.Tensor2D | null;
  /** Grid columns (undefined: a near-square grid). */
  columns?: number;
}

/**
 * `count` fixed latents; for a class-conditional run with `classes` classes, one row per class
 * instead, round(count / classes) columns (at least 1) whose column j has the same latent in every
 * row, so the grid shows the class changing while the latent stays.
 */
function fixedSampleInputs(config: TrainConfig, classes: number | null): SampleInputs {
  const spec = { size: config.model.latentSize, distribution: config.model.latentDistribution };
  const seed = (config.seed + sampleSeedOffset) >>> 0;
  const count = config.logging.sampleCount;
  if (classes === null) return { latents: tf.tensor2d(sampleLatents(spec, count, seed), [count, spec.size]), labels: null };
  const columns = Math.max(1, Math.round(count / classes));
  const row = sampleLatents(spec, columns, seed);
  const latents = new Float32Array(classes * row.length);
  for (let c = 0; c < classes; c++) latents.set(row, c * row.length);
  return {
    latents: tf.tensor2d(latents, [classes * columns, spec.size]),
    labels: labelTensor(Array.from({ length: classes * columns }, (_, i) => Math.floor(i / columns))),
    columns,
  };
}

/** samples/<step>.png from the fixed inputs: an image grid, or for points a plot (axes from `pointRange`) and the raw samples as .npy. */
async function writeSamples(
  runDir: string,
  step: number,
  generator: tfl.LayersModel,
  inputs: SampleInputs,
  data: Dataset,
  pointRange: [number, number],
): Promise<string> {
  const samples = tf.tidy(
    () => generator.predict(inputs.labels === null ? inputs.latents : [inputs.latents, inputs.labels]) as tf.Tensor,
  );
  const values = (await samples.data()) as Float32Array;
  samples.dispose();
  const n = inputs.latents.shape[0];
  const path = join(runDir, 'samples', `${step}.png`);
  if (isPointDataset(data))
    await writeFileAtomic(join(runDir, 'samples', `${step}.npy`), encodeNpy(values, [n, data.dimensions]));
  await writeFileAtomic(
    path,
    await samplesToPng(values, n, sampleShape(data), isPointDataset(data) ? pointRange : [-1, 1], inputs.columns),
  );
  return path;
}

/** Drops log lines past the checkpoint a resumed run restarts from, so the log has no step twice. */
async function truncateLog(logPath: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await readFile(logPath, 'utf8');
  } catch {
    return;
  }
  const kept = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => {
      try {
        return (JSON.parse(line) as { step: number }).step <= step;
      } catch {
        return false; // a line torn by a crash
      }
    });
  await writeFileAtomic(logPath, kept.map((l) => `${l}\n`).join(''));
}

/** Readies the run folder; when resuming, returns its complete checkpoints, newest first. */
async function prepareRunFolder(
  runDir: string,
  config: TrainConfig,
  resume: boolean,
  emit: (event: TrainEvent) => void,
): Promise<string[]> {
  await checkFolderPath(runDir, 'the run folder (--run)');
  const existing = await latestCheckpoint(runDir);
  if (!resume && existing !== undefined) {
    throw new RunFolderError(
      `run folder ${runDir} already has checkpoints (newest: ${existing}); pass --resume to continue it, or choose another --run folder`,
    );
  }
  const candidates = (await listCheckpointSteps(runDir)).reverse().map((step) => checkpointFolder(runDir, step));
  if (resume && candidates.length === 0) {
    throw new RunFolderError(`nothing to resume in ${runDir}: it has no complete checkpoint`);
  }
  if (resume) {
    for (const dir of [runDir, join(runDir, 'checkpoints'), join(runDir, 'samples')]) {
      for (const name of await removeStaleTemporaries(dir)) emit({ type: 'stale-temporary', path: join(dir, name) });
    }
  }
  await mkdir(join(runDir, 'samples'), { recursive: true });
  await writeFileAtomic(join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return resume ? candidates : [];
}

/**
 * Loads the newest checkpoint of `candidates` (newest first) that loads whole; those that do not are
 * reported and passed over. Loading overwrites every weight and optimizer slot, and a strategy's state is
 * read last, so a checkpoint that failed half-way leaves nothing behind once an older one has loaded.
 */
async function loadNewestLoadable(
  candidates: readonly string[],
  players: Parameters<typeof loadCheckpoint>[1],
  strategy: Parameters<typeof loadCheckpoint>[2],
  emit: (event: TrainEvent) => void,
): Promise<{ folder: string; state: CheckpointState<RngState> }> {
  const skipped: string[] = [];
  for (const folder of candidates) {
    try {
      return { folder, state: await loadCheckpoint<RngState>(folder, players, strategy) };
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      emit({ type: 'checkpoint-skipped', path: folder, reason });
      skipped.push(`${folder}: ${reason}`);
    }
  }
  throw new RunFolderError(`cannot resume: no checkpoint loads (${skipped.join('; ')}); start a new run or restore a checkpoint`);
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const { runDir, config, backend, signal } = options;
  const emit = options.onEvent ?? (() => {});
  const candidates = await prepareRunFolder(runDir, config, options.resume === true, emit);
  const data = await loadDataset(config.data, { seed: config.seed, onProgress: (progress) => emit({ type: 'data', progress }) });
  const players = buildPlayersFor(config, data);
  const classNames = config.model.conditional !== undefined && !isPointDataset(data) ? data.classNames : undefined;
  const strategy = createStrategy(config);
  const pointRange = isPointDataset(data) ? plotRange(data.points) : ([-1, 1] as [number, number]);
  const sampler = players.generatorEma ?? players.generator;
  const logPath = join(runDir, 'log.jsonl');
  let rng = Rng.fromSeed(config.seed);
  let step = 0;
  let priorWallSeconds = 0;
  let resumeFrom: string | undefined;
  if (candidates.length > 0) {
    const loaded = await loadNewestLoadable(candidates, players, strategy, emit);
    resumeFrom = loaded.folder;
    const state = loaded.state;
    // Labels are indices into the class list: a renamed, added or removed class folder would silently
    // re-label what each embedding row learnt.
    if (
      classNames !== undefined &&
      state.classNames !== undefined &&
      state.classNames.join('\u0000') !== classNames.join('\u0000')
    ) {
      throw new ConfigError(
        `cannot resume ${runDir}: its checkpoint was trained on the classes [${state.classNames.join(', ')}] but the data now has [${classNames.join(', ')}]; ` +
          'restore the class folders as they were, or start a new run',
      );
    }
    rng = Rng.fromState(state.rng);
    step = state.step;
    priorWallSeconds = state.wallSeconds;
    await truncateLog(logPath, step);
  }
  const sampleInputs = fixedSampleInputs(config, classNames?.length ?? null);
  const evaluate = await createTrainingEvaluator(config, data, classNames?.length ?? null);
  const total = config.training.steps;
  emit({
    type: 'start',
    fromStep: step,
    totalSteps: total,
    dataset: data.name,
    images: data.count,
    ...(resumeFrom ? { resumedFrom: resumeFrom } : {}),
  });

  const sessionStart = performance.now();
  const wallSeconds = (): number => priorWallSeconds + (performance.now() - sessionStart) / 1000;
  const checkpoint = async (reason: 'interval' | 'final' | 'interrupt' | 'diverged'): Promise<string> => {
    const state: CheckpointState<RngState> = {
      step,
      wallSeconds: wallSeconds(),
      rng: rng.getState(),
      backend,
      savedAt: new Date().toISOString(),
      ...(classNames ? { classNames } : {}),
    };
    const strategyState = strategy.getState();
    const path = await saveCheckpoint(runDir, players, state, config.logging.keepCheckpoints, strategyState);
    strategyState.forEach((s) => s.tensor.dispose());
    emit({ type: 'checkpoint', step, path, reason });
    return path;
  };

  let lastCheckpoint = resumeFrom ?? '';
  let interrupted = false;
  let windowStart = performance.now();
  let windowSteps = 0;
  try {
    if (step === 0) await writeSamples(runDir, 0, sampler, sampleInputs, data, pointRange);
    while (step < total) {
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      const before = await takeSnapshot(players, strategy, rng.getState(), step);
      let losses: StepLosses;
      try {
        losses = strategy.step({ config, players, data, rng, step });
        const bad = firstNonFinite(losses, players);
        if (bad !== undefined) {
          await restoreSnapshot(before, strategy);
          rng = Rng.fromState(before.rng);
          const path = await checkpoint('diverged');
          throw new TrainingDivergedError(
            `training diverged: ${bad} at step ${step + 1}. The state before that step is saved as ${path} (step ${step}); ` +
              'lower the learning rates, add a penalty, or change the objective, then start a new run',
            step + 1,
            path,
          );
        }
      } finally {
        disposeSnapshot(before);
      }
      if (players.generatorEma !== null) updateEma(players.generatorEma, players.generator, config.ema.decay);
      step += 1;
      windowSteps += 1;
      const now = performance.now();
      // Counted as in the benchmarks: real images per second of one generator step's batch.
      const imagesPerSecond = (windowSteps * config.training.batchSize) / Math.max(1e-9, (now - windowStart) / 1000);
      const metrics =
        evaluate !== null && (step % config.logging.evaluateEvery === 0 || step === total) ? await evaluate(sampler) : undefined;
      if (step % config.logging.logEvery === 0 || step === total || metrics !== undefined) {
        const line = {
          step,
          time: new Date().toISOString(),
          wallSeconds: Number(wallSeconds().toFixed(3)),
          imagesPerSecond: Number(imagesPerSecond.toFixed(2)),
          backend,
          ...losses,
          ...(metrics === undefined ? {} : { metrics }),
        };
        await appendFile(logPath, `${JSON.stringify(line)}\n`);
        windowStart = now;
        windowSteps = 0;
      }
      emit({ type: 'step', step, totalSteps: total, losses: { ...losses }, imagesPerSecond, elapsedSeconds: wallSeconds() });
      if (step % config.logging.sampleEvery === 0 || step === total) {
        emit({ type: 'sample', step, path: await writeSamples(runDir, step, sampler, sampleInputs, data, pointRange) });
      }
      if (step % config.logging.checkpointEvery === 0 && step !== total) lastCheckpoint = await checkpoint('interval');
    }
    lastCheckpoint = await checkpoint(interrupted ? 'interrupt' : 'final');
    const result = { step, wallSeconds: wallSeconds(), interrupted, checkpoint: lastCheckpoint };
    emit({ type: 'done', step, wallSeconds: result.wallSeconds, interrupted });
    return result;
  } finally {
    tf.dispose([sampleInputs.latents, ...(sampleInputs.labels ? [sampleInputs.labels] : [])]);
    strategy.dispose();
    disposePlayers(players);
  }
}
