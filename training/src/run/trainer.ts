// The training loop: builds the players from the config, takes alternating steps (k discriminator
// updates per generator update), and writes the run folder contract: config.json, log.jsonl,
// samples/<step>.png from fixed latents, and atomic checkpoints it can resume from.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Rng, sampleLatents, type RngState } from '@gantry/latent';
import { samplesToGridPng } from '@gantry/inference-node/image';
import { loadDataset } from '../data/datasets.js';
import type { DatasetProgress } from '../data/image-dataset.js';
import { alternatingStep } from '../strategies/alternating.js';
import type { TrainConfig } from './config.js';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint, type CheckpointState } from './checkpoint.js';
import { buildPlayers, disposePlayers } from './players.js';
import { writeFileAtomic } from '@gantry/inference-node/atomic';

export type TrainEvent =
  /** Loading the dataset (image folders and the Fashion-MNIST package report files read). */
  | { type: 'data'; progress: DatasetProgress }
  | { type: 'start'; fromStep: number; totalSteps: number; dataset: string; images: number; resumedFrom?: string }
  | { type: 'step'; step: number; totalSteps: number; losses: Record<string, number>; imagesPerSecond: number; elapsedSeconds: number }
  | { type: 'sample'; step: number; path: string }
  | { type: 'checkpoint'; step: number; path: string; reason: 'interval' | 'final' | 'interrupt' }
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

export class RunFolderError extends Error {
  override name = 'RunFolderError';
}

/** Seed offset for the sample grids' latents, so they never coincide with the training stream. */
const sampleSeedOffset = 0x5eed;

async function writeSampleGrid(runDir: string, step: number, generator: tfl.LayersModel, fixedLatents: tf.Tensor2D, imageShape: [number, number, number]): Promise<string> {
  const samples = tf.tidy(() => generator.predict(fixedLatents) as tf.Tensor);
  const values = (await samples.data()) as Float32Array;
  samples.dispose();
  const png = await samplesToGridPng(values, fixedLatents.shape[0], imageShape, [-1, 1]);
  const path = join(runDir, 'samples', `${step}.png`);
  await writeFileAtomic(path, png);
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

async function prepareRunFolder(runDir: string, config: TrainConfig, resume: boolean): Promise<string | undefined> {
  const existing = await latestCheckpoint(runDir);
  if (!resume && existing !== undefined) {
    throw new RunFolderError(`run folder ${runDir} already has checkpoints (newest: ${existing}); pass --resume to continue it, or choose another --run folder`);
  }
  if (resume && existing === undefined) {
    throw new RunFolderError(`nothing to resume in ${runDir}: it has no complete checkpoint`);
  }
  await mkdir(join(runDir, 'samples'), { recursive: true });
  await writeFileAtomic(join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return existing;
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const { runDir, config, backend, signal } = options;
  const emit = options.onEvent ?? (() => {});
  const resumeFrom = await prepareRunFolder(runDir, config, options.resume === true);
  const data = await loadDataset(config.data, { onProgress: (progress) => emit({ type: 'data', progress }) });
  const players = buildPlayers(config, data.shape);
  const logPath = join(runDir, 'log.jsonl');
  let rng = Rng.fromSeed(config.seed);
  let step = 0;
  let priorWallSeconds = 0;
  if (resumeFrom !== undefined) {
    const state: CheckpointState<RngState> = await loadCheckpoint(resumeFrom, players);
    rng = Rng.fromState(state.rng);
    step = state.step;
    priorWallSeconds = state.wallSeconds;
    await truncateLog(logPath, step);
  }
  const fixedLatents = tf.tensor2d(
    sampleLatents({ size: config.model.latentSize, distribution: config.model.latentDistribution }, config.logging.sampleCount, (config.seed + sampleSeedOffset) >>> 0),
    [config.logging.sampleCount, config.model.latentSize],
  );
  const total = config.training.steps;
  emit({ type: 'start', fromStep: step, totalSteps: total, dataset: data.name, images: data.count, ...(resumeFrom ? { resumedFrom: resumeFrom } : {}) });

  const sessionStart = performance.now();
  const wallSeconds = (): number => priorWallSeconds + (performance.now() - sessionStart) / 1000;
  const checkpoint = async (reason: 'interval' | 'final' | 'interrupt'): Promise<string> => {
    const state: CheckpointState<RngState> = { step, wallSeconds: wallSeconds(), rng: rng.getState(), backend, savedAt: new Date().toISOString() };
    const path = await saveCheckpoint(runDir, players, state, config.logging.keepCheckpoints);
    emit({ type: 'checkpoint', step, path, reason });
    return path;
  };

  let lastCheckpoint = resumeFrom ?? '';
  let interrupted = false;
  let windowStart = performance.now();
  let windowSteps = 0;
  try {
    if (step === 0) await writeSampleGrid(runDir, 0, players.generator, fixedLatents, data.shape);
    while (step < total) {
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      const losses = alternatingStep(config, players, data, rng);
      step += 1;
      windowSteps += 1;
      const bad = Object.entries(losses).find(([, v]) => !Number.isFinite(v));
      if (bad !== undefined) {
        throw new Error(`training diverged: ${bad[0]} became ${bad[1]} at step ${step}; the last good checkpoint is ${lastCheckpoint || 'none'}`);
      }
      const now = performance.now();
      // Counted as in the benchmarks: real images per second of one generator step's batch.
      const imagesPerSecond = (windowSteps * config.training.batchSize) / Math.max(1e-9, (now - windowStart) / 1000);
      if (step % config.logging.logEvery === 0 || step === total) {
        const line = { step, time: new Date().toISOString(), wallSeconds: Number(wallSeconds().toFixed(3)), imagesPerSecond: Number(imagesPerSecond.toFixed(2)), backend, ...losses };
        await appendFile(logPath, `${JSON.stringify(line)}\n`);
        windowStart = now;
        windowSteps = 0;
      }
      emit({ type: 'step', step, totalSteps: total, losses: { ...losses }, imagesPerSecond, elapsedSeconds: wallSeconds() });
      if (step % config.logging.sampleEvery === 0 || step === total) {
        emit({ type: 'sample', step, path: await writeSampleGrid(runDir, step, players.generator, fixedLatents, data.shape) });
      }
      if (step % config.logging.checkpointEvery === 0 && step !== total) lastCheckpoint = await checkpoint('interval');
    }
    lastCheckpoint = await checkpoint(interrupted ? 'interrupt' : 'final');
    const result = { step, wallSeconds: wallSeconds(), interrupted, checkpoint: lastCheckpoint };
    emit({ type: 'done', step, wallSeconds: result.wallSeconds, interrupted });
    return result;
  } finally {
    fixedLatents.dispose();
    disposePlayers(players);
  }
}
