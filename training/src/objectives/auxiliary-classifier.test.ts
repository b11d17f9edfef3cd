import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.js';
import { auxiliaryClassifierLoss } from './auxiliary-classifier.js';

const logits = [
  [2, -1, 0.5, 0, 3],
  [-2, 0, 0, 1, 0.25],
  [0, 0, 0, 0, 0],
];
const labels = [4, 1, 2];
const n = logits.length;

/** softmax of one row, in float64. */
const softmax = (row: number[]): number[] => {
  const top = Math.max(...row);
  const e = row.map((v) => Math.exp(v - top));
  const total = e.reduce((a, b) => a + b);
  return e.map((v) => v / total);
};

const close = (actual: number[][], expected: number[][], what: string): void =>
  expected.forEach((row, i) =>
    row.forEach((v, j) => assert.ok(Math.abs(actual[i]![j]! - v) < 1e-6, `${what}[${i}][${j}]: ${actual[i]![j]} vs ${v}`)),
  );

for (const backend of ['cpu', 'wasm'] as const) {
  test(`the auxiliary-classifier loss, its gradient and its Hessian-vector product have their closed forms (${backend})`, async () => {
    await selectBackend(backend);
    const c = tf.tensor2d(logits);
    const y = tf.tensor2d(labels, [n, 1], 'int32');
    // Loss: mean of log Σ_k exp(c_k) − c_y.
    const expected =
      logits.map((row, i) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[labels[i]!]!).reduce((a, b) => a + b) / n;
    const loss = auxiliaryClassifierLoss(c, y).dataSync()[0]!;
    assert.ok(Math.abs(loss - expected) < 1e-6, `${loss} vs ${expected}`);
    assert.equal(
      auxiliaryClassifierLoss(c, tf.tensor1d(labels, 'int32')).dataSync()[0],
      loss,
      '[batch] and [batch, 1] labels agree',
    );
    // Gradient: (softmax(c) − onehot(y)) / n.
    const gradient = tf
      .grad((x: tf.Tensor) => auxiliaryClassifierLoss(x, y))(c)
      .arraySync() as number[][];
    close(
      gradient,
      logits.map((row, i) => softmax(row).map((p, j) => (p - (j === labels[i] ? 1 : 0)) / n)),
      'gradient',
    );
    // Second order, as unrolled and best-response training need it: H v = (diag(p) − p pᵀ) v / n per row.
    const v = logits.map((row, i) => row.map((_, j) => Math.sin(3 * i + j)));
    const direction = tf.tensor2d(v);
    const hessianVector = tf
      .grad((x: tf.Tensor) => tf.sum(tf.mul(tf.grad((z: tf.Tensor) => auxiliaryClassifierLoss(z, y))(x), direction)))(c)
      .arraySync() as number[][];
    close(
      hessianVector,
      logits.map((row, i) => {
        const p = softmax(row);
        const pv = p.reduce((s, pk, k) => s + pk * v[i]![k]!, 0);
        return p.map((pj, j) => (pj * v[i]![j]! - pj * pv) / n);
      }),
      'Hessian-vector product',
    );
    tf.dispose([c, y, direction]);
  });
}

test('the auxiliary-classifier loss names a labels or logits shape that does not fit', async () => {
  await selectBackend('cpu');
  assert.throws(
    () => auxiliaryClassifierLoss(tf.zeros([3, 5]), tf.zeros([2, 1], 'int32')),
    /labels must hold one class per sample \(\[3\] or \[3, 1\]\), got shape \[2, 1\]/,
  );
  assert.throws(
    () => auxiliaryClassifierLoss(tf.zeros([3]), tf.zeros([3], 'int32')),
    /class logits must be \[batch, classes\], got shape \[3\]/,
  );
});
