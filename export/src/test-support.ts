// Helpers shared by this package's tests and the end-to-end tests (`@gantry/export/test-support`; not part of the public API).
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { findPythonWithOnnx, ONNX_CHECKER_INSTALL_HINT, runOnnxChecker } from './checker.js';

export { saveModelFiles } from './model-files.js';

/**
 * Runs ONNX's checker (full_check) over `paths` in one python process; returns null when all pass,
 * else the complaints. The tests always run it (npm test's prerequisites step sets up a python with
 * onnx): a machine without one fails here with the install command rather than skipping the check.
 */
export async function checkerComplaints(paths: readonly string[]): Promise<string | null> {
  const python = findPythonWithOnnx();
  if (python === null) return `no python3 can import onnx; ${ONNX_CHECKER_INSTALL_HINT}`;
  const report = await runOnnxChecker(paths, python);
  return report.failures.length === 0 ? null : report.failures.map((f) => `${f.path}: ${f.error}`).join('\n');
}

/** Replaces every weight with random values (moving variances positive) so no layer is an identity by accident. */
export function randomiseWeights(model: tfl.LayersModel, seed: number, scale = 0.5): void {
  const current = model.getWeights();
  const values = current.map(({ shape }, i) =>
    /moving_variance/.test(model.weights[i]!.name)
      ? tf.randomUniform(shape, 0.5, 1.5, 'float32', seed + i)
      : tf.randomNormal(shape, 0, scale, 'float32', seed + i),
  );
  model.setWeights(values);
  tf.dispose(values);
}

/** The reference DCGAN generator shape at small widths: latent → 28×28×1 in [-1, 1]. */
export function referenceGenerator(latentSize: number, name?: string): tfl.Sequential {
  const m = tfl.sequential(name === undefined ? {} : { name });
  m.add(tfl.layers.dense({ inputShape: [latentSize], units: 7 * 7 * 16, useBias: false }));
  m.add(tfl.layers.batchNormalization());
  m.add(tfl.layers.reLU());
  m.add(tfl.layers.reshape({ targetShape: [7, 7, 16] }));
  m.add(tfl.layers.conv2dTranspose({ filters: 8, kernelSize: 4, strides: 2, padding: 'same', useBias: false }));
  m.add(tfl.layers.batchNormalization());
  m.add(tfl.layers.reLU());
  m.add(tfl.layers.conv2dTranspose({ filters: 1, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh' }));
  return m;
}

/**
 * A class-conditional generator in the tfjs-examples ACGAN style: latent [size] and class [1] →
 * Embedding → Flatten → Multiply with the latent → Dense → Reshape → UpSampling2D → Conv2D → tanh.
 */
export function conditionalGenerator(latentSize: number, classes: number): tfl.LayersModel {
  const latent = tfl.input({ shape: [latentSize], name: 'z' });
  const label = tfl.input({ shape: [1], name: 'label' });
  const embedded = tfl.layers
    .flatten()
    .apply(tfl.layers.embedding({ inputDim: classes, outputDim: latentSize }).apply(label)) as tfl.SymbolicTensor;
  let x = tfl.layers.multiply().apply([latent, embedded]) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: 4 * 4 * 3 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reshape({ targetShape: [4, 4, 3] }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.upSampling2d({ size: [2, 2] }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'tanh' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: [latent, label], outputs: x, name: 'conditional_generator' });
}

// The part of Triton's model_config.proto (triton-inference-server/common, protobuf/model_config.proto)
// that Gantry's config.pbtxt uses, with Triton's field names and numbers, as a FileDescriptorProto in
// text format. A field or enum value the exporter writes that Triton does not define fails to parse.
const TRITON_SCHEMA = `
name: "model_config_subset.proto" package: "inference" syntax: "proto3"
enum_type { name: "DataType"
  value { name: "TYPE_INVALID" number: 0 } value { name: "TYPE_BOOL" number: 1 } value { name: "TYPE_UINT8" number: 2 }
  value { name: "TYPE_UINT16" number: 3 } value { name: "TYPE_UINT32" number: 4 } value { name: "TYPE_UINT64" number: 5 }
  value { name: "TYPE_INT8" number: 6 } value { name: "TYPE_INT16" number: 7 } value { name: "TYPE_INT32" number: 8 }
  value { name: "TYPE_INT64" number: 9 } value { name: "TYPE_FP16" number: 10 } value { name: "TYPE_FP32" number: 11 }
  value { name: "TYPE_FP64" number: 12 } value { name: "TYPE_STRING" number: 13 } value { name: "TYPE_BF16" number: 14 } }
message_type { name: "ModelInstanceGroup"
  field { name: "name" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "kind" number: 4 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".inference.ModelInstanceGroup.Kind" }
  field { name: "count" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 }
  field { name: "gpus" number: 3 label: LABEL_REPEATED type: TYPE_INT32 }
  enum_type { name: "Kind" value { name: "KIND_AUTO" number: 0 } value { name: "KIND_GPU" number: 1 } value { name: "KIND_CPU" number: 2 } value { name: "KIND_MODEL" number: 3 } } }
message_type { name: "ModelInput"
  field { name: "name" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "data_type" number: 2 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".inference.DataType" }
  field { name: "dims" number: 4 label: LABEL_REPEATED type: TYPE_INT64 } }
message_type { name: "ModelOutput"
  field { name: "name" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "data_type" number: 2 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".inference.DataType" }
  field { name: "dims" number: 3 label: LABEL_REPEATED type: TYPE_INT64 } }
message_type { name: "ModelDynamicBatching"
  field { name: "preferred_batch_size" number: 1 label: LABEL_REPEATED type: TYPE_INT32 }
  field { name: "max_queue_delay_microseconds" number: 2 label: LABEL_OPTIONAL type: TYPE_UINT64 } }
message_type { name: "ModelConfig"
  field { name: "name" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "platform" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "backend" number: 17 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "max_batch_size" number: 4 label: LABEL_OPTIONAL type: TYPE_INT32 }
  field { name: "input" number: 5 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".inference.ModelInput" }
  field { name: "output" number: 6 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".inference.ModelOutput" }
  field { name: "instance_group" number: 7 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".inference.ModelInstanceGroup" }
  field { name: "dynamic_batching" number: 11 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".inference.ModelDynamicBatching" } }
`;

const PARSE_TRITON_CONFIG = `
import json, sys
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory, text_format
pool = descriptor_pool.DescriptorPool()
pool.Add(text_format.Parse(sys.argv[1], descriptor_pb2.FileDescriptorProto()))
descriptor = pool.FindMessageTypeByName("inference.ModelConfig")
# protobuf 4.21+ has GetMessageClass; GetPrototype (older) was removed in 5.x, as was including_default_value_fields.
if hasattr(message_factory, "GetMessageClass"):
    config = message_factory.GetMessageClass(descriptor)()
else:
    config = message_factory.MessageFactory(pool).GetPrototype(descriptor)()
text_format.Parse(sys.stdin.read(), config)
try:
    fields = json_format.MessageToDict(config, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
except TypeError:
    fields = json_format.MessageToDict(config, preserving_proto_field_name=True, including_default_value_fields=True)
print(json.dumps(fields))
`;

/**
 * Parses a config.pbtxt with protobuf's own text-format parser against Triton's schema (the fields
 * above) and returns it as JSON (int64 fields as strings, as protobuf's JSON mapping writes them).
 */
export function parseTritonConfig(text: string): Record<string, unknown> {
  const python = findPythonWithOnnx();
  if (python === null)
    throw new Error(`parsing a Triton config needs python3 with protobuf (it comes with onnx); ${ONNX_CHECKER_INSTALL_HINT}`);
  const result = spawnSync(python, ['-c', PARSE_TRITON_CONFIG, TRITON_SCHEMA], { input: text, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(
      `config.pbtxt does not parse as a Triton ModelConfig: ${result.stderr.trim().split('\n').slice(-2).join(' ')}`,
    );
  return JSON.parse(result.stdout) as Record<string, unknown>;
}
