import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FASHION_MNIST_CLASSES, fashionMnistPackageFolder, loadFashionMnist, readFashionMnistClassFile } from './fashion-mnist.js';
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
  assert.deepEqual(events.filter((e) => e.stage === 'read').map((e) => e.stage === 'read' && e.done), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(events.at(-1)?.stage, 'done');
  // Image 11 is the second trouser: row 1 of the package's 1.json, read here with plain JSON.parse.
  const trousers = JSON.parse(await readFile(join(fashionMnistPackageFolder(), '1.json'), 'utf8')) as { data: number[][] };
  assert.deepEqual(Array.from(data.images.subarray(11 * 784, 12 * 784)), trousers.data[1]!.map((v) => Math.fround(v / 127.5 - 1)));
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
  assert.equal((await readFashionMnistClassFile(await write('ok.json', `{"data":[${row(7)},[],${row(200)}]}`))).length, 2 * 784);
  const reads = async (name: string, text: string, pattern: RegExp): Promise<void> => {
    await assert.rejects(readFashionMnistClassFile(await write(name, text)), (e: unknown) => e instanceof DatasetError && pattern.test(e.message));
  };
  await reads('torn.json', '{"data":[[1,2', /torn\.json is corrupt: it is not valid JSON/);
  await reads('shape.json', '[[1,2]]', /shape\.json is corrupt: expected an object \{"data"/);
  await reads('short.json', `{"data":[${row(0)},${row(0, 783)}]}`, /short\.json is corrupt: image #1 is not an array of 784 pixel values/);
  await reads('range.json', `{"data":[${row(256)}]}`, /range\.json is corrupt: image #0, pixel 0 is 256, not an integer in 0–255/);
  await assert.rejects(readFashionMnistClassFile(join(dir, 'absent.json')), /class file is missing: .*absent\.json\. Reinstall the data package/);
});
