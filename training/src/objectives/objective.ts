import type * as tf from '@tensorflow/tfjs-core';

/** A GAN objective: the two players' losses as functions of D's raw outputs (logits or critic values). */
export interface Objective {
  name: string;
  discriminatorLoss(realOutputs: tf.Tensor, fakeOutputs: tf.Tensor): tf.Scalar;
  generatorLoss(fakeOutputs: tf.Tensor): tf.Scalar;
}
