import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@gantry/core';
import { minres } from './minres.js';

/** x with A x = b by Gaussian elimination with partial pivoting (float64), the independent reference. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = col + 1; r < n; r++) {
      const f = m[r]![col]! / m[col]![col]!;
      for (let c = col; c <= n; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--)
    x[r] = (m[r]![n]! - m[r]!.slice(r + 1, n).reduce((s, v, k) => s + v * x[r + 1 + k]!, 0)) / m[r]![r]!;
  return x;
}

function symmetricIndefinite(n: number, rng: Rng): number[][] {
  const a = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i]![j] = a[j]![i] = 2 * rng.nextFloat() - 1;
  return a;
}

const operator =
  (a: number[][]) =>
  (v: Float64Array): Float64Array =>
    Float64Array.from(a.map((row) => row.reduce((s, aij, j) => s + aij * v[j]!, 0)));

test('n MINRES iterations solve an n×n symmetric indefinite system, from zero and from a warm start', () => {
  const rng = Rng.fromSeed(8);
  const n = 7;
  const a = symmetricIndefinite(n, rng);
  const b = Float64Array.from({ length: n }, () => 2 * rng.nextFloat() - 1);
  const exact = solve(a, Array.from(b));
  for (const x0 of [new Float64Array(n), Float64Array.from({ length: n }, () => rng.nextFloat())]) {
    const { x, residualNorm } = minres(operator(a), b, x0, n);
    x.forEach((xi, i) => assert.ok(Math.abs(xi - exact[i]!) < 1e-8, `x[${i}] = ${xi}, exact ${exact[i]}`));
    assert.ok(residualNorm < 1e-8, `residual ${residualNorm}`);
  }
  // Started at the solution it does no work.
  assert.equal(minres(operator(a), b, Float64Array.from(exact), n).iterations, 0);
});

test('the residual never grows with more iterations; a singular inconsistent system gets its least-squares solution', () => {
  const rng = Rng.fromSeed(12);
  const n = 8;
  const a = symmetricIndefinite(n, rng);
  const b = Float64Array.from({ length: n }, () => rng.nextFloat());
  const norm = (x: Float64Array): number => {
    const ax = operator(a)(x);
    return Math.hypot(...b.map((bi, i) => bi - ax[i]!));
  };
  let previous = Infinity;
  for (let k = 1; k <= n; k++) {
    const residual = norm(minres(operator(a), b, new Float64Array(n), k, 0).x);
    assert.ok(residual <= previous + 1e-12, `iteration ${k}: residual ${residual} after ${previous}`);
    previous = residual;
  }
  // diag(2, −1, 0) x = (2, 3, 5): the least-squares solutions are (1, −3, t); the residual is 5.
  const singular = [
    [2, 0, 0],
    [0, -1, 0],
    [0, 0, 0],
  ];
  const { x, residualNorm } = minres(operator(singular), Float64Array.from([2, 3, 5]), new Float64Array(3), 10);
  assert.ok(Math.abs(x[0]! - 1) < 1e-12 && Math.abs(x[1]! + 3) < 1e-12, `x = ${Array.from(x)}`);
  assert.ok(Math.abs(residualNorm - 5) < 1e-9, `residual ${residualNorm}`);
});
