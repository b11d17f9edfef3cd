// One converter per tfjs-layers class. tfjs computes in NHWC; ONNX's Conv and ConvTranspose want NCHW.
// 4-D values therefore live in the graph as NCHW from the moment they appear, and a Transpose back to
// the tfjs order is inserted only where a layer depends on the element order (Reshape, Flatten,
// LayerNormalization) and at the graph output when the caller wants NHWC.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphBuilder } from '../onnx/graph.js';
import { TensorDataType } from '@gantry/files/onnx';

/** A value flowing between converted layers. */
export interface GraphValue {
  /** The ONNX value name. */
  name: string;
  /** The tfjs shape without the batch axis (NHWC for images), whatever the layout in the graph. */
  shape: number[];
  /**
   * 'tfjs': the axes are in tfjs order; 'NCHW': a 4-D value whose channel axis has been moved to
   * position 1 for ONNX's convolutions.
   */
  layout: 'tfjs' | 'NCHW';
  /** 'int64' for class indices (what Embedding reads); float32 when absent. */
  dtype?: 'int64';
}

export class ExportError extends Error {
  override name = 'ExportError';
}

/** What a converter is told beyond its layer and inputs. */
export interface ConverterContext {
  /** The ONNX opset being written (some layers map to different ops before opset 17). */
  opset: number;
  /**
   * A BatchNormalization layer applied to this call's output (and to nothing else), to be folded into
   * this layer's weights: the converter emits the normalised output and the BatchNormalization call
   * emits nothing. Only offered to layers that {@link canFoldBatchNorm} accepts.
   */
  foldedBatchNorm?: tfl.layers.Layer;
}

/** Turns one tfjs layer applied to `inputs` into ONNX nodes; returns the layer's output value. */
export type LayerConverter = (graph: GraphBuilder, layer: tfl.layers.Layer, inputs: readonly GraphValue[], context: ConverterContext) => GraphValue;

type LayerConfig = Record<string, unknown>;

interface Weight {
  shape: number[];
  values: Float32Array;
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];
/** Where a tfjs axis of a 4-D NHWC value (1 = height, 2 = width, 3 = channels) sits in NCHW. */
const NCHW_AXIS_OF_NHWC = [0, 2, 3, 1];

function describe(layer: tfl.layers.Layer): string {
  return `layer "${layer.name}" (${layer.getClassName()})`;
}

function configOf(layer: tfl.layers.Layer): LayerConfig {
  return layer.getConfig() as LayerConfig;
}

function singleInput(layer: tfl.layers.Layer, inputs: readonly GraphValue[]): GraphValue {
  if (inputs.length !== 1) throw new ExportError(`${describe(layer)} gets ${inputs.length} inputs; its converter handles exactly one`);
  const input = inputs[0]!;
  if (input.dtype === 'int64' && layer.getClassName() !== 'Embedding') {
    throw new ExportError(`${describe(layer)} reads integer class indices; only an Embedding layer can take a class input`);
  }
  return input;
}

function requireChannelsLast(layer: tfl.layers.Layer, config: LayerConfig): void {
  if ((config.dataFormat ?? 'channelsLast') !== 'channelsLast') {
    throw new ExportError(`${describe(layer)} has dataFormat ${JSON.stringify(config.dataFormat)}; the exporter supports "channelsLast" only`);
  }
}

function requireImage(layer: tfl.layers.Layer, input: GraphValue): void {
  if (input.shape.length !== 3) throw new ExportError(`${describe(layer)} needs a 4-D input [batch, height, width, channels], got [batch, ${input.shape.join(', ')}]`);
}

/** The layer's weights by their short name (kernel, bias, gamma, moving_mean, ...). */
function weightsOf(layer: tfl.layers.Layer): Map<string, Weight> {
  const tensors = layer.getWeights();
  const out = new Map<string, Weight>();
  layer.weights.forEach((variable, i) => {
    const tensor = tensors[i]!;
    if (tensor.dtype !== 'float32') throw new ExportError(`${describe(layer)}: weight "${variable.name}" is ${tensor.dtype}; the exporter writes float32 weights only`);
    // Variable names look like "dense_Dense1/kernel"; a uniquifying "_1" suffix can follow.
    const key = variable.name.split('/').pop()!.replace(/_\d+$/, '');
    out.set(key, { shape: tensor.shape, values: tensor.dataSync() as Float32Array });
  });
  return out;
}

function requireWeight(layer: tfl.layers.Layer, weights: Map<string, Weight>, key: string): Weight {
  const weight = weights.get(key);
  if (weight === undefined) throw new ExportError(`${describe(layer)} has no "${key}" weight; it has: ${[...weights.keys()].join(', ') || 'none'}`);
  return weight;
}

/** Adds one of the layer's learned weights in the graph's weight storage (float32 or float16). */
function addLayerWeight(graph: GraphBuilder, layer: tfl.layers.Layer, key: string, shape: number[], values: Float32Array): string {
  try {
    return graph.addWeight(`${layer.name}_${key}`, shape, values, `${describe(layer)} weight "${key}"`);
  } catch (error) {
    if (error instanceof RangeError) throw new ExportError(error.message);
    throw error;
  }
}

/** Permutes a row-major tensor's axes (weight layout changes are done once, at export time). */
export function permute(values: Float32Array, shape: number[], perm: number[]): Weight {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank);
  let stride = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = stride;
    stride *= shape[i]!;
  }
  const out = new Float32Array(values.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let source = 0;
    for (let a = 0; a < rank; a++) source += index[a]! * inStrides[perm[a]!]!;
    out[o] = values[source]!;
    for (let a = rank - 1; a >= 0; a--) {
      if (++index[a]! < outShape[a]!) break;
      index[a] = 0;
    }
  }
  return { values: out, shape: outShape };
}

/** Brings a 4-D value into `layout` with a Transpose when it is not there already. */
export function toLayout(graph: GraphBuilder, value: GraphValue, layout: GraphValue['layout']): GraphValue {
  if (value.shape.length !== 3 || value.layout === layout) return value;
  const perm = layout === 'NCHW' ? NHWC_TO_NCHW : NCHW_TO_NHWC;
  return { name: graph.addNode('Transpose', [value.name], { perm }, 'transpose'), shape: value.shape, layout };
}

/** A 4-D value goes to NCHW, the layout every converter downstream expects; others are left alone. */
function imagesToNchw(graph: GraphBuilder, value: GraphValue): GraphValue {
  return toLayout(graph, value, 'NCHW');
}

/** The axis of the ONNX value that holds tfjs axis `axis` (counting the batch axis as 0). */
function onnxAxis(value: GraphValue, axis: number): number {
  return value.layout === 'NCHW' ? NCHW_AXIS_OF_NHWC[axis]! : axis;
}

/** A tfjs axis (negative counts from the end) of a value of `rank` dims, batch included, as 0…rank-1. */
function resolveAxis(layer: tfl.layers.Layer, axis: unknown, rank: number): number {
  const resolved = typeof axis === 'number' && Number.isInteger(axis) ? (axis < 0 ? axis + rank : axis) : NaN;
  if (!(resolved >= 1 && resolved < rank)) {
    throw new ExportError(`${describe(layer)} works along axis ${JSON.stringify(axis)} of a ${rank}-D input; the exporter supports axes 1…${rank - 1} (or -1…-${rank - 1}), not the batch axis`);
  }
  return resolved;
}

export const SUPPORTED_ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'selu', 'tanh', 'sigmoid', 'hardSigmoid', 'softplus', 'softsign', 'softmax', 'swish', 'mish', 'gelu', 'gelu_new'] as const;

export function scalar(graph: GraphBuilder, label: string, value: number): string {
  return graph.addInitializer(label, [], new Float32Array([value]));
}

function clip(graph: GraphBuilder, value: GraphValue, min: number, max: number, label: string): GraphValue {
  return { ...value, name: graph.addNode('Clip', [value.name, scalar(graph, `${label}_min`, min), scalar(graph, `${label}_max`, max)], {}, label) };
}

// tfjs' SELU constants (tfjs-core selu_util): scale·alpha and scale.
const SELU_SCALE_ALPHA = 1.7580993408473768599402175208123;
const SELU_SCALE = 1.0507009873554804934193349852946;

/** Emits a tfjs activation by its serialised name (the `activation` field of a layer's config). */
export function applyActivation(graph: GraphBuilder, activation: unknown, value: GraphValue, layer: tfl.layers.Layer): GraphValue {
  // A missing activation is tfjs' default, linear.
  const name = activation === undefined || activation === null ? 'linear' : activation;
  const label = (op: string): string => `${layer.name}_${op.toLowerCase()}`;
  const node = (op: string, inputs: string[], attributes = {}): string => graph.addNode(op, inputs, attributes, label(op));
  const unary = (op: string, attributes = {}): GraphValue => ({ ...value, name: node(op, [value.name], attributes) });
  const times = (other: string): GraphValue => ({ ...value, name: node('Mul', [value.name, other]) });
  switch (name) {
    case 'linear':
      return value;
    case 'relu':
      return unary('Relu');
    case 'relu6':
      return clip(graph, value, 0, 6, label('relu6'));
    case 'elu':
      return unary('Elu', { alpha: { float: 1 } });
    case 'selu':
      return unary('Selu', { alpha: { float: SELU_SCALE_ALPHA / SELU_SCALE }, gamma: { float: SELU_SCALE } });
    case 'tanh':
      return unary('Tanh');
    case 'sigmoid':
      return unary('Sigmoid');
    case 'hardSigmoid':
      return unary('HardSigmoid', { alpha: { float: 0.2 }, beta: { float: 0.5 } });
    case 'softplus':
      return unary('Softplus');
    case 'softsign':
      return unary('Softsign');
    case 'softmax':
      // tfjs' softmax runs over the last axis, which is the channel axis (1) of an NCHW value.
      return unary('Softmax', { axis: value.layout === 'NCHW' ? 1 : -1 });
    case 'swish':
      return times(node('Sigmoid', [value.name]));
    case 'mish':
      return times(node('Tanh', [node('Softplus', [value.name])]));
    case 'gelu': {
      // x · ½(1 + erf(x / √2))
      const erf = node('Erf', [node('Div', [value.name, scalar(graph, label('sqrt2'), Math.SQRT2)])]);
      return times(node('Mul', [node('Add', [erf, scalar(graph, label('one'), 1)]), scalar(graph, label('half'), 0.5)]));
    }
    case 'gelu_new': {
      // ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
      const cube = node('Mul', [value.name, node('Mul', [value.name, value.name])]);
      const inner = node('Add', [value.name, node('Mul', [cube, scalar(graph, label('c'), 0.044715)])]);
      const tanh = node('Tanh', [node('Mul', [inner, scalar(graph, label('k'), Math.sqrt(2 / Math.PI))])]);
      return times(node('Mul', [node('Add', [tanh, scalar(graph, label('one'), 1)]), scalar(graph, label('half'), 0.5)]));
    }
    default:
      throw new ExportError(`${describe(layer)} uses activation ${JSON.stringify(name)}, which the exporter does not support; supported activations: ${SUPPORTED_ACTIVATIONS.join(', ')}`);
  }
}

/** TensorFlow's padding of a forward convolution from `inSize` to `outSize`: [begin, end]. */
function tfPads(inSize: number, outSize: number, kernel: number, stride: number, dilation: number, padding: 'same' | 'valid'): [number, number] {
  if (padding === 'valid') return [0, 0];
  // 'same' pads the total the output size needs, the odd pixel at the end.
  const effectiveKernel = (kernel - 1) * dilation + 1;
  const total = Math.max((outSize - 1) * stride + effectiveKernel - inSize, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

function pair(value: unknown, fallback: number): [number, number] {
  if (Array.isArray(value)) return [Number(value[0]), Number(value[1] ?? value[0])];
  if (typeof value === 'number') return [value, value];
  return [fallback, fallback];
}

/** ZeroPadding2D / Cropping2D amounts as [[top, bottom], [left, right]] from any form tfjs stores. */
function sides(layer: tfl.layers.Layer, value: unknown): [[number, number], [number, number]] {
  const out: [[number, number], [number, number]] =
    typeof value === 'number'
      ? [[value, value], [value, value]]
      : Array.isArray(value) && value.length === 2
        ? [pair(value[0], NaN), pair(value[1], NaN)]
        : [[NaN, NaN], [NaN, NaN]];
  if (!out.flat().every((v) => Number.isInteger(v) && v >= 0)) throw new ExportError(`${describe(layer)} has amounts ${JSON.stringify(value)}; expected non-negative integers [[top, bottom], [left, right]]`);
  return out;
}

const product = (values: number[]): number => values.reduce((a, b) => a * b, 1);

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
function batchNormAsAffine(layer: tfl.layers.Layer): { scale: Float64Array; shift: Float64Array } {
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

function batchNormEpsilon(layer: tfl.layers.Layer): number {
  const epsilon = configOf(layer).epsilon;
  return typeof epsilon === 'number' ? epsilon : 1e-3;
}

/**
 * The weights of an affine layer (kernel with output channels along `channelAxis`, optional bias)
 * with a folded BatchNormalization applied: kernel·scale, bias·scale + shift.
 */
function foldIntoWeights(kernel: Weight, channelAxis: number, bias: Weight | undefined, affine: { scale: Float64Array; shift: Float64Array }): { kernel: Weight; bias: Weight } {
  const channels = kernel.shape[channelAxis]!;
  const inner = product(kernel.shape.slice(channelAxis + 1));
  const folded = new Float32Array(kernel.values.length);
  for (let i = 0; i < folded.length; i++) folded[i] = kernel.values[i]! * affine.scale[Math.floor(i / inner) % channels]!;
  const newBias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) newBias[c] = (bias?.values[c] ?? 0) * affine.scale[c]! + affine.shift[c]!;
  return { kernel: { shape: kernel.shape, values: folded }, bias: { shape: [channels], values: newBias } };
}

const dense: LayerConverter = (graph, layer, inputs, context) => {
  const input = toLayout(graph, singleInput(layer, inputs), 'tfjs');
  const weights = weightsOf(layer);
  let kernel = requireWeight(layer, weights, 'kernel');
  let bias = weights.get('bias');
  if (context.foldedBatchNorm !== undefined) ({ kernel, bias } = foldIntoWeights(kernel, 1, bias, batchNormAsAffine(context.foldedBatchNorm)));
  const units = kernel.shape[1]!;
  const w = addLayerWeight(graph, layer, 'kernel', kernel.shape, kernel.values);
  const b = bias === undefined ? undefined : addLayerWeight(graph, layer, 'bias', bias.shape, bias.values);
  let name: string;
  if (input.shape.length === 1) {
    name = graph.addNode('Gemm', b === undefined ? [input.name, w] : [input.name, w, b], {}, layer.name);
  } else {
    // Dense on [batch, ..., features] acts on the last axis, which is MatMul's broadcast product.
    name = graph.addNode('MatMul', [input.name, w], {}, layer.name);
    if (b !== undefined) name = graph.addNode('Add', [name, b], {}, `${layer.name}_bias`);
  }
  const out: GraphValue = { name, shape: [...input.shape.slice(0, -1), units], layout: 'tfjs' };
  return applyActivation(graph, configOf(layer).activation, out, layer);
};

const batchNormalization: LayerConverter = (graph, layer, inputs) => {
  const input = imagesToNchw(graph, singleInput(layer, inputs));
  const config = configOf(layer);
  const rank = input.shape.length + 1;
  if (!(config.axis === -1 || config.axis === rank - 1)) {
    throw new ExportError(`${describe(layer)} normalises axis ${String(config.axis)} of a ${rank}-D input; the exporter supports the last (channel) axis only`);
  }
  // ONNX normalises axis 1: that is the channel axis of [batch, features] and of NCHW images only.
  if (rank !== 2 && rank !== 4) {
    throw new ExportError(`${describe(layer)} gets a ${rank}-D input; the exporter supports BatchNormalization on 2-D [batch, features] and 4-D image inputs`);
  }
  const weights = weightsOf(layer);
  const channels = input.shape[input.shape.length - 1]!;
  const mean = requireWeight(layer, weights, 'moving_mean');
  const variance = requireWeight(layer, weights, 'moving_variance');
  // scale: false / center: false leave gamma / beta out; ONNX needs them, as the identity values.
  const gamma = weights.get('gamma')?.values ?? new Float32Array(channels).fill(1);
  const beta = weights.get('beta')?.values ?? new Float32Array(channels);
  const operands = [
    input.name,
    addLayerWeight(graph, layer, 'gamma', [channels], gamma),
    addLayerWeight(graph, layer, 'beta', [channels], beta),
    addLayerWeight(graph, layer, 'moving_mean', [channels], mean.values),
    addLayerWeight(graph, layer, 'moving_variance', [channels], variance.values),
  ];
  return { ...input, name: graph.addNode('BatchNormalization', operands, { epsilon: { float: batchNormEpsilon(layer) } }, layer.name) };
};

const layerNormalization: LayerConverter = (graph, layer, inputs, context) => {
  // Normalising over trailing axes depends on their order, so the value is brought to tfjs' order.
  const input = toLayout(graph, singleInput(layer, inputs), 'tfjs');
  const config = configOf(layer);
  const rank = input.shape.length + 1;
  const axes = (Array.isArray(config.axis) ? config.axis : [config.axis]).map((axis) => resolveAxis(layer, axis, rank)).sort((a, b) => a - b);
  const first = axes[0]!;
  if (axes.some((axis, i) => axis !== first + i) || axes.at(-1) !== rank - 1) {
    throw new ExportError(`${describe(layer)} normalises axes [${axes.join(', ')}] of a ${rank}-D input; the exporter supports trailing axes only (e.g. -1, or [1, 2, 3] for images)`);
  }
  const paramShape = input.shape.slice(first - 1);
  const weights = weightsOf(layer);
  const gamma = addLayerWeight(graph, layer, 'gamma', paramShape, weights.get('gamma')?.values ?? new Float32Array(product(paramShape)).fill(1));
  const beta = weights.get('beta');
  const betaName = beta === undefined ? undefined : addLayerWeight(graph, layer, 'beta', paramShape, beta.values);
  const epsilon = typeof config.epsilon === 'number' ? config.epsilon : 1e-3;
  if (context.opset >= 17) {
    const operands = betaName === undefined ? [input.name, gamma] : [input.name, gamma, betaName];
    return { ...input, name: graph.addNode('LayerNormalization', operands, { axis: first, epsilon: { float: epsilon } }, layer.name) };
  }
  // Before opset 17 ONNX has no LayerNormalization: (x − mean) / √(var + ε) · γ + β, as tfjs computes it.
  const node = (op: string, operands: string[], attributes = {}): string => graph.addNode(op, operands, attributes, `${layer.name}_${op.toLowerCase()}`);
  const mean = node('ReduceMean', [input.name], { axes, keepdims: 1 });
  const centred = node('Sub', [input.name, mean]);
  const variance = node('ReduceMean', [node('Mul', [centred, centred])], { axes, keepdims: 1 });
  const deviation = node('Sqrt', [node('Add', [variance, scalar(graph, `${layer.name}_epsilon`, epsilon)])]);
  const scaled = node('Mul', [node('Div', [centred, deviation]), gamma]);
  return { ...input, name: betaName === undefined ? scaled : node('Add', [scaled, betaName]) };
};

const reLU: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  const maxValue = configOf(layer).maxValue;
  if (typeof maxValue === 'number') return clip(graph, input, 0, maxValue, layer.name);
  return { ...input, name: graph.addNode('Relu', [input.name], {}, layer.name) };
};

const leakyReLU: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  const alpha = configOf(layer).alpha;
  if (typeof alpha !== 'number') throw new ExportError(`${describe(layer)} has alpha ${JSON.stringify(alpha)}; expected a number`);
  return { ...input, name: graph.addNode('LeakyRelu', [input.name], { alpha: { float: alpha } }, layer.name) };
};

const elu: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  const alpha = configOf(layer).alpha ?? 1;
  if (typeof alpha !== 'number') throw new ExportError(`${describe(layer)} has alpha ${JSON.stringify(alpha)}; expected a number`);
  return { ...input, name: graph.addNode('Elu', [input.name], { alpha: { float: alpha } }, layer.name) };
};

const activation: LayerConverter = (graph, layer, inputs) => applyActivation(graph, configOf(layer).activation, singleInput(layer, inputs), layer);

const reshape: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  // An unknown dimension is -1 as written and null once tfjs has stored the config.
  const target = (configOf(layer).targetShape as (number | null)[]).map((d) => d ?? -1);
  const known = product(target.filter((d) => d !== -1));
  const resolved = target.map((d) => (d === -1 ? product(input.shape) / known : d));
  if (product(resolved) !== product(input.shape) || !resolved.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ExportError(`${describe(layer)} reshapes [${input.shape.join(', ')}] to [${target.join(', ')}], which does not hold the same number of values`);
  }
  // Reshape follows tfjs' element order, so an NCHW value goes back to NHWC first.
  const source = toLayout(graph, input, 'tfjs');
  const shape = graph.addInt64Vector(`${layer.name}_shape`, [-1, ...resolved]);
  const out: GraphValue = { name: graph.addNode('Reshape', [source.name, shape], {}, layer.name), shape: resolved, layout: 'tfjs' };
  return imagesToNchw(graph, out);
};

const flatten: LayerConverter = (graph, layer, inputs) => {
  const source = toLayout(graph, singleInput(layer, inputs), 'tfjs');
  return { name: graph.addNode('Flatten', [source.name], { axis: 1 }, layer.name), shape: [product(source.shape)], layout: 'tfjs' };
};

/** Dropout does nothing at inference, which is the only mode an exported generator runs in. */
const dropout: LayerConverter = (_graph, layer, inputs) => singleInput(layer, inputs);

const embedding: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  if (input.layout === 'NCHW') throw new ExportError(`${describe(layer)} gets an image; an Embedding reads class indices [batch, n]`);
  const table = requireWeight(layer, weightsOf(layer), 'embeddings');
  // tfjs casts float indices to int32 (truncating); ONNX's Gather wants integer indices.
  const indices = input.dtype === 'int64' ? input.name : graph.addNode('Cast', [input.name], { to: TensorDataType.INT64 }, `${layer.name}_indices`);
  const rows = addLayerWeight(graph, layer, 'embeddings', table.shape, table.values);
  return { name: graph.addNode('Gather', [rows, indices], { axis: 0 }, layer.name), shape: [...input.shape, table.shape[1]!], layout: 'tfjs' };
};

const upSampling2D: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  const config = configOf(layer);
  requireImage(layer, input);
  requireChannelsLast(layer, config);
  const [sh, sw] = pair(config.size, 2);
  const interpolation = config.interpolation ?? 'nearest';
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') {
    throw new ExportError(`${describe(layer)} has interpolation ${JSON.stringify(interpolation)}; the exporter supports "nearest" and "bilinear"`);
  }
  const value = imagesToNchw(graph, input);
  const scales = graph.addInitializer(`${layer.name}_scales`, [4], new Float32Array([1, 1, sh, sw]));
  // tfjs resizes with alignCorners = halfPixelCenters = false: source pixel = output pixel / scale,
  // rounded down for nearest, which is ONNX's 'asymmetric' transformation with 'floor'.
  const attributes: Record<string, string> =
    interpolation === 'nearest'
      ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
      : { mode: 'linear', coordinate_transformation_mode: 'asymmetric' };
  const [h, w, c] = input.shape as [number, number, number];
  return { name: graph.addNode('Resize', [value.name, '', scales], attributes, layer.name), shape: [h * sh, w * sw, c], layout: 'NCHW' };
};

const zeroPadding2D: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  const config = configOf(layer);
  requireImage(layer, input);
  requireChannelsLast(layer, config);
  const [[top, bottom], [left, right]] = sides(layer, config.padding);
  const value = imagesToNchw(graph, input);
  const pads = graph.addInt64Vector(`${layer.name}_pads`, [0, 0, top, left, 0, 0, bottom, right]);
  const [h, w, c] = input.shape as [number, number, number];
  return { name: graph.addNode('Pad', [value.name, pads], { mode: 'constant' }, layer.name), shape: [h + top + bottom, w + left + right, c], layout: 'NCHW' };
};

const cropping2D: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  const config = configOf(layer);
  requireImage(layer, input);
  requireChannelsLast(layer, config);
  const [[top, bottom], [left, right]] = sides(layer, config.cropping);
  const [h, w, c] = input.shape as [number, number, number];
  if (top + bottom >= h || left + right >= w) throw new ExportError(`${describe(layer)} crops [[${top}, ${bottom}], [${left}, ${right}]] from a ${h}×${w} image, which leaves nothing`);
  const value = imagesToNchw(graph, input);
  const operands = [
    value.name,
    graph.addInt64Vector(`${layer.name}_starts`, [top, left]),
    graph.addInt64Vector(`${layer.name}_ends`, [h - bottom, w - right]),
    graph.addInt64Vector(`${layer.name}_axes`, [2, 3]),
  ];
  return { name: graph.addNode('Slice', operands, {}, layer.name), shape: [h - top - bottom, w - left - right, c], layout: 'NCHW' };
};

/** Brings several inputs of one rank into one layout: NCHW for images, tfjs order otherwise. */
function commonLayout(graph: GraphBuilder, layer: tfl.layers.Layer, inputs: readonly GraphValue[]): GraphValue[] {
  if (inputs.length < 2) throw new ExportError(`${describe(layer)} gets ${inputs.length} input; it merges two or more`);
  const rank = inputs[0]!.shape.length;
  if (inputs.some((input) => input.shape.length !== rank || input.dtype === 'int64')) {
    throw new ExportError(`${describe(layer)} merges inputs of shapes ${inputs.map((i) => `[batch, ${i.shape.join(', ')}]`).join(' and ')}; the exporter merges float values of one rank only`);
  }
  return inputs.map((input) => (rank === 3 ? imagesToNchw(graph, input) : input));
}

/** An element-wise merge layer (Add, Multiply, …) as a chain of binary ONNX ops, or one variadic op. */
function elementwise(op: string, variadic: boolean): LayerConverter {
  return (graph, layer, inputs) => {
    const values = commonLayout(graph, layer, inputs);
    // tfjs broadcasts size-1 axes between inputs of one rank, exactly as ONNX does.
    const shape = values[0]!.shape.map((_, axis) => Math.max(...values.map((v) => v.shape[axis]!)));
    if (values.some((v) => v.shape.some((d, axis) => d !== 1 && d !== shape[axis]))) {
      throw new ExportError(`${describe(layer)} merges shapes ${values.map((v) => `[${v.shape.join(', ')}]`).join(', ')}, which do not broadcast`);
    }
    let name: string;
    if (variadic) name = graph.addNode(op, values.map((v) => v.name), {}, layer.name);
    else name = values.slice(1).reduce((acc, v) => graph.addNode(op, [acc, v.name], {}, layer.name), values[0]!.name);
    return { name, shape, layout: values[0]!.layout };
  };
}

const concatenate: LayerConverter = (graph, layer, inputs) => {
  const values = commonLayout(graph, layer, inputs);
  const rank = values[0]!.shape.length + 1;
  const axis = resolveAxis(layer, configOf(layer).axis ?? -1, rank);
  const shape = [...values[0]!.shape];
  for (const value of values.slice(1)) {
    if (value.shape.some((d, a) => a !== axis - 1 && d !== shape[a])) {
      throw new ExportError(`${describe(layer)} concatenates shapes ${values.map((v) => `[${v.shape.join(', ')}]`).join(', ')} along axis ${axis}; all other axes must match`);
    }
  }
  shape[axis - 1] = values.reduce((sum, v) => sum + v.shape[axis - 1]!, 0);
  const name = graph.addNode('Concat', values.map((v) => v.name), { axis: onnxAxis(values[0]!, axis) }, layer.name);
  return { name, shape, layout: values[0]!.layout };
};

function convolution(kind: 'Conv' | 'ConvTranspose'): LayerConverter {
  return (graph, layer, inputs, context) => {
    const input = singleInput(layer, inputs);
    const config = configOf(layer);
    requireImage(layer, input);
    requireChannelsLast(layer, config);
    const padding = config.padding;
    if (padding !== 'same' && padding !== 'valid') throw new ExportError(`${describe(layer)} has padding ${JSON.stringify(padding)}; the exporter supports "same" and "valid"`);
    const [sh, sw] = pair(config.strides, 1);
    const [dh, dw] = pair(config.dilationRate, 1);
    // tfjs' Conv2DTranspose ignores dilationRate; rather than guess which result was meant, refuse.
    if (kind === 'ConvTranspose' && (dh !== 1 || dw !== 1)) throw new ExportError(`${describe(layer)} has dilationRate [${dh}, ${dw}]; the exporter supports Conv2DTranspose without dilation only`);
    const weights = weightsOf(layer);
    const tfjsKernel = requireWeight(layer, weights, 'kernel');
    const [kh, kw] = [tfjsKernel.shape[0]!, tfjsKernel.shape[1]!];
    const outShape = layer.computeOutputShape([null, ...input.shape]) as (number | null)[];
    const [outH, outW, outC] = [outShape[1]!, outShape[2]!, outShape[3]!];
    const [inH, inW] = [input.shape[0]!, input.shape[1]!];
    const value = imagesToNchw(graph, input);
    const attributes: Record<string, number[]> = { kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw] };
    // tfjs Conv2D [kh, kw, in, out] → ONNX Conv [out, in, kh, kw]; tfjs Conv2DTranspose
    // [kh, kw, out, in] → ONNX ConvTranspose [in, out, kh, kw]: the same permutation, no flip.
    let kernel = permute(tfjsKernel.values, tfjsKernel.shape, [3, 2, 0, 1]);
    let bias = weights.get('bias');
    if (context.foldedBatchNorm !== undefined) ({ kernel, bias } = foldIntoWeights(kernel, kind === 'Conv' ? 0 : 1, bias, batchNormAsAffine(context.foldedBatchNorm)));
    if (kind === 'Conv') {
      const [top, bottom] = tfPads(inH, outH, kh, sh, dh, padding);
      const [left, right] = tfPads(inW, outW, kw, sw, dw, padding);
      attributes.pads = [top, left, bottom, right];
    } else {
      // A transposed convolution is padded like the forward convolution from its (larger) output
      // back to its input; output_padding then adds the rows and columns tfjs keeps at the end.
      const [top, bottom] = tfPads(outH, inH, kh, sh, 1, padding);
      const [left, right] = tfPads(outW, inW, kw, sw, 1, padding);
      const outputPadding = [outH - ((inH - 1) * sh + kh - top - bottom), outW - ((inW - 1) * sw + kw - left - right)];
      if (outputPadding[0]! < 0 || outputPadding[0]! >= sh || outputPadding[1]! < 0 || outputPadding[1]! >= sw) {
        throw new ExportError(`${describe(layer)}: no ONNX ConvTranspose padding reproduces the tfjs output size ${outH}×${outW} (output_padding would be [${outputPadding.join(', ')}])`);
      }
      attributes.pads = [top, left, bottom, right];
      attributes.output_padding = outputPadding;
    }
    const operands = [value.name, addLayerWeight(graph, layer, 'kernel', kernel.shape, kernel.values)];
    if (bias !== undefined) operands.push(addLayerWeight(graph, layer, 'bias', bias.shape, bias.values));
    const out: GraphValue = { name: graph.addNode(kind, operands, attributes, layer.name), shape: [outH, outW, outC], layout: 'NCHW' };
    return applyActivation(graph, config.activation, out, layer);
  };
}

/** Converters by tfjs-layers class name; adding a layer type means adding an entry here. */
export const layerConverters: Readonly<Record<string, LayerConverter>> = {
  Dense: dense,
  Conv2D: convolution('Conv'),
  Conv2DTranspose: convolution('ConvTranspose'),
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  ReLU: reLU,
  LeakyReLU: leakyReLU,
  ELU: elu,
  Activation: activation,
  Reshape: reshape,
  Flatten: flatten,
  UpSampling2D: upSampling2D,
  ZeroPadding2D: zeroPadding2D,
  Cropping2D: cropping2D,
  Concatenate: concatenate,
  Add: elementwise('Add', false),
  Multiply: elementwise('Mul', false),
  Average: elementwise('Mean', true),
  Maximum: elementwise('Max', true),
  Minimum: elementwise('Min', true),
  Dropout: dropout,
  Embedding: embedding,
};

export const SUPPORTED_LAYER_CLASSES: readonly string[] = Object.keys(layerConverters).sort();
