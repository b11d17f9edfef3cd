// tfjs layers models as files: `model.json` plus the weight files its weightsManifest lists, saved and
// loaded straight from the file system (tfjs' own file:// handler lives in the native tfjs-node
// package). Training writes its checkpoints with this and everything reads them back with it.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { GantryError, messageOf } from '@gantry/core';

/** A tfjs model.json (or its weights) that cannot be read. */
export class ModelFileError extends GantryError {
  override name = 'ModelFileError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('model-file', message, options);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Bytes one stored weight takes: quantised weights are stored in their quantised type. */
function storedBytes(spec: tf.io.WeightsManifestEntry, where: string): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const quantized = spec.quantization?.dtype;
  if (quantized !== undefined) return count * (quantized === 'uint8' ? 1 : 2);
  switch (spec.dtype) {
    case 'float32':
    case 'int32':
      return count * 4;
    case 'bool':
      return count;
    case 'complex64':
      return count * 8;
    default:
      throw new ModelFileError(
        `${where}: weight "${spec.name}" has dtype ${JSON.stringify(spec.dtype)}; supported: float32, int32, bool, complex64`,
      );
  }
}

function parseManifest(json: Record<string, unknown>, where: string): tf.io.WeightsManifestConfig {
  const manifest = json.weightsManifest;
  const ok =
    Array.isArray(manifest) &&
    manifest.every(
      (group) =>
        isRecord(group) &&
        Array.isArray(group.paths) &&
        group.paths.every((p) => typeof p === 'string' && p.length > 0) &&
        Array.isArray(group.weights) &&
        group.weights.every(
          (w) => isRecord(w) && typeof w.name === 'string' && Array.isArray(w.shape) && typeof w.dtype === 'string',
        ),
    );
  if (!ok)
    throw new ModelFileError(
      `${where}: "weightsManifest" must be an array of {paths: string[], weights: {name, shape, dtype}[]}`,
    );
  return manifest as tf.io.WeightsManifestConfig;
}

/**
 * A tfjs IOHandler that reads `model.json` and its weight files (paths relative to the model.json's
 * folder). Every problem is reported as a ModelFileError naming the file.
 */
export function fileSystemModelHandler(modelJsonPath: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      let text: string;
      try {
        text = await readFile(modelJsonPath, 'utf8');
      } catch (error) {
        throw new ModelFileError(`cannot read tfjs model ${modelJsonPath}: ${messageOf(error)}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new ModelFileError(`${modelJsonPath} is not valid JSON (${messageOf(error)}); expected a tfjs layers model.json`);
      }
      if (!isRecord(json) || !isRecord(json.modelTopology)) {
        throw new ModelFileError(
          `${modelJsonPath} is not a tfjs layers model.json: it needs a "modelTopology" object and a "weightsManifest" array`,
        );
      }
      const manifest = parseManifest(json, modelJsonPath);
      const folder = dirname(modelJsonPath);
      return tf.io.getModelArtifactsForJSON(json as unknown as tf.io.ModelJSON, async () => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers: ArrayBuffer[] = [];
        for (const path of manifest.flatMap((group) => group.paths)) {
          if (isAbsolute(path) || /^[a-z]+:\/\//i.test(path)) {
            throw new ModelFileError(
              `${modelJsonPath}: weight path ${JSON.stringify(path)} must be relative to the model.json's folder`,
            );
          }
          try {
            const bytes = await readFile(resolve(folder, path));
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
          } catch (error) {
            throw new ModelFileError(`weight file "${path}" listed in ${modelJsonPath} cannot be read: ${messageOf(error)}`);
          }
        }
        const weightData = tf.io.concatenateArrayBuffers(buffers);
        const expectedBytes = specs.reduce((sum, spec) => sum + storedBytes(spec, modelJsonPath), 0);
        if (weightData.byteLength !== expectedBytes) {
          throw new ModelFileError(
            `${modelJsonPath}: the weight files hold ${weightData.byteLength} bytes but the manifest describes ${expectedBytes}; they are truncated or do not belong to this model.json`,
          );
        }
        return [specs, weightData];
      });
    },
  };
}

/** Loads a tfjs layers model from a `model.json` path on disk. */
export async function loadLayersModelFromFile(modelJsonPath: string): Promise<tfl.LayersModel> {
  try {
    return await tfl.loadLayersModel(fileSystemModelHandler(modelJsonPath), { strict: true });
  } catch (error) {
    if (error instanceof ModelFileError) throw error;
    throw new ModelFileError(`cannot build a tfjs layers model from ${modelJsonPath}: ${messageOf(error)}`);
  }
}

/** The standard tfjs files of a model: `model.json` (topology + manifest) and one `weights.bin`. */
export interface ModelFiles {
  'model.json': string;
  'weights.bin': Uint8Array;
}

export async function serializeLayersModel(model: tfl.LayersModel): Promise<ModelFiles> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(saved) };
    }),
  );
  if (artifacts?.weightData === undefined || artifacts.weightSpecs === undefined) {
    throw new Error(`model "${model.name}" produced no weights when saved`);
  }
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
  const json = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
  };
  return { 'model.json': JSON.stringify(json), 'weights.bin': weights };
}

/** Saves `model` as a tfjs model.json + weights.bin in `folder`; returns the model.json path. */
export async function saveModelFiles(model: tfl.LayersModel, folder: string): Promise<string> {
  const files = await serializeLayersModel(model);
  const modelJson = join(folder, 'model.json');
  await writeFile(modelJson, files['model.json']);
  await writeFile(join(folder, 'weights.bin'), files['weights.bin']);
  return modelJson;
}
