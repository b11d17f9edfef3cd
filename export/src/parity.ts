// Every export is checked against the model it came from: the same latents go through tfjs (inference
// mode) and through onnxruntime-node on the CPU, and the outputs must agree to within a tolerance.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createSession } from '@gantry/inference-node';
import { decodeModel } from './onnx/proto.js';

export class ParityError extends Error {
  override name = 'ParityError';
  constructor(
    message: string,
    /** The measured figure (Infinity when the outputs could not be compared at all). */
    readonly maxAbsDiff: number,
  ) {
    super(message);
  }
}

/** The names and batch size of an ONNX model's first input and output, read from its bytes. */
function graphInterface(onnxBytes: Uint8Array): { inputName: string; outputName: string; batch: number | null } {
  const graph = decodeModel(onnxBytes).graph;
  const input = graph?.input?.[0];
  const output = graph?.output?.[0];
  if (input === undefined || output === undefined) throw new ParityError('onnxBytes: the ONNX model has no graph input or output', Infinity);
  const batchDim = input.type?.tensor_type?.shape?.dim?.[0];
  const batch = batchDim?.dim_value;
  return { inputName: input.name, outputName: output.name, batch: typeof batch === 'number' && batch > 0 ? batch : null };
}

function latentSizeOf(model: tfl.LayersModel): number {
  const size = model.inputs[0]?.shape[1];
  if (model.inputs.length !== 1 || typeof size !== 'number') throw new ParityError(`model "${model.name}" does not take one latent input [batch, size]`, Infinity);
  return size;
}

/**
 * Runs `n` latents (row-major, n × latent size) through `model.predict` and through the ONNX model
 * in onnxruntime-node (CPU), and returns the largest absolute difference between the outputs
 * (Infinity if any output value is NaN). A model with a fixed batch size is run batch by batch.
 */
export async function checkParity(model: tfl.LayersModel, onnxBytes: Uint8Array, latents: Float32Array, n: number): Promise<number> {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`n must be a positive integer, got ${n}`);
  const size = latentSizeOf(model);
  if (latents.length !== n * size) throw new RangeError(`latents must hold n × latent size = ${n} × ${size} = ${n * size} values, got ${latents.length}`);
  const names = graphInterface(onnxBytes);

  const expectedTensor = tf.tidy(() => model.predict(tf.tensor2d(latents, [n, size])) as tf.Tensor);
  const expected = (await expectedTensor.data()) as Float32Array;
  expectedTensor.dispose();

  const session = await createSession(onnxBytes, { device: 'cpu', inputName: names.inputName, outputName: names.outputName });
  let actual: Float32Array;
  try {
    actual = (await session.runInChunks(latents, n, { chunkSize: n, fixedBatch: names.batch })).data;
  } finally {
    await session.release();
  }
  if (actual.length !== expected.length) {
    throw new ParityError(`the ONNX model returns ${actual.length} values for ${n} latents but tfjs returns ${expected.length}`, Infinity);
  }
  let maxAbsDiff = 0;
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    // NaN fails every comparison, so `diff > maxAbsDiff` alone would let it through.
    if (!(diff <= maxAbsDiff)) maxAbsDiff = Number.isNaN(diff) ? Infinity : diff;
  }
  return maxAbsDiff;
}
