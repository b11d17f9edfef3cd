// Mao et al.'s least-squares GAN with the a = 0, b = 1, c = 1 coding: D regresses real samples to 1
// and fakes to 0, ½E[(D(x) − 1)²] + ½E[D(G(z))²]; G pulls its samples' scores to 1,
// ½E[(D(G(z)) − 1)²]. D's outputs are raw scores (no sigmoid); the quadratic keeps G's gradient
// alive for fakes far on the correct side of the decision boundary.
import * as tf from '@tensorflow/tfjs-core';
import type { Objective } from './objective.js';

const halfMeanSquare = (x: tf.Tensor): tf.Scalar => tf.mul(0.5, tf.mean<tf.Scalar>(tf.square(x)));

export const leastSquares: Objective = {
  name: 'least-squares',
  discriminatorLoss: (realScores, fakeScores) => tf.add(halfMeanSquare(tf.sub(realScores, 1)), halfMeanSquare(fakeScores)),
  generatorLoss: (fakeScores) => halfMeanSquare(tf.sub(fakeScores, 1)),
  meanScore: (scores) => tf.mean(scores),
};
