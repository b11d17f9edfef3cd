import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@gantry/core';
import { solveAssignment } from './assignment.js';
import { optimalTransportPoints, wasserstein1d } from './wasserstein.js';

const close = (actual: number, expected: number, tolerance: number, what: string): void => {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
};

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
}

function bruteForceAssignment(cost: ArrayLike<number>, n: number): number {
  return Math.min(...permutations(n).map((p) => p.reduce((sum, j, i) => sum + cost[i * n + j]!, 0)));
}

test('the assignment solver matches brute force over every permutation on small matrices', () => {
  const rng = Rng.fromSeed(1);
  for (let n = 1; n <= 7; n++) {
    for (let trial = 0; trial < 6; trial++) {
      // Small integers make ties (several optimal matchings) common; negative costs are allowed.
      const cost = Float64Array.from({ length: n * n }, () => (trial % 2 === 0 ? rng.nextInt(7) - 2 : rng.nextFloat() * 10));
      const { columnOfRow, totalCost } = solveAssignment(cost, n);
      assert.deepEqual(
        [...columnOfRow].sort((x, y) => x - y),
        Array.from({ length: n }, (_, i) => i),
        'a permutation',
      );
      const recomputed = [...columnOfRow].reduce((sum, j, i) => sum + cost[i * n + j]!, 0);
      close(totalCost, recomputed, 1e-12, 'reported cost is the matching’s cost');
      close(totalCost, bruteForceAssignment(cost, n), 1e-9, `n = ${n}, trial ${trial}`);
    }
  }
});

test('the assignment solver handles n = 0 and rejects bad input', () => {
  assert.equal(solveAssignment([], 0).totalCost, 0);
  assert.throws(() => solveAssignment([1, 2, 3], 2), /cost must hold n × n = 4 values, got 3/);
  assert.throws(() => solveAssignment([1, Infinity, 3, 4], 2), /cost\[1\] must be finite/);
});

test('1-D W1 of equal-size samples is the mean gap between sorted samples', () => {
  const rng = Rng.fromSeed(2);
  const a = Array.from({ length: 50 }, () => rng.nextNormal());
  const b = Array.from({ length: 50 }, () => 2 * rng.nextFloat());
  const sa = [...a].sort((x, y) => x - y);
  const sb = [...b].sort((x, y) => x - y);
  const expected = sa.reduce((sum, x, i) => sum + Math.abs(x - sb[i]!), 0) / 50;
  close(wasserstein1d(a, b), expected, 1e-12, 'sorted matching');
  close(
    wasserstein1d(
      a,
      a.map((x) => x - 0.7),
    ),
    0.7,
    1e-12,
    'a shift by t costs |t|',
  );
  assert.equal(wasserstein1d([1, 1, 1], [1, 1]), 0);
});

test('1-D W1 of unequal sizes equals optimal transport between the samples repeated to a common size', () => {
  const rng = Rng.fromSeed(3);
  for (const [n, m] of [
    [3, 5],
    [4, 6],
    [1, 7],
    [6, 4],
  ] as const) {
    const a = Array.from({ length: n }, () => rng.nextInt(5) + rng.nextFloat());
    const b = Array.from({ length: m }, () => rng.nextInt(5));
    // Repeating a m times and b n times gives n·m equally weighted points each: the same distributions.
    const repeatedA = Array.from({ length: n * m }, (_, k) => a[k % n]!);
    const repeatedB = Array.from({ length: n * m }, (_, k) => b[k % m]!);
    close(wasserstein1d(a, b), optimalTransportPoints(repeatedA, repeatedB, 1).distance, 1e-12, `sizes ${n}, ${m}`);
  }
  // Closed form: δ0 against the uniform distribution on {0, 1, 2, 3} costs the mean distance 1.5.
  assert.equal(wasserstein1d([0], [0, 1, 2, 3]), 1.5);
});

test('2-D optimal transport: brute force on tiny sets, |t| for a translation, the sorted matching for collinear sets', () => {
  const rng = Rng.fromSeed(5);
  for (let n = 1; n <= 6; n++) {
    const a = Array.from({ length: 2 * n }, () => rng.nextNormal());
    const b = Array.from({ length: 2 * n }, () => rng.nextNormal());
    const cost = Array.from({ length: n * n }, (_, k) =>
      Math.hypot(a[2 * Math.floor(k / n)]! - b[2 * (k % n)]!, a[2 * Math.floor(k / n) + 1]! - b[2 * (k % n) + 1]!),
    );
    close(optimalTransportPoints(a, b, 2).distance, bruteForceAssignment(cost, n) / n, 1e-12, `brute force n = ${n}`);
  }
  // W1(μ, μ + t) = |t| for any μ: Jensen bounds every coupling below by |E[Y − X]| = |t|.
  const points = Array.from({ length: 2 * 200 }, () => rng.nextNormal());
  const shifted = points.map((v, i) => v + (i % 2 === 0 ? 0.3 : -0.4));
  close(optimalTransportPoints(points, shifted, 2).distance, 0.5, 1e-12, 'translation by (0.3, −0.4)');
  // Points on one line in the plane: 2-D OT reduces to the 1-D sorted matching.
  const along = Array.from({ length: 100 }, () => rng.nextNormal());
  const other = Array.from({ length: 100 }, () => 3 * rng.nextFloat());
  const direction = [0.6, 0.8];
  const embed = (xs: number[]): number[] => xs.flatMap((x) => [x * direction[0]!, x * direction[1]!]);
  close(optimalTransportPoints(embed(along), embed(other), 2).distance, wasserstein1d(along, other), 1e-12, 'collinear');
});

test('optimal transport names the bad argument', () => {
  assert.throws(() => optimalTransportPoints([0, 0, 1, 1], [0, 0], 2), /same non-zero number of points, got 2 and 1/);
  assert.throws(() => optimalTransportPoints([0, 0, 1], [0, 0, 1], 2), /whole points of 2 coordinates/);
  assert.throws(() => wasserstein1d([], [1]), /non-empty/);
  assert.throws(() => wasserstein1d([NaN], [1]), /a\[0\] must be finite/);
});
