import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select.js';
import { SINGLE_THREAD_LIMIT } from './wasm-simd.js';
import { onBoth } from './test-support.js';

/** The same float32 value, zeros by sign; any NaN equals any NaN. */
function same(a: number, b: number): boolean {
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

const specials = [0, -0, 1.5, -2.25, 3e38, -3e38, 1e-40, Infinity, -Infinity, NaN, 7, -1];
const valuesFor = (size: number, seed: number): number[] =>
  Array.from({ length: size }, (_, i) =>
    i % 5 === 0 ? specials[(i / 5 + seed) % specials.length]! : Math.sin(i * 0.7 + seed) * 3,
  );

const binary: Record<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div };
const unary: Record<string, (x: tf.Tensor) => tf.Tensor> = { square: tf.square, relu: tf.relu };

test('Add, Sub, Multiply and RealDiv on wasm equal the cpu backend bit for bit over broadcasting shapes', async () => {
  const pairs: [number[], number[]][] = [
    [[200, 400], [400]],
    [
      [7, 13],
      [7, 13],
    ],
    [[1, 1, 5, 9], [9]],
    [[9], [1, 1, 5, 9]],
    [
      [6, 1],
      [6, 11],
    ],
    [
      [3, 5, 7],
      [3, 1, 7],
    ],
    [[3], []],
    [[], [5]],
    [[1], [1]],
    [
      [2, 1, 3],
      [1, 4, 1],
    ],
    [[0, 3], [3]],
  ];
  for (const [aShape, bShape] of pairs) {
    for (const [name, op] of Object.entries(binary)) {
      const { cpu, wasm } = await onBoth(() =>
        tf.tidy(() => {
          const out = op(
            tf.tensor(valuesFor(tf.util.sizeFromShape(aShape), 1), aShape),
            tf.tensor(valuesFor(tf.util.sizeFromShape(bShape), 2), bShape),
          );
          return [out.shape, Array.from(out.dataSync())];
        }),
      );
      const label = `${name} ${JSON.stringify(aShape)} with ${JSON.stringify(bShape)}`;
      assert.deepEqual(wasm[0], cpu[0], `${label}: shape`);
      cpu[1]!.forEach((v, i) => assert.ok(same(wasm[1]![i]!, v), `${label} [${i}]: wasm ${wasm[1]![i]} vs cpu ${v}`));
    }
  }
});

test('Square and Relu on wasm equal the cpu backend bit for bit (odd sizes, one element, NaN, −0)', async () => {
  for (const shape of [[200, 400], [13], [1], [3, 5, 7], [0]]) {
    for (const [name, op] of Object.entries(unary)) {
      const { cpu, wasm } = await onBoth(() =>
        tf.tidy(() => [Array.from(op(tf.tensor(valuesFor(tf.util.sizeFromShape(shape), 3), shape)).dataSync())]),
      );
      cpu[0]!.forEach((v, i) =>
        assert.ok(same(wasm[0]![i]!, v), `${name} ${JSON.stringify(shape)} [${i}]: wasm ${wasm[0]![i]} vs cpu ${v}`),
      );
    }
  }
});

test('arithmetic above the single-thread limit and on int32 still runs (XNNPACK, stock kernels)', async () => {
  const big = [SINGLE_THREAD_LIMIT + 4];
  const { cpu, wasm } = await onBoth(() =>
    tf.tidy(() => [Array.from(tf.mul(tf.tensor(valuesFor(big[0]!, 4), big), 0.5).dataSync()).slice(0, 1000)]),
  );
  cpu[0]!.forEach((v, i) => assert.ok(same(wasm[0]![i]!, v), `large multiply [${i}]`));
  await selectBackend('wasm');
  const ints = tf.tidy(() => Array.from(tf.add(tf.tensor1d([1, -2, 3], 'int32'), tf.tensor1d([4, 5, -6], 'int32')).dataSync()));
  assert.deepEqual(ints, [5, 3, -3]);
});
