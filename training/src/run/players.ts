// The two players, their optimizers and (optionally) the EMA generator, built from a config.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  buildAuxiliaryClassifierDiscriminator,
  buildConditionalGenerator,
  buildProjectionDiscriminator,
  type ConditionalDcganOptions,
} from '../architectures/conditional.js';
import { buildDcganDiscriminator, buildDcganGenerator, type DcganOptions } from '../architectures/dcgan.js';
import { buildLinearDiscriminator, buildLinearGenerator } from '../architectures/linear.js';
import { buildMlpDiscriminator, buildMlpGenerator } from '../architectures/mlp.js';
import { FusedAdamOptimizer } from '../backend/fused-adam.js';
import { FusedRMSPropOptimizer } from '../backend/fused-rmsprop.js';
import { isPointDataset, sampleShape as datasetSampleShape, type Dataset } from '../data/datasets.js';
import { packedShape } from '../strategies/discriminator-input.js';
import { ConfigError, type TrainConfig } from './config.js';
import { copyWeights } from './ema.js';

export interface Players {
  generator: tfl.LayersModel;
  discriminator: tfl.LayersModel;
  generatorOptimizer: tf.Optimizer;
  discriminatorOptimizer: tf.Optimizer;
  /** The exponential moving average of G's weights when config.ema is enabled, else null. */
  generatorEma: tfl.LayersModel | null;
}

export type OptimizerConfig = TrainConfig['optimizer']['generator'];

/**
 * Adam and RMSProp are tfjs' own, with each variable's update fused into one kernel where the backend
 * has it (cpu, wasm): the same results, class names and checkpointed state.
 */
export function buildOptimizer(o: OptimizerConfig): tf.Optimizer {
  switch (o.type) {
    case 'adam':
      return new FusedAdamOptimizer(o.learningRate, o.beta1, o.beta2, o.epsilon);
    case 'rmsprop':
      return new FusedRMSPropOptimizer(o.learningRate, o.decay, o.momentum, o.epsilon, o.centered);
    case 'sgd':
      return o.momentum > 0 ? tf.train.momentum(o.learningRate, o.momentum) : tf.train.sgd(o.learningRate);
  }
}

function asImageShape(shape: readonly number[], architecture: string): [number, number, number] {
  if (shape.length !== 3)
    throw new RangeError(
      `architecture "${architecture}" needs images [height, width, channels]; the data's samples have shape [${shape.join(', ')}]`,
    );
  return [shape[0]!, shape[1]!, shape[2]!];
}

/**
 * How many classes a class-conditional config trains with: the data's (null for an unconditional
 * config). Whether a folder is labelled is only known once it is read, so this is where such a data
 * set is refused.
 */
export function conditionalClasses(config: TrainConfig, data: Dataset): number | null {
  if (config.model.conditional === undefined) return null;
  const classNames = isPointDataset(data) ? undefined : data.classNames;
  if (classNames === undefined) {
    const folder =
      config.data.dataset === 'folder'
        ? ` (data.path ${config.data.path} has its images at the top level; a labelled folder has one sub-folder of images per class)`
        : '';
    throw new ConfigError(
      `"model.conditional" needs labelled images, but dataset "${data.name}" has no labels${folder}; label the data, or remove model.conditional to train unconditionally`,
    );
  }
  if (classNames.length < 2) {
    throw new ConfigError(
      `"model.conditional" needs at least 2 classes, but dataset "${data.name}" has 1 ("${classNames[0]}"); add a sub-folder per class, or remove model.conditional`,
    );
  }
  // A class left without images (data.limit, unreadable files) would never be trained, yet could be asked for.
  const counts = new Array<number>(classNames.length).fill(0);
  for (const label of isPointDataset(data) ? [] : (data.labels ?? [])) counts[label]! += 1;
  const empty = classNames.filter((_, k) => counts[k] === 0);
  if (empty.length > 0) {
    throw new ConfigError(
      `"model.conditional": dataset "${data.name}" has no images of class ${empty.map((name) => `"${name}"`).join(', ')} (after data.limit and unreadable files); every class needs images, so add some, raise data.limit, or remove the empty class`,
    );
  }
  return classNames.length;
}

function dcganOptions(config: TrainConfig, imageShape: [number, number, number]): DcganOptions {
  const { model } = config;
  return {
    imageShape,
    latentSize: model.latentSize,
    generatorWidth: model.generatorWidth,
    discriminatorWidth: model.discriminatorWidth,
    seed: config.seed,
  };
}

/** The conditional DCGAN's options when the config is class-conditional, else null; `classes` must be given exactly then. */
function conditionalOptions(
  config: TrainConfig,
  imageShape: [number, number, number],
  classes: number | null,
): ConditionalDcganOptions | null {
  const conditional = config.model.conditional;
  if ((conditional === undefined) !== (classes === null)) {
    throw new Error(
      `players: ${conditional === undefined ? 'an unconditional config takes no class count' : 'a class-conditional config needs the class count (conditionalClasses)'}, got ${classes}`,
    );
  }
  return conditional === undefined
    ? null
    : { ...dcganOptions(config, imageShape), classes: classes!, embeddingSize: conditional.embeddingSize };
}

/** G as the config describes it, for samples of `sampleShape` (and `classes` classes when class-conditional). */
export function buildGenerator(
  config: TrainConfig,
  sampleShape: readonly number[],
  classes: number | null = null,
): tfl.LayersModel {
  const { model } = config;
  switch (model.architecture) {
    case 'dcgan': {
      const imageShape = asImageShape(sampleShape, 'dcgan');
      const conditional = conditionalOptions(config, imageShape, classes);
      return conditional === null
        ? buildDcganGenerator(dcganOptions(config, imageShape))
        : buildConditionalGenerator(conditional);
    }
    case 'mlp':
      return buildMlpGenerator({
        latentSize: model.latentSize,
        outputShape: sampleShape,
        widths: model.mlp.generatorWidths,
        norm: model.mlp.generatorNorm,
        activation: model.mlp.activation,
        // Images live in [-1, 1]; points are unbounded.
        outputActivation: sampleShape.length === 3 ? 'tanh' : 'linear',
        seed: config.seed,
        weightInit: model.mlp.weightInit,
        hiddenBias: model.mlp.generatorHiddenBias,
      });
    case 'linear':
      return buildLinearGenerator({ ...model.linear, discriminatorInputs: config.transforms.packing });
  }
}

/** D as the config describes it; its input is a packed sample (see transforms.packing). */
export function buildDiscriminator(
  config: TrainConfig,
  sampleShape: readonly number[],
  classes: number | null = null,
): tfl.LayersModel {
  const { model } = config;
  const inputShape = packedShape(sampleShape, config.transforms.packing);
  switch (model.architecture) {
    case 'dcgan': {
      const imageShape = asImageShape(inputShape, 'dcgan');
      const conditional = conditionalOptions(config, imageShape, classes);
      if (conditional === null) return buildDcganDiscriminator(dcganOptions(config, imageShape));
      return model.conditional!.discriminator === 'projection'
        ? buildProjectionDiscriminator(conditional)
        : buildAuxiliaryClassifierDiscriminator(conditional);
    }
    case 'mlp':
      return buildMlpDiscriminator({
        inputShape,
        widths: model.mlp.discriminatorWidths,
        norm: model.mlp.discriminatorNorm,
        activation: model.mlp.activation,
        maxoutPieces: model.mlp.maxoutPieces,
        seed: config.seed,
        weightInit: model.mlp.weightInit,
      });
    case 'linear':
      return buildLinearDiscriminator({ ...model.linear, discriminatorInputs: inputShape[0]! });
  }
}

/** `sampleShape`: one real sample's shape, [height, width, channels] or [dimensions]; `classes`: see conditionalClasses. */
export function buildPlayers(config: TrainConfig, sampleShape: readonly number[], classes: number | null = null): Players {
  const generator = buildGenerator(config, sampleShape, classes);
  let generatorEma: tfl.LayersModel | null = null;
  if (config.ema.enabled) {
    generatorEma = buildGenerator(config, sampleShape, classes);
    copyWeights(generator, generatorEma);
  }
  return {
    generator,
    discriminator: buildDiscriminator(config, sampleShape, classes),
    generatorOptimizer: buildOptimizer(config.optimizer.generator),
    discriminatorOptimizer: buildOptimizer(config.optimizer.discriminator),
    generatorEma,
  };
}

/** The players for training on `data`: sized from its samples, and from its classes when the config is class-conditional. */
export function buildPlayersFor(config: TrainConfig, data: Dataset): Players {
  return buildPlayers(config, datasetSampleShape(data), conditionalClasses(config, data));
}

export function disposePlayers(players: Players): void {
  players.generator.dispose();
  players.discriminator.dispose();
  players.generatorOptimizer.dispose();
  players.discriminatorOptimizer.dispose();
  players.generatorEma?.dispose();
}
