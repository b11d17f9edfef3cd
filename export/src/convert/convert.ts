// tfjs LayersModel → ONNX bytes. The model's layer graph is walked back from its output to its input
// through the symbolic tensors tfjs records, so Sequential and functional models are handled alike,
// and each layer application is converted, in dependency order, by its class's converter. Values are
// tracked per tfjs tensor, which is what multi-input layers and models will need later.
import type * as tfl from '@tensorflow/tfjs-layers';
import { GraphBuilder } from '../onnx/graph.js';
import { ExportError, layerConverters, SUPPORTED_LAYER_CLASSES, toLayout, type GraphValue } from './layers.js';

export interface ConvertOptions {
  /** ONNX default-domain opset; 17 unless given (one of SUPPORTED_OPSETS). */
  opset?: number;
  /** A fixed batch size, or null (the default) for a dynamic batch axis named "batch". */
  batch?: number | null;
  /** Name of the graph input (default "latent"). */
  inputName?: string;
  /** Name of the graph output (default "images"). */
  outputName?: string;
  producerVersion?: string;
  /** Written to the model's metadata_props. */
  metadata?: Record<string, string>;
}

export interface ConvertedModel {
  bytes: Uint8Array;
  inputName: string;
  outputName: string;
  /** Input shape without the batch axis ([latent size]). */
  inputShape: number[];
  /** Output shape without the batch axis, NHWC for images (the graph output is in tfjs order). */
  outputShape: number[];
  opset: number;
  /** The fixed batch size, or null when the batch axis is dynamic. */
  batch: number | null;
}

export const SUPPORTED_OPSETS = [13, 14, 15, 16, 17] as const;
export const DEFAULT_OPSET = 17;
export const BATCH_DIM_PARAM = 'batch';

type SymbolicTensor = tfl.SymbolicTensor;
/** One application of a layer to its inputs (tfjs calls it a Node; a shared layer has several). */
type LayerCall = tfl.layers.Layer['inboundNodes'][number];

/** The layer calls between the model's input and output, each after the calls it depends on. */
function layerCallsInOrder(model: tfl.LayersModel): LayerCall[] {
  const inputId = model.inputs[0]!.id;
  const ordered: LayerCall[] = [];
  const done = new Set<LayerCall>();
  const inProgress = new Set<LayerCall>();
  const visit = (tensor: SymbolicTensor): void => {
    if (tensor.id === inputId) return;
    const layer = tensor.sourceLayer;
    if (layer.getClassName() === 'InputLayer') {
      throw new ExportError(`model "${model.name}": its output depends on input "${layer.name}", which is not the model's input`);
    }
    const call = layer.inboundNodes[tensor.nodeIndex];
    if (call === undefined) throw new ExportError(`model "${model.name}": layer "${layer.name}" has no call #${tensor.nodeIndex} recorded`);
    if (done.has(call)) return;
    if (inProgress.has(call)) throw new ExportError(`model "${model.name}": layer "${layer.name}" depends on its own output`);
    inProgress.add(call);
    for (const input of call.inputTensors) visit(input);
    inProgress.delete(call);
    done.add(call);
    ordered.push(call);
  };
  visit(model.outputs[0]!);
  return ordered;
}

function checkModelInterface(model: tfl.LayersModel): number[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ExportError(`model "${model.name}" has ${model.inputs.length} inputs and ${model.outputs.length} outputs; the exporter supports models with one latent input and one output`);
  }
  const shape = model.inputs[0]!.shape;
  const size = shape[1];
  if (shape.length !== 2 || typeof size !== 'number' || !(size > 0)) {
    throw new ExportError(`model "${model.name}" takes input of shape [${shape.map((d) => d ?? 'null').join(', ')}]; the exporter expects a latent vector [batch, size]`);
  }
  return [size];
}

/** Converts a generator to ONNX with a float32 input [batch, size] and its output in tfjs order. */
export function convertLayersModel(model: tfl.LayersModel, options: ConvertOptions = {}): ConvertedModel {
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!(SUPPORTED_OPSETS as readonly number[]).includes(opset)) {
    throw new ExportError(`opset must be one of ${SUPPORTED_OPSETS.join(', ')}, got ${opset}`);
  }
  const batch = options.batch ?? null;
  if (batch !== null && !(Number.isInteger(batch) && batch >= 1)) throw new ExportError(`batch must be a positive integer or null (dynamic), got ${batch}`);
  const inputName = options.inputName ?? 'latent';
  const outputName = options.outputName ?? 'images';
  if (inputName === '' || outputName === '' || inputName === outputName) {
    throw new ExportError(`inputName and outputName must be two different non-empty names, got ${JSON.stringify(inputName)} and ${JSON.stringify(outputName)}`);
  }
  const inputShape = checkModelInterface(model);
  const batchDim = batch ?? BATCH_DIM_PARAM;

  const graph = new GraphBuilder(model.name);
  const values = new Map<number, GraphValue>();
  values.set(model.inputs[0]!.id, { name: graph.addInput({ name: inputName, dims: [batchDim, ...inputShape] }), shape: inputShape, layout: 'tfjs' });
  for (const call of layerCallsInOrder(model)) {
    const layer = call.outboundLayer;
    const className = layer.getClassName();
    const converter = layerConverters[className];
    if (converter === undefined) {
      throw new ExportError(`layer "${layer.name}" of class ${className} cannot be exported; supported layer classes: ${SUPPORTED_LAYER_CLASSES.join(', ')}`);
    }
    if (call.outputTensors.length !== 1) throw new ExportError(`layer "${layer.name}" (${className}) has ${call.outputTensors.length} outputs; the exporter supports layers with one output`);
    const inputs = call.inputTensors.map((tensor) => values.get(tensor.id)!);
    const output = converter(graph, layer, inputs);
    // tfjs leaves some sizes it could infer unknown (null), e.g. behind a Reshape with -1.
    const expected = call.outputTensors[0]!.shape.slice(1);
    if (expected.length !== output.shape.length || expected.some((d, axis) => d !== null && d !== output.shape[axis])) {
      throw new ExportError(`internal error: converting layer "${layer.name}" (${className}) gave shape [${output.shape.join(', ')}], tfjs says [${expected.map((d) => d ?? '?').join(', ')}]`);
    }
    values.set(call.outputTensors[0]!.id, output);
  }

  let output = toLayout(graph, values.get(model.outputs[0]!.id)!, 'tfjs');
  // A graph output cannot be the graph input itself (a model of identity layers): copy it.
  if (output.name === inputName) output = { ...output, name: graph.addNode('Identity', [output.name], {}, 'identity') };
  graph.renameValue(output.name, outputName);
  graph.addOutput({ name: outputName, dims: [batchDim, ...output.shape] });
  const bytes = graph.toBytes({
    opset,
    producerVersion: options.producerVersion ?? '0.1.0',
    docString: `${model.name}: converted from a tfjs-layers model by gantry`,
    ...(options.metadata ? { metadata: options.metadata } : {}),
  });
  return { bytes, inputName, outputName, inputShape, outputShape: output.shape, opset, batch };
}
