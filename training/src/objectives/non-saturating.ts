// Goodfellow et al.'s GAN objective with the non-saturating generator loss: D minimises
// −log D(x) − log(1 − D(G(z))), G minimises −log D(G(z)) instead of log(1 − D(G(z))), which
// saturates when D confidently rejects fakes early in training. Both are written on logits:
// −log σ(l) = softplus(−l) and −log(1 − σ(l)) = softplus(l), stable for any logit.
import * as tf from '@tensorflow/tfjs-core';
import type { Objective } from './objective.js';

export const nonSaturating: Objective = {
  name: 'non-saturating',
  discriminatorLoss: (realLogits, fakeLogits) =>
    tf.add(tf.mean(tf.softplus(tf.neg(realLogits))), tf.mean(tf.softplus(fakeLogits))),
  generatorLoss: (fakeLogits) => tf.mean(tf.softplus(tf.neg(fakeLogits))),
  meanScore: (logits) => tf.mean(tf.sigmoid(logits)),
};
