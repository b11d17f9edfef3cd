// Samples (float32 NHWC in a value range, as core's canonicalSamples gives them) as RGBA pixels, ImageData
// and canvas drawings. Grey samples are drawn as grey RGB; every pixel is opaque.

import { pixelLevel } from '@gantry/core';

/** One sample's [height, width, channels]; channels 1 (grey) or 3 (RGB). */
export type SampleShape = readonly [number, number, number];

/** Sample `index` of NHWC `samples` as RGBA bytes (width × height × 4). */
export function sampleRgba(
  samples: Float32Array,
  index: number,
  shape: SampleShape,
  range: readonly [number, number],
): Uint8ClampedArray<ArrayBuffer> {
  const [h, w, c] = shape;
  if (c !== 1 && c !== 3) throw new RangeError(`samples must have 1 or 3 channels to be drawn, got ${c}`);
  const size = h * w * c;
  if (!(Number.isInteger(index) && index >= 0 && (index + 1) * size <= samples.length)) {
    throw new RangeError(`sample index ${String(index)} is outside the ${Math.floor(samples.length / size)} samples`);
  }
  const [lo, hi] = range;
  const rgba = new Uint8ClampedArray(h * w * 4);
  const base = index * size;
  for (let pixel = 0; pixel < h * w; pixel++) {
    const from = base + pixel * c;
    const r = pixelLevel(samples[from]!, lo, hi);
    rgba[pixel * 4] = r;
    rgba[pixel * 4 + 1] = c === 1 ? r : pixelLevel(samples[from + 1]!, lo, hi);
    rgba[pixel * 4 + 2] = c === 1 ? r : pixelLevel(samples[from + 2]!, lo, hi);
    rgba[pixel * 4 + 3] = 255;
  }
  return rgba;
}

/** Draws `image` into `canvas` at its own size (the canvas is resized; CSS may scale it). */
export function drawImage(canvas: HTMLCanvasElement | OffscreenCanvas, image: ImageData): void {
  if (canvas.width !== image.width) canvas.width = image.width;
  if (canvas.height !== image.height) canvas.height = image.height;
  const context = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (context === null) throw new Error('the canvas has no 2d context (it is already used for WebGL or WebGPU)');
  context.putImageData(image, 0, 0);
}

/** Draws images as a grid of `columns` tiles (default ⌈√n⌉) with `gap` pixels between them. */
export function drawGrid(
  canvas: HTMLCanvasElement | OffscreenCanvas,
  images: readonly ImageData[],
  columns?: number,
  gap = 0,
): void {
  if (images.length === 0) return;
  const first = images[0]!;
  const cols = Math.min(images.length, columns ?? Math.ceil(Math.sqrt(images.length)));
  const rows = Math.ceil(images.length / cols);
  canvas.width = cols * first.width + (cols - 1) * gap;
  canvas.height = rows * first.height + (rows - 1) * gap;
  const context = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (context === null) throw new Error('the canvas has no 2d context (it is already used for WebGL or WebGPU)');
  images.forEach((image, i) =>
    context.putImageData(image, (i % cols) * (first.width + gap), Math.floor(i / cols) * (first.height + gap)),
  );
}
