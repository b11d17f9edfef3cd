// A folder of the user's images, decoded with sharp, resized and centre-cropped to a square, in
// grayscale or RGB. Layout (torchvision's ImageFolder convention):
// - images at the top level of the folder: an unlabelled dataset;
// - one sub-folder per class (images anywhere below it): a labelled dataset, classes numbered in the
//   sorted order of the sub-folder names. Top-level images beside class folders are an error (which
//   class would they be?). Entries whose names start with "." and symbolic links inside the folder are
//   ignored; sub-folders without images are not classes.
// A file that sharp cannot decode stops the load with its name, unless skipUnreadable is set: then it
// is skipped, reported through onProgress and counted.
import { availableParallelism } from 'node:os';
import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { DatasetError } from './idx.js';
import { bytesToSignedUnit, type ImageDataset, type ProgressCallback } from './image-dataset.js';

export interface ImageFolderOptions {
  path: string;
  /** Side of the square images produced: each image is scaled to cover it, then centre-cropped. */
  imageSize: number;
  /** 1 (grayscale) or 3 (RGB). Transparency is flattened onto black. */
  channels: 1 | 3;
  /** Use at most this many images, evenly spaced through the sorted file list (each class keeps its share). */
  limit?: number;
  /** File name endings to read (".png", "jpg", …; case-insensitive); default: every one sharp can decode. */
  extensions?: readonly string[];
  /** Skip files sharp cannot decode (reported through onProgress) instead of failing. */
  skipUnreadable?: boolean;
  onProgress?: ProgressCallback;
}

/** Every file name ending sharp's build can decode from a file (.png, .jpg, .webp, .avif, .gif, .tiff, .svg, …). */
export function sharpInputExtensions(): string[] {
  return Object.values(sharp.format).flatMap((format) => (format.input.file ? (format.input.fileSuffix ?? []) : []));
}

function normaliseExtension(extension: string): string {
  const lower = extension.toLowerCase();
  return lower.startsWith('.') ? lower : `.${lower}`;
}

interface ImageFile {
  path: string;
  /** Index into the class list, or 0 when the folder is unlabelled. */
  label: number;
}

/** Image files below `dir` (recursively), sorted by path. */
async function imageFilesBelow(dir: string, isImage: (name: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  const visit = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await visit(path);
      else if (entry.isFile() && isImage(entry.name)) found.push(path);
    }
  };
  await visit(dir);
  return found.sort();
}

async function listImages(root: string, extensions: readonly string[]): Promise<{ files: ImageFile[]; classNames?: string[] }> {
  let info: Stats;
  try {
    info = await stat(root);
  } catch (error) {
    throw new DatasetError(
      `data.path ${root} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); it should be a folder of images`,
    );
  }
  if (!info.isDirectory())
    throw new DatasetError(
      `data.path ${root} is not a folder; it should be a folder of images (or of class sub-folders of images)`,
    );
  const isImage = (name: string): boolean => extensions.some((extension) => name.toLowerCase().endsWith(extension));
  const entries = (await readdir(root, { withFileTypes: true })).filter((entry) => !entry.name.startsWith('.'));
  const topLevel = entries
    .filter((entry) => entry.isFile() && isImage(entry.name))
    .map((entry) => join(root, entry.name))
    .sort();
  const classes: { name: string; files: string[] }[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const files = await imageFilesBelow(join(root, entry.name), isImage);
    if (files.length > 0) classes.push({ name: entry.name, files });
  }
  if (classes.length === 0) {
    if (topLevel.length === 0) {
      throw new DatasetError(
        `data.path ${root} holds no image files (looked for ${extensions.join(' ')}, in the folder and its sub-folders); check the path, or set data.extensions`,
      );
    }
    return { files: topLevel.map((path) => ({ path, label: 0 })) };
  }
  if (topLevel.length > 0) {
    throw new DatasetError(
      `data.path ${root} has ${topLevel.length} image(s) at its top level (e.g. ${relative(root, topLevel[0]!)}) beside class sub-folders (${classes.map((c) => c.name).join(', ')}); ` +
        'move every image into a class sub-folder for a labelled dataset, or put them all at the top level for an unlabelled one',
    );
  }
  if (classes.length > 256)
    throw new DatasetError(`data.path ${root} has ${classes.length} class sub-folders; at most 256 classes are supported`);
  return {
    files: classes.flatMap(({ files }, label) => files.map((path) => ({ path, label }))),
    classNames: classes.map((c) => c.name),
  };
}

/** `limit` indices spread evenly over 0 … total-1. */
function evenlySpaced(total: number, limit: number | undefined): number[] {
  const count = limit === undefined ? total : Math.min(limit, total);
  return Array.from({ length: count }, (_, i) => Math.floor((i * total) / count));
}

/** Decodes one file to size × size × channels bytes. */
async function decodeImage(path: string, size: number, channels: 1 | 3): Promise<Buffer> {
  const pipeline = sharp(path, { autoOrient: true, pages: 1 })
    .flatten({ background: '#000000' })
    .resize(size, size, { fit: 'cover', position: 'centre' });
  const { data, info } = await (channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb'))
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== channels || data.length !== size * size * channels) {
    throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${size}×${size}×${channels}`);
  }
  return data;
}

function allocateImages(count: number, size: number, channels: number, root: string): Float32Array {
  try {
    return new Float32Array(count * size * size * channels);
  } catch {
    const gib = (count * size * size * channels * 4) / 2 ** 30;
    throw new DatasetError(
      `${count} images of ${size}×${size}×${channels} from ${root} need ${gib.toFixed(1)} GiB as float32, more than fits; set data.limit or a smaller data.imageSize`,
    );
  }
}

export async function loadImageFolder(options: ImageFolderOptions): Promise<ImageDataset> {
  const { path: root, imageSize: size, channels, onProgress } = options;
  if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`imageSize must be a positive integer, got ${size}`);
  const started = performance.now();
  const extensions = (options.extensions ?? sharpInputExtensions()).map(normaliseExtension);
  const listing = await listImages(root, extensions);
  const chosen = evenlySpaced(listing.files.length, options.limit).map((i) => listing.files[i]!);
  onProgress?.({ stage: 'scan', files: chosen.length });

  const perImage = size * size * channels;
  const images = allocateImages(chosen.length, size, channels, root);
  const decoded = new Array<boolean>(chosen.length).fill(false);
  const skipped: { path: string; reason: string }[] = [];
  let done = 0;
  let lastReport = -Infinity;
  // sharp decodes on libuv's thread pool; a few files in flight keep it and the disk busy.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < chosen.length) {
      const index = next++;
      const file = chosen[index]!.path;
      try {
        const bytes = await decodeImage(file, size, channels);
        const offset = index * perImage;
        images.set(bytesToSignedUnit(bytes), offset);
        decoded[index] = true;
      } catch (error) {
        const reason = (error as Error).message;
        if (options.skipUnreadable !== true) {
          next = chosen.length; // the other workers stop after their current file
          throw new DatasetError(
            `cannot decode image ${file}: ${reason}. Remove or replace the file, or set data.skipUnreadable to true to skip unreadable files`,
          );
        }
        skipped.push({ path: file, reason });
        onProgress?.({ stage: 'skip', path: file, reason });
      }
      done += 1;
      const now = performance.now();
      if (now - lastReport >= 100 || done === chosen.length) {
        lastReport = now;
        onProgress?.({ stage: 'read', done, total: chosen.length });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, availableParallelism(), chosen.length) }, worker));

  const kept = chosen.filter((_, i) => decoded[i]);
  if (kept.length === 0) {
    throw new DatasetError(
      `none of the ${chosen.length} image files in ${root} could be decoded (first: ${skipped[0]?.path}: ${skipped[0]?.reason})`,
    );
  }
  let pixels = images;
  if (skipped.length > 0) {
    // Close the gaps the skipped files left, keeping the sorted order.
    let write = 0;
    decoded.forEach((ok, read) => {
      if (ok) images.copyWithin(write++ * perImage, read * perImage, (read + 1) * perImage);
    });
    pixels = images.slice(0, kept.length * perImage);
  }
  onProgress?.({ stage: 'done', images: kept.length, skipped: skipped.length, seconds: (performance.now() - started) / 1000 });
  return {
    name: 'folder',
    count: kept.length,
    shape: [size, size, channels],
    images: pixels,
    ...(listing.classNames !== undefined
      ? { labels: Uint8Array.from(kept, (f) => f.label), classNames: listing.classNames }
      : {}),
  };
}
