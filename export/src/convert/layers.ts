// One converter per tfjs-layers class, and the table of them by class name. Values arrive and leave in
// the layouts layout.ts describes; layer-config.ts reads configs and weights.
import { TensorDataType } from '@gantry/files/onnx';
import { ExportError } from '../errors.js';
import { applyActivation, clip, scalar } from './activations.js';
import { batchNormAsAffine, batchNormEpsilon, foldIntoWeights } from './batch-norm-folding.js';
import type { GraphValue, LayerConverter } from './graph-value.js';
import {
  addLayerWeight,
  configOf,
  describe,
  product,
  requireChannelsLast,
  requireImage,
  requireWeight,
  resolveAxis,
  sides,
  singleInput,
  tfPads,
  pair,
  weightsOf,
} from './layer-config.js';
import { commonLayout, imagesToNchw, onnxAxis, toLayout } from './layout.js';
import { permute } from './permute.js';

const dense: LayerConverter = (graph, layer, inputs, context) => {
  const input = toLayout(graph, singleInput(layer, inputs), 'tfjs');
  const weights = weightsOf(layer);
  let kernel = requireWeight(layer, weights, 'kernel');
  let bias = weights.get('bias');
  if (context.foldedBatchNorm !== undefined)
    ({ kernel, bias } = foldIntoWeights(kernel, 1, bias, batchNormAsAffine(context.foldedBatchNorm)));
  const units = kernel.shape[1]!;
  const w = addLayerWeight(graph, layer, 'kernel', kernel.shape, kernel.values);
  const b = bias === undefined ? undefined : addLayerWeight(graph, layer, 'bias', bias.shape, bias.values);
  let name: string;
  if (input.shape.length === 1 && b !== undefined) {
    name = graph.addNode('Gemm', [input.name, w, b], {}, layer.name);
  } else {
    // Without a bias, MatMul: onnxruntime runs it faster than a two-input Gemm (measured on the DCGAN
    // generator: 0.91 → 1.0× torch.onnx's graph, `npm run bench:graph`).
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
    throw new ExportError(
      `${describe(layer)} normalises axis ${String(config.axis)} of a ${rank}-D input; the exporter supports the last (channel) axis only`,
    );
  }
  // ONNX normalises axis 1: that is the channel axis of [batch, features] and of NCHW images only.
  if (rank !== 2 && rank !== 4) {
    throw new ExportError(
      `${describe(layer)} gets a ${rank}-D input; the exporter supports BatchNormalization on 2-D [batch, features] and 4-D image inputs`,
    );
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
  return {
    ...input,
    name: graph.addNode('BatchNormalization', operands, { epsilon: { float: batchNormEpsilon(layer) } }, layer.name),
  };
};

const layerNormalization: LayerConverter = (graph, layer, inputs, context) => {
  // Normalising over trailing axes depends on their order, so the value is brought to tfjs' order.
  const input = toLayout(graph, singleInput(layer, inputs), 'tfjs');
  const config = configOf(layer);
  const rank = input.shape.length + 1;
  const axes = (Array.isArray(config.axis) ? config.axis : [config.axis])
    .map((axis) => resolveAxis(layer, axis, rank))
    .sort((a, b) => a - b);
  const first = axes[0]!;
  if (axes.some((axis, i) => axis !== first + i) || axes.at(-1) !== rank - 1) {
    throw new ExportError(
      `${describe(layer)} normalises axes [${axes.join(', ')}] of a ${rank}-D input; the exporter supports trailing axes only (e.g. -1, or [1, 2, 3] for images)`,
    );
  }
  const paramShape = input.shape.slice(first - 1);
  const weights = weightsOf(layer);
  const gamma = addLayerWeight(
    graph,
    layer,
    'gamma',
    paramShape,
    weights.get('gamma')?.values ?? new Float32Array(product(paramShape)).fill(1),
  );
  const beta = weights.get('beta');
  const betaName = beta === undefined ? undefined : addLayerWeight(graph, layer, 'beta', paramShape, beta.values);
  const epsilon = typeof config.epsilon === 'number' ? config.epsilon : 1e-3;
  if (context.opset >= 17) {
    const operands = betaName === undefined ? [input.name, gamma] : [input.name, gamma, betaName];
    return {
      ...input,
      name: graph.addNode('LayerNormalization', operands, { axis: first, epsilon: { float: epsilon } }, layer.name),
    };
  }
  // Before opset 17 ONNX has no LayerNormalization: (x − mean) / √(var + ε) · γ + β, as tfjs computes it.
  const node = (op: string, operands: string[], attributes = {}): string =>
    graph.addNode(op, operands, attributes, `${layer.name}_${op.toLowerCase()}`);
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
  if (typeof alpha !== 'number')
    throw new ExportError(`${describe(layer)} has alpha ${JSON.stringify(alpha)}; expected a number`);
  return { ...input, name: graph.addNode('LeakyRelu', [input.name], { alpha: { float: alpha } }, layer.name) };
};

const elu: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  const alpha = configOf(layer).alpha ?? 1;
  if (typeof alpha !== 'number')
    throw new ExportError(`${describe(layer)} has alpha ${JSON.stringify(alpha)}; expected a number`);
  return { ...input, name: graph.addNode('Elu', [input.name], { alpha: { float: alpha } }, layer.name) };
};

const activation: LayerConverter = (graph, layer, inputs) =>
  applyActivation(graph, configOf(layer).activation, singleInput(layer, inputs), layer);

const reshape: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  // An unknown dimension is -1 as written and null once tfjs has stored the config.
  const target = (configOf(layer).targetShape as (number | null)[]).map((d) => d ?? -1);
  const known = product(target.filter((d) => d !== -1));
  const resolved = target.map((d) => (d === -1 ? product(input.shape) / known : d));
  if (product(resolved) !== product(input.shape) || !resolved.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ExportError(
      `${describe(layer)} reshapes [${input.shape.join(', ')}] to [${target.join(', ')}], which does not hold the same number of values`,
    );
  }
  // Reshape follows tfjs' element order, so an NCHW value goes back to NHWC first.
  const source = toLayout(graph, input, 'tfjs');
  const shape = graph.addInt64Vector(`${layer.name}_shape`, [-1, ...resolved]);
  const out: GraphValue = {
    name: graph.addNode('Reshape', [source.name, shape], {}, layer.name),
    shape: resolved,
    layout: 'tfjs',
  };
  return imagesToNchw(graph, out);
};

const flatten: LayerConverter = (graph, layer, inputs) => {
  const source = toLayout(graph, singleInput(layer, inputs), 'tfjs');
  return {
    name: graph.addNode('Flatten', [source.name], { axis: 1 }, layer.name),
    shape: [product(source.shape)],
    layout: 'tfjs',
  };
};

/** Dropout does nothing at inference, which is the only mode an exported generator runs in. */
const dropout: LayerConverter = (_graph, layer, inputs) => singleInput(layer, inputs);

const embedding: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  if (input.layout === 'NCHW')
    throw new ExportError(`${describe(layer)} gets an image; an Embedding reads class indices [batch, n]`);
  const table = requireWeight(layer, weightsOf(layer), 'embeddings');
  // tfjs casts float indices to int32 (truncating); ONNX's Gather wants integer indices.
  const indices =
    input.dtype === 'int64'
      ? input.name
      : graph.addNode('Cast', [input.name], { to: TensorDataType.INT64 }, `${layer.name}_indices`);
  const rows = addLayerWeight(graph, layer, 'embeddings', table.shape, table.values);
  return {
    name: graph.addNode('Gather', [rows, indices], { axis: 0 }, layer.name),
    shape: [...input.shape, table.shape[1]!],
    layout: 'tfjs',
  };
};

const upSampling2D: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  const config = configOf(layer);
  requireImage(layer, input);
  requireChannelsLast(layer, config);
  const [sh, sw] = pair(config.size, 2);
  const interpolation = config.interpolation ?? 'nearest';
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') {
    throw new ExportError(
      `${describe(layer)} has interpolation ${JSON.stringify(interpolation)}; the exporter supports "nearest" and "bilinear"`,
    );
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
  return {
    name: graph.addNode('Resize', [value.name, '', scales], attributes, layer.name),
    shape: [h * sh, w * sw, c],
    layout: 'NCHW',
  };
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
  return {
    name: graph.addNode('Pad', [value.name, pads], { mode: 'constant' }, layer.name),
    shape: [h + top + bottom, w + left + right, c],
    layout: 'NCHW',
  };
};

const cropping2D: LayerConverter = (graph, layer, inputs) => {
  const input = singleInput(layer, inputs);
  const config = configOf(layer);
  requireImage(layer, input);
  requireChannelsLast(layer, config);
  const [[top, bottom], [left, right]] = sides(layer, config.cropping);
  const [h, w, c] = input.shape as [number, number, number];
  if (top + bottom >= h || left + right >= w)
    throw new ExportError(
      `${describe(layer)} crops [[${top}, ${bottom}], [${left}, ${right}]] from a ${h}×${w} image, which leaves nothing`,
    );
  const value = imagesToNchw(graph, input);
  const operands = [
    value.name,
    graph.addInt64Vector(`${layer.name}_starts`, [top, left]),
    graph.addInt64Vector(`${layer.name}_ends`, [h - bottom, w - right]),
    graph.addInt64Vector(`${layer.name}_axes`, [2, 3]),
  ];
  return {
    name: graph.addNode('Slice', operands, {}, layer.name),
    shape: [h - top - bottom, w - left - right, c],
    layout: 'NCHW',
  };
};

/** An element-wise merge layer (Add, Multiply, …) as a chain of binary ONNX ops, or one variadic op. */
function elementwise(op: string, variadic: boolean): LayerConverter {
  return (graph, layer, inputs) => {
    const values = commonLayout(graph, layer, inputs);
    // tfjs broadcasts size-1 axes between inputs of one rank, exactly as ONNX does.
    const shape = values[0]!.shape.map((_, axis) => Math.max(...values.map((v) => v.shape[axis]!)));
    if (values.some((v) => v.shape.some((d, axis) => d !== 1 && d !== shape[axis]))) {
      throw new ExportError(
        `${describe(layer)} merges shapes ${values.map((v) => `[${v.shape.join(', ')}]`).join(', ')}, which do not broadcast`,
      );
    }
    let name: string;
    if (variadic)
      name = graph.addNode(
        op,
        values.map((v) => v.name),
        {},
        layer.name,
      );
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
      throw new ExportError(
        `${describe(layer)} concatenates shapes ${values.map((v) => `[${v.shape.join(', ')}]`).join(', ')} along axis ${axis}; all other axes must match`,
      );
    }
  }
  shape[axis - 1] = values.reduce((sum, v) => sum + v.shape[axis - 1]!, 0);
  const name = graph.addNode(
    'Concat',
    values.map((v) => v.name),
    { axis: onnxAxis(values[0]!, axis) },
    layer.name,
  );
  return { name, shape, layout: values[0]!.layout };
};

function convolution(kind: 'Conv' | 'ConvTranspose'): LayerConverter {
  return (graph, layer, inputs, context) => {
    const input = singleInput(layer, inputs);
    const config = configOf(layer);
    requireImage(layer, input);
    requireChannelsLast(layer, config);
    const padding = config.padding;
    if (padding !== 'same' && padding !== 'valid')
      throw new ExportError(
        `${describe(layer)} has padding ${JSON.stringify(padding)}; the exporter supports "same" and "valid"`,
      );
    const [sh, sw] = pair(config.strides, 1);
    const [dh, dw] = pair(config.dilationRate, 1);
    // tfjs' Conv2DTranspose ignores dilationRate; rather than guess which result was meant, refuse.
    if (kind === 'ConvTranspose' && (dh !== 1 || dw !== 1))
      throw new ExportError(
        `${describe(layer)} has dilationRate [${dh}, ${dw}]; the exporter supports Conv2DTranspose without dilation only`,
      );
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
    if (context.foldedBatchNorm !== undefined)
      ({ kernel, bias } = foldIntoWeights(kernel, kind === 'Conv' ? 0 : 1, bias, batchNormAsAffine(context.foldedBatchNorm)));
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
        throw new ExportError(
          `${describe(layer)}: no ONNX ConvTranspose padding reproduces the tfjs output size ${outH}×${outW} (output_padding would be [${outputPadding.join(', ')}])`,
        );
      }
      attributes.pads = [top, left, bottom, right];
      attributes.output_padding = outputPadding;
    }
    const operands = [value.name, addLayerWeight(graph, layer, 'kernel', kernel.shape, kernel.values)];
    if (bias !== undefined) operands.push(addLayerWeight(graph, layer, 'bias', bias.shape, bias.values));
    const out: GraphValue = {
      name: graph.addNode(kind, operands, attributes, layer.name),
      shape: [outH, outW, outC],
      layout: 'NCHW',
    };
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
