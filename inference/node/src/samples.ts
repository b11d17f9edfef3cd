// A generator's raw output, whatever the export options were (NHWC or NCHW, float32 values or uint8
// pixels), turned into the one form the image and npy helpers take: float32 NHWC with the range its
// values span. Float values keep the card's range; uint8 pixels keep their values, 0…255, so
// nothing is re-scaled and the PNG of a uint8 export is the float export's to within rounding.
// Free of onnxruntime, like @gantry/files/image.

import type { OutputSpec } from '@gantry/core';

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
 * Throws if the element type or the value count does not match the card.
 */
export function canonicalSamples(raw: RawSamples, n: number, output: OutputSpec): CanonicalSamples {
  const dtype = outputDtype(output);
  const actual = raw instanceof Uint8Array ? 'uint8' : raw instanceof Float32Array ? 'float32' : typeof raw;
  if (actual !== dtype) throw new TypeError(`the generator output holds ${actual} values but the card promises output.dtype ${dtype}`);
  const [h, w, c] = output.shape;
  const sampleSize = h * w * c;
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`n must be a positive integer, got ${String(n)}`);
  if (raw.length !== n * sampleSize) {
    throw new RangeError(`the generator output has ${raw.length} values but n × ${onnxSampleDims(output).join(' × ')} (${output.layout}) = ${n * sampleSize}`);
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
