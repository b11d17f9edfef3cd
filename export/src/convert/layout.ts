// tfjs computes in NHWC; ONNX's Conv and ConvTranspose want NCHW. 4-D values therefore live in the graph as
// NCHW from the moment they appear, and a Transpose back to the tfjs order is inserted only where a layer
// depends on the element order (Reshape, Flatten, LayerNormalization) and at the graph output when the
// caller wants NHWC.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphBuilder } from '../onnx/graph.js';
import { ExportError } from '../errors.js';
import type { GraphValue } from './graph-value.js';
import { describe } from './layer-config.js';

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];
/** Where a tfjs axis of a 4-D NHWC value (1 = height, 2 = width, 3 = channels) sits in NCHW. */
const NCHW_AXIS_OF_NHWC = [0, 2, 3, 1];

/** Brings a 4-D value into `layout` with a Transpose when it is not there already. */
export function toLayout(graph: GraphBuilder, value: GraphValue, layout: GraphValue['layout']): GraphValue {
  if (value.shape.length !== 3 || value.layout === layout) return value;
  const perm = layout === 'NCHW' ? NHWC_TO_NCHW : NCHW_TO_NHWC;
  return { name: graph.addNode('Transpose', [value.name], { perm }, 'transpose'), shape: value.shape, layout };
}

/** A 4-D value goes to NCHW, the layout every converter downstream expects; others are left alone. */
export function imagesToNchw(graph: GraphBuilder, value: GraphValue): GraphValue {
  return toLayout(graph, value, 'NCHW');
}

/** The axis of the ONNX value that holds tfjs axis `axis` (counting the batch axis as 0). */
export function onnxAxis(value: GraphValue, axis: number): number {
  return value.layout === 'NCHW' ? NCHW_AXIS_OF_NHWC[axis]! : axis;
}

/** Brings several inputs of one rank into one layout: NCHW for images, tfjs order otherwise. */
export function commonLayout(graph: GraphBuilder, layer: tfl.layers.Layer, inputs: readonly GraphValue[]): GraphValue[] {
  if (inputs.length < 2) throw new ExportError(`${describe(layer)} gets ${inputs.length} input; it merges two or more`);
  const rank = inputs[0]!.shape.length;
  if (inputs.some((input) => input.shape.length !== rank || input.dtype === 'int64')) {
    throw new ExportError(
      `${describe(layer)} merges inputs of shapes ${inputs.map((i) => `[batch, ${i.shape.join(', ')}]`).join(' and ')}; the exporter merges float values of one rank only`,
    );
  }
  return inputs.map((input) => (rank === 3 ? imagesToNchw(graph, input) : input));
}
