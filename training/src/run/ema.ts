// An exponential moving average of G's weights (Yazıcı et al. 2019; Karras et al.): after every
// generator step, θ_EMA ← d·θ_EMA + (1 − d)·θ_G. Averaging over the iterates smooths out the
// oscillation of adversarial training, so the EMA generator's samples are usually better than the
// last iterate's. Non-trainable weights (batch-norm moving statistics) are copied, not averaged.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

function assertSameArchitecture(from: tfl.LayersModel, to: tfl.LayersModel): void {
  const a = from.weights;
  const b = to.weights;
  if (a.length !== b.length || a.some((w, i) => w.shape.join(',') !== b[i]!.shape.join(','))) {
    throw new Error(`EMA: ${to.name} does not have ${from.name}'s weights (different layers or sizes)`);
  }
}

/** Sets every weight of `to` to `from`'s (same architecture). */
export function copyWeights(from: tfl.LayersModel, to: tfl.LayersModel): void {
  assertSameArchitecture(from, to);
  const source = from.weights;
  to.weights.forEach((w, i) => {
    tf.tidy(() => {
      w.write(tf.clone(source[i]!.read()));
    });
  });
}

/** One EMA step of `ema` towards `generator` with decay `decay` ∈ (0, 1). */
export function updateEma(ema: tfl.LayersModel, generator: tfl.LayersModel, decay: number): void {
  assertSameArchitecture(generator, ema);
  const trainable = new Set(generator.trainableWeights);
  const source = generator.weights;
  ema.weights.forEach((w, i) => {
    const current = source[i]!;
    tf.tidy(() => {
      w.write(
        trainable.has(current) ? tf.add(tf.mul(decay, w.read()), tf.mul(1 - decay, current.read())) : tf.clone(current.read()),
      );
    });
  });
}
