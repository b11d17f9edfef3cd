// Goodfellow et al.'s original minimax game: D minimises −log D(x) − log(1 − D(G(z))) (as in the
// non-saturating objective) and G minimises the same game value's G-dependent part, log(1 − D(G(z))).
// That generator loss saturates: where D confidently rejects the fakes (D(G(z)) → 0) its gradient
// vanishes, which is why Goodfellow et al. proposed the non-saturating −log D(G(z)) instead. Kept for
// experiments that reproduce the saturation (Arjovsky & Bottou). On logits:
// log(1 − σ(l)) = −softplus(l), stable for any logit.
import * as tf from '@tensorflow/tfjs-core';
import type { Objective } from './objective.js';
import { nonSaturating } from './non-saturating.js';

export const minimax: Objective = {
  name: 'minimax',
  discriminatorLoss: nonSaturating.discriminatorLoss,
  generatorLoss: (fakeLogits) => tf.neg(tf.mean<tf.Scalar>(tf.softplus(fakeLogits))),
  meanScore: nonSaturating.meanScore,
};
