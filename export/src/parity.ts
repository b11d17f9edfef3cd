// Every export is checked against the model it came from: the same latents through tfjs and through
// onnxruntime-node must agree to within a tolerance, or the export fails with the figure.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createSession } from '@gantry/inference-node';

export interface ParityResult {
  maxAbsDiff: number;
  samples: number;
}

export class ParityError extends Error {
  override name = 'ParityError';
  constructor(
    message: string,
    readonly result: ParityResult,
  ) {
    super(message);
  }
}

/** Runs `latents` (n × size) through tfjs (inference mode) and the ONNX file, and compares outputs. */
export async function measureParity(model: tfl.LayersModel, onnxPath: string, latents: Float32Array, n: number): Promise<ParityResult> {
  const size = latents.length / n;
  const expected = tf.tidy(() => model.predict(tf.tensor2d(latents, [n, size])) as tf.Tensor);
  const reference = (await expected.data()) as Float32Array;
  expected.dispose();
  const session = await createSession(onnxPath, { device: 'cpu' });
  try {
    const { data } = await session.run(latents, n);
    if (data.length !== reference.length) {
      throw new ParityError(`the ONNX model returns ${data.length} values for ${n} latents but tfjs returns ${reference.length}`, { maxAbsDiff: Infinity, samples: n });
    }
    let maxAbsDiff = 0;
    for (let i = 0; i < data.length; i++) {
      const diff = Math.abs(data[i]! - reference[i]!);
      // NaN compares false, so a NaN anywhere must be caught explicitly.
      if (!(diff <= maxAbsDiff)) maxAbsDiff = Number.isNaN(diff) ? Infinity : diff;
    }
    return { maxAbsDiff, samples: n };
  } finally {
    await session.release();
  }
}
