// One converter per tfjs-layers class. tfjs computes in NHWC; ONNX's Conv and ConvTranspose want NCHW.
// 4-D values therefore live in the graph as NCHW from the moment they appear, and a Transpose back to
// the tfjs order is inserted only where a layer depends on the element order (Reshape, Flatten) and at
// the graph output.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphBuilder } from '../onnx/graph.js';

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
}

export class ExportError extends Error {
  override name = 'ExportError';
}

/** Turns one tfjs layer applied to `inputs` into ONNX nodes; returns the layer's output value. */
export type LayerConverter = (graph: GraphBuilder, layer: tfl.layers.Layer, inputs: readonly GraphValue[]) => GraphValue;

type LayerConfig = Record<string, unknown>;

interface Weight {
  shape: number[];
  values: Float32Array;
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

function describe(layer: tfl.layers.Layer): string {
  return `layer "${layer.name}" (${layer.getClassName()})`;
}

function configOf(layer: tfl.layers.Layer): LayerConfig {
  return layer.getConfig() as LayerConfig;
}

function singleInput(layer: tfl.layers.Layer, inputs: readonly GraphValue[]): GraphValue {
  if (inputs.length !== 1) throw new ExportError(`${describe(layer)} gets ${inputs.length} inputs; its converter handles exactly one`);
  return inputs[0]!;
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

export const SUPPORTED_ACTIVATIONS = ['linear', 'relu', 'relu6', 'tanh', 'sigmoid', 'elu', 'softplus'] as const;

function clip(graph: GraphBuilder, value: GraphValue, min: number, max: number, label: string): GraphValue {
  const lo = graph.addInitializer(`${label}_min`, [], new Float32Array([min]));
  const hi = graph.addInitializer(`${label}_max`, [], new Float32Array([max]));
  return { ...value, name: graph.addNode('Clip', [value.name, lo, hi], {}, label) };
}

/** Emits a tfjs activation by its serialised name (the `activation` field of a layer's config). */
export function applyActivation(graph: GraphBuilder, activation: unknown, value: GraphValue, layer: tfl.layers.Layer): GraphValue {
  // A missing activation is tfjs' default, linear.
  const name = activation === undefined || activation === null ? 'linear' : activation;
  const unary = (op: string, attributes = {}): GraphValue => ({ ...value, name: graph.addNode(op, [value.name], attributes, `${layer.name}_${op.toLowerCase()}`) });
  switch (name) {
    case 'linear':
      return value;
    case 'relu':
      return unary('Relu');
    case 'tanh':
      return unary('Tanh');
    case 'sigmoid':
      return unary('Sigmoid');
    case 'elu':
      return unary('Elu', { alpha: { float: 1 } });
    case 'softplus':
      return unary('Softplus');
    case 'relu6':
      return clip(graph, value, 0, 6, `${layer.name}_relu6`);
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

const product = (values: number[]): number => values.reduce((a, b) => a * b, 1);

const dense: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  if (input.shape.length !== 1) {
    throw new ExportError(`${describe(layer)} gets a ${input.shape.length + 1}-D input [batch, ${input.shape.join(', ')}]; the exporter supports Dense on 2-D inputs [batch, features] (add a Flatten before it)`);
  }
  const weights = weightsOf(layer);
  const kernel = requireWeight(layer, weights, 'kernel');
  const operands = [input.name, graph.addInitializer(`${layer.name}_kernel`, kernel.shape, kernel.values)];
  const bias = weights.get('bias');
  if (bias !== undefined) operands.push(graph.addInitializer(`${layer.name}_bias`, bias.shape, bias.values));
  const out: GraphValue = { name: graph.addNode('Gemm', operands, {}, layer.name), shape: [kernel.shape[1]!], layout: 'tfjs' };
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
    graph.addInitializer(`${layer.name}_gamma`, [channels], gamma),
    graph.addInitializer(`${layer.name}_beta`, [channels], beta),
    graph.addInitializer(`${layer.name}_moving_mean`, [channels], mean.values),
    graph.addInitializer(`${layer.name}_moving_variance`, [channels], variance.values),
  ];
  const epsilon = typeof config.epsilon === 'number' ? config.epsilon : 1e-3;
  return { ...input, name: graph.addNode('BatchNormalization', operands, { epsilon: { float: epsilon } }, layer.name) };
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

function convolution(kind: 'Conv' | 'ConvTranspose'): LayerConverter {
  return (graph, layer, inputs) => {
    const input = singleInput(layer, inputs);
    const config = configOf(layer);
    if (input.shape.length !== 3) throw new ExportError(`${describe(layer)} needs a 4-D input [batch, height, width, channels], got [batch, ${input.shape.join(', ')}]`);
    if ((config.dataFormat ?? 'channelsLast') !== 'channelsLast') {
      throw new ExportError(`${describe(layer)} has dataFormat ${JSON.stringify(config.dataFormat)}; the exporter supports "channelsLast" only`);
    }
    const padding = config.padding;
    if (padding !== 'same' && padding !== 'valid') throw new ExportError(`${describe(layer)} has padding ${JSON.stringify(padding)}; the exporter supports "same" and "valid"`);
    const [sh, sw] = pair(config.strides, 1);
    const [dh, dw] = pair(config.dilationRate, 1);
    // tfjs' Conv2DTranspose ignores dilationRate; rather than guess which result was meant, refuse.
    if (kind === 'ConvTranspose' && (dh !== 1 || dw !== 1)) throw new ExportError(`${describe(layer)} has dilationRate [${dh}, ${dw}]; the exporter supports Conv2DTranspose without dilation only`);
    const weights = weightsOf(layer);
    const kernel = requireWeight(layer, weights, 'kernel');
    const [kh, kw] = [kernel.shape[0]!, kernel.shape[1]!];
    const outShape = layer.computeOutputShape([null, ...input.shape]) as (number | null)[];
    const [outH, outW, outC] = [outShape[1]!, outShape[2]!, outShape[3]!];
    const [inH, inW] = [input.shape[0]!, input.shape[1]!];
    const value = imagesToNchw(graph, input);
    const attributes: Record<string, number[]> = { kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw] };
    // tfjs Conv2D [kh, kw, in, out] → ONNX Conv [out, in, kh, kw]; tfjs Conv2DTranspose
    // [kh, kw, out, in] → ONNX ConvTranspose [in, out, kh, kw]: the same permutation, no flip.
    const w = permute(kernel.values, kernel.shape, [3, 2, 0, 1]);
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
    const operands = [value.name, graph.addInitializer(`${layer.name}_kernel`, w.shape, w.values)];
    const bias = weights.get('bias');
    if (bias !== undefined) operands.push(graph.addInitializer(`${layer.name}_bias`, bias.shape, bias.values));
    const out: GraphValue = { name: graph.addNode(kind, operands, attributes, layer.name), shape: [outH, outW, outC], layout: 'NCHW' };
    return applyActivation(graph, config.activation, out, layer);
  };
}

/** Converters by tfjs-layers class name; adding a layer type means adding an entry here. */
export const layerConverters: Readonly<Record<string, LayerConverter>> = {
  Dense: dense,
  BatchNormalization: batchNormalization,
  ReLU: reLU,
  LeakyReLU: leakyReLU,
  Activation: activation,
  Reshape: reshape,
  Flatten: flatten,
  Conv2D: convolution('Conv'),
  Conv2DTranspose: convolution('ConvTranspose'),
  Dropout: dropout,
};

export const SUPPORTED_LAYER_CLASSES: readonly string[] = Object.keys(layerConverters).sort();
