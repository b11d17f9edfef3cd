import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FASHION_MNIST_CLASSES,
  fashionMnistPackageFolder,
  loadFashionMnist,
  readFashionMnistClassFile,
} from './fashion-mnist.js';
import { DatasetError } from './idx.js';
import type { DatasetProgress } from './image-dataset.js';

test('Fashion-MNIST from the fashion-mnist package: 28×28 in [-1, 1], classes interleaved, labelled', async () => {
  const events: DatasetProgress[] = [];
  const data = await loadFashionMnist({ limit: 25, onProgress: (e) => events.push(e) });
  assert.deepEqual([data.name, data.count, data.shape], ['fashion-mnist', 25, [28, 28, 1]]);
  assert.equal(data.images.length, 25 * 784);
  assert.deepEqual([...data.labels!], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4]);
  assert.deepEqual(data.classNames, [...FASHION_MNIST_CLASSES]);
  assert.equal(Math.min(...data.images), -1);
  assert.equal(Math.max(...data.images), 1);
  assert.deepEqual(
    events.filter((e) => e.stage === 'read').map((e) => e.stage === 'read' && e.done),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  assert.equal(events.at(-1)?.stage, 'done');
  // Image 11 is the second trouser: row 1 of the package's 1.json, read here with plain JSON.parse.
  const trousers = JSON.parse(await readFile(join(fashionMnistPackageFolder(), '1.json'), 'utf8')) as { data: number[][] };
  assert.deepEqual(
    Array.from(data.images.subarray(11 * 784, 12 * 784)),
    trousers.data[1]!.map((v) => Math.fround(v / 127.5 - 1)),
  );
});

test('a malformed Fashion-MNIST class file is reported with the file and what is wrong', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-fashion-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const write = async (name: string, text: string): Promise<string> => {
    await writeFile(join(dir, name), text);
    return join(dir, name);
  };
  const row = (value: unknown, length = 784): string => JSON.stringify(Array.from({ length }, () => value));
  // Empty entries (the package's class-0 file has two) are dropped; real rows are kept in order.
  const ok = await readFashionMnistClassFile(await write('ok.json', `{"data":[${row(7)},[],\n ${row(200)} ] }\n`));
  assert.deepEqual([ok.length, ok[0], ok[783], ok[784], ok[1567]], [2 * 784, 7, 7, 200, 200]);
  assert.equal((await readFashionMnistClassFile(join(dir, 'ok.json'), 1)).length, 784, 'maxImages stops early');
  assert.equal((await readFashionMnistClassFile(await write('empty.json', '{"data":[]}'))).length, 0);
  const reads = async (name: string, text: string, pattern: RegExp): Promise<void> => {
    await assert.rejects(
      readFashionMnistClassFile(await write(name, text)),
      (e: unknown) => e instanceof DatasetError && pattern.test(e.message),
    );
  };
  await reads(
    'torn.json',
    '{"data":[[1,2',
    /torn\.json is corrupt at byte 13: expected "," or "\]" after pixel 1 of image #0 \(expected \{"data": \[\[784 integers/,
  );
  await reads('shape.json', '[[1,2]]', /shape\.json is corrupt at byte 0: expected \{/);
  await reads(
    'short.json',
    `{"data":[${row(0)},${row(0, 783)}]}`,
    /short\.json is corrupt at byte \d+: image #1 has 783 pixel values, not 784/,
  );
  await reads('long.json', `{"data":[${row(0, 785)}]}`, /image #0 has more than 784 pixel values/);
  await reads(
    'range.json',
    `{"data":[${row(256)}]}`,
    /range\.json is corrupt at byte 10: image #0, pixel 0 is not an integer in 0–255/,
  );
  await reads('float.json', `{"data":[[1.5]]}`, /expected "," or "\]" after pixel 0 of image #0/);
  await reads('tail.json', `{"data":[${row(1)}]} x`, /unexpected data after the image list/);
  await assert.rejects(
    readFashionMnistClassFile(join(dir, 'absent.json')),
    /class file is missing: .*absent\.json\. Reinstall the data package/,
  );
});
