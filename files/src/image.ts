// Turning generator output (float NHWC in the card's range) into PNGs: sample grids for people and
// single images for the JSON API. Pixel layout is done here in plain loops (nearest-neighbour
// scaling, padding), so the result is exact and testable; sharp only encodes raw pixels as PNG.
// Deliberately free of onnxruntime, so training code can import it without loading the runtime.

import sharp from 'sharp';

/** One sample's [height, width, channels]. */
export type ImageShape = readonly [number, number, number];
/** [lo, hi]: the raw value mapped to black (0) and to white (255). */
export type ValueRange = readonly [number, number];

export interface GridOptions {
  /** Tiles per row; default ⌈√n⌉, so 16 → 4 × 4 and 10 → 4 columns × 3 rows. */
  columns?: number;
  /** Pixels between tiles and around the border (default 2). */
  padding?: number;
  /** Integer nearest-neighbour magnification of each tile (default 1). */
  scale?: number;
  /** Grey level 0…255 of the padding and of empty tiles (default 0). */
  background?: number;
}

export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

/** libvips' default input-pixel limit; sharp refuses larger images, so refuse them earlier and clearly. */
export const MAX_IMAGE_PIXELS = 0x3fff * 0x3fff;
const MAX_SCALE = 64;
const MAX_PADDING = 256;

function assertIntegerIn(value: unknown, name: string, min: number, max: number): asserts value is number {
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max)) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
}

function validateShape(shape: ImageShape): 1 | 3 {
  const ok = Array.isArray(shape) && shape.length === 3 && shape.every((d) => Number.isInteger(d) && d >= 1);
  if (!ok) throw new RangeError(`shape must be [height, width, channels] of positive integers, got ${JSON.stringify(shape)}`);
  const channels = shape[2];
  if (channels !== 1 && channels !== 3) {
    throw new RangeError(`shape[2] (channels) must be 1 (grey) or 3 (RGB), got ${channels}`);
  }
  return channels;
}

function validateRange(range: ValueRange): void {
  const ok = Array.isArray(range) && range.length === 2 && range.every(Number.isFinite) && range[0] < range[1];
  if (!ok) throw new RangeError(`range must be [lo, hi] with finite lo < hi, got ${JSON.stringify(range)}`);
}

function validateSamples(samples: Float32Array, n: number, shape: ImageShape): void {
  if (!(samples instanceof Float32Array)) throw new TypeError(`samples must be a Float32Array, got ${typeof samples}`);
  const size = shape[0] * shape[1] * shape[2];
  if (samples.length < n * size) {
    throw new RangeError(
      `samples has ${samples.length} values but n × h × w × c = ${n} × ${shape.join(' × ')} needs ${n * size}`,
    );
  }
}

/** Rows and columns of the grid for n tiles. */
export function gridLayout(n: number, columns?: number): { columns: number; rows: number } {
  assertIntegerIn(n, 'n', 1, Number.MAX_SAFE_INTEGER);
  if (columns !== undefined) assertIntegerIn(columns, 'columns', 1, Number.MAX_SAFE_INTEGER);
  // Never wider than n: extra columns would only add empty tiles.
  const cols = Math.min(n, columns ?? Math.ceil(Math.sqrt(n)));
  return { columns: cols, rows: Math.ceil(n / cols) };
}

/** Maps a raw value to a byte: lo → 0, hi → 255, clamped; NaN becomes 0 so bad output stays visible as black. */
function toByte(value: number, lo: number, scale: number): number {
  const level = Math.round((value - lo) * scale);
  if (!(level > 0)) return 0; // also catches NaN
  return Math.min(level, 255);
}

/** Lays out n NHWC samples as one raw image; see {@link GridOptions}. */
export function samplesToGridPixels(
  samples: Float32Array,
  n: number,
  shape: ImageShape,
  range: ValueRange,
  options: GridOptions = {},
): RawImage {
  const channels = validateShape(shape);
  validateRange(range);
  assertIntegerIn(n, 'n', 1, Number.MAX_SAFE_INTEGER);
  validateSamples(samples, n, shape);
  const padding = options.padding ?? 2;
  const scale = options.scale ?? 1;
  const background = options.background ?? 0;
  assertIntegerIn(padding, 'padding', 0, MAX_PADDING);
  assertIntegerIn(scale, 'scale', 1, MAX_SCALE);
  assertIntegerIn(background, 'background', 0, 255);
  const { columns, rows } = gridLayout(n, options.columns);

  const [h, w] = shape;
  const tileH = h * scale;
  const tileW = w * scale;
  const width = columns * tileW + (columns + 1) * padding;
  const height = rows * tileH + (rows + 1) * padding;
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new RangeError(
      `grid would be ${width} × ${height} pixels, over the ${MAX_IMAGE_PIXELS}-pixel PNG limit; lower n or scale`,
    );
  }

  const data = new Uint8Array(width * height * channels).fill(background);
  const [lo, hi] = range;
  const toLevel = 255 / (hi - lo);
  const sampleSize = h * w * channels;
  for (let index = 0; index < n; index++) {
    const left = padding + (index % columns) * (tileW + padding);
    const top = padding + Math.floor(index / columns) * (tileH + padding);
    const base = index * sampleSize;
    for (let y = 0; y < tileH; y++) {
      const sourceRow = base + Math.floor(y / scale) * w * channels;
      let target = ((top + y) * width + left) * channels;
      for (let x = 0; x < tileW; x++) {
        const source = sourceRow + Math.floor(x / scale) * channels;
        for (let c = 0; c < channels; c++) data[target++] = toByte(samples[source + c]!, lo, toLevel);
      }
    }
  }
  return { data, width, height, channels };
}

/** Encodes raw 8-bit grey or RGB pixels as PNG. */
export async function encodePng(image: RawImage): Promise<Buffer> {
  const pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  // Without an explicit colourspace sharp promotes one-channel input to sRGB, tripling the file.
  return (image.channels === 1 ? pipeline.toColourspace('b-w') : pipeline).png({ compressionLevel: 6 }).toBuffer();
}

/**
 * Tiles n samples (NHWC float32, values in `range`) into a near-square PNG grid, e.g. 16 → 4 × 4.
 * Values are mapped from range to 0…255 and clamped; 1-channel samples give a greyscale PNG.
 */
export async function samplesToGridPng(
  samples: Float32Array,
  n: number,
  shape: ImageShape,
  range: ValueRange,
  options: GridOptions = {},
): Promise<Buffer> {
  return encodePng(samplesToGridPixels(samples, n, shape, range, options));
}

/** One sample (h × w × c values, e.g. `samples.subarray(i * size, (i + 1) * size)`) as a PNG. */
export async function sampleToPng(
  sample: Float32Array,
  shape: ImageShape,
  range: ValueRange,
  options: { scale?: number } = {},
): Promise<Buffer> {
  return encodePng(samplesToGridPixels(sample, 1, shape, range, { padding: 0, scale: options.scale ?? 1 }));
}

/** The i-th sample of an NHWC batch, as a view. */
export function sampleAt(samples: Float32Array, shape: ImageShape, index: number): Float32Array {
  validateShape(shape);
  const size = shape[0] * shape[1] * shape[2];
  assertIntegerIn(index, 'index', 0, Math.floor(samples.length / size) - 1);
  return samples.subarray(index * size, (index + 1) * size);
}
