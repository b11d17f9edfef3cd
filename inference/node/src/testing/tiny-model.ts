// Test support: builds a tiny ONNX generator and a model folder without the exporter, so the runtime
// can be tested on its own. Encodes with the one ONNX schema, @gantry/files/onnx;
// nothing in the package's public entry points imports this file.
//
// The graph is image = Reshape(Tanh(MatMul(latent, W)), [-1, h, w, c]) with a dynamic (or fixed)
// batch axis: enough to exercise batching, shapes, value ranges and non-constant pictures. The export
// variants the runtime must read are optional: a class input (int64 [batch, 1] or [batch], its
// embedding row E[class] added to the latent), NCHW output (a Transpose) and uint8 pixels (the
// exporter's post-process: [-1, 1] → 0…255, Clip, Round, Cast).

import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng, type LatentDistribution, type ModelCard } from '@gantry/core';
import {
  AttributeType,
  TensorDataType,
  encodeModel,
  irVersionForOpset,
  type NodeMessage,
  type TensorMessage,
  type ValueInfoMessage,
} from '@gantry/files/onnx';

const ONNX_FLOAT = TensorDataType.FLOAT;
const ONNX_UINT8 = TensorDataType.UINT8;
const ONNX_INT64 = TensorDataType.INT64;
export const TINY_MODEL_OPSET = 17;

export interface TinyModelOptions {
  latentSize?: number;
  /** One sample's [height, width, channels]. */
  shape?: [number, number, number];
  inputName?: string;
  outputName?: string;
  /** `null` (default) for a dynamic batch axis, or a fixed batch size. */
  batch?: number | null;
  /** Seed of the random weights. */
  seed?: number;
  /** A class input with this many classes (default none: an unconditional generator). */
  classes?: number | null;
  /** Shape of the class input: [batch, 1] (rank 2, the exporter's) or [batch] (rank 1). */
  classRank?: 1 | 2;
  /** Axis order of the output (default NHWC). */
  layout?: 'NHWC' | 'NCHW';
  /** 'uint8': the output is pixels, [-1, 1] mapped to 0…255 (default float32 values). */
  pixels?: 'float32' | 'uint8';
}

type ResolvedOptions = Required<TinyModelOptions>;

export const TINY_CLASS_INPUT = 'class';

function resolve(options: TinyModelOptions): ResolvedOptions {
  return {
    latentSize: options.latentSize ?? 8,
    shape: options.shape ?? [6, 5, 1],
    inputName: options.inputName ?? 'latent',
    outputName: options.outputName ?? 'image',
    batch: options.batch ?? null,
    seed: options.seed ?? 1,
    classes: options.classes ?? null,
    classRank: options.classRank ?? 2,
    layout: options.layout ?? 'NHWC',
    pixels: options.pixels ?? 'float32',
  };
}

/** The weight matrix W (latentSize × h·w·c, row-major) that {@link buildTinyGeneratorOnnx} embeds. */
export function tinyModelWeights(options: TinyModelOptions = {}): Float32Array {
  const { latentSize, shape, seed } = resolve(options);
  const outputs = shape[0] * shape[1] * shape[2];
  const rng = Rng.fromSeed(seed);
  // Scaled so that tanh sees unit-variance inputs for N(0, 1) latents: varied, rarely saturated.
  const scale = 1 / Math.sqrt(latentSize);
  const weights = new Float32Array(latentSize * outputs);
  for (let i = 0; i < weights.length; i++) weights[i] = rng.nextNormal() * scale;
  return weights;
}

/** The class embedding table E (classes × latentSize, row-major), drawn after W from the same seed. */
export function tinyModelEmbeddings(options: TinyModelOptions = {}): Float32Array {
  const { latentSize, shape, seed, classes } = resolve(options);
  const rng = Rng.fromSeed(seed);
  for (let i = 0; i < latentSize * shape[0] * shape[1] * shape[2]; i++) rng.nextNormal();
  return Float32Array.from({ length: (classes ?? 0) * latentSize }, () => rng.nextNormal());
}

/**
 * Reference output of the tiny model computed in JavaScript, for checking the runtime's results:
 * float32 NHWC values in [-1, 1], whatever layout and pixels the ONNX model has. A class-conditional
 * model needs `classes`, one per sample.
 */
export function tinyModelReference(
  latents: Float32Array,
  n: number,
  options: TinyModelOptions = {},
  classes?: Int32Array,
): Float32Array {
  const resolved = resolve(options);
  const { latentSize, shape } = resolved;
  if ((resolved.classes !== null) !== (classes !== undefined))
    throw new TypeError('classes must be given exactly when the tiny model has a class input');
  const outputs = shape[0] * shape[1] * shape[2];
  const weights = tinyModelWeights(options);
  const embeddings = tinyModelEmbeddings(options);
  const result = new Float32Array(n * outputs);
  const input = new Float32Array(latentSize);
  for (let row = 0; row < n; row++) {
    for (let k = 0; k < latentSize; k++) {
      // float32 like the runtime's Add, so the reference sees the same inputs to the MatMul.
      input[k] = latents[row * latentSize + k]! + (classes === undefined ? 0 : embeddings[classes[row]! * latentSize + k]!);
    }
    for (let j = 0; j < outputs; j++) {
      let sum = 0;
      for (let k = 0; k < latentSize; k++) sum += input[k]! * weights[k * outputs + j]!;
      result[row * outputs + j] = Math.tanh(sum);
    }
  }
  return result;
}

function tensorValueInfo(name: string, dims: (number | string)[], elemType: number = ONNX_FLOAT): ValueInfoMessage {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) },
      },
    },
  };
}

function floatTensor(name: string, dims: number[], values: Float32Array): TensorMessage {
  // raw_data is little-endian by the ONNX spec; copy through a DataView to be explicit.
  return { name, dims, data_type: ONNX_FLOAT, raw_data: littleEndianFloat32(values) };
}

function int64Tensor(name: string, values: number[]): TensorMessage {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: [values.length], data_type: ONNX_INT64, raw_data: bytes };
}

/** Serialized ONNX ModelProto bytes of the tiny generator. */
export function buildTinyGeneratorOnnx(options: TinyModelOptions = {}): Uint8Array {
  const resolved = resolve(options);
  const { latentSize, shape, inputName, outputName, batch, classes, classRank, layout, pixels } = resolved;
  const outputs = shape[0] * shape[1] * shape[2];
  const weights = tinyModelWeights(resolved);
  const batchDim: number | string = batch ?? 'batch';
  const [h, w, c] = shape;
  const nodes: NodeMessage[] = [];
  const initializers: TensorMessage[] = [
    floatTensor('W', [latentSize, outputs], weights),
    int64Tensor('nhwc_shape', [-1, h, w, c]),
  ];
  const inputs = [tensorValueInfo(inputName, [batchDim, latentSize])];
  let x = inputName;
  if (classes !== null) {
    inputs.push(tensorValueInfo(TINY_CLASS_INPUT, classRank === 2 ? [batchDim, 1] : [batchDim], ONNX_INT64));
    initializers.push(
      floatTensor('E', [classes, latentSize], tinyModelEmbeddings(resolved)),
      int64Tensor('rows_shape', [-1, latentSize]),
    );
    nodes.push(
      { op_type: 'Gather', name: 'embedding', input: ['E', TINY_CLASS_INPUT], output: ['gathered'], attribute: [] },
      { op_type: 'Reshape', name: 'embedding_rows', input: ['gathered', 'rows_shape'], output: ['code'], attribute: [] },
      { op_type: 'Add', name: 'condition', input: [inputName, 'code'], output: ['conditioned'], attribute: [] },
    );
    x = 'conditioned';
  }
  nodes.push(
    { op_type: 'MatMul', name: 'dense', input: [x, 'W'], output: ['pre'], attribute: [] },
    { op_type: 'Tanh', name: 'activation', input: ['pre'], output: ['flat'], attribute: [] },
    { op_type: 'Reshape', name: 'to_nhwc', input: ['flat', 'nhwc_shape'], output: ['nhwc'], attribute: [] },
  );
  x = 'nhwc';
  if (layout === 'NCHW') {
    nodes.push({
      op_type: 'Transpose',
      name: 'to_nchw',
      input: [x],
      output: ['nchw'],
      attribute: [{ name: 'perm', type: AttributeType.INTS, ints: [0, 3, 1, 2] }],
    });
    x = 'nchw';
  }
  if (pixels === 'uint8') {
    const scalar = (name: string, value: number): TensorMessage => floatTensor(name, [], Float32Array.of(value));
    initializers.push(scalar('half_range', 127.5), scalar('zero', 0), scalar('full', 255));
    nodes.push(
      { op_type: 'Mul', name: 'scale', input: [x, 'half_range'], output: ['scaled'], attribute: [] },
      { op_type: 'Add', name: 'shift', input: ['scaled', 'half_range'], output: ['shifted'], attribute: [] },
      { op_type: 'Clip', name: 'clip', input: ['shifted', 'zero', 'full'], output: ['clipped'], attribute: [] },
      { op_type: 'Round', name: 'round', input: ['clipped'], output: ['rounded'], attribute: [] },
      {
        op_type: 'Cast',
        name: 'to_uint8',
        input: ['rounded'],
        output: ['pixels'],
        attribute: [{ name: 'to', type: AttributeType.INT, i: ONNX_UINT8 }],
      },
    );
    x = 'pixels';
  }
  nodes.push({ op_type: 'Identity', name: 'output', input: [x], output: [outputName], attribute: [] });
  const model = {
    ir_version: irVersionForOpset(TINY_MODEL_OPSET),
    producer_version: '0',
    metadata_props: [],
    producer_name: 'gantry-tiny-test-model',
    opset_import: [{ domain: '', version: TINY_MODEL_OPSET }],
    graph: {
      name: 'tiny_generator',
      node: nodes,
      initializer: initializers,
      input: inputs,
      output: [
        tensorValueInfo(
          outputName,
          [batchDim, ...(layout === 'NCHW' ? [c, h, w] : [h, w, c])],
          pixels === 'uint8' ? ONNX_UINT8 : ONNX_FLOAT,
        ),
      ],
    },
  };
  return encodeModel(model);
}

function littleEndianFloat32(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}

export interface TinyModelFolderOptions extends TinyModelOptions {
  distribution?: LatentDistribution;
  /** Overrides the card's sha256 (for testing the hash check). */
  sha256?: string;
}

/**
 * Writes `<modelsDir>/<name>/generator.onnx` and a valid `card.json` describing it; returns the card.
 */
export async function writeTinyModelFolder(
  modelsDir: string,
  name: string,
  options: TinyModelFolderOptions = {},
): Promise<ModelCard> {
  const resolved = resolve(options);
  const bytes = buildTinyGeneratorOnnx(resolved);
  const folder = join(modelsDir, name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'generator.onnx'), bytes);
  const card: ModelCard = {
    format: 'gantry-model-card/1',
    name,
    description: `Tiny ${resolved.shape.join('×')} test generator`,
    dataset: 'none',
    latent: { size: resolved.latentSize, distribution: options.distribution ?? 'normal' },
    ...(resolved.classes !== null ? { classInput: { name: TINY_CLASS_INPUT, classes: resolved.classes } } : {}),
    output: {
      shape: resolved.shape,
      layout: resolved.layout,
      range: [-1, 1],
      ...(options.pixels !== undefined ? { dtype: resolved.pixels } : {}),
    },
    onnx: {
      file: 'generator.onnx',
      opset: TINY_MODEL_OPSET,
      sha256: options.sha256 ?? createHash('sha256').update(bytes).digest('hex'),
      inputName: resolved.inputName,
      outputName: resolved.outputName,
      batch: resolved.batch,
    },
    training: { configSha256: '0'.repeat(64), steps: 0, wallSeconds: 0, backend: 'none' },
    parity: { maxAbsDiff: 0, samples: 0 },
    metrics: {},
    createdAt: new Date(0).toISOString(),
  };
  await writeFile(join(folder, 'card.json'), `${JSON.stringify(card, null, 2)}\n`);
  return card;
}
