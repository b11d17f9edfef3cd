// DCGAN (Radford et al. 2016) sized from the image shape: the generator starts at a small square
// (side / 2^stages) and doubles it with strided transposed convolutions; the discriminator mirrors it
// with strided convolutions. Batch norm + ReLU in G, tanh output, LeakyReLU 0.2 in D, no pooling,
// weights drawn from N(0, 0.02).
import * as tfl from '@tensorflow/tfjs-layers';

export interface DcganOptions {
  /** [height, width, channels] of the images; height must equal width. */
  imageShape: [number, number, number];
  latentSize: number;
  /** Channels of G's first (smallest) feature map; each up-sampling stage halves it. */
  generatorWidth: number;
  /** Channels of D's first convolution; each down-sampling stage doubles it. */
  discriminatorWidth: number;
  /** Seed for the weight initialisers, so a run is reproducible. */
  seed: number;
}

/** Number of ×2 up-sampling stages: 28 → 7·2², 32 → 4·2³, 64 → 4·2⁴. */
export function upsamplingStages(side: number): number {
  if (side === 28) return 2;
  for (let stages = 1; stages <= 6; stages++) if (side === 4 * 2 ** stages) return stages;
  throw new RangeError(`DCGAN image side must be 28 or 4·2^k (8, 16, 32, 64, 128, 256); got ${side}`);
}

function initializer(seed: number): ReturnType<typeof tfl.initializers.randomNormal> {
  return tfl.initializers.randomNormal({ mean: 0, stddev: 0.02, seed });
}

export function buildDcganGenerator(o: DcganOptions): tfl.Sequential {
  const [side, , channels] = o.imageShape;
  const stages = upsamplingStages(side);
  const start = side / 2 ** stages;
  let seed = o.seed;
  const g = tfl.sequential({ name: 'generator' });
  g.add(tfl.layers.dense({ inputShape: [o.latentSize], units: start * start * o.generatorWidth, useBias: false, kernelInitializer: initializer(seed++) }));
  g.add(tfl.layers.batchNormalization());
  g.add(tfl.layers.reLU());
  g.add(tfl.layers.reshape({ targetShape: [start, start, o.generatorWidth] }));
  for (let stage = 1; stage < stages; stage++) {
    const filters = Math.max(1, o.generatorWidth >> stage);
    g.add(tfl.layers.conv2dTranspose({ filters, kernelSize: 4, strides: 2, padding: 'same', useBias: false, kernelInitializer: initializer(seed++) }));
    g.add(tfl.layers.batchNormalization());
    g.add(tfl.layers.reLU());
  }
  g.add(tfl.layers.conv2dTranspose({ filters: channels, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh', kernelInitializer: initializer(seed++) }));
  return g;
}

export function buildDcganDiscriminator(o: DcganOptions): tfl.Sequential {
  const [side] = o.imageShape;
  const stages = upsamplingStages(side);
  let seed = o.seed + 1000;
  const d = tfl.sequential({ name: 'discriminator' });
  for (let stage = 0; stage < stages; stage++) {
    d.add(
      tfl.layers.conv2d({
        ...(stage === 0 ? { inputShape: o.imageShape } : {}),
        filters: o.discriminatorWidth << stage,
        kernelSize: 4,
        strides: 2,
        padding: 'same',
        kernelInitializer: initializer(seed++),
      }),
    );
    d.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  }
  d.add(tfl.layers.flatten());
  d.add(tfl.layers.dense({ units: 1, kernelInitializer: initializer(seed++) }));
  return d;
}
