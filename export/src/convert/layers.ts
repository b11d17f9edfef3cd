// One converter per tfjs-layers class. tfjs computes in NHWC; ONNX's convolutions want NCHW, so 4-D
// values live in the graph as NCHW and a Transpose is inserted only where a layer needs the tfjs order
// back (Reshape, Flatten, the graph output).
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphBuilder } from '../onnx/graph.js';

/** A value flowing between converted layers. `shape` is tfjs' (NHWC) without the batch axis. */
export interface GraphValue {
  name: string;
  shape: number[];
  /** How a 4-D value is laid out in the ONNX graph. */
  layout: 'NHWC' | 'NCHW' | 'flat';
}

export class ExportError extends Error {
  override name = 'ExportError';
}

type LayerConfig = Record<string, unknown>;

export interface LayerConverter {
  (graph: GraphBuilder, layer: tfl.layers.Layer, input: GraphValue): GraphValue;
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

function weightsOf(layer: tfl.layers.Layer): Map<string, { shape: number[]; values: Float32Array }> {
  const tensors = layer.getWeights();
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  layer.weights.forEach((variable, i) => {
    const tensor = tensors[i]!;
    const key = variable.name.split('/').pop()!.replace(/_\d+$/, '');
    out.set(key, { shape: tensor.shape, values: tensor.dataSync() as Float32Array });
  });
  return out;
}

function requireWeight(layer: tfl.layers.Layer, weights: ReturnType<typeof weightsOf>, key: string): { shape: number[]; values: Float32Array } {
  const weight = weights.get(key);
  if (weight === undefined) throw new ExportError(`layer "${layer.name}" (${layer.getClassName()}) has no "${key}" weight; found ${[...weights.keys()].join(', ')}`);
  return weight;
}

/** Permutes a row-major tensor's axes (for weight layout changes at export time). */
export function permute(values: Float32Array, shape: number[], perm: number[]): { values: Float32Array; shape: number[] } {
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

export function toLayout(graph: GraphBuilder, value: GraphValue, layout: 'NHWC' | 'NCHW'): GraphValue {
  if (value.shape.length !== 3 || value.layout === layout) return value;
  const perm = layout === 'NCHW' ? NHWC_TO_NCHW : NCHW_TO_NHWC;
  return { name: graph.addNode('Transpose', [value.name], { perm }, 'transpose'), shape: value.shape, layout };
}

const supportedActivations = ['linear', 'relu', 'relu6', 'tanh', 'sigmoid', 'elu', 'softplus'] as const;

/** Emits a tfjs activation function by its config name. */
export function applyActivation(graph: GraphBuilder, activation: unknown, value: GraphValue, layer: tfl.layers.Layer): GraphValue {
  const name = typeof activation === 'string' ? activation.toLowerCase() : 'linear';
  const node = (op: string): GraphValue => ({ ...value, name: graph.addNode(op, [value.name], {}, op.toLowerCase()) });
  switch (name) {
    case 'linear':
      return value;
    case 'relu':
      return node('Relu');
    case 'tanh':
      return node('Tanh');
    case 'sigmoid':
      return node('Sigmoid');
    case 'elu':
      return { ...value, name: graph.addNode('Elu', [value.name], { alpha: { float: 1 } }, 'elu') };
    case 'softplus':
      return node('Softplus');
    case 'relu6': {
      const lo = graph.addFloatInitializer('relu6_min', [], new Float32Array([0]));
      const hi = graph.addFloatInitializer('relu6_max', [], new Float32Array([6]));
      return { ...value, name: graph.addNode('Clip', [value.name, lo, hi], {}, 'relu6') };
    }
    default:
      throw new ExportError(`layer "${layer.name}" (${layer.getClassName()}) uses activation "${String(activation)}", which the exporter does not support; supported: ${supportedActivations.join(', ')}`);
  }
}

function spatialPads(inSize: number, outSize: number, kernel: number, stride: number, dilation: number, padding: unknown): [number, number] {
  if (padding === 'valid') return [0, 0];
  // TensorFlow's 'same': total padding of the forward convolution, the extra pixel at the end.
  const effectiveKernel = (kernel - 1) * dilation + 1;
  const total = Math.max((outSize - 1) * stride + effectiveKernel - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function pair(value: unknown, fallback: number): [number, number] {
  if (Array.isArray(value)) return [Number(value[0]), Number(value[1] ?? value[0])];
  if (typeof value === 'number') return [value, value];
  return [fallback, fallback];
}

const dense: LayerConverter = (graph, layer, input) => {
  const config = layer.getConfig() as LayerConfig;
  if (input.shape.length !== 1) {
    throw new ExportError(`layer "${layer.name}" (Dense) gets a ${input.shape.length + 1}-D input; the exporter supports Dense on 2-D inputs [batch, features] (add a Flatten before it)`);
  }
  const weights = weightsOf(layer);
  const kernel = requireWeight(layer, weights, 'kernel');
  const units = kernel.shape[1]!;
  const w = graph.addFloatInitializer(`${layer.name}_kernel`, kernel.shape, kernel.values);
  const bias = weights.get('bias');
  const inputs = [input.name, w];
  if (bias !== undefined) inputs.push(graph.addFloatInitializer(`${layer.name}_bias`, bias.shape, bias.values));
  const out: GraphValue = { name: graph.addNode(bias ? 'Gemm' : 'MatMul', inputs, {}, layer.name), shape: [units], layout: 'flat' };
  return applyActivation(graph, config.activation, out, layer);
};

const batchNormalization: LayerConverter = (graph, layer, input) => {
  const config = layer.getConfig() as LayerConfig;
  const axis = config.axis as number;
  const rank = input.shape.length + 1;
  if (!(axis === -1 || axis === rank - 1)) {
    throw new ExportError(`layer "${layer.name}" (BatchNormalization) normalises axis ${axis}; the exporter supports the channel (last) axis only`);
  }
  const weights = weightsOf(layer);
  const channels = input.shape[input.shape.length - 1]!;
  const mean = requireWeight(layer, weights, 'moving_mean');
  const variance = requireWeight(layer, weights, 'moving_variance');
  const gamma = weights.get('gamma')?.values ?? new Float32Array(channels).fill(1);
  const beta = weights.get('beta')?.values ?? new Float32Array(channels);
  const value = toLayout(graph, input, 'NCHW');
  const params = [
    graph.addFloatInitializer(`${layer.name}_gamma`, [channels], gamma),
    graph.addFloatInitializer(`${layer.name}_beta`, [channels], beta),
    graph.addFloatInitializer(`${layer.name}_mean`, [channels], mean.values),
    graph.addFloatInitializer(`${layer.name}_variance`, [channels], variance.values),
  ];
  const name = graph.addNode('BatchNormalization', [value.name, ...params], { epsilon: { float: config.epsilon as number } }, layer.name);
  return { ...value, name };
};

const reLU: LayerConverter = (graph, layer, input) => {
  const config = layer.getConfig() as LayerConfig;
  if (config.maxValue != null) {
    const lo = graph.addFloatInitializer(`${layer.name}_min`, [], new Float32Array([0]));
    const hi = graph.addFloatInitializer(`${layer.name}_max`, [], new Float32Array([config.maxValue as number]));
    return { ...input, name: graph.addNode('Clip', [input.name, lo, hi], {}, layer.name) };
  }
  return { ...input, name: graph.addNode('Relu', [input.name], {}, layer.name) };
};

const leakyReLU: LayerConverter = (graph, layer, input) => {
  const alpha = (layer.getConfig() as LayerConfig).alpha as number;
  return { ...input, name: graph.addNode('LeakyRelu', [input.name], { alpha: { float: alpha } }, layer.name) };
};

const activation: LayerConverter = (graph, layer, input) => applyActivation(graph, (layer.getConfig() as LayerConfig).activation, input, layer);

const reshape: LayerConverter = (graph, layer, input) => {
  const target = (layer.getConfig() as LayerConfig).targetShape as number[];
  const resolved = target.includes(-1)
    ? target.map((d) => (d === -1 ? input.shape.reduce((a, b) => a * b, 1) / target.filter((t) => t !== -1).reduce((a, b) => a * b, 1) : d))
    : target;
  const source = toLayout(graph, input, 'NHWC');
  const shape = graph.addInt64Initializer(`${layer.name}_shape`, [-1, ...resolved]);
  const out: GraphValue = { name: graph.addNode('Reshape', [source.name, shape], {}, layer.name), shape: resolved, layout: resolved.length === 3 ? 'NHWC' : 'flat' };
  return toLayout(graph, out, 'NCHW');
};

const flatten: LayerConverter = (graph, layer, input) => {
  const source = toLayout(graph, input, 'NHWC');
  return { name: graph.addNode('Flatten', [source.name], { axis: 1 }, layer.name), shape: [input.shape.reduce((a, b) => a * b, 1)], layout: 'flat' };
};

function convolution(kind: 'Conv' | 'ConvTranspose'): LayerConverter {
  return (graph, layer, input) => {
    const config = layer.getConfig() as LayerConfig;
    const className = layer.getClassName();
    if (input.shape.length !== 3) throw new ExportError(`layer "${layer.name}" (${className}) needs a 4-D input, got ${input.shape.length + 1}-D`);
    if ((config.dataFormat ?? 'channelsLast') !== 'channelsLast') throw new ExportError(`layer "${layer.name}" (${className}): only dataFormat "channelsLast" is supported`);
    const padding = config.padding;
    if (padding !== 'same' && padding !== 'valid') throw new ExportError(`layer "${layer.name}" (${className}): padding "${String(padding)}" is not supported (use "same" or "valid")`);
    const weights = weightsOf(layer);
    const kernel = requireWeight(layer, weights, 'kernel');
    const [kh, kw] = [kernel.shape[0]!, kernel.shape[1]!];
    const [sh, sw] = pair(config.strides, 1);
    const [dh, dw] = pair(config.dilationRate, 1);
    const outShape = layer.computeOutputShape([null, ...input.shape]) as (number | null)[];
    const [outH, outW, outC] = [outShape[1]!, outShape[2]!, outShape[3]!];
    const [inH, inW] = [input.shape[0]!, input.shape[1]!];
    const value = toLayout(graph, input, 'NCHW');
    const attrs: Record<string, number[]> = { kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw] };
    let w: { values: Float32Array; shape: number[] };
    if (kind === 'Conv') {
      // tfjs [kh, kw, in, out] → ONNX [out, in, kh, kw]
      w = permute(kernel.values, kernel.shape, [3, 2, 0, 1]);
      const [top, bottom] = spatialPads(inH, outH, kh, sh, dh, padding);
      const [left, right] = spatialPads(inW, outW, kw, sw, dw, padding);
      attrs.pads = [top, left, bottom, right];
    } else {
      // tfjs [kh, kw, out, in] → ONNX ConvTranspose [in, out, kh, kw]; the padding is the forward
      // convolution's from the (larger) output back to the input.
      w = permute(kernel.values, kernel.shape, [3, 2, 0, 1]);
      const [top, bottom] = spatialPads(outH, inH, kh, sh, dh, padding);
      const [left, right] = spatialPads(outW, inW, kw, sw, dw, padding);
      attrs.pads = [top, left, bottom, right];
      attrs.output_padding = [outH - ((inH - 1) * sh + (kh - 1) * dh + 1 - top - bottom), outW - ((inW - 1) * sw + (kw - 1) * dw + 1 - left - right)];
    }
    const inputs = [value.name, graph.addFloatInitializer(`${layer.name}_kernel`, w.shape, w.values)];
    const bias = weights.get('bias');
    if (bias !== undefined) inputs.push(graph.addFloatInitializer(`${layer.name}_bias`, bias.shape, bias.values));
    const out: GraphValue = { name: graph.addNode(kind, inputs, attrs, layer.name), shape: [outH, outW, outC], layout: 'NCHW' };
    return applyActivation(graph, config.activation, out, layer);
  };
}

/** Converters by tfjs-layers class name. */
export const layerConverters: Record<string, LayerConverter> = {
  Dense: dense,
  BatchNormalization: batchNormalization,
  ReLU: reLU,
  LeakyReLU: leakyReLU,
  Activation: activation,
  Reshape: reshape,
  Flatten: flatten,
  Conv2D: convolution('Conv'),
  Conv2DTranspose: convolution('ConvTranspose'),
  Dropout: (_graph, _layer, input) => input,
};
