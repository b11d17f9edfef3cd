// Folding an inference-mode BatchNormalization into the convolution or Dense before it: the normalisation is
// an affine map per channel, so it becomes part of that layer's kernel and bias.
import type * as tfl from '@tensorflow/tfjs-layers';
import { configOf, product, requireWeight, weightsOf, type Weight } from './layer-config.js';

/** Classes whose output a following BatchNormalization can be folded into (see canFoldBatchNorm). */
const FOLDING_CLASSES = new Set(['Conv2D', 'Conv2DTranspose', 'Dense']);

/**
 * Whether a BatchNormalization (in inference mode, an affine map per channel) can be folded into the
 * layer whose output it normalises: the layer must be a convolution or Dense with a linear activation
 * (nothing between its affine output and the normalisation) and the normalisation must run over the
 * last (channel) axis, which is the axis the layer's output channels run along. The caller also
 * checks that the layer's output feeds nothing else.
 */
export function canFoldBatchNorm(producer: tfl.layers.Layer, batchNorm: tfl.layers.Layer, rank: number): boolean {
  if (!FOLDING_CLASSES.has(producer.getClassName()) || batchNorm.getClassName() !== 'BatchNormalization') return false;
  const activation = configOf(producer).activation;
  const axis = configOf(batchNorm).axis;
  return (activation === undefined || activation === null || activation === 'linear') && (axis === -1 || axis === rank - 1);
}

/** A BatchNormalization in inference mode as y = x·scale + shift per channel, in float64. */
export function batchNormAsAffine(layer: tfl.layers.Layer): { scale: Float64Array; shift: Float64Array } {
  const weights = weightsOf(layer);
  const mean = requireWeight(layer, weights, 'moving_mean').values;
  const variance = requireWeight(layer, weights, 'moving_variance').values;
  const gamma = weights.get('gamma')?.values;
  const beta = weights.get('beta')?.values;
  const epsilon = batchNormEpsilon(layer);
  const scale = new Float64Array(mean.length);
  const shift = new Float64Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    scale[c] = (gamma?.[c] ?? 1) / Math.sqrt(variance[c]! + epsilon);
    shift[c] = (beta?.[c] ?? 0) - mean[c]! * scale[c]!;
  }
  return { scale, shift };
}

export function batchNormEpsilon(layer: tfl.layers.Layer): number {
  const epsilon = configOf(layer).epsilon;
  return typeof epsilon === 'number' ? epsilon : 1e-3;
}

/**
 * The weights of an affine layer (kernel with output channels along `channelAxis`, optional bias)
 * with a folded BatchNormalization applied: kernel·scale, bias·scale + shift.
 */
export function foldIntoWeights(
  kernel: Weight,
  channelAxis: number,
  bias: Weight | undefined,
  affine: { scale: Float64Array; shift: Float64Array },
): { kernel: Weight; bias: Weight } {
  const channels = kernel.shape[channelAxis]!;
  const inner = product(kernel.shape.slice(channelAxis + 1));
  const folded = new Float32Array(kernel.values.length);
  for (let i = 0; i < folded.length; i++) folded[i] = kernel.values[i]! * affine.scale[Math.floor(i / inner) % channels]!;
  const newBias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) newBias[c] = (bias?.values[c] ?? 0) * affine.scale[c]! + affine.shift[c]!;
  return { kernel: { shape: kernel.shape, values: folded }, bias: { shape: [channels], values: newBias } };
}
