// A Triton Inference Server model repository for an exported generator:
//   <repository>/<name>/config.pbtxt     the model configuration (protobuf text format)
//   <repository>/<name>/1/model.onnx     version 1, run by Triton's onnxruntime backend
// Triton batches requests itself (dynamic_batching), so the model must have a dynamic batch axis and
// the configuration lists dims without it.
import { join } from 'node:path';
import { writeFolderAtomic } from '@gantry/files/atomic';
import { ExportError } from './errors.js';

export const DEFAULT_TRITON_MAX_BATCH = 64;
export const TRITON_CONFIG_FILE = 'config.pbtxt';
export const TRITON_MODEL_FILE = join('1', 'model.onnx');

export type TritonElementType = 'float32' | 'int64' | 'uint8';

const DATA_TYPES: Record<TritonElementType, string> = { float32: 'TYPE_FP32', int64: 'TYPE_INT64', uint8: 'TYPE_UINT8' };

export interface TritonTensor {
  name: string;
  type: TritonElementType;
  /** Dims without the batch axis. */
  dims: number[];
}

export interface TritonModel {
  /** The model's name in Triton, which is also its folder in the repository. */
  name: string;
  inputs: TritonTensor[];
  output: TritonTensor;
  /** The largest batch Triton forms (default 64). */
  maxBatchSize?: number;
}

function tensorEntry({ name, type, dims }: TritonTensor): string {
  return `  {\n    name: ${JSON.stringify(name)}\n    data_type: ${DATA_TYPES[type]}\n    dims: [ ${dims.join(', ')} ]\n  }`;
}

/** Checks a Triton model's name and max batch size (before any export work); returns the max batch size. */
export function checkTritonSettings(model: Pick<TritonModel, 'name' | 'maxBatchSize'>): number {
  // The name is a folder and a quoted proto string: keep it to characters that are safe in both.
  if (!/^[A-Za-z0-9_.-]+$/.test(model.name) || model.name.startsWith('.')) {
    throw new ExportError(
      `the Triton model name ${JSON.stringify(model.name)} must use only letters, digits, "_", "-" and "." (and not start with ".")`,
    );
  }
  const maxBatch = model.maxBatchSize ?? DEFAULT_TRITON_MAX_BATCH;
  if (!(Number.isInteger(maxBatch) && maxBatch >= 1 && maxBatch <= 65536))
    throw new ExportError(`the Triton max batch size must be an integer in [1, 65536], got ${maxBatch}`);
  return maxBatch;
}

/** The config.pbtxt of a generator served by Triton's onnxruntime backend with dynamic batching. */
export function tritonConfig(model: TritonModel): string {
  const maxBatch = checkTritonSettings(model);
  return [
    `name: ${JSON.stringify(model.name)}`,
    'platform: "onnxruntime_onnx"',
    `max_batch_size: ${maxBatch}`,
    `input [\n${model.inputs.map(tensorEntry).join(',\n')}\n]`,
    `output [\n${tensorEntry(model.output)}\n]`,
    'dynamic_batching { }',
    // KIND_AUTO: on the GPU when Triton has one, otherwise on the CPU.
    'instance_group [\n  {\n    count: 1\n    kind: KIND_AUTO\n  }\n]',
    '',
  ].join('\n');
}

/**
 * Writes (or replaces) `<repository>/<name>/` with config.pbtxt and 1/model.onnx, atomically: the
 * folder appears complete or not at all. Returns the model folder's path.
 */
export async function writeTritonModel(repository: string, model: TritonModel, onnxBytes: Uint8Array): Promise<string> {
  const config = tritonConfig(model);
  const folder = join(repository, model.name);
  await writeFolderAtomic(folder, async (write) => {
    await write(TRITON_CONFIG_FILE, config);
    await write(TRITON_MODEL_FILE, onnxBytes);
  });
  return folder;
}
