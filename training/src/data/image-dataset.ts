/** An in-memory image dataset with pixel values scaled to [-1, 1] (the range of a tanh generator). */
export interface ImageDataset {
  name: string;
  count: number;
  /** [height, width, channels] of one image. */
  shape: [number, number, number];
  /** count × height × width × channels floats in [-1, 1], NHWC. */
  images: Float32Array;
  labels?: Uint8Array;
}

export function bytesToSignedUnit(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! / 127.5 - 1;
  return out;
}
