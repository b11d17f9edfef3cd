// Test support: builds a tiny ONNX generator and a model folder without the exporter, so the runtime
// can be tested on its own. Uses protobufjs (a test-only dependency, hoisted at the workspace root);
// nothing in the package's public entry points imports this file.
//
// The graph is image = Reshape(Tanh(MatMul(latent, W)), [-1, h, w, c]) with a dynamic (or fixed)
// batch axis: enough to exercise batching, shapes, value ranges and non-constant pictures.

import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { Rng, type LatentDistribution, type ModelCard } from '@gantry/latent';

// The subset of the ONNX IR (onnx.proto3) that this graph needs, with the official field numbers.
const ONNX_SUBSET_SCHEMA = `
syntax = "proto3";
package onnx;
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
}
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated int64 int64_data = 7;
  string name = 8;
  bytes raw_data = 9;
}
message AttributeProto { string name = 1; int64 i = 3; int32 type = 20; }
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
}
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
`;

const ONNX_FLOAT = 1;
const ONNX_INT64 = 7;
/** IR version 8 pairs with opset 17, both well inside what onnxruntime 1.x loads. */
const IR_VERSION = 8;
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
}

type ResolvedOptions = Required<TinyModelOptions>;

function resolve(options: TinyModelOptions): ResolvedOptions {
  return {
    latentSize: options.latentSize ?? 8,
    shape: options.shape ?? [6, 5, 1],
    inputName: options.inputName ?? 'latent',
    outputName: options.outputName ?? 'image',
    batch: options.batch ?? null,
    seed: options.seed ?? 1,
  };
}

let modelType: protobuf.Type | undefined;

function onnxModelType(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_SUBSET_SCHEMA, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
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

/** Reference output of the tiny model computed in JavaScript, for checking the runtime's results. */
export function tinyModelReference(latents: Float32Array, n: number, options: TinyModelOptions = {}): Float32Array {
  const { latentSize, shape } = resolve(options);
  const outputs = shape[0] * shape[1] * shape[2];
  const weights = tinyModelWeights(options);
  const result = new Float32Array(n * outputs);
  for (let row = 0; row < n; row++) {
    for (let j = 0; j < outputs; j++) {
      let sum = 0;
      for (let k = 0; k < latentSize; k++) sum += latents[row * latentSize + k]! * weights[k * outputs + j]!;
      result[row * outputs + j] = Math.tanh(sum);
    }
  }
  return result;
}

function tensorValueInfo(name: string, dims: (number | string)[]): object {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: ONNX_FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) },
      },
    },
  };
}

/** Serialized ONNX ModelProto bytes of the tiny generator. */
export function buildTinyGeneratorOnnx(options: TinyModelOptions = {}): Uint8Array {
  const resolved = resolve(options);
  const { latentSize, shape, inputName, outputName, batch } = resolved;
  const outputs = shape[0] * shape[1] * shape[2];
  const weights = tinyModelWeights(resolved);
  const batchDim: number | string = batch ?? 'batch';
  const model = {
    ir_version: IR_VERSION,
    producer_name: 'gantry-tiny-test-model',
    opset_import: [{ domain: '', version: TINY_MODEL_OPSET }],
    graph: {
      name: 'tiny_generator',
      node: [
        { op_type: 'MatMul', name: 'dense', input: [inputName, 'W'], output: ['pre'] },
        { op_type: 'Tanh', name: 'activation', input: ['pre'], output: ['flat'] },
        { op_type: 'Reshape', name: 'to_nhwc', input: ['flat', 'nhwc_shape'], output: [outputName] },
      ],
      initializer: [
        {
          name: 'W',
          dims: [latentSize, outputs],
          data_type: ONNX_FLOAT,
          // raw_data is little-endian by the ONNX spec; copy through a DataView to be explicit.
          raw_data: littleEndianFloat32(weights),
        },
        { name: 'nhwc_shape', dims: [4], data_type: ONNX_INT64, int64_data: [-1, shape[0], shape[1], shape[2]] },
      ],
      input: [tensorValueInfo(inputName, [batchDim, latentSize])],
      output: [tensorValueInfo(outputName, [batchDim, shape[0], shape[1], shape[2]])],
    },
  };
  const type = onnxModelType();
  return type.encode(type.fromObject(model)).finish();
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
export async function writeTinyModelFolder(modelsDir: string, name: string, options: TinyModelFolderOptions = {}): Promise<ModelCard> {
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
    output: { shape: resolved.shape, layout: 'NHWC', range: [-1, 1] },
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
