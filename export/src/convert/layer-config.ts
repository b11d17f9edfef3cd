// Reading a tfjs layer for conversion: its config, its single input, its learned weights (checked and
// added to the graph) and the geometry its config implies (axes, paddings, crops).
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphBuilder } from '../onnx/graph.js';
import { ExportError } from '../errors.js';
import type { GraphValue } from './graph-value.js';

export type LayerConfig = Record<string, unknown>;

/** A learned weight: row-major values and their shape. */
export interface Weight {
  shape: number[];
  values: Float32Array;
}

export function describe(layer: tfl.layers.Layer): string {
  return `layer "${layer.name}" (${layer.getClassName()})`;
}

export function configOf(layer: tfl.layers.Layer): LayerConfig {
  return layer.getConfig() as LayerConfig;
}

export function singleInput(layer: tfl.layers.Layer, inputs: readonly GraphValue[]): GraphValue {
  if (inputs.length !== 1)
    throw new ExportError(`${describe(layer)} gets ${inputs.length} inputs; its converter handles exactly one`);
  const input = inputs[0]!;
  if (input.dtype === 'int64' && layer.getClassName() !== 'Embedding') {
    throw new ExportError(`${describe(layer)} reads integer class indices; only an Embedding layer can take a class input`);
  }
  return input;
}

export function requireChannelsLast(layer: tfl.layers.Layer, config: LayerConfig): void {
  if ((config.dataFormat ?? 'channelsLast') !== 'channelsLast') {
    throw new ExportError(
      `${describe(layer)} has dataFormat ${JSON.stringify(config.dataFormat)}; the exporter supports "channelsLast" only`,
    );
  }
}

export function requireImage(layer: tfl.layers.Layer, input: GraphValue): void {
  if (input.shape.length !== 3)
    throw new ExportError(
      `${describe(layer)} needs a 4-D input [batch, height, width, channels], got [batch, ${input.shape.join(', ')}]`,
    );
}

/** The layer's weights by their short name (kernel, bias, gamma, moving_mean, ...). */
export function weightsOf(layer: tfl.layers.Layer): Map<string, Weight> {
  const tensors = layer.getWeights();
  const out = new Map<string, Weight>();
  layer.weights.forEach((variable, i) => {
    const tensor = tensors[i]!;
    if (tensor.dtype !== 'float32')
      throw new ExportError(
        `${describe(layer)}: weight "${variable.name}" is ${tensor.dtype}; the exporter writes float32 weights only`,
      );
    // Variable names look like "dense_Dense1/kernel"; a uniquifying "_1" suffix can follow.
    const key = variable.name.split('/').pop()!.replace(/_\d+$/, '');
    out.set(key, { shape: tensor.shape, values: tensor.dataSync() as Float32Array });
  });
  return out;
}

export function requireWeight(layer: tfl.layers.Layer, weights: Map<string, Weight>, key: string): Weight {
  const weight = weights.get(key);
  if (weight === undefined)
    throw new ExportError(`${describe(layer)} has no "${key}" weight; it has: ${[...weights.keys()].join(', ') || 'none'}`);
  return weight;
}

/** Adds one of the layer's learned weights in the graph's weight storage (float32 or float16). */
export function addLayerWeight(
  graph: GraphBuilder,
  layer: tfl.layers.Layer,
  key: string,
  shape: number[],
  values: Float32Array,
): string {
  try {
    return graph.addWeight(`${layer.name}_${key}`, shape, values, `${describe(layer)} weight "${key}"`);
  } catch (error) {
    if (error instanceof RangeError) throw new ExportError(error.message);
    throw error;
  }
}

/** A tfjs axis (negative counts from the end) of a value of `rank` dims, batch included, as 0…rank-1. */
export function resolveAxis(layer: tfl.layers.Layer, axis: unknown, rank: number): number {
  const resolved = typeof axis === 'number' && Number.isInteger(axis) ? (axis < 0 ? axis + rank : axis) : NaN;
  if (!(resolved >= 1 && resolved < rank)) {
    throw new ExportError(
      `${describe(layer)} works along axis ${JSON.stringify(axis)} of a ${rank}-D input; the exporter supports axes 1…${rank - 1} (or -1…-${rank - 1}), not the batch axis`,
    );
  }
  return resolved;
}

/** TensorFlow's padding of a forward convolution from `inSize` to `outSize`: [begin, end]. */
export function tfPads(
  inSize: number,
  outSize: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: 'same' | 'valid',
): [number, number] {
  if (padding === 'valid') return [0, 0];
  // 'same' pads the total the output size needs, the odd pixel at the end.
  const effectiveKernel = (kernel - 1) * dilation + 1;
  const total = Math.max((outSize - 1) * stride + effectiveKernel - inSize, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

export function pair(value: unknown, fallback: number): [number, number] {
  if (Array.isArray(value)) return [Number(value[0]), Number(value[1] ?? value[0])];
  if (typeof value === 'number') return [value, value];
  return [fallback, fallback];
}

/** ZeroPadding2D / Cropping2D amounts as [[top, bottom], [left, right]] from any form tfjs stores. */
export function sides(layer: tfl.layers.Layer, value: unknown): [[number, number], [number, number]] {
  const out: [[number, number], [number, number]] =
    typeof value === 'number'
      ? [
          [value, value],
          [value, value],
        ]
      : Array.isArray(value) && value.length === 2
        ? [pair(value[0], NaN), pair(value[1], NaN)]
        : [
            [NaN, NaN],
            [NaN, NaN],
          ];
  if (!out.flat().every((v) => Number.isInteger(v) && v >= 0))
    throw new ExportError(
      `${describe(layer)} has amounts ${JSON.stringify(value)}; expected non-negative integers [[top, bottom], [left, right]]`,
    );
  return out;
}

export const product = (values: number[]): number => values.reduce((a, b) => a * b, 1);
