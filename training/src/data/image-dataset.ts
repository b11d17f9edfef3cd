/** An in-memory image dataset with pixel values scaled to [-1, 1] (the range of a tanh generator). */
export interface ImageDataset {
  name: string;
  count: number;
  /** [height, width, channels] of one image. */
  shape: [number, number, number];
  /** count × height × width × channels floats in [-1, 1], NHWC. */
  images: Float32Array;
  /** One class index per image, when the dataset is labelled. */
  labels?: Uint8Array;
  /** Name of each class index (present exactly when `labels` is). */
  classNames?: string[];
}

/** What a dataset loader is doing, for a progress bar; `read` counts files, not images. */
export type DatasetProgress =
  | { stage: 'scan'; files: number }
  | { stage: 'read'; done: number; total: number }
  /** A file was skipped because it could not be decoded (only with the folder loader's skipUnreadable). */
  | { stage: 'skip'; path: string; reason: string }
  | { stage: 'done'; images: number; skipped: number; seconds: number };

export type ProgressCallback = (event: DatasetProgress) => void;

export function bytesToSignedUnit(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! / 127.5 - 1;
  return out;
}
