import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select.js';
import { piecesLayout } from './wasm-max-kernels.js';
import { onBoth, centralDifference } from './test-support.js';

/** Equal as float32 values (so 0 and -0 are), NaN equal to NaN. */
function same(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

// Few distinct values, so that several pieces often tie for the max, and the float32 specials.
const palette = [0.5, -1.25, 3, 3, -0, 0, 2.75, -7, Infinity, -Infinity, NaN, 1e-30];

function values(size: number, specials: boolean): number[] {
  return Array.from({ length: size }, (_, i) =>
    specials ? palette[(i * 7 + ((i * i) % 5)) % palette.length]! : Math.round(Math.sin(i * 1.3) * 4) / 2,
  );
}

test('piecesLayout views a shape as [outer, k, inner] around adjacent reduced axes', () => {
  assert.deepEqual(piecesLayout([100, 5, 200], [1]), { outer: 100, k: 5, inner: 200 });
  assert.deepEqual(piecesLayout([2, 3, 4, 5], [2, 1]), { outer: 2, k: 12, inner: 5 });
  assert.deepEqual(piecesLayout([2, 3], [0]), { outer: 1, k: 2, inner: 3 });
  assert.deepEqual(piecesLayout([2, 3], [1]), { outer: 2, k: 3, inner: 1 });
  assert.equal(piecesLayout([2, 3, 4], [0, 2]), undefined);
});

// Widths (inner) that are multiples of 4 run the SIMD loops; the others the stock kernel and the plain loop.
const cases: { shape: number[]; axes: number[] }[] = [
  { shape: [10, 5, 200], axes: [1] },
  { shape: [1, 5, 8], axes: [1] },
  { shape: [3, 2, 4], axes: [1] },
  { shape: [7, 1, 12], axes: [1] },
  { shape: [5, 3, 3], axes: [1] },
  { shape: [1, 4, 1], axes: [1] },
  { shape: [6, 4], axes: [0] },
  { shape: [6, 5], axes: [1] },
  { shape: [2, 3, 2, 8], axes: [1, 2] },
  { shape: [3, 2, 2, 5], axes: [1, 2] },
  { shape: [2, 3, 4], axes: [0, 2] },
];

test('max and its gradient on wasm equal the cpu backend (ties, NaN, ±0, infinities, odd sizes, batch 1)', async () => {
  for (const { shape, axes } of cases) {
    for (const specials of [false, true]) {
      for (const keepDims of [false, true]) {
        const label = `${JSON.stringify(shape)} over ${JSON.stringify(axes)}${specials ? ' with specials' : ''}${keepDims ? ', keepDims' : ''}`;
        const { cpu, wasm } = await onBoth(() =>
          tf.tidy(() => {
            const x = tf.tensor(values(tf.util.sizeFromShape(shape), specials), shape);
            const y = tf.max(x, axes, keepDims);
            const weights = tf.tensor(
              values(y.size, false).map((v, i) => v + i / 8),
              y.shape,
            );
            const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.max(v, axes, keepDims), weights)))(x);
            return { shape: y.shape, y: Array.from(y.dataSync()), dx: Array.from(dx.dataSync()) };
          }),
        );
        assert.deepEqual(wasm.shape, cpu.shape, `${label}: shape`);
        cpu.y.forEach((v, i) => assert.ok(same(wasm.y[i]!, v), `${label}: max[${i}] ${wasm.y[i]} vs cpu ${v}`));
        cpu.dx.forEach((v, i) => assert.ok(same(wasm.dx[i]!, v), `${label}: gradient[${i}] ${wasm.dx[i]} vs cpu ${v}`));
      }
    }
  }
});

test('max over int32 still runs on wasm (stock kernel)', async () => {
  await selectBackend('wasm');
  const y = tf.tidy(() => tf.max(tf.tensor3d([1, 5, -2, 7, 3, 3, 0, 9], [1, 2, 4], 'int32'), 1));
  assert.deepEqual(Array.from(y.dataSync()), [3, 5, 0, 9]);
  y.dispose();
});

/** A maxout critic in raw ops: x [n, 2] → k pieces of `width` units → max → tanh → weighted sum. */
function maxoutCritic(x: tf.Tensor, kernel: tf.Tensor, k: number, width: number, readout: tf.Tensor): tf.Tensor {
  const pieces = tf.reshape(tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D), [x.shape[0]!, k, width]);
  return tf.sum(tf.mul(tf.tanh(tf.max(pieces, 1)), readout));
}

test('a gradient penalty and a mixed second derivative through maxout match finite differences on wasm and cpu', async () => {
  for (const width of [4, 3]) {
    const k = 3;
    for (const backend of ['wasm', 'cpu'] as const) {
      await selectBackend(backend);
      const x0 = tf.randomNormal([2, 2], 0, 1, 'float32', 1);
      const kernel0 = tf.randomNormal([2, k * width], 0, 1, 'float32', 2);
      const readout = tf.randomNormal([width], 0, 1, 'float32', 3);
      const label = `${backend}, width ${width}`;
      // d/dW of ‖∇x f‖², as WGAN-GP differentiates it.
      const penalty = (kernel: tf.Tensor): tf.Scalar =>
        tf.sum(tf.square(tf.grad((x: tf.Tensor) => maxoutCritic(x, kernel, k, width, readout))(x0))) as tf.Scalar;
      const analyticW = tf.grad(penalty)(kernel0).dataSync();
      const kernelValues = kernel0.dataSync() as Float32Array;
      for (let i = 0; i < kernelValues.length; i++) {
        const numeric = centralDifference(
          (v) => penalty(tf.tensor2d(v, kernel0.shape as [number, number])).dataSync()[0]!,
          kernelValues,
          i,
          1e-3,
        );
        assert.ok(
          Math.abs(analyticW[i]! - numeric) <= 2e-2 * Math.max(1, Math.abs(numeric)),
          `${label}: penalty d/dW[${i}] ${analyticW[i]} vs ${numeric}`,
        );
      }
      // d/dx of <∇W f, V>: through the gradient's dependence on x.
      const direction = tf.randomNormal(kernel0.shape, 0, 1, 'float32', 4);
      const mixed = (x: tf.Tensor): tf.Scalar =>
        tf.sum(
          tf.mul(tf.grad((kernel: tf.Tensor) => maxoutCritic(x, kernel, k, width, readout))(kernel0), direction),
        ) as tf.Scalar;
      const analyticX = tf.grad(mixed)(x0).dataSync();
      const xValues = x0.dataSync() as Float32Array;
      for (let i = 0; i < xValues.length; i++) {
        const numeric = centralDifference((v) => mixed(tf.tensor2d(v, [2, 2])).dataSync()[0]!, xValues, i, 1e-3);
        assert.ok(
          Math.abs(analyticX[i]! - numeric) <= 2e-2 * Math.max(1, Math.abs(numeric)),
          `${label}: mixed d/dx[${i}] ${analyticX[i]} vs ${numeric}`,
        );
      }
      tf.dispose([x0, kernel0, readout, direction]);
    }
  }
});
