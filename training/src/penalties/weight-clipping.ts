// WGAN's weight clipping (Arjovsky et al. 2017): after every critic update each of the critic's
// trainable weights is clamped to [−c, c], a crude way to keep f K-Lipschitz for some K. Too small a
// c makes the critic's gradients vanish, too large a c lets them explode (docs/REFERENCES.md#claims-of-the-early-gan-theory-papers),
// which is what
// the gradient penalties replace. Non-trainable weights (batch-norm moving statistics) are left alone.
import * as tf from '@tensorflow/tfjs-core';

/** Clamps every variable to [−clip, clip] in place; `clip` must be a finite number > 0. */
export function clipWeights(variables: readonly tf.Variable[], clip: number): void {
  if (typeof clip !== 'number' || !Number.isFinite(clip) || clip <= 0) {
    throw new RangeError(
      `clipWeights: clip must be a finite number > 0 (clipping at 0 would zero the critic), got ${String(clip)}`,
    );
  }
  for (const variable of variables) {
    tf.tidy(() => variable.assign(tf.clipByValue(variable, -clip, clip)));
  }
}
