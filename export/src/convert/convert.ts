// tfjs LayersModel → ONNX bytes. The model's layer graph is walked back from its output to its inputs
// through the symbolic tensors tfjs records, so Sequential and functional models (several inputs,
// branches, merges) are handled alike, and each layer application is converted, in dependency order,
// by its class's converter. Values are tracked per tfjs tensor.
import type * as tfl from '@tensorflow/tfjs-layers';
import { GraphBuilder, type WeightStorage } from '../onnx/graph.js';
import { TensorDataType } from '@gantry/files/onnx';
import { ExportError } from '../errors.js';
import { scalar } from './activations.js';
import { canFoldBatchNorm } from './batch-norm-folding.js';
import type { GraphValue } from './graph-value.js';
import { layerConverters, SUPPORTED_LAYER_CLASSES } from './layers.js';
import { toLayout } from './layout.js';

/** Axis order of an image output: tfjs' own (NHWC) or channels first. */
export type OutputLayout = 'NHWC' | 'NCHW';
/** Element type of the output: the generator's float values, or pixels 0…255 computed in the graph. */
export type OutputPixels = 'float32' | 'uint8';

export interface ConvertOptions {
  /** ONNX default-domain opset; 17 unless given (one of SUPPORTED_OPSETS). */
  opset?: number;
  /** A fixed batch size, or null (the default) for a dynamic batch axis named "batch". */
  batch?: number | null;
  /** Name of the (first) float input, the latent (default "latent"). */
  inputName?: string;
  /** Name of the (first) class-index input, one that only Embedding layers read (default "class"). */
  classInputName?: string;
  /** Name of the graph output (default "images"). */
  outputName?: string;
  /** Layout of an image output (default NHWC, tfjs' order). */
  layout?: OutputLayout;
  /** 'uint8' appends (x − lo)·255/(hi − lo), clamped to 0…255, rounded (half to even) and cast; needs outputRange. */
  pixels?: OutputPixels;
  /** The generator's output range [lo, hi], mapped to pixels 0 and 255 when pixels is 'uint8'. */
  outputRange?: [number, number];
  /** How learned weights are stored (default float32; float16 halves the file, the graph still computes in float32). */
  weights?: WeightStorage;
  /** Fold each BatchNormalization into the Conv2D, Conv2DTranspose or Dense before it where exact (default false). */
  foldBatchNorm?: boolean;
  producerVersion?: string;
  /** Written to the model's metadata_props. */
  metadata?: Record<string, string>;
}

/** One graph input, in the order of the model's inputs. */
export interface ConvertedInput {
  name: string;
  /** 'latent': float32 values; 'class': int64 indices read by Embedding layers. */
  kind: 'latent' | 'class';
  /** Shape without the batch axis. */
  shape: number[];
  /** For a class input: how many classes the Embedding tables it indexes hold (the smallest). */
  classes?: number;
}

export interface ConvertedModel {
  bytes: Uint8Array;
  inputs: ConvertedInput[];
  outputName: string;
  /** Output shape without the batch axis in tfjs order ([height, width, channels] for images), whatever `layout` says. */
  outputShape: number[];
  layout: OutputLayout;
  pixels: OutputPixels;
  weights: WeightStorage;
  /** How many BatchNormalization layers were folded into the layer before them. */
  foldedBatchNorms: number;
  opset: number;
  /** The fixed batch size, or null when the batch axis is dynamic. */
  batch: number | null;
}

export const SUPPORTED_OPSETS = [13, 14, 15, 16, 17] as const;
export const DEFAULT_OPSET = 17;
export const BATCH_DIM_PARAM = 'batch';
export const OUTPUT_LAYOUTS: readonly OutputLayout[] = ['NHWC', 'NCHW'];
export const OUTPUT_PIXELS: readonly OutputPixels[] = ['float32', 'uint8'];
export const WEIGHT_STORAGES: readonly WeightStorage[] = ['float32', 'float16'];

type SymbolicTensor = tfl.SymbolicTensor;
/** One application of a layer to its inputs (tfjs calls it a Node; a shared layer has several). */
type LayerCall = tfl.layers.Layer['inboundNodes'][number];

function producerOf(tensor: SymbolicTensor): LayerCall | undefined {
  return tensor.sourceLayer.inboundNodes[tensor.nodeIndex];
}

/** The layer calls between the model's inputs and its output, each after the calls it depends on. */
function layerCallsInOrder(model: tfl.LayersModel): LayerCall[] {
  const inputIds = new Set(model.inputs.map((input) => input.id));
  const ordered: LayerCall[] = [];
  const done = new Set<LayerCall>();
  const inProgress = new Set<LayerCall>();
  const visit = (tensor: SymbolicTensor): void => {
    if (inputIds.has(tensor.id)) return;
    const layer = tensor.sourceLayer;
    if (layer.getClassName() === 'InputLayer') {
      throw new ExportError(
        `model "${model.name}": its output depends on input "${layer.name}", which is not one of the model's inputs`,
      );
    }
    const call = producerOf(tensor);
    if (call === undefined)
      throw new ExportError(`model "${model.name}": layer "${layer.name}" has no call #${tensor.nodeIndex} recorded`);
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

/** How many layer calls (and model outputs) read each tensor, by tensor id. */
function useCounts(model: tfl.LayersModel, calls: readonly LayerCall[]): Map<number, number> {
  const uses = new Map<number, number>();
  const use = (tensor: SymbolicTensor): void => void uses.set(tensor.id, (uses.get(tensor.id) ?? 0) + 1);
  for (const call of calls) call.inputTensors.forEach(use);
  model.outputs.forEach(use);
  return uses;
}

/**
 * The BatchNormalization calls to fold, keyed by the call of the layer they fold into: a
 * BatchNormalization reading the output of a Conv2D, Conv2DTranspose or Dense that nothing else reads.
 */
function batchNormFolds(model: tfl.LayersModel, calls: readonly LayerCall[]): Map<LayerCall, LayerCall> {
  const uses = useCounts(model, calls);
  const folds = new Map<LayerCall, LayerCall>();
  for (const call of calls) {
    if (call.outboundLayer.getClassName() !== 'BatchNormalization' || call.inputTensors.length !== 1) continue;
    const tensor = call.inputTensors[0]!;
    const producer = producerOf(tensor);
    if (producer === undefined || uses.get(tensor.id) !== 1 || !calls.includes(producer)) continue;
    if (canFoldBatchNorm(producer.outboundLayer, call.outboundLayer, tensor.shape.length)) folds.set(producer, call);
  }
  return folds;
}

/** The model's inputs as graph inputs: an input that only Embedding layers read holds class indices. */
function describeInputs(model: tfl.LayersModel, calls: readonly LayerCall[], options: ConvertOptions): ConvertedInput[] {
  const latentName = options.inputName ?? 'latent';
  const className = options.classInputName ?? 'class';
  const counts = { latent: 0, class: 0 };
  return model.inputs.map((input) => {
    const shape = input.shape.slice(1);
    if (!shape.every((d): d is number => typeof d === 'number' && d > 0)) {
      throw new ExportError(
        `model "${model.name}": input "${input.name}" has shape [${input.shape.map((d) => d ?? 'null').join(', ')}]; the exporter needs every size but the batch fixed`,
      );
    }
    const readers = calls.filter((call) => call.inputTensors.some((t) => t.id === input.id)).map((call) => call.outboundLayer);
    const isClass = readers.length > 0 && readers.every((layer) => layer.getClassName() === 'Embedding');
    const kind = isClass ? 'class' : 'latent';
    const base = isClass ? className : latentName;
    const name = counts[kind]++ === 0 ? base : `${base}_${counts[kind]}`;
    if (!isClass) return { name, kind, shape };
    const classes = Math.min(...readers.map((layer) => Number((layer.getConfig() as { inputDim?: unknown }).inputDim)));
    return { name, kind, shape, classes };
  });
}

function checkOptions(options: ConvertOptions): void {
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!(SUPPORTED_OPSETS as readonly number[]).includes(opset))
    throw new ExportError(`opset must be one of ${SUPPORTED_OPSETS.join(', ')}, got ${opset}`);
  const batch = options.batch ?? null;
  if (batch !== null && !(Number.isInteger(batch) && batch >= 1))
    throw new ExportError(`batch must be a positive integer or null (dynamic), got ${batch}`);
  const names = [options.inputName ?? 'latent', options.classInputName ?? 'class', options.outputName ?? 'images'];
  if (names.some((n) => n === '') || new Set(names).size !== names.length) {
    throw new ExportError(
      `inputName, classInputName and outputName must be different non-empty names, got ${names.map((n) => JSON.stringify(n)).join(', ')}`,
    );
  }
  const choice = <T extends string>(key: string, value: T | undefined, allowed: readonly T[]): void => {
    if (value !== undefined && !allowed.includes(value))
      throw new ExportError(`${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  };
  choice('layout', options.layout, OUTPUT_LAYOUTS);
  choice('pixels', options.pixels, OUTPUT_PIXELS);
  choice('weights', options.weights, WEIGHT_STORAGES);
  const range = options.outputRange;
  if (
    range !== undefined &&
    !(Array.isArray(range) && range.length === 2 && range.every(Number.isFinite) && range[0] < range[1])
  ) {
    throw new ExportError(`outputRange must be [lo, hi] with finite lo < hi, got ${JSON.stringify(range)}`);
  }
  if (options.pixels === 'uint8' && range === undefined)
    throw new ExportError('pixels "uint8" needs outputRange [lo, hi]: the generator values mapped to pixels 0 and 255');
}

/** (x − lo)·255/(hi − lo), clamped to [0, 255], rounded and cast to uint8. */
function toPixels(graph: GraphBuilder, value: string, [lo, hi]: [number, number]): string {
  const shifted = graph.addNode('Sub', [value, scalar(graph, 'pixels_lo', lo)], {}, 'pixels');
  const scaled = graph.addNode('Mul', [shifted, scalar(graph, 'pixels_scale', 255 / (hi - lo))], {}, 'pixels');
  const clamped = graph.addNode('Clip', [scaled, scalar(graph, 'pixels_min', 0), scalar(graph, 'pixels_max', 255)], {}, 'pixels');
  return graph.addNode('Cast', [graph.addNode('Round', [clamped], {}, 'pixels')], { to: TensorDataType.UINT8 }, 'pixels');
}

/** Converts a generator to ONNX: its inputs as float32 latents or int64 class indices, its output as asked. */
export function convertLayersModel(model: tfl.LayersModel, options: ConvertOptions = {}): ConvertedModel {
  checkOptions(options);
  const opset = options.opset ?? DEFAULT_OPSET;
  const batch = options.batch ?? null;
  const outputName = options.outputName ?? 'images';
  const layout = options.layout ?? 'NHWC';
  const pixels = options.pixels ?? 'float32';
  const weights = options.weights ?? 'float32';
  if (model.outputs.length !== 1)
    throw new ExportError(
      `model "${model.name}" has ${model.outputs.length} outputs; the exporter supports models with one output`,
    );
  const calls = layerCallsInOrder(model);
  const inputs = describeInputs(model, calls, options);
  const batchDim = batch ?? BATCH_DIM_PARAM;
  const folds = options.foldBatchNorm === true ? batchNormFolds(model, calls) : new Map<LayerCall, LayerCall>();
  const foldedCalls = new Set(folds.values());

  const graph = new GraphBuilder(model.name, weights);
  const values = new Map<number, GraphValue>();
  model.inputs.forEach((input, i) => {
    const { name, kind, shape } = inputs[i]!;
    const type = kind === 'class' ? 'int64' : 'float32';
    const value: GraphValue = { name: graph.addInput({ name, dims: [batchDim, ...shape], type }), shape, layout: 'tfjs' };
    values.set(input.id, kind === 'class' ? { ...value, dtype: 'int64' } : value);
  });
  for (const call of calls) {
    const layer = call.outboundLayer;
    const className = layer.getClassName();
    if (call.outputTensors.length !== 1)
      throw new ExportError(
        `layer "${layer.name}" (${className}) has ${call.outputTensors.length} outputs; the exporter supports layers with one output`,
      );
    const inputValues = call.inputTensors.map((tensor) => values.get(tensor.id)!);
    if (foldedCalls.has(call)) {
      // Its normalisation is already in the weights of the layer before it.
      values.set(call.outputTensors[0]!.id, inputValues[0]!);
      continue;
    }
    const converter = layerConverters[className];
    if (converter === undefined) {
      throw new ExportError(
        `layer "${layer.name}" of class ${className} cannot be exported; supported layer classes: ${SUPPORTED_LAYER_CLASSES.join(', ')}`,
      );
    }
    const fold = folds.get(call)?.outboundLayer;
    const output = converter(graph, layer, inputValues, { opset, ...(fold ? { foldedBatchNorm: fold } : {}) });
    // tfjs leaves some sizes it could infer unknown (null), e.g. behind a Reshape with -1.
    const expected = call.outputTensors[0]!.shape.slice(1);
    if (expected.length !== output.shape.length || expected.some((d, axis) => d !== null && d !== output.shape[axis])) {
      throw new ExportError(
        `internal error: converting layer "${layer.name}" (${className}) gave shape [${output.shape.join(', ')}], tfjs says [${expected.map((d) => d ?? '?').join(', ')}]`,
      );
    }
    values.set(call.outputTensors[0]!.id, output);
  }

  const result = values.get(model.outputs[0]!.id)!;
  if (result.dtype === 'int64')
    throw new ExportError(`model "${model.name}" outputs its class input unchanged; a generator must compute something`);
  if (layout === 'NCHW' && result.shape.length !== 3) {
    throw new ExportError(
      `layout NCHW applies to image outputs [batch, height, width, channels]; model "${model.name}" outputs [batch, ${result.shape.join(', ')}]`,
    );
  }
  let output = toLayout(graph, result, layout === 'NCHW' ? 'NCHW' : 'tfjs').name;
  if (pixels === 'uint8') output = toPixels(graph, output, options.outputRange!);
  // A graph output cannot be a graph input itself (a model of identity layers): copy it.
  if (inputs.some((input) => input.name === output)) output = graph.addNode('Identity', [output], {}, 'identity');
  graph.renameValue(output, outputName);
  const [h, w, c] = result.shape;
  const outputDims = layout === 'NCHW' ? [c!, h!, w!] : result.shape;
  graph.addOutput({ name: outputName, dims: [batchDim, ...outputDims], type: pixels === 'uint8' ? 'uint8' : 'float32' });
  const bytes = graph.toBytes({
    opset,
    producerVersion: options.producerVersion ?? '0.1.0',
    docString: `${model.name}: converted from a tfjs-layers model by gantry`,
    ...(options.metadata ? { metadata: options.metadata } : {}),
  });
  return {
    bytes,
    inputs,
    outputName,
    outputShape: result.shape,
    layout,
    pixels,
    weights,
    foldedBatchNorms: foldedCalls.size,
    opset,
    batch,
  };
}
