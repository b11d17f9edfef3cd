// tfjs LayersModel <-> a folder holding the standard tfjs `model.json` + `weights.bin`, without
// tfjs-node's file:// handler (which needs the native package). The same files load in any tfjs
// program and in Gantry's exporter.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

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

export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Loads a tfjs layers `model.json` (and the weight files its manifest lists) from a file path. */
export async function loadLayersModelFromFile(modelJsonPath: string): Promise<tfl.LayersModel> {
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as ModelJson;
  } catch (error) {
    throw new ModelFileError(`cannot read tfjs model ${modelJsonPath}: ${(error as Error).message}`);
  }
  if (typeof json.modelTopology !== 'object' || !Array.isArray(json.weightsManifest)) {
    throw new ModelFileError(`${modelJsonPath} is not a tfjs layers model.json (it needs "modelTopology" and "weightsManifest")`);
  }
  const folder = join(modelJsonPath, '..');
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const path of group.paths) {
      try {
        const bytes = await readFile(join(folder, path));
        buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      } catch (error) {
        throw new ModelFileError(`weight file "${path}" listed in ${modelJsonPath} cannot be read: ${(error as Error).message}`);
      }
    }
  }
  const weightData = tf.io.concatenateArrayBuffers(buffers);
  const expectedBytes = specs.reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (weightData.byteLength !== expectedBytes) {
    throw new ModelFileError(`${modelJsonPath}: the weight files hold ${weightData.byteLength} bytes but the manifest describes ${expectedBytes}; the files are truncated or do not belong together`);
  }
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
}
