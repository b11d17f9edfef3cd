import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select.js';
import { broadcastAxes } from './broadcast-runs.js';
import type { COMPARISON_KERNELS } from './wasm-comparison-kernels.js';

const ops: Record<(typeof COMPARISON_KERNELS)[number], (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  Equal: tf.equal,
  NotEqual: tf.notEqual,
  Greater: tf.greater,
  GreaterEqual: tf.greaterEqual,
  Less: tf.less,
  LessEqual: tf.lessEqual,
};

// Few distinct values, so that ties (what Equal finds in a max's gradient) are frequent, and the
// float32 specials.
const palette = [0, -0, 1, -1, 2.5, NaN, Infinity, -Infinity, 1e-30];
const valuesFor = (size: number, seed: number, dtype: 'float32' | 'int32'): number[] =>
  Array.from({ length: size }, (_, i) =>
    dtype === 'int32' ? ((i * 7 + seed) % 5) - 2 : palette[(i * 5 + seed * 3 + ((i * i) % 7)) % palette.length]!,
  );

test('broadcastAxes merges axes both inputs span or both repeat over, and drops size-1 ones', () => {
  assert.deepEqual(broadcastAxes([100, 5, 200], [100, 1, 200], [100, 5, 200]), {
    sizes: [100, 5, 200],
    aStrides: [1000, 200, 1],
    bStrides: [200, 0, 1],
  });
  assert.deepEqual(broadcastAxes([2, 3, 4], [], [2, 3, 4]), { sizes: [24], aStrides: [1], bStrides: [0] });
  assert.deepEqual(broadcastAxes([1, 3, 1], [2, 1, 4], [2, 3, 4]), {
    sizes: [2, 3, 4],
    aStrides: [0, 1, 0],
    bStrides: [4, 0, 1],
  });
  assert.deepEqual(broadcastAxes([1, 1], [1], [1, 1]), { sizes: [], aStrides: [], bStrides: [] });
});

test('comparisons on wasm equal the cpu backend over broadcasting shapes, dtypes and special values', async () => {
  const pairs: [number[], number[]][] = [
    [
      [10, 5, 20],
      [10, 1, 20],
    ],
    [
      [1, 5, 7],
      [1, 1, 7],
    ],
    [
      [3, 5, 7],
      [3, 1, 7],
    ],
    [
      [3, 1, 7],
      [3, 5, 7],
    ],
    [[4, 3], [3]],
    [
      [4, 3],
      [4, 1],
    ],
    [[5], []],
    [[], [6]],
    [
      [2, 1, 3],
      [1, 4, 1],
    ],
    [
      [2, 3, 1, 5],
      [3, 4, 1],
    ],
    [[1, 1], [1]],
    [
      [0, 3],
      [1, 3],
    ],
  ];
  const results: Record<'cpu' | 'wasm', number[][]> = { cpu: [], wasm: [] };
  for (const backend of ['cpu', 'wasm'] as const) {
    await selectBackend(backend);
    for (const [aShape, bShape] of pairs) {
      for (const dtype of ['float32', 'int32'] as const) {
        const a = tf.tensor(valuesFor(tf.util.sizeFromShape(aShape), 1, dtype), aShape, dtype);
        const b = tf.tensor(valuesFor(tf.util.sizeFromShape(bShape), 2, dtype), bShape, dtype);
        for (const compare of Object.values(ops)) {
          const out = compare(a, b);
          assert.equal(out.dtype, 'bool');
          results[backend].push([...out.shape, -1, ...out.dataSync()]);
          out.dispose();
        }
        tf.dispose([a, b]);
      }
    }
  }
  let at = 0;
  for (const [aShape, bShape] of pairs) {
    for (const dtype of ['float32', 'int32']) {
      for (const name of Object.keys(ops)) {
        assert.deepEqual(
          results.wasm[at],
          results.cpu[at],
          `${name} ${JSON.stringify(aShape)} vs ${JSON.stringify(bShape)} (${dtype})`,
        );
        at++;
      }
    }
  }
});
