// tfjs activations (a layer's serialised `activation` name) as ONNX nodes.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphBuilder } from '../onnx/graph.js';
import { ExportError } from '../errors.js';
import type { GraphValue } from './graph-value.js';
import { describe } from './layer-config.js';

export const SUPPORTED_ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'tanh',
  'sigmoid',
  'hardSigmoid',
  'softplus',
  'softsign',
  'softmax',
  'swish',
  'mish',
  'gelu',
  'gelu_new',
] as const;

export function scalar(graph: GraphBuilder, label: string, value: number): string {
  return graph.addInitializer(label, [], new Float32Array([value]));
}

export function clip(graph: GraphBuilder, value: GraphValue, min: number, max: number, label: string): GraphValue {
  return {
    ...value,
    name: graph.addNode('Clip', [value.name, scalar(graph, `${label}_min`, min), scalar(graph, `${label}_max`, max)], {}, label),
  };
}

// tfjs' SELU constants (tfjs-core selu_util): scale·alpha and scale.
const SELU_SCALE_ALPHA = 1.7580993408473768;
const SELU_SCALE = 1.0507009873554805;

/** Emits a tfjs activation by its serialised name (the `activation` field of a layer's config). */
export function applyActivation(
  graph: GraphBuilder,
  activation: unknown,
  value: GraphValue,
  layer: tfl.layers.Layer,
): GraphValue {
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
      throw new ExportError(
        `${describe(layer)} uses activation ${JSON.stringify(name)}, which the exporter does not support; supported activations: ${SUPPORTED_ACTIVATIONS.join(', ')}`,
      );
  }
}
