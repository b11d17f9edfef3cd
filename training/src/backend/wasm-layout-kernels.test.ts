import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './select.js';
import { simplifyTranspose, swapMatMulOperands, tileInto } from './wasm-layout-kernels.js';
import { onBoth } from './test-support.js';

test('Tile on wasm equals the cpu backend for every rank, repeat pattern and dtype', async () => {
  const cases: { shape: number[]; reps: number[] }[] = [
    { shape: [1, 1, 1, 64], reps: [64, 14, 14, 1] },
    { shape: [1, 6272], reps: [3, 1] },
    { shape: [2, 3], reps: [2, 3] },
    { shape: [3], reps: [4] },
    { shape: [2, 1, 3], reps: [1, 5, 2] },
    { shape: [2, 2, 1, 2, 1], reps: [2, 1, 3, 1, 2] },
    { shape: [4, 5], reps: [1, 1] },
  ];
  for (const { shape, reps } of cases) {
    for (const dtype of ['float32', 'int32'] as const) {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: size }, (_, i) => (dtype === 'int32' ? i - 3 : i * 0.5 - 1));
      const { cpu, wasm } = await onBoth(() =>
        tf.tidy(() => Array.from(tf.tile(tf.tensor(values, shape, dtype), reps).dataSync())),
      );
      assert.deepEqual(wasm, cpu, `tile ${JSON.stringify(shape)} × ${JSON.stringify(reps)} (${dtype})`);
    }
  }
});

test('UnsortedSegmentSum on wasm equals the cpu backend (rows summed per segment, out-of-range ids dropped)', async () => {
  // tfjs takes 1-D segment ids only.
  const cases: { shape: number[]; ids: number[]; segments: number }[] = [
    { shape: [6, 3], ids: [0, 2, 2, 1, 0, 2], segments: 4 },
    { shape: [5], ids: [1, 1, 3, 0, 1], segments: 4 },
    { shape: [4, 2, 3], ids: [3, -1, 0, 7], segments: 4 },
  ];
  for (const { shape, ids, segments } of cases) {
    for (const dtype of ['float32', 'int32'] as const) {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: size }, (_, i) => (dtype === 'int32' ? i - 4 : i * 0.25 - 1));
      const { cpu, wasm } = await onBoth(() =>
        tf.tidy(() => {
          const out = tf.unsortedSegmentSum(tf.tensor(values, shape, dtype), tf.tensor1d(ids, 'int32'), segments);
          return { shape: out.shape, values: Array.from(out.dataSync()) };
        }),
      );
      assert.deepEqual(wasm, cpu, `segment sum ${JSON.stringify(shape)} ids ${JSON.stringify(ids)} (${dtype})`);
    }
  }
});

test('an Embedding gradient (Gather backward) trains on wasm as on cpu', async () => {
  const { cpu, wasm } = await onBoth(() =>
    tf.tidy(() => {
      const table = tf.tensor2d([
        [1, 2],
        [3, 4],
        [5, 6],
      ]);
      const grad = tf.grad((t: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.gather(t, tf.tensor1d([2, 0, 2], 'int32')),
            tf.tensor2d([
              [1, 2],
              [3, 4],
              [5, 6],
            ]),
          ),
        ),
      )(table);
      return Array.from(grad.dataSync());
    }),
  );
  assert.deepEqual(wasm, cpu);
  assert.deepEqual(wasm, [3, 4, 0, 0, 6, 8]);
});

test('tileInto handles empty outputs', () => {
  const out = new Float32Array(0);
  tileInto(new Float32Array(0), [0, 3], [2, 2], out);
  assert.equal(out.length, 0);
});

test('BatchMatMul with transposed operands on wasm equals the cpu backend, on either side of the product', async () => {
  // [m, k, n]: the first keeps the operands' sides; the others (a small left operand, odd and
  // SIMD-transposable sizes, a single row) take the product transposed where an operand is.
  const sizes: [number, number, number][] = [
    [5, 7, 4],
    [3, 9, 13],
    [8, 12, 20],
    [1, 6, 9],
  ];
  for (const [m, k, n] of sizes) {
    for (const [transposeA, transposeB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      for (const batch of [[], [1], [3]] as number[][]) {
        const aShape = [...batch, ...(transposeA ? [k, m] : [m, k])];
        const bShape = [...batch, ...(transposeB ? [n, k] : [k, n])];
        const { cpu, wasm } = await onBoth(() =>
          tf.tidy(() => {
            const out = tf.matMul(
              tf.randomNormal(aShape, 0, 1, 'float32', 1),
              tf.randomNormal(bShape, 0, 1, 'float32', 2),
              transposeA,
              transposeB,
            );
            return { shape: out.shape, values: Array.from(out.dataSync()) };
          }),
        );
        const label = `matmul ${m}×${k}×${n} tA=${transposeA} tB=${transposeB} batch=${JSON.stringify(batch)}`;
        assert.deepEqual(wasm.shape, cpu.shape, label);
        for (let i = 0; i < cpu.values.length; i++)
          assert.ok(
            Math.abs(cpu.values[i]! - wasm.values[i]!) <= 1e-4 * Math.max(1, Math.abs(cpu.values[i]!)),
            `${label} [${i}]`,
          );
      }
    }
  }
});

test('a transposed-operand product is swapped where packing the right operand costs more than the extra transposes', () => {
  // A maxout critic's input gradient dy[100, 1000] · W[200, 1000]ᵀ packs 100 000 floats instead of 200 000.
  assert.equal(swapMatMulOperands(100, 1000, 200, false, true), true);
  // Its weight gradient x[100, 200]ᵀ · dy[100, 1000] packs x instead of dy.
  assert.equal(swapMatMulOperands(200, 100, 1000, true, false), true);
  // A square weight gradient x[200, 400]ᵀ · dy[200, 400] would only add a transpose of the result.
  assert.equal(swapMatMulOperands(400, 200, 400, true, false), false);
  // Plain products keep the weights on the right, where XNNPACK keeps them packed between calls.
  assert.equal(swapMatMulOperands(1, 1000, 1000, false, false), false);
});

test('Identity on wasm shares the buffer and keeps it alive while either tensor lives', async () => {
  await selectBackend('wasm');
  const buffersBefore = tf.engine().backend.numDataIds();
  const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
  const y = tf.engine().runKernel('Identity', { x }, {}) as tf.Tensor;
  assert.equal(tf.engine().backend.numDataIds(), buffersBefore + 1, 'no second buffer');
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4]);
  y.dispose();
  assert.equal(tf.engine().backend.numDataIds(), buffersBefore);
});

test('Cast on wasm shares the buffer for its own dtype and converts otherwise', async () => {
  await selectBackend('wasm');
  const x = tf.tensor1d([1.5, -2.7, 3]);
  const buffersBefore = tf.engine().backend.numDataIds();
  const same = tf.cast(x, 'float32');
  assert.equal(tf.engine().backend.numDataIds(), buffersBefore, 'no second buffer');
  const ints = tf.cast(x, 'int32');
  assert.deepEqual(Array.from(ints.dataSync()), [1, -2, 3]);
  x.dispose();
  assert.deepEqual(Array.from(same.dataSync()), [1.5, -2.700000047683716, 3]);
  tf.dispose([same, ints]);
});

test('simplifyTranspose drops size-1 axes and merges axes that move together', () => {
  assert.deepEqual(simplifyTranspose([64, 14, 14, 64], [3, 1, 2, 0]), { shape: [64, 196, 64], perm: [2, 1, 0] });
  assert.deepEqual(simplifyTranspose([64, 7, 7, 128], [1, 2, 0, 3]), { shape: [64, 49, 128], perm: [1, 0, 2] });
  assert.deepEqual(simplifyTranspose([1, 64, 100], [0, 2, 1]), { shape: [64, 100], perm: [1, 0] });
  assert.deepEqual(simplifyTranspose([2, 1, 3], [1, 0, 2]), { shape: [6], perm: [0] });
});

test('Transpose on wasm equals the cpu backend for SIMD and stock cases', async () => {
  const cases: { shape: number[]; perm: number[]; dtype?: 'int32' }[] = [
    { shape: [8, 6, 5, 12], perm: [3, 1, 2, 0] },
    { shape: [12, 20], perm: [1, 0] },
    { shape: [1, 8, 16], perm: [0, 2, 1] },
    { shape: [4, 3, 3, 16], perm: [1, 2, 0, 3] },
    { shape: [6, 10], perm: [1, 0] },
    { shape: [4, 3, 3, 2], perm: [1, 2, 0, 3] },
    { shape: [2, 3, 4, 5], perm: [2, 0, 3, 1] },
    { shape: [8, 6, 5, 12], perm: [3, 1, 2, 0], dtype: 'int32' },
    { shape: [3, 4], perm: [0, 1] },
  ];
  for (const { shape, perm, dtype } of cases) {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: size }, (_, i) => (dtype === 'int32' ? i - 7 : Math.sin(i) * 3));
    const { cpu, wasm } = await onBoth(() => {
      const y = tf.tidy(() => tf.transpose(tf.tensor(values, shape, dtype ?? 'float32'), perm));
      const result = { shape: y.shape, values: Array.from(y.dataSync()) };
      y.dispose();
      return result;
    });
    assert.deepEqual(wasm, cpu, `transpose ${JSON.stringify(shape)} by ${JSON.stringify(perm)} (${dtype ?? 'float32'})`);
  }
});
