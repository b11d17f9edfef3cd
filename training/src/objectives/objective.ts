import type * as tf from '@tensorflow/tfjs-core';

/** A GAN objective: the two players' losses as functions of D's raw outputs (logits or critic values). */
export interface Objective {
  name: string;
  discriminatorLoss(realOutputs: tf.Tensor, fakeOutputs: tf.Tensor): tf.Scalar;
  generatorLoss(fakeOutputs: tf.Tensor): tf.Scalar;
  /** What the log reports as D's score of a batch: the mean probability D(x) for logit objectives, the mean critic value otherwise. */
  meanScore(outputs: tf.Tensor): tf.Scalar;
}
