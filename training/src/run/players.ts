// The two players and their optimizers, built from a config.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildDcganDiscriminator, buildDcganGenerator } from '../architectures/dcgan.js';
import type { TrainConfig } from './config.js';

export interface Players {
  generator: tfl.LayersModel;
  discriminator: tfl.LayersModel;
  generatorOptimizer: tf.Optimizer;
  discriminatorOptimizer: tf.Optimizer;
}

export function buildPlayers(config: TrainConfig, imageShape: [number, number, number]): Players {
  const options = {
    imageShape,
    latentSize: config.model.latentSize,
    generatorWidth: config.model.generatorWidth,
    discriminatorWidth: config.model.discriminatorWidth,
    seed: config.seed,
  };
  const adam = (o: TrainConfig['optimizer']['generator']): tf.Optimizer => tf.train.adam(o.learningRate, o.beta1, o.beta2, o.epsilon);
  return {
    generator: buildDcganGenerator(options),
    discriminator: buildDcganDiscriminator(options),
    generatorOptimizer: adam(config.optimizer.generator),
    discriminatorOptimizer: adam(config.optimizer.discriminator),
  };
}

export function disposePlayers(players: Players): void {
  players.generator.dispose();
  players.discriminator.dispose();
  players.generatorOptimizer.dispose();
  players.discriminatorOptimizer.dispose();
}
