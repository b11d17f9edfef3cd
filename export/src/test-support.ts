// Helpers shared by this package's tests (compiled to dist but not part of the public API).
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

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
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(saved) };
    }),
  );
  if (artifacts?.weightData === undefined || artifacts.weightSpecs === undefined) throw new Error('model.save gave no weights');
  const modelJson = join(folder, 'model.json');
  await writeFile(modelJson, JSON.stringify({ format: 'layers-model', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }));
  await writeFile(join(folder, 'weights.bin'), new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)));
  return modelJson;
}
