import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select.js';
import { runStockKernel } from './wasm-backend.js';

const special = [0, -0, 1e-30, -1e-30, 3.5, -3.5, Infinity, -Infinity, NaN];

async function leakyReluAndGradient(
  backend: 'cpu' | 'wasm',
  values: number[],
  alpha: number,
): Promise<{ y: Float32Array; dx: Float32Array }> {
  await selectBackend(backend);
  const x = tf.tensor1d(values);
  const dy = tf.tensor1d(values.map((_, i) => Math.cos(i) * 2));
  const [y, dx] = tf.tidy(() => [
    tf.leakyRelu(x, alpha),
    tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(v, alpha), dy)))(x),
  ]);
  const result = { y: y!.dataSync() as Float32Array, dx: dx!.dataSync() as Float32Array };
  tf.dispose([x, dy, y!, dx!]);
  return result;
}

/** Equal as float32 values (so 0 and -0 are), NaN equal to NaN. */
function same(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function closeOrSame(a: number, b: number): boolean {
  return same(a, b) || Math.abs(a - b) <= 1e-6 * Math.abs(b);
}

test('LeakyRelu on wasm equals the stock wasm kernel (float32 alpha) and its gradient the cpu one, exactly', async () => {
  const values = [...special, ...Array.from({ length: 1000 }, (_, i) => Math.sin(i * 1.7) * 5)];
  for (const alpha of [0.2, 0.01, 1 / 3]) {
    const cpu = await leakyReluAndGradient('cpu', values, alpha);
    const wasm = await leakyReluAndGradient('wasm', values, alpha);
    const x = tf.tensor1d(values);
    const stockInfo = runStockKernel('LeakyRelu', { inputs: { x }, attrs: { alpha }, backend: tf.backend() });
    const stock = tf.engine().makeTensorFromTensorInfo(stockInfo);
    const expected = stock.dataSync();
    values.forEach((_, i) => assert.ok(same(wasm.y[i]!, expected[i]!), `forward vs stock wasm at ${values[i]}, alpha ${alpha}`));
    tf.dispose([x, stock]);
    // The cpu backend multiplies by alpha in float64: the same up to float32 rounding.
    values.forEach((_, i) => assert.ok(closeOrSame(wasm.y[i]!, cpu.y[i]!), `forward vs cpu at ${values[i]}, alpha ${alpha}`));
    // A NaN input gives a NaN gradient on wasm, alpha · dy on cpu.
    values.forEach((v, i) =>
      assert.ok(Number.isNaN(v) ? Number.isNaN(wasm.dx[i]!) : same(wasm.dx[i]!, cpu.dx[i]!), `gradient at ${v}, alpha ${alpha}`),
    );
  }
});

test('LeakyRelu on wasm still takes int32 input', async () => {
  await selectBackend('wasm');
  const y = tf.tidy(() => tf.leakyRelu(tf.tensor1d([-5, 0, 5], 'int32'), 0.2));
  assert.deepEqual(Array.from(y.dataSync()), [-1, 0, 5]);
  y.dispose();
});
