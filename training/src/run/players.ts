// The two players, their optimizers and (optionally) the EMA generator, built from a config.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildDcganDiscriminator, buildDcganGenerator } from '../architectures/dcgan.js';
import { buildLinearDiscriminator, buildLinearGenerator } from '../architectures/linear.js';
import { buildMlpDiscriminator, buildMlpGenerator } from '../architectures/mlp.js';
import { packedShape } from '../strategies/discriminator-input.js';
import type { TrainConfig } from './config.js';
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

export function buildOptimizer(o: OptimizerConfig): tf.Optimizer {
  switch (o.type) {
    case 'adam':
      return tf.train.adam(o.learningRate, o.beta1, o.beta2, o.epsilon);
    case 'rmsprop':
      return tf.train.rmsprop(o.learningRate, o.decay, o.momentum, o.epsilon, o.centered);
    case 'sgd':
      return o.momentum > 0 ? tf.train.momentum(o.learningRate, o.momentum) : tf.train.sgd(o.learningRate);
  }
}

function asImageShape(shape: readonly number[], architecture: string): [number, number, number] {
  if (shape.length !== 3) throw new RangeError(`architecture "${architecture}" needs images [height, width, channels]; the data's samples have shape [${shape.join(', ')}]`);
  return [shape[0]!, shape[1]!, shape[2]!];
}

/** G as the config describes it, for samples of `sampleShape`. */
export function buildGenerator(config: TrainConfig, sampleShape: readonly number[]): tfl.LayersModel {
  const { model } = config;
  switch (model.architecture) {
    case 'dcgan':
      return buildDcganGenerator({ imageShape: asImageShape(sampleShape, 'dcgan'), latentSize: model.latentSize, generatorWidth: model.generatorWidth, discriminatorWidth: model.discriminatorWidth, seed: config.seed });
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
      });
    case 'linear':
      return buildLinearGenerator({ ...model.linear, discriminatorInputs: config.transforms.packing });
  }
}

/** D as the config describes it; its input is a packed sample (see transforms.packing). */
export function buildDiscriminator(config: TrainConfig, sampleShape: readonly number[]): tfl.LayersModel {
  const { model } = config;
  const inputShape = packedShape(sampleShape, config.transforms.packing);
  switch (model.architecture) {
    case 'dcgan':
      return buildDcganDiscriminator({ imageShape: asImageShape(inputShape, 'dcgan'), latentSize: model.latentSize, generatorWidth: model.generatorWidth, discriminatorWidth: model.discriminatorWidth, seed: config.seed });
    case 'mlp':
      return buildMlpDiscriminator({
        inputShape,
        widths: model.mlp.discriminatorWidths,
        norm: model.mlp.discriminatorNorm,
        activation: model.mlp.activation,
        maxoutPieces: model.mlp.maxoutPieces,
        seed: config.seed,
      });
    case 'linear':
      return buildLinearDiscriminator({ ...model.linear, discriminatorInputs: inputShape[0]! });
  }
}

/** `sampleShape`: one real sample's shape, [height, width, channels] or [dimensions]. */
export function buildPlayers(config: TrainConfig, sampleShape: readonly number[]): Players {
  const generator = buildGenerator(config, sampleShape);
  let generatorEma: tfl.LayersModel | null = null;
  if (config.ema.enabled) {
    generatorEma = buildGenerator(config, sampleShape);
    copyWeights(generator, generatorEma);
  }
  return {
    generator,
    discriminator: buildDiscriminator(config, sampleShape),
    generatorOptimizer: buildOptimizer(config.optimizer.generator),
    discriminatorOptimizer: buildOptimizer(config.optimizer.discriminator),
    generatorEma,
  };
}

export function disposePlayers(players: Players): void {
  players.generator.dispose();
  players.discriminator.dispose();
  players.generatorOptimizer.dispose();
  players.discriminatorOptimizer.dispose();
  players.generatorEma?.dispose();
}
