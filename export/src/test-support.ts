// Helpers shared by this package's tests (compiled to dist but not part of the public API).
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { serializeLayersModel } from './model-files.js';

// The distribution's python3 carries python3-onnx while a version manager's python3 may shadow it
// on PATH, so both are tried.
const PYTHON_CANDIDATES = ['python3', '/usr/bin/python3'];

/** A python3 that can `import onnx`, or null when none can. */
export const pythonWithOnnx: string | null =
  PYTHON_CANDIDATES.find((python) => spawnSync(python, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0) ?? null;

export const ONNX_CHECKER_MISSING = `ONNX checker skipped: no python3 on this machine can import onnx (tried ${PYTHON_CANDIDATES.join(', ')}; apt-get install python3-onnx)`;

const CHECK_SCRIPT = `
import sys, onnx
for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
    except Exception as error:
        print(f"{path}: {error}", file=sys.stderr)
        sys.exit(1)
`;

/**
 * Runs onnx.checker.check_model(full_check=True) over `paths` in one python process (importing onnx
 * takes most of a second). Returns null when all pass, else the checker's complaint.
 */
export function runOnnxChecker(python: string, paths: string[]): string | null {
  const result = spawnSync(python, ['-c', CHECK_SCRIPT, ...paths], { encoding: 'utf8' });
  return result.status === 0 ? null : `${result.stderr}${result.error?.message ?? ''}`;
}

/** Replaces every weight with random values (moving variances positive) so no layer is an identity by accident. */
export function randomiseWeights(model: tfl.LayersModel, seed: number): void {
  const current = model.getWeights();
  const values = current.map(({ shape }, i) =>
    /moving_variance/.test(model.weights[i]!.name) ? tf.randomUniform(shape, 0.5, 1.5, 'float32', seed + i) : tf.randomNormal(shape, 0, 0.5, 'float32', seed + i),
  );
  model.setWeights(values);
  tf.dispose(values);
}

/** Saves `model` as a tfjs model.json + weights.bin in `folder`; returns the model.json path. */
export async function saveModelFiles(model: tfl.LayersModel, folder: string): Promise<string> {
  const files = await serializeLayersModel(model);
  const modelJson = join(folder, 'model.json');
  await writeFile(modelJson, files['model.json']);
  await writeFile(join(folder, 'weights.bin'), files['weights.bin']);
  return modelJson;
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
