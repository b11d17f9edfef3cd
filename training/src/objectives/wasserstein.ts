// Arjovsky et al.'s Wasserstein GAN objective. The critic f estimates the Kantorovich–Rubinstein
// dual W(P_r, P_g) = sup_{‖f‖_L ≤ 1} E[f(x)] − E[f(G(z))], so it minimises the negative of that
// estimate and G minimises −E[f(G(z))] (E[f(x)] does not depend on G). The critic's outputs are
// raw scores, not logits: no sigmoid anywhere.
//
// This objective alone is unbounded below for the critic: it only estimates a distance when f is
// kept (approximately) 1-Lipschitz, by weight clipping or by a gradient penalty added to the
// critic's loss (see ../penalties/gradient-penalty.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { Objective } from './objective.js';

export const wasserstein: Objective = {
  name: 'wasserstein',
  discriminatorLoss: (realScores, fakeScores) => tf.sub(tf.mean(fakeScores), tf.mean(realScores)),
  generatorLoss: (fakeScores) => tf.neg(tf.mean<tf.Scalar>(fakeScores)),
  meanScore: (scores) => tf.mean(scores),
};
