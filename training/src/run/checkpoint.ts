// A checkpoint is a folder `checkpoints/<step>/` with both players' weights (tfjs model.json +
// weights.bin), both optimizers' state, and the RNG state, written atomically so the newest folder is
// always complete. Resuming restores all of it, so the continued run draws the same batches and latents
// as an uninterrupted one.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { writeFolderAtomic } from '@gantry/inference-node/atomic';
import { loadLayersModelFromFile, serializeLayersModel } from '@gantry/export/model-files';
import type { Players } from './players.js';

export interface CheckpointState<RngState> {
  step: number;
  /** Seconds of training wall time up to this checkpoint, summed over resumed sessions. */
  wallSeconds: number;
  rng: RngState;
  backend: string;
  savedAt: string;
}


async function optimizerFiles(optimizer: tf.Optimizer): Promise<{ json: string; bin: Uint8Array }> {
  const weights = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(weights);
  return { json: JSON.stringify({ className: optimizer.getClassName(), weights: specs }), bin: new Uint8Array(tf.io.CompositeArrayBuffer.join(data)) };
}

export function checkpointFolder(runDir: string, step: number): string {
  return join(runDir, 'checkpoints', String(step));
}

export async function saveCheckpoint<RngState>(runDir: string, players: Players, state: CheckpointState<RngState>, keep: number): Promise<string> {
  const folder = checkpointFolder(runDir, state.step);
  const generator = await serializeLayersModel(players.generator);
  const discriminator = await serializeLayersModel(players.discriminator);
  const gOpt = await optimizerFiles(players.generatorOptimizer);
  const dOpt = await optimizerFiles(players.discriminatorOptimizer);
  await writeFolderAtomic(folder, async (write) => {
    await write('generator/model.json', generator['model.json']);
    await write('generator/weights.bin', generator['weights.bin']);
    await write('discriminator/model.json', discriminator['model.json']);
    await write('discriminator/weights.bin', discriminator['weights.bin']);
    await write('optimizers/generator.json', gOpt.json);
    await write('optimizers/generator.bin', gOpt.bin);
    await write('optimizers/discriminator.json', dOpt.json);
    await write('optimizers/discriminator.bin', dOpt.bin);
    // Written last: a folder with state.json is complete (the rename makes that atomic anyway).
    await write('state.json', JSON.stringify(state, null, 2));
  });
  const steps = await listCheckpointSteps(runDir);
  for (const old of steps.slice(0, Math.max(0, steps.length - keep))) {
    await rm(checkpointFolder(runDir, old), { recursive: true, force: true });
  }
  return folder;
}

/** Steps of the complete checkpoints in a run, oldest first. */
export async function listCheckpointSteps(runDir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(join(runDir, 'checkpoints'));
  } catch {
    return [];
  }
  const steps: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      await readFile(join(runDir, 'checkpoints', name, 'state.json'));
      steps.push(Number(name));
    } catch {
      // incomplete: ignored
    }
  }
  return steps.sort((a, b) => a - b);
}

export async function latestCheckpoint(runDir: string): Promise<string | undefined> {
  const steps = await listCheckpointSteps(runDir);
  return steps.length === 0 ? undefined : checkpointFolder(runDir, steps[steps.length - 1]!);
}

async function restoreOptimizer(folder: string, name: string, optimizer: tf.Optimizer): Promise<void> {
  const manifest = JSON.parse(await readFile(join(folder, 'optimizers', `${name}.json`), 'utf8')) as { className: string; weights: tf.io.WeightsManifestEntry[] };
  if (manifest.className !== optimizer.getClassName()) {
    throw new Error(`checkpoint ${folder} has a ${manifest.className} ${name} optimizer but the config asks for ${optimizer.getClassName()}`);
  }
  const bytes = await readFile(join(folder, 'optimizers', `${name}.bin`));
  const tensors = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), manifest.weights);
  // Adam keeps its moments by position in the variable list, so the saved order is what matters.
  await optimizer.setWeights(manifest.weights.map((spec) => ({ name: spec.name, tensor: tensors[spec.name]! })));
}

async function restoreWeights(modelJson: string, into: tfl.LayersModel): Promise<void> {
  const loaded = await loadLayersModelFromFile(modelJson);
  try {
    const saved = loaded.getWeights();
    const current = into.getWeights();
    if (saved.length !== current.length || saved.some((w, i) => !tf.util.arraysEqual(w.shape, current[i]!.shape))) {
      throw new Error(`${modelJson} does not fit the model the config builds (different layers or sizes); was the config changed since the checkpoint?`);
    }
    into.setWeights(saved);
  } finally {
    loaded.dispose();
  }
}

export async function loadCheckpoint<RngState>(folder: string, players: Players): Promise<CheckpointState<RngState>> {
  const state = JSON.parse(await readFile(join(folder, 'state.json'), 'utf8')) as CheckpointState<RngState>;
  await restoreWeights(join(folder, 'generator', 'model.json'), players.generator);
  await restoreWeights(join(folder, 'discriminator', 'model.json'), players.discriminator);
  await restoreOptimizer(folder, 'generator', players.generatorOptimizer);
  await restoreOptimizer(folder, 'discriminator', players.discriminatorOptimizer);
  return state;
}
