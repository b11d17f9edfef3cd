// The hinge GAN loss (Lim & Ye 2017; Miyato et al.'s SN-GAN): D minimises
// E[max(0, 1 − D(x))] + E[max(0, 1 + D(G(z)))], a margin loss that stops pushing once a sample is
// classified with margin 1; G minimises −E[D(G(z))] as in WGAN. D's outputs are raw scores.
import * as tf from '@tensorflow/tfjs-core';
import type { Objective } from './objective.js';
import { wasserstein } from './wasserstein.js';

export const hinge: Objective = {
  name: 'hinge',
  discriminatorLoss: (realScores, fakeScores) =>
    tf.add(tf.mean<tf.Scalar>(tf.relu(tf.sub(1, realScores))), tf.mean<tf.Scalar>(tf.relu(tf.add(1, fakeScores)))),
  generatorLoss: wasserstein.generatorLoss,
  meanScore: wasserstein.meanScore,
};
