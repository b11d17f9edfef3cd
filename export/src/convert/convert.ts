// tfjs LayersModel → ONNX bytes. Walks the model's layers in order (a chain: Sequential models and
// single-input functional models without branches), converting each with its class's converter.
import type * as tfl from '@tensorflow/tfjs-layers';
import { GraphBuilder } from '../onnx/graph.js';
import { ExportError, layerConverters, toLayout, type GraphValue } from './layers.js';

export interface ConvertOptions {
  /** ONNX default-domain opset (13–17). */
  opset?: number;
  /** A fixed batch size, or null (default) for a dynamic batch axis named "batch". */
  batch?: number | null;
  inputName?: string;
  outputName?: string;
  producerVersion?: string;
  metadata?: Record<string, string>;
}

export interface ConvertedModel {
  bytes: Uint8Array;
  inputName: string;
  outputName: string;
  /** Output shape without the batch axis, NHWC for images. */
  outputShape: number[];
  opset: number;
}

export const SUPPORTED_OPSETS = [13, 14, 15, 16, 17] as const;

function chainOf(model: tfl.LayersModel): tfl.layers.Layer[] {
  const layers = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ExportError(`model "${model.name}" has ${model.inputs.length} inputs and ${model.outputs.length} outputs; the exporter supports one latent input and one image output`);
  }
  for (let i = 1; i < layers.length; i++) {
    const inbound = layers[i]!.inboundNodes.flatMap((node) => node.inboundLayers);
    if (inbound.length !== 1 || inbound[0] !== layers[i - 1]) {
      throw new ExportError(`model "${model.name}": layer "${layers[i]!.name}" does not simply follow "${layers[i - 1]!.name}"; the exporter supports chains of layers (no branches or merges)`);
    }
  }
  return layers;
}

export function convertLayersModel(model: tfl.LayersModel, options: ConvertOptions = {}): ConvertedModel {
  const opset = options.opset ?? 17;
  if (!(SUPPORTED_OPSETS as readonly number[]).includes(opset)) {
    throw new ExportError(`opset must be one of ${SUPPORTED_OPSETS.join(', ')}, got ${opset}`);
  }
  const batch = options.batch ?? null;
  if (batch !== null && !(Number.isInteger(batch) && batch >= 1)) throw new ExportError(`batch must be a positive integer or null (dynamic), got ${batch}`);
  const inputShape = model.inputs[0]!.shape.slice(1) as number[];
  if (inputShape.length !== 1 || !(inputShape[0]! > 0)) {
    throw new ExportError(`model "${model.name}" takes input of shape [${model.inputs[0]!.shape.join(', ')}]; the exporter expects a latent vector [batch, size]`);
  }
  const layers = chainOf(model);
  const graph = new GraphBuilder();
  const inputName = options.inputName ?? 'latent';
  const outputName = options.outputName ?? 'images';
  let value: GraphValue = { name: inputName, shape: inputShape, layout: 'flat' };
  for (const layer of layers) {
    const className = layer.getClassName();
    const converter = layerConverters[className];
    if (converter === undefined) {
      throw new ExportError(`layer "${layer.name}" of class ${className} cannot be exported; supported layer classes: ${Object.keys(layerConverters).sort().join(', ')}`);
    }
    value = converter(graph, layer, value);
  }
  value = toLayout(graph, value, 'NHWC');
  if (value.name === inputName) value = { ...value, name: graph.addNode('Identity', [value.name], {}, 'identity') };
  graph.renameOutput(value.name, outputName);
  const batchDim = batch ?? 'batch';
  const bytes = graph.toBytes({
    name: model.name,
    inputs: [{ name: inputName, dims: [batchDim, inputShape[0]!] }],
    outputs: [{ name: outputName, dims: [batchDim, ...value.shape] }],
    opset,
    producerVersion: options.producerVersion ?? '0.1.0',
    ...(options.metadata ? { metadata: options.metadata } : {}),
  });
  return { bytes, inputName, outputName, outputShape: value.shape, opset };
}
