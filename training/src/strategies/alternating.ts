// Goodfellow et al.'s alternating schedule: k discriminator updates, then one generator update.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { sampleLatentsWithRng, type Rng } from '@gantry/latent';
import type { ImageDataset } from '../data/image-dataset.js';
import { objectives } from '../objectives/index.js';
import { gradientPenalty, perSampleUniform } from '../penalties/index.js';
import type { TrainConfig } from '../run/config.js';
import type { Players } from '../run/players.js';

function latentBatch(config: TrainConfig, rng: Rng, n: number): tf.Tensor2D {
  const spec = { size: config.model.latentSize, distribution: config.model.latentDistribution };
  return tf.tensor2d(sampleLatentsWithRng(spec, n, rng), [n, spec.size]);
}

function realBatch(data: ImageDataset, rng: Rng, n: number): tf.Tensor4D {
  const [h, w, c] = data.shape;
  const perImage = h * w * c;
  const values = new Float32Array(n * perImage);
  for (let i = 0; i < n; i++) {
    const index = rng.nextInt(data.count);
    values.set(data.images.subarray(index * perImage, (index + 1) * perImage), i * perImage);
  }
  return tf.tensor4d(values, [n, h, w, c]);
}

function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
}

export interface StepLosses {
  discriminator: number;
  generator: number;
  /** Mean D(x) (a probability for logit objectives, a critic value for Wasserstein) of the last D step. */
  realScore: number;
  fakeScore: number;
  /** The penalty's value in the last D step (0 without one). */
  penalty: number;
}

export function alternatingStep(config: TrainConfig, players: Players, data: ImageDataset, rng: Rng): StepLosses {
  const objective = objectives[config.objective];
  const n = config.training.batchSize;
  const { generator, discriminator } = players;
  const dVars = trainableVariables(discriminator);
  const gVars = trainableVariables(generator);
  return tf.tidy(() => {
    let dLoss: tf.Scalar | null = null;
    let realScore: tf.Tensor | null = null;
    let fakeScore: tf.Tensor | null = null;
    let penaltyValue: tf.Tensor | null = null;
    const penalty = config.penalty;
    for (let k = 0; k < config.training.discriminatorSteps; k++) {
      const real = realBatch(data, rng, n);
      const z = latentBatch(config, rng, n);
      // Made outside the optimizer's tape: D's update must not differentiate through G.
      const fake = generator.apply(z, { training: true }) as tf.Tensor;
      const epsilon = penalty.type === 'none' ? null : perSampleUniform(n, real.rank, rng);
      dLoss = players.discriminatorOptimizer.minimize(
        () => {
          const realOut = discriminator.apply(real, { training: true }) as tf.Tensor;
          const fakeOut = discriminator.apply(fake, { training: true }) as tf.Tensor;
          // Only the last discriminator step's scores are reported; earlier ones are freed.
          for (const kept of [realScore, fakeScore, penaltyValue] as (tf.Tensor | null)[]) kept?.dispose();
          realScore = tf.keep(objective.meanScore(realOut));
          fakeScore = tf.keep(objective.meanScore(fakeOut));
          const loss = objective.discriminatorLoss(realOut, fakeOut);
          if (epsilon === null) return loss;
          const critic = (x: tf.Tensor): tf.Tensor => discriminator.apply(x, { training: true }) as tf.Tensor;
          const value = gradientPenalty(critic, real, fake, { lambda: penalty.lambda, epsilon, oneSided: penalty.type === 'one-sided' });
          penaltyValue = tf.keep(tf.clone(value));
          return tf.add(loss, value);
        },
        true,
        dVars,
      );
    }
    const z = latentBatch(config, rng, n);
    const gLoss = players.generatorOptimizer.minimize(
      () => objective.generatorLoss(discriminator.apply(generator.apply(z, { training: true }), { training: true }) as tf.Tensor),
      true,
      gVars,
    );
    const read = (t: tf.Tensor | null): number => (t === null ? NaN : (t.dataSync()[0] as number));
    const result = {
      discriminator: read(dLoss),
      generator: read(gLoss),
      realScore: read(realScore),
      fakeScore: read(fakeScore),
      penalty: penaltyValue === null ? 0 : read(penaltyValue),
    };
    for (const kept of [realScore, fakeScore, penaltyValue] as (tf.Tensor | null)[]) kept?.dispose();
    return result;
  });
}
