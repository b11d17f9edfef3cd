// A checkpoint is a folder `checkpoints/<step>/` with both players' weights (tfjs model.json +
// weights.bin), both optimizers' state, and the RNG state, written atomically so the newest folder is
// always complete. Resuming restores all of it, so the continued run draws the same batches and latents
// as an uninterrupted one. With EMA enabled the averaged generator is saved as its own model folder,
// generator-ema/, which export and sampling pick; a strategy's state (e.g. best-response's warm
// start) goes to strategy.json + strategy.bin.
import { access, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { sampleLatents } from '@gantry/core';
import { writeFolderAtomic } from '@gantry/files/atomic';
import { loadLayersModelFromFile, serializeLayersModel } from '@gantry/export/model-files';
import { labelTensor } from '../strategies/batches.js';
import type { NamedTensor } from '../strategies/index.js';
import type { Players } from './players.js';
import type { TrainConfig } from './config.js';
import { readCheckpointState, type CheckpointState } from './run-folder.js';

export type { CheckpointState } from './run-folder.js';

async function tensorFiles(tensors: NamedTensor[], header: Record<string, unknown>): Promise<{ json: string; bin: Uint8Array }> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  return { json: JSON.stringify({ ...header, weights: specs }), bin: new Uint8Array(tf.io.CompositeArrayBuffer.join(data)) };
}

async function optimizerFiles(optimizer: tf.Optimizer): Promise<{ json: string; bin: Uint8Array }> {
  return tensorFiles(await optimizer.getWeights(), { className: optimizer.getClassName() });
}

async function readTensorFiles(
  folder: string,
  name: string,
): Promise<{ manifest: { weights: tf.io.WeightsManifestEntry[] } & Record<string, unknown>; tensors: tf.NamedTensorMap }> {
  const manifest = JSON.parse(await readFile(join(folder, `${name}.json`), 'utf8')) as {
    weights: tf.io.WeightsManifestEntry[];
  } & Record<string, unknown>;
  const bytes = await readFile(join(folder, `${name}.bin`));
  return {
    manifest,
    tensors: tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), manifest.weights),
  };
}

const EMA_FOLDER = 'generator-ema';

/** The generator export and sampling use: the EMA generator when the run averages G's weights. */
export function checkpointGeneratorModel(checkpoint: string, config: TrainConfig): string {
  return join(checkpoint, config.ema.enabled ? EMA_FOLDER : 'generator', 'model.json');
}

export { readCheckpointState } from './run-folder.js';

/** A class-conditional run's class names, by index, from its checkpoint (null for an unconditional run). */
export async function checkpointClassNames(checkpoint: string, config: TrainConfig): Promise<string[] | null> {
  if (config.model.conditional === undefined) return null;
  const { classNames } = await readCheckpointState(checkpoint);
  if (classNames === undefined)
    throw new Error(
      `checkpoint ${checkpoint} of a class-conditional run has no classNames in state.json; it was not written by this trainer`,
    );
  return classNames;
}

/**
 * n samples of a checkpoint's generator (batch norm in inference mode) from latents drawn with `seed`,
 * with one sample's shape. A class-conditional generator draws class `classIndex` for every sample, or
 * without one cycles through the classes (sample i gets class i mod classes).
 */
export async function sampleCheckpoint(
  checkpoint: string,
  config: TrainConfig,
  n: number,
  seed: number,
  classIndex?: number,
): Promise<{ values: Float32Array; shape: number[] }> {
  const classNames = await checkpointClassNames(checkpoint, config);
  if (classIndex !== undefined) {
    if (classNames === null)
      throw new RangeError(
        `sampleCheckpoint: a class was asked for (${classIndex}), but the run is not class-conditional (no model.conditional)`,
      );
    if (!(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < classNames.length)) {
      throw new RangeError(
        `sampleCheckpoint: class ${classIndex} is out of range; the run has ${classNames.length} classes, 0 … ${classNames.length - 1}`,
      );
    }
  }
  const generator = await loadLayersModelFromFile(checkpointGeneratorModel(checkpoint, config));
  try {
    const size = config.model.latentSize;
    const latents = sampleLatents({ size, distribution: config.model.latentDistribution }, n, seed);
    const classes = classNames === null ? null : Array.from({ length: n }, (_, i) => classIndex ?? i % classNames.length);
    // In chunks: a full-width generator's activations for thousands of samples would take gigabytes.
    let values: Float32Array | null = null;
    let shape: number[] = [];
    for (let start = 0; start < n; start += SAMPLE_CHUNK) {
      const count = Math.min(SAMPLE_CHUNK, n - start);
      const samples = tf.tidy(() => {
        const z = tf.tensor2d(latents.subarray(start * size, (start + count) * size), [count, size]);
        const labels = classes === null ? null : labelTensor(classes.slice(start, start + count));
        return generator.predict(labels === null ? z : [z, labels]) as tf.Tensor;
      });
      const chunk = (await samples.data()) as Float32Array;
      shape = samples.shape.slice(1);
      values ??= new Float32Array(n * (chunk.length / count));
      values.set(chunk, start * (chunk.length / count));
      samples.dispose();
    }
    return { values: values!, shape };
  } finally {
    generator.dispose();
  }
}

const SAMPLE_CHUNK = 256;

export function checkpointFolder(runDir: string, step: number): string {
  return join(runDir, 'checkpoints', String(step));
}

/** `strategyState`: the strategy's getState() (nothing is written when it is empty). */
export async function saveCheckpoint<RngState>(
  runDir: string,
  players: Players,
  state: CheckpointState<RngState>,
  keep: number,
  strategyState: NamedTensor[] = [],
): Promise<string> {
  const folder = checkpointFolder(runDir, state.step);
  const generator = await serializeLayersModel(players.generator);
  const discriminator = await serializeLayersModel(players.discriminator);
  const ema = players.generatorEma === null ? null : await serializeLayersModel(players.generatorEma);
  const gOpt = await optimizerFiles(players.generatorOptimizer);
  const dOpt = await optimizerFiles(players.discriminatorOptimizer);
  const strategy = strategyState.length === 0 ? null : await tensorFiles(strategyState, {});
  await writeFolderAtomic(folder, async (write) => {
    if (ema !== null) {
      await write(`${EMA_FOLDER}/model.json`, ema['model.json']);
      await write(`${EMA_FOLDER}/weights.bin`, ema['weights.bin']);
    }
    if (strategy !== null) {
      await write('strategy.json', strategy.json);
      await write('strategy.bin', strategy.bin);
    }
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
  const { manifest, tensors } = await readTensorFiles(join(folder, 'optimizers'), name);
  if (manifest.className !== optimizer.getClassName()) {
    throw new Error(
      `checkpoint ${folder} has a ${String(manifest.className)} ${name} optimizer but the config asks for ${optimizer.getClassName()}`,
    );
  }
  // Adam keeps its moments by position in the variable list, so the saved order is what matters.
  await optimizer.setWeights(manifest.weights.map((spec) => ({ name: spec.name, tensor: tensors[spec.name]! })));
}

async function restoreWeights(modelJson: string, into: tfl.LayersModel): Promise<void> {
  const loaded = await loadLayersModelFromFile(modelJson);
  try {
    const saved = loaded.getWeights();
    const current = into.getWeights();
    if (saved.length !== current.length || saved.some((w, i) => !tf.util.arraysEqual(w.shape, current[i]!.shape))) {
      throw new Error(
        `${modelJson} does not fit the model the config builds (different layers or sizes); was the config changed since the checkpoint?`,
      );
    }
    into.setWeights(saved);
  } finally {
    loaded.dispose();
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Restores players, optimizers and (given `strategy`) the strategy's state; returns state.json. */
export async function loadCheckpoint<RngState>(
  folder: string,
  players: Players,
  strategy?: { setState(state: readonly NamedTensor[]): void },
): Promise<CheckpointState<RngState>> {
  const state = await readCheckpointState<RngState>(folder);
  await restoreWeights(join(folder, 'generator', 'model.json'), players.generator);
  await restoreWeights(join(folder, 'discriminator', 'model.json'), players.discriminator);
  if (players.generatorEma !== null) {
    const emaModel = join(folder, EMA_FOLDER, 'model.json');
    if (!(await exists(emaModel)))
      throw new Error(
        `checkpoint ${folder} has no ${EMA_FOLDER}/ but the config enables ema; was the config changed since the checkpoint?`,
      );
    await restoreWeights(emaModel, players.generatorEma);
  }
  await restoreOptimizer(folder, 'generator', players.generatorOptimizer);
  await restoreOptimizer(folder, 'discriminator', players.discriminatorOptimizer);
  if (strategy !== undefined && (await exists(join(folder, 'strategy.json')))) {
    const { manifest, tensors } = await readTensorFiles(folder, 'strategy');
    strategy.setState(manifest.weights.map((spec) => ({ name: spec.name, tensor: tensors[spec.name]! })));
    Object.values(tensors).forEach((t) => t.dispose());
  }
  return state;
}
