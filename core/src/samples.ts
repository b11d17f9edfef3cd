// A generator's raw output, whatever the export options were (NHWC or NCHW, float32 values or uint8
// pixels), turned into the one form every runtime shows: float32 NHWC with the range its values span,
// and the batches a model with a fixed or dynamic batch axis is run in. Browser-safe, so the Node
// library and the browser package read export variants the same way.

import type { OutputSpec } from './card.js';

/** The element types a Gantry generator outputs. */
export type RawSamples = Float32Array | Uint8Array;

/** The range of uint8 pixel values. */
export const PIXEL_RANGE: readonly [number, number] = [0, 255];

export interface CanonicalSamples {
  /** n × h × w × c, NHWC. */
  samples: Float32Array;
  /** [lo, hi] of the values: the card's range for float output, [0, 255] for uint8 pixels. */
  range: [number, number];
}

/** The element type the card promises ('float32' when the card predates the field). */
export function outputDtype(output: OutputSpec): 'float32' | 'uint8' {
  return output.dtype ?? 'float32';
}

/** One sample's dims as the ONNX model lays them out: [h, w, c] for NHWC, [c, h, w] for NCHW. */
export function onnxSampleDims(output: OutputSpec): [number, number, number] {
  const [h, w, c] = output.shape;
  return output.layout === 'NCHW' ? [c, h, w] : [h, w, c];
}

/**
 * Converts `n` samples of raw generator output laid out as `output` describes into float32 NHWC.
 * Float values keep the card's range; uint8 pixels keep their values, 0…255, so nothing is re-scaled.
 * Throws if the element type or the value count does not match the card.
 */
export function canonicalSamples(raw: RawSamples, n: number, output: OutputSpec): CanonicalSamples {
  const dtype = outputDtype(output);
  const actual = raw instanceof Uint8Array ? 'uint8' : raw instanceof Float32Array ? 'float32' : typeof raw;
  if (actual !== dtype)
    throw new TypeError(`the generator output holds ${actual} values but the card promises output.dtype ${dtype}`);
  const [h, w, c] = output.shape;
  const sampleSize = h * w * c;
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`n must be a positive integer, got ${String(n)}`);
  if (raw.length !== n * sampleSize) {
    throw new RangeError(
      `the generator output has ${raw.length} values but ` +
        `n × ${onnxSampleDims(output).join(' × ')} (${output.layout}) = ${n * sampleSize}`,
    );
  }
  const range: [number, number] = dtype === 'uint8' ? [...PIXEL_RANGE] : [...output.range];
  if (output.layout === 'NHWC') return { samples: raw instanceof Float32Array ? raw : Float32Array.from(raw), range };
  const samples = new Float32Array(raw.length);
  const plane = h * w;
  for (let s = 0; s < n; s++) {
    const base = s * sampleSize;
    for (let channel = 0; channel < c; channel++) {
      const from = base + channel * plane;
      for (let pixel = 0; pixel < plane; pixel++) samples[base + pixel * c + channel] = raw[from + pixel]!;
    }
  }
  return { samples, range };
}

/** Maps a value to a grey level: lo → 0, hi → 255, rounded and clamped; NaN becomes 0 so bad output shows as black. */
export function pixelLevel(value: number, lo: number, hi: number): number {
  const level = Math.round(((value - lo) * 255) / (hi - lo));
  if (!(level > 0)) return 0;
  return Math.min(level, 255);
}

/** One model run: samples start … start + count − 1, fed as a batch of `batch` rows (count plus padding). */
export interface BatchSlice {
  start: number;
  count: number;
  batch: number;
}

/**
 * The runs that produce n samples: batches of at most `chunkSize`, or of exactly `fixedBatch` for a model
 * exported with a fixed batch axis (the last one padded, see {@link padRows}).
 */
export function planBatches(
  n: number,
  { chunkSize, fixedBatch }: { chunkSize: number; fixedBatch: number | null },
): BatchSlice[] {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`n must be a non-negative integer, got ${String(n)}`);
  const chunk = fixedBatch ?? chunkSize;
  if (!(Number.isInteger(chunk) && chunk >= 1))
    throw new RangeError(`the batch size must be a positive integer, got ${String(chunk)}`);
  const slices: BatchSlice[] = [];
  for (let start = 0; start < n; start += chunk) {
    const count = Math.min(chunk, n - start);
    slices.push({ start, count, batch: fixedBatch ?? count });
  }
  return slices;
}

/** `values` padded with zeros to `length` (the same array when it is long enough). */
export function padRows<T extends Float32Array | Int32Array>(values: T, length: number): T {
  if (values.length >= length) return values;
  const padded = new (values.constructor as new (length: number) => T)(length);
  padded.set(values);
  return padded;
}
