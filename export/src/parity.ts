// Every export is checked against the model it came from: the same inputs go through tfjs (inference
// mode) and through onnxruntime-node on the CPU, and the outputs must agree to within a tolerance.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createSession, type RawTensor } from '@gantry/inference-node';
import { decodeModel, TensorDataType } from '@gantry/files/onnx';
import { GantryError } from '@gantry/core';

/** The ONNX model's output differs from tfjs' beyond the tolerance (or could not be compared). */
export class ParityError extends GantryError {
  override name = 'ParityError';
  constructor(
    message: string,
    /** The measured figure (Infinity when the outputs could not be compared at all). */
    readonly maxAbsDiff: number,
  ) {
    super('export-parity', message);
  }
}

/** One model input's values for n samples, row-major: latents as float32, class indices as int32. */
export type ParityFeed = Float32Array | Int32Array;

/** How the ONNX model lays out its output relative to tfjs (see ConvertOptions). */
export interface ParityOutputFormat {
  /** 'NCHW': an image output is channels first in ONNX; default NHWC, as tfjs. */
  layout?: 'NHWC' | 'NCHW';
  /** 'uint8': ONNX returns pixels of the tfjs output mapped from `outputRange` to 0…255. */
  pixels?: 'float32' | 'uint8';
  outputRange?: [number, number];
}

interface GraphInput {
  name: string;
  int64: boolean;
}

/** The ONNX model's inputs, first output and fixed batch size (null when dynamic), read from its bytes. */
function graphInterface(onnxBytes: Uint8Array): { inputs: GraphInput[]; outputName: string; batch: number | null } {
  const graph = decodeModel(onnxBytes).graph;
  const inputs = graph?.input ?? [];
  const output = graph?.output?.[0];
  if (inputs.length === 0 || output === undefined)
    throw new ParityError('onnxBytes: the ONNX model has no graph input or output', Infinity);
  const batch = inputs[0]!.type?.tensor_type?.shape?.dim?.[0]?.dim_value;
  return {
    inputs: inputs.map((input) => ({ name: input.name, int64: input.type?.tensor_type?.elem_type === TensorDataType.INT64 })),
    outputName: output.name,
    batch: typeof batch === 'number' && batch > 0 ? batch : null,
  };
}

function rowSizes(model: tfl.LayersModel): number[] {
  return model.inputs.map((input) => {
    const dims = input.shape.slice(1);
    if (!dims.every((d): d is number => typeof d === 'number'))
      throw new ParityError(
        `model "${model.name}": input "${input.name}" has unknown sizes [${input.shape.join(', ')}]`,
        Infinity,
      );
    return dims.reduce((a, b) => a * b, 1);
  });
}

/** Rows [start, start + count) of a feed, zero-padded to `rows` rows, as the ONNX input wants them. */
function onnxRows(
  feed: ParityFeed,
  rowSize: number,
  start: number,
  count: number,
  rows: number,
  int64: boolean,
): RawTensor['data'] {
  const slice = feed.subarray(start * rowSize, (start + count) * rowSize);
  if (int64) {
    const out = new BigInt64Array(rows * rowSize);
    slice.forEach((v, i) => {
      out[i] = BigInt(v);
    });
    return out;
  }
  const out = new Float32Array(rows * rowSize);
  out.set(slice);
  return out;
}

/**
 * The largest difference between the ONNX output and tfjs' `expected` (NHWC floats), in the units of
 * the generator's output. For uint8 pixels it is how far each pixel lies beyond correct rounding of the
 * exact pixel value (x − lo)·255/(hi − lo), clamped, converted back to output units: 0 when every pixel
 * is the tfjs value rounded, whichever way a tie went.
 */
function maxDifference(
  expected: Float32Array,
  actual: Float32Array | Uint8Array,
  sampleShape: number[],
  format: ParityOutputFormat,
): number {
  const nchw = format.layout === 'NCHW' && sampleShape.length === 3;
  const [h, w, c] = sampleShape as [number, number, number];
  const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
  const [lo, hi] = format.outputRange ?? [0, 1];
  const scale = 255 / (hi - lo);
  const pixels = format.pixels === 'uint8';
  let max = 0;
  for (let i = 0; i < expected.length; i++) {
    let j = i;
    if (nchw) {
      // i indexes [sample, y, x, channel]; the ONNX value sits at [sample, channel, y, x].
      const within = i % sampleSize;
      const channel = within % c;
      const pixel = (within - channel) / c;
      j = i - within + channel * h * w + pixel;
    }
    let diff: number;
    if (pixels) {
      const exact = Math.min(255, Math.max(0, (expected[i]! - lo) * scale));
      diff = Math.max(0, Math.abs(actual[j]! - exact) - 0.5) / scale;
    } else {
      diff = Math.abs(actual[j]! - expected[i]!);
    }
    // NaN fails every comparison, so `diff > max` alone would let it through.
    if (!(diff <= max)) max = Number.isNaN(diff) ? Infinity : diff;
  }
  return max;
}

/**
 * Runs n samples through `model.predict` and through the ONNX model in onnxruntime-node (CPU), and
 * returns the largest absolute difference between the outputs (Infinity if any is NaN). `feeds` holds
 * one array per model input, in the model's input order. A model with a fixed batch size is run batch
 * by batch, the last batch padded.
 */
export async function checkParity(
  model: tfl.LayersModel,
  onnxBytes: Uint8Array,
  feeds: readonly ParityFeed[],
  n: number,
  format: ParityOutputFormat = {},
): Promise<number> {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`n must be a positive integer, got ${n}`);
  const sizes = rowSizes(model);
  if (feeds.length !== sizes.length)
    throw new RangeError(`feeds must hold one array per model input (${sizes.length}), got ${feeds.length}`);
  feeds.forEach((feed, i) => {
    if (feed.length !== n * sizes[i]!)
      throw new RangeError(
        `feeds[${i}] (input "${model.inputs[i]!.name}") must hold n × ${sizes[i]} = ${n * sizes[i]!} values, got ${feed.length}`,
      );
  });
  if (format.pixels === 'uint8' && format.outputRange === undefined)
    throw new RangeError('format.outputRange is required for uint8 pixels');
  const graph = graphInterface(onnxBytes);
  if (graph.inputs.length !== feeds.length)
    throw new ParityError(`the ONNX model has ${graph.inputs.length} inputs but the tfjs model has ${feeds.length}`, Infinity);

  const expectedTensor = tf.tidy(() => {
    const inputs = feeds.map((feed, i) => {
      const input = model.inputs[i]!;
      const dtype = input.dtype === 'int32' ? 'int32' : 'float32';
      return tf.tensor(
        feed instanceof Float32Array || dtype === 'int32' ? feed : Float32Array.from(feed),
        [n, ...(input.shape.slice(1) as number[])],
        dtype,
      );
    });
    return model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor;
  });
  const expected = (await expectedTensor.data()) as Float32Array;
  const sampleShape = expectedTensor.shape.slice(1);
  expectedTensor.dispose();

  // One thread: the models are small, and a thread pool per session costs more than it saves.
  const session = await createSession(onnxBytes, {
    device: 'cpu',
    intraOpThreads: 1,
    inputName: graph.inputs[0]!.name,
    outputName: graph.outputName,
  });
  const chunk = graph.batch ?? n;
  let actual: Float32Array | Uint8Array | undefined;
  try {
    for (let start = 0; start < n; start += chunk) {
      const count = Math.min(chunk, n - start);
      const rows = graph.batch ?? count;
      const inputs: Record<string, RawTensor> = {};
      graph.inputs.forEach((input, i) => {
        inputs[input.name] = {
          data: onnxRows(feeds[i]!, sizes[i]!, start, count, rows, input.int64),
          dims: [rows, ...(model.inputs[i]!.shape.slice(1) as number[])],
        };
      });
      const output = (await session.runTensors(inputs))[graph.outputName];
      if (output === undefined || output.data instanceof BigInt64Array)
        throw new ParityError(`the ONNX model returned no float32 or uint8 output "${graph.outputName}"`, Infinity);
      const perSample = output.data.length / rows;
      actual ??= output.data instanceof Uint8Array ? new Uint8Array(n * perSample) : new Float32Array(n * perSample);
      if (actual.length !== n * perSample)
        throw new ParityError(`the ONNX model's output size changed between batches`, Infinity);
      actual.set(output.data.subarray(0, count * perSample), start * perSample);
    }
  } finally {
    await session.release();
  }
  if (actual === undefined || actual.length !== expected.length) {
    throw new ParityError(
      `the ONNX model returns ${actual?.length ?? 0} values for ${n} samples but tfjs returns ${expected.length}`,
      Infinity,
    );
  }
  return maxDifference(expected, actual, sampleShape, format);
}
