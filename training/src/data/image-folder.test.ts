import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { parseTrainConfig } from '../run/config.js';
import { loadDataset, sampleShape } from './datasets.js';
import { DatasetError } from './idx.js';
import type { DatasetProgress, ImageDataset } from './image-dataset.js';
import { loadImageFolder, sharpInputExtensions } from './image-folder.js';

type Rgb = [number, number, number];
const RED: Rgb = [255, 0, 0];
const BLUE: Rgb = [0, 0, 255];
const GREEN: Rgb = [0, 255, 0];
const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];

/** A width × height RGB image whose column x has colour columnColour(x). */
function striped(width: number, height: number, columnColour: (x: number) => Rgb): Sharp {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels.set(columnColour(x), (y * width + x) * 3);
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

/** 40×20: green margins (x < 10, x ≥ 30) that a centre crop removes, red then blue in the middle square. */
const marginedRedBlue = (): Sharp => striped(40, 20, (x) => (x < 10 || x >= 30 ? GREEN : x < 20 ? RED : BLUE));

async function save(image: Sharp, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await (path.endsWith('.png') ? image.png() : image.jpeg({ quality: 95 })).toFile(path);
}

async function tempFolder(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-folder-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Pixel (x, y) of image `index` as [0, 255] values. */
function pixel(data: ImageDataset, index: number, x: number, y: number): number[] {
  const [h, w, c] = data.shape;
  const start = ((index * h + y) * w + x) * c;
  return Array.from(data.images.subarray(start, start + c), (v) => Math.round((v + 1) * 127.5));
}

function assertNear(actual: number[], expected: number[], tolerance: number, what: string): void {
  assert.ok(
    actual.length === expected.length && actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance),
    `${what}: ${actual} vs ${expected}`,
  );
}

test('an unlabelled folder: every image resized to cover the square and centre-cropped, RGB in [-1, 1] NHWC', async (t) => {
  const dir = await tempFolder(t);
  await save(marginedRedBlue(), join(dir, 'a.png'));
  await save(marginedRedBlue().rotate(90), join(dir, 'b.png')); // 20×40: the crop keeps the middle rows
  await save(marginedRedBlue(), join(dir, 'c.jpg'));
  await writeFile(join(dir, 'notes.txt'), 'not an image');
  await save(
    striped(8, 8, () => WHITE),
    join(dir, '.hidden.png'),
  );

  const events: DatasetProgress[] = [];
  const data = await loadImageFolder({ path: dir, imageSize: 16, channels: 3, onProgress: (e) => events.push(e) });
  assert.equal(data.count, 3);
  assert.deepEqual(data.shape, [16, 16, 3]);
  assert.equal(data.images.length, 3 * 16 * 16 * 3);
  assert.equal(data.labels, undefined);
  assert.equal(data.classNames, undefined);
  assert.ok(data.images.every((v) => v >= -1 && v <= 1));
  // Red fills columns 0–7 and blue 8–15 (a squashed or padded image would show green or black there).
  // Pixels 3 or more from any colour edge are beyond the resampling kernel's reach: exact in the PNG,
  // close in the JPEG.
  for (const y of [0, 8, 15]) {
    assert.deepEqual(pixel(data, 0, 4, y), RED, 'a.png left');
    assert.deepEqual(pixel(data, 0, 11, y), BLUE, 'a.png right');
    assertNear(pixel(data, 2, 4, y), RED, 12, 'c.jpg left');
    assertNear(pixel(data, 2, 11, y), BLUE, 12, 'c.jpg right');
  }
  // At the crop edge the kernel still reaches into the cut-off margin a little; a squashed image is green there.
  const edge = pixel(data, 0, 0, 8);
  assert.ok(edge[0]! > 200 && edge[1]! < 60, `a.png column 0 is mostly red: ${edge}`);
  // b.png is the same picture turned a quarter: red on top, blue at the bottom, no green margin.
  assert.deepEqual(pixel(data, 1, 0, 4), RED);
  assert.deepEqual(pixel(data, 1, 15, 11), BLUE);
  assert.deepEqual(
    events.map((e) => e.stage),
    ['scan', ...events.slice(1, -1).map(() => 'read'), 'done'],
  );
  assert.deepEqual(events[0], { stage: 'scan', files: 3 });
  assert.deepEqual(events.at(-2), { stage: 'read', done: 3, total: 3 });
  assert.deepEqual({ ...events.at(-1)!, seconds: 0 }, { stage: 'done', images: 3, skipped: 0, seconds: 0 });
});

test('a photo’s EXIF orientation is applied before the crop', async (t) => {
  const dir = await tempFolder(t);
  // Stored 40×20 with orientation 6 ("rotate 90° clockwise to display"): shown 20×40, red above blue.
  await marginedRedBlue().withMetadata({ orientation: 6 }).png().toFile(join(dir, 'phone.png'));
  const data = await loadImageFolder({ path: dir, imageSize: 16, channels: 3 });
  assert.deepEqual(pixel(data, 0, 8, 4), RED);
  assert.deepEqual(pixel(data, 0, 8, 11), BLUE);
});

test('grayscale output, and transparency flattened onto black', async (t) => {
  const dir = await tempFolder(t);
  await save(
    striped(16, 16, (x) => (x < 8 ? WHITE : BLACK)),
    join(dir, 'half.png'),
  );
  const rgba = Buffer.alloc(16 * 16 * 4);
  for (let p = 0; p < 16 * 16; p++) rgba.set(p % 16 < 8 ? [255, 255, 255, 255] : [255, 255, 255, 0], p * 4);
  await sharp(rgba, { raw: { width: 16, height: 16, channels: 4 } })
    .png()
    .toFile(join(dir, 'transparent.png'));
  const data = await loadImageFolder({ path: dir, imageSize: 4, channels: 1 });
  assert.deepEqual(data.shape, [4, 4, 1]);
  for (const index of [0, 1]) {
    assert.deepEqual(pixel(data, index, 0, 2), [255], `image ${index} left is white`);
    assert.deepEqual(pixel(data, index, 3, 2), [0], `image ${index} right is black`);
  }
});

test('class sub-folders give labels in sorted name order; images below them count; limit keeps every class', async (t) => {
  const dir = await tempFolder(t);
  for (const [name, colour] of [
    ['dogs', BLUE],
    ['cats', RED],
    ['birds', GREEN],
  ] as const) {
    for (let i = 0; i < 3; i++)
      await save(
        striped(12, 12, () => colour),
        join(dir, name, i === 2 ? 'nested/deeper' : '', `${i}.png`),
      );
  }
  await mkdir(join(dir, 'empty-class'));
  const data = await loadImageFolder({ path: dir, imageSize: 4, channels: 3 });
  assert.deepEqual(data.classNames, ['birds', 'cats', 'dogs']);
  assert.deepEqual([...data.labels!], [0, 0, 0, 1, 1, 1, 2, 2, 2]);
  assert.deepEqual(pixel(data, 5, 1, 1), RED);
  assert.deepEqual(pixel(data, 8, 1, 1), BLUE);

  const three = await loadImageFolder({ path: dir, imageSize: 4, channels: 3, limit: 3 });
  assert.deepEqual([...three.labels!], [0, 1, 2]);
  const jpgOnly = await loadImageFolder({ path: dir, imageSize: 4, channels: 3, extensions: ['JPG'] }).catch((e: unknown) => e);
  assert.ok(jpgOnly instanceof DatasetError && /holds no image files \(looked for \.jpg/.test(jpgOnly.message), String(jpgOnly));
});

test('folder errors name the folder or file and what to do', async (t) => {
  const dir = await tempFolder(t);
  await assert.rejects(
    loadImageFolder({ path: join(dir, 'nope'), imageSize: 8, channels: 3 }),
    (e: unknown) => e instanceof DatasetError && /data\.path .*nope cannot be read \(ENOENT\)/.test(e.message),
  );
  await assert.rejects(loadImageFolder({ path: dir, imageSize: 8, channels: 3 }), /holds no image files/);
  await save(
    striped(8, 8, () => RED),
    join(dir, 'cats', 'a.png'),
  );
  await save(
    striped(8, 8, () => RED),
    join(dir, 'stray.png'),
  );
  await assert.rejects(
    loadImageFolder({ path: dir, imageSize: 8, channels: 3 }),
    /1 image\(s\) at its top level \(e\.g\. stray\.png\) beside class sub-folders \(cats\)/,
  );
  await assert.rejects(loadImageFolder({ path: join(dir, 'stray.png'), imageSize: 8, channels: 3 }), /is not a folder/);
});

test('an unreadable file stops the load with its name, or is skipped and counted with skipUnreadable', async (t) => {
  const dir = await tempFolder(t);
  for (const name of ['a.png', 'c.png'])
    await save(
      striped(8, 8, () => RED),
      join(dir, name),
    );
  await writeFile(join(dir, 'b.png'), 'this is not a PNG');
  await assert.rejects(
    loadImageFolder({ path: dir, imageSize: 4, channels: 3 }),
    (e: unknown) =>
      e instanceof DatasetError && /cannot decode image .*b\.png: .*set data\.skipUnreadable to true/.test(e.message),
  );

  const events: DatasetProgress[] = [];
  const data = await loadImageFolder({
    path: dir,
    imageSize: 4,
    channels: 3,
    skipUnreadable: true,
    onProgress: (e) => events.push(e),
  });
  assert.equal(data.count, 2);
  assert.equal(data.images.length, 2 * 4 * 4 * 3);
  assert.deepEqual(pixel(data, 1, 3, 3), RED, 'the image after the gap moved up');
  const skips = events.filter((e) => e.stage === 'skip');
  assert.equal(skips.length, 1);
  assert.match(skips[0]!.path, /b\.png$/);
  assert.equal((events.at(-1) as { skipped: number }).skipped, 1);

  await rm(join(dir, 'a.png'));
  await rm(join(dir, 'c.png'));
  await assert.rejects(
    loadImageFolder({ path: dir, imageSize: 4, channels: 3, skipUnreadable: true }),
    /none of the 1 image files .* could be decoded \(first: .*b\.png/,
  );
});

test('the config selects the folder loader; bad folder settings are reported by key', async (t) => {
  const dir = await tempFolder(t);
  await save(marginedRedBlue(), join(dir, 'only.png'));
  const config = parseTrainConfig({ data: { dataset: 'folder', path: dir, imageSize: 8, channels: 1 } });
  assert.deepEqual(config.data, { dataset: 'folder', path: dir, imageSize: 8, channels: 1, skipUnreadable: false });
  const events: DatasetProgress[] = [];
  const data = await loadDataset(config.data, { onProgress: (e) => events.push(e) });
  assert.deepEqual([data.name, data.count, sampleShape(data)], ['folder', 1, [8, 8, 1]]);
  assert.equal(events.at(-1)?.stage, 'done');

  assert.deepEqual(parseTrainConfig({ data: { dataset: 'folder', path: dir, imageSize: 32 } }).data, {
    dataset: 'folder',
    path: dir,
    imageSize: 32,
    channels: 3,
    skipUnreadable: false,
  });
  assert.throws(
    () => parseTrainConfig({ data: { dataset: 'folder' } }),
    /"data\.path" is missing: .*string[\s\S]*"data\.imageSize" is missing/,
  );
  assert.throws(
    () => parseTrainConfig({ data: { dataset: 'folder', path: dir, imageSize: 32, channels: 2 } }),
    /"data\.channels" is 2: .*1\|3/,
  );
  assert.throws(
    () => parseTrainConfig({ data: { dataset: 'folder', path: dir, imageSize: 32, extensions: ['*.png'] } }),
    /"data\.extensions\.0" is "\*\.png": a file name ending such as "\.png"/,
  );
  assert.throws(() => parseTrainConfig({ data: { dataset: 'mnist', imageSize: 32 } }), /unknown key "imageSize" at "data"/);
  assert.throws(
    () => parseTrainConfig({ data: { dataset: 'cifar' } }),
    /"data\.dataset" is "cifar": expected one of "mnist" \(the default\), "fashion-mnist", "stacked-mnist", "folder"/,
  );
  assert.deepEqual(parseTrainConfig({ data: { limit: 5 } }).data, { dataset: 'mnist', limit: 5 });
});

test('the default extensions are the formats sharp decodes', () => {
  const extensions = sharpInputExtensions();
  for (const extension of ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tiff'])
    assert.ok(extensions.includes(extension), `${extension} in ${extensions}`);
});
