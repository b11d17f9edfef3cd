// Sample pictures for point data, the counterpart of the image grids: a scatter plot for 2-D
// samples, a histogram for 1-D ones, drawn pixel by pixel (greyscale) and encoded as PNG. Minimal on
// purpose: the run folder also gets the raw samples as .npy for real plotting.
import { encodePng, samplesToGridPng } from '@gantry/files/image';

const SIZE = 256;
const BINS = 64;

/** [lo, hi] covering every coordinate of `points` with a 10 % margin: the plot's axes. */
export function plotRange(points: Float32Array): [number, number] {
  let extent = 0;
  for (const v of points) if (Number.isFinite(v)) extent = Math.max(extent, Math.abs(v));
  const half = extent > 0 ? 1.1 * extent : 1;
  return [-half, half];
}

function pixelOf(value: number, [lo, hi]: readonly [number, number]): number {
  return Math.floor(((value - lo) / (hi - lo)) * SIZE);
}

/** Pixels (white background) of `n` samples of `dimensions` (1 or 2) coordinates, axes spanning `range`. */
export function plotPixels(samples: Float32Array, n: number, dimensions: number, range: readonly [number, number]): Uint8Array {
  if (dimensions !== 1 && dimensions !== 2)
    throw new RangeError(`plotPixels: samples must have 1 or 2 coordinates, got ${dimensions}`);
  const pixels = new Uint8Array(SIZE * SIZE).fill(255);
  const set = (x: number, y: number, level: number): void => {
    if (x >= 0 && x < SIZE && y >= 0 && y < SIZE) pixels[y * SIZE + x] = level;
  };
  // The axes through 0, light grey.
  const zero = pixelOf(0, range);
  for (let i = 0; i < SIZE; i++) {
    set(zero, i, 200);
    if (dimensions === 2) set(i, SIZE - 1 - zero, 200);
  }
  if (dimensions === 2) {
    for (let i = 0; i < n; i++) {
      const x = pixelOf(samples[2 * i]!, range);
      const y = SIZE - 1 - pixelOf(samples[2 * i + 1]!, range);
      for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) set(x + dx, y + dy, 0);
    }
    return pixels;
  }
  const counts = new Array<number>(BINS).fill(0);
  for (let i = 0; i < n; i++) {
    const bin = Math.floor(((samples[i]! - range[0]) / (range[1] - range[0])) * BINS);
    if (bin >= 0 && bin < BINS) counts[bin]! += 1;
  }
  const tallest = Math.max(1, ...counts);
  const binWidth = SIZE / BINS;
  counts.forEach((count, bin) => {
    const height = Math.round((count / tallest) * (SIZE - 8));
    for (let x = Math.floor(bin * binWidth); x < Math.floor((bin + 1) * binWidth) - 1; x++) {
      for (let y = SIZE - height; y < SIZE; y++) set(x, y, 0);
    }
  });
  return pixels;
}

/** plotPixels as a 256×256 greyscale PNG. */
export async function pointsToPng(
  samples: Float32Array,
  n: number,
  dimensions: number,
  range: readonly [number, number],
): Promise<Buffer> {
  return encodePng({ data: plotPixels(samples, n, dimensions, range), width: SIZE, height: SIZE, channels: 1 });
}

/**
 * n samples of one shape as a PNG: points ([dimensions]) as a plot, images ([h, w, c]) as a grid of
 * `columns` columns (default near-square); `range` is the plot's axes or the pixels' value range.
 */
export async function samplesToPng(
  samples: Float32Array,
  n: number,
  shape: readonly number[],
  range: readonly [number, number],
  columns?: number,
): Promise<Buffer> {
  if (shape.length === 1) return pointsToPng(samples, n, shape[0]!, range);
  const [height, width, channels] = shape;
  return samplesToGridPng(
    samples,
    n,
    [height!, width!, channels!],
    [range[0], range[1]],
    columns === undefined ? {} : { columns },
  );
}
