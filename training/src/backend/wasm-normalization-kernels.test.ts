import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select.js';

async function batchNorm(
  backend: 'cpu' | 'wasm',
  shape: number[],
  paramShape: number[],
  withOffset: boolean,
  withScale: boolean,
): Promise<Float32Array> {
  await selectBackend(backend);
  const out = tf.tidy(() => {
    const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 1), 3), 50);
    const param = (seed: number, positive = false): tf.Tensor => {
      const p = tf.randomNormal(paramShape, 0, 1, 'float32', seed);
      return positive ? tf.add(tf.square(p), 0.1) : p;
    };
    return tf.batchNorm(
      x,
      tf.add(param(2), 50),
      param(3, true),
      withOffset ? param(4) : undefined,
      withScale ? param(5) : undefined,
      1e-3,
    );
  });
  const values = out.dataSync() as Float32Array;
  out.dispose();
  return values;
}

test('FusedBatchNorm on wasm matches the cpu backend with per-channel, broadcast and scalar statistics', async () => {
  const cases: { shape: number[]; paramShape: number[] }[] = [
    { shape: [4, 5, 5, 8], paramShape: [8] },
    { shape: [4, 5, 5, 8], paramShape: [1, 1, 1, 8] },
    { shape: [6, 12], paramShape: [12] },
    { shape: [4, 5, 5, 8], paramShape: [1] },
  ];
  for (const { shape, paramShape } of cases) {
    for (const [withOffset, withScale] of [
      [true, true],
      [false, true],
      [true, false],
      [false, false],
    ] as const) {
      const cpu = await batchNorm('cpu', shape, paramShape, withOffset, withScale);
      const wasm = await batchNorm('wasm', shape, paramShape, withOffset, withScale);
      let worst = 0;
      for (let i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(wasm[i]! - cpu[i]!) / Math.max(1, Math.abs(cpu[i]!)));
      assert.ok(worst <= 1e-5, `${JSON.stringify({ shape, paramShape, withOffset, withScale })}: worst relative error ${worst}`);
    }
  }
});
