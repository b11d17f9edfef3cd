// Fully connected players for toy data (and, flattened, for images). Defaults follow PacGAN's toy
// setup: G 2→400→400→400→400→2 with batch norm and ReLU; D three maxout layers of 200 units with 5
// pieces → 1. A maxout unit is the max of k linear pieces (Goodfellow et al. 2013); it is built from
// stock layers (Dense of width·k, reshape to [k, width], max over the k pieces), so it serialises and
// differentiates to any order like any other tfjs model.
import * as tfl from '@tensorflow/tfjs-layers';

export type Norm = 'none' | 'batch' | 'layer';
export type Activation = 'relu' | 'leaky-relu' | 'tanh';
/** Kernel initialisation: tfjs' Glorot uniform, or N(0, 0.02) as DCGAN and PacGAN's code use (biases start at 0 either way). */
export type WeightInit = 'glorot-uniform' | 'normal';

/** The standard deviation of the `normal` initialisation (Radford et al.; PacGAN's published code). */
export const NORMAL_INIT_STDDEV = 0.02;

export interface MlpGeneratorOptions {
  latentSize: number;
  /** One sample's shape: [dimensions] for points, [height, width, channels] for images. */
  outputShape: readonly number[];
  widths: readonly number[];
  norm: Norm;
  activation: Activation;
  /** tanh for images in [-1, 1]; linear for points. */
  outputActivation: 'linear' | 'tanh';
  seed: number;
  weightInit?: WeightInit;
  /**
   * Whether G's hidden Dense layers have a bias (default true). Before batch norm a bias is redundant
   * (the norm subtracts the batch mean), and PacGAN's code leaves it out.
   */
  hiddenBias?: boolean;
}

export interface MlpDiscriminatorOptions {
  /** D's input shape (after packing); inputs of rank > 1 are flattened. */
  inputShape: readonly number[];
  widths: readonly number[];
  norm: Norm;
  activation: Activation;
  /** Linear pieces per maxout unit; 1 means plain units with `activation`. */
  maxoutPieces: number;
  seed: number;
  weightInit?: WeightInit;
}

function initializer(seed: number, init: WeightInit = 'glorot-uniform'): ReturnType<typeof tfl.initializers.glorotUniform> {
  if (init === 'normal') return tfl.initializers.randomNormal({ mean: 0, stddev: NORMAL_INIT_STDDEV, seed });
  return tfl.initializers.glorotUniform({ seed });
}

function normLayer(norm: Norm): tfl.layers.Layer | null {
  if (norm === 'batch') return tfl.layers.batchNormalization();
  if (norm === 'layer') return tfl.layers.layerNormalization();
  return null;
}

function activationLayer(activation: Activation): tfl.layers.Layer {
  if (activation === 'relu') return tfl.layers.reLU();
  if (activation === 'leaky-relu') return tfl.layers.leakyReLU({ alpha: 0.2 });
  return tfl.layers.activation({ activation: 'tanh' });
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function buildMlpGenerator(o: MlpGeneratorOptions): tfl.Sequential {
  let seed = o.seed;
  const g = tfl.sequential({ name: 'generator' });
  let first = true;
  const inputShape = (): { inputShape?: number[] } => {
    if (!first) return {};
    first = false;
    return { inputShape: [o.latentSize] };
  };
  for (const width of o.widths) {
    g.add(
      tfl.layers.dense({
        ...inputShape(),
        units: width,
        useBias: o.hiddenBias ?? true,
        kernelInitializer: initializer(seed++, o.weightInit),
      }),
    );
    const norm = normLayer(o.norm);
    if (norm !== null) g.add(norm);
    g.add(activationLayer(o.activation));
  }
  g.add(
    tfl.layers.dense({
      ...inputShape(),
      units: product(o.outputShape),
      kernelInitializer: initializer(seed++, o.weightInit),
      ...(o.outputActivation === 'tanh' ? { activation: 'tanh' as const } : {}),
    }),
  );
  if (o.outputShape.length > 1) g.add(tfl.layers.reshape({ targetShape: [...o.outputShape] }));
  return g;
}

export function buildMlpDiscriminator(o: MlpDiscriminatorOptions): tfl.Sequential {
  let seed = o.seed + 1000;
  const d = tfl.sequential({ name: 'discriminator' });
  let first = true;
  const inputShape = (): { inputShape?: number[] } => {
    if (!first) return {};
    first = false;
    return { inputShape: [...o.inputShape] };
  };
  if (o.inputShape.length > 1) d.add(tfl.layers.flatten(inputShape()));
  for (const width of o.widths) {
    d.add(
      tfl.layers.dense({ ...inputShape(), units: width * o.maxoutPieces, kernelInitializer: initializer(seed++, o.weightInit) }),
    );
    const norm = normLayer(o.norm);
    if (norm !== null) d.add(norm);
    if (o.maxoutPieces > 1) {
      // Unit j's pieces are Dense outputs p·width + j; the max runs over p.
      d.add(tfl.layers.reshape({ targetShape: [o.maxoutPieces, width] }));
      d.add(tfl.layers.globalMaxPooling1d());
    } else {
      d.add(activationLayer(o.activation));
    }
  }
  d.add(tfl.layers.dense({ ...inputShape(), units: 1, kernelInitializer: initializer(seed++, o.weightInit) }));
  return d;
}
