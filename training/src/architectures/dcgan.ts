// DCGAN (Radford et al. 2016) sized from the image shape: the generator starts at a small square
// (side / 2^stages) and doubles it with strided transposed convolutions; the discriminator mirrors it
// with strided convolutions. Batch norm + ReLU in G, tanh output, LeakyReLU 0.2 in D, no pooling,
// weights drawn from N(0, 0.02). The layer stacks are exported so the class-conditional variants
// (conditional.ts) put the same networks behind their label inputs.
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
  throw new RangeError(
    `DCGAN image side must be 28 or 4·2^k (8, 16, 32, 64, 128, 256); got ${side} (set data.imageSize to one of them)`,
  );
}

function checkImageShape([height, width, channels]: readonly number[]): void {
  if (height !== width) throw new RangeError(`DCGAN images must be square; got ${height}×${width}`);
  if (!(Number.isInteger(channels) && channels! >= 1))
    throw new RangeError(`DCGAN image channels must be a positive integer; got ${channels}`);
}

export function dcganInitializer(seed: number): ReturnType<typeof tfl.initializers.randomNormal> {
  return tfl.initializers.randomNormal({ mean: 0, stddev: 0.02, seed });
}

/**
 * G from its input vector to the image: a dense projection to the smallest feature map, then the
 * up-sampling stages, then a tanh convolution to `channels`. `inputShape` is set on the first layer
 * when the stack starts a Sequential model.
 */
export function dcganGeneratorLayers(o: DcganOptions, inputShape?: number[]): tfl.layers.Layer[] {
  checkImageShape(o.imageShape);
  const [side, , channels] = o.imageShape;
  const stages = upsamplingStages(side);
  const start = side / 2 ** stages;
  let seed = o.seed;
  const layers: tfl.layers.Layer[] = [
    tfl.layers.dense({
      ...(inputShape ? { inputShape } : {}),
      units: start * start * o.generatorWidth,
      useBias: false,
      kernelInitializer: dcganInitializer(seed++),
    }),
    tfl.layers.batchNormalization(),
    tfl.layers.reLU(),
    tfl.layers.reshape({ targetShape: [start, start, o.generatorWidth] }),
  ];
  for (let stage = 1; stage < stages; stage++) {
    const filters = Math.max(1, o.generatorWidth >> stage);
    layers.push(
      tfl.layers.conv2dTranspose({
        filters,
        kernelSize: 4,
        strides: 2,
        padding: 'same',
        useBias: false,
        kernelInitializer: dcganInitializer(seed++),
      }),
      tfl.layers.batchNormalization(),
      tfl.layers.reLU(),
    );
  }
  layers.push(
    tfl.layers.conv2dTranspose({
      filters: channels,
      kernelSize: 4,
      strides: 2,
      padding: 'same',
      activation: 'tanh',
      kernelInitializer: dcganInitializer(seed++),
    }),
  );
  return layers;
}

/** D's feature extractor φ: the strided convolutions, flattened (the input of D's output layers). */
export function dcganDiscriminatorFeatureLayers(o: DcganOptions, withInputShape: boolean): tfl.layers.Layer[] {
  checkImageShape(o.imageShape);
  const stages = upsamplingStages(o.imageShape[0]);
  const layers: tfl.layers.Layer[] = [];
  for (let stage = 0; stage < stages; stage++) {
    layers.push(
      tfl.layers.conv2d({
        ...(stage === 0 && withInputShape ? { inputShape: o.imageShape } : {}),
        filters: o.discriminatorWidth << stage,
        kernelSize: 4,
        strides: 2,
        padding: 'same',
        kernelInitializer: dcganInitializer(dcganDiscriminatorSeed(o) + stage),
      }),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
    );
  }
  layers.push(tfl.layers.flatten());
  return layers;
}

/** First initialiser seed of D's layers (its convolutions, then its output layers). */
export function dcganDiscriminatorSeed(o: DcganOptions): number {
  return o.seed + 1000;
}

/** D's real/fake output: one logit from the features. */
export function dcganLogitLayer(o: DcganOptions): tfl.layers.Layer {
  return tfl.layers.dense({
    units: 1,
    kernelInitializer: dcganInitializer(dcganDiscriminatorSeed(o) + upsamplingStages(o.imageShape[0])),
  });
}

export function buildDcganGenerator(o: DcganOptions): tfl.Sequential {
  const g = tfl.sequential({ name: 'generator' });
  for (const layer of dcganGeneratorLayers(o, [o.latentSize])) g.add(layer);
  return g;
}

export function buildDcganDiscriminator(o: DcganOptions): tfl.Sequential {
  const d = tfl.sequential({ name: 'discriminator' });
  for (const layer of [...dcganDiscriminatorFeatureLayers(o, true), dcganLogitLayer(o)]) d.add(layer);
  return d;
}
