import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select.js';

async function onBoth(
  f: () => tf.Tensor,
): Promise<{ cpu: { shape: number[]; values: number[] }; wasm: { shape: number[]; values: number[] } }> {
  const read = (): { shape: number[]; values: number[] } => {
    const t = f();
    const result = { shape: t.shape, values: Array.from(t.dataSync()) };
    t.dispose();
    return result;
  };
  await selectBackend('cpu');
  const cpu = read();
  await selectBackend('wasm');
  return { cpu, wasm: read() };
}

test('Sum and Mean on wasm equal the cpu backend for leading, inner, negative and all axes', async () => {
  const cases: { shape: number[]; axis: number | number[] }[] = [
    { shape: [4, 5, 3, 6], axis: [0, 1, 2] },
    { shape: [4, 5, 3, 6], axis: [2, 0, 1] },
    { shape: [4, 5, 3, 6], axis: [0] },
    { shape: [4, 5, 3, 6], axis: [-4, -3] },
    { shape: [64, 7], axis: 0 },
    { shape: [16, 9, 9, 32], axis: [0, 1, 2] },
    { shape: [7, 5], axis: 0 },
    { shape: [1, 5], axis: 0 },
    { shape: [3, 0], axis: 0 },
    { shape: [4, 5, 3, 6], axis: [1, 2] },
    { shape: [4, 5, 3, 6], axis: [0, 1, 2, 3] },
    { shape: [4, 5, 3, 6], axis: -1 },
    { shape: [0, 3], axis: 0 },
    // Multiples of 4 channels: the float64 SIMD pass (odd row counts, one row, a PacGAN batch).
    { shape: [7, 8], axis: 0 },
    { shape: [1, 12], axis: 0 },
    { shape: [33, 5, 4], axis: [0, 1] },
    { shape: [200, 400], axis: 0 },
  ];
  for (const { shape, axis } of cases) {
    for (const keepDims of [false, true]) {
      for (const op of ['sum', 'mean'] as const) {
        for (const dtype of ['float32', 'int32'] as const) {
          const size = shape.reduce((a, b) => a * b, 1);
          const values = Array.from({ length: size }, (_, i) => (dtype === 'int32' ? (i % 7) - 3 : Math.sin(i) * 10));
          const { cpu, wasm } = await onBoth(() => tf.tidy(() => tf[op](tf.tensor(values, shape, dtype), axis, keepDims)));
          // Float32 rounding error grows with the magnitudes summed, not with the (cancelling) result.
          const { cpu: scale } = await onBoth(() =>
            tf.tidy(() => tf[op](tf.abs(tf.tensor(values, shape, 'float32')), axis, keepDims)),
          );
          const label = `${op} ${JSON.stringify(shape)} axis ${JSON.stringify(axis)} keepDims ${keepDims} ${dtype}`;
          assert.deepEqual(wasm.shape, cpu.shape, label);
          for (let i = 0; i < cpu.values.length; i++) {
            const [a, b] = [wasm.values[i]!, cpu.values[i]!];
            assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, scale.values[i]!), `${label}: ${a} vs ${b}`);
          }
        }
      }
    }
  }
});
