// What flows between layer converters: ONNX value names with their tfjs shape and layout, and the
// signature every converter has.
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
  /** 'int64' for class indices (what Embedding reads); float32 when absent. */
  dtype?: 'int64';
}

/** What a converter is told beyond its layer and inputs. */
export interface ConverterContext {
  /** The ONNX opset being written (some layers map to different ops before opset 17). */
  opset: number;
  /**
   * A BatchNormalization layer applied to this call's output (and to nothing else), to be folded into
   * this layer's weights: the converter emits the normalised output and the BatchNormalization call
   * emits nothing. Only offered to layers that `canFoldBatchNorm` (batch-norm-folding.ts) accepts.
   */
  foldedBatchNorm?: tfl.layers.Layer;
}

/** Turns one tfjs layer applied to `inputs` into ONNX nodes; returns the layer's output value. */
export type LayerConverter = (
  graph: GraphBuilder,
  layer: tfl.layers.Layer,
  inputs: readonly GraphValue[],
  context: ConverterContext,
) => GraphValue;
