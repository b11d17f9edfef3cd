import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@gantry/core';
import { GRID_25, RING_8 } from './mixture-modes.js';
import { modeCoverage } from './mode-coverage.js';
import { meanWithStandardError } from './statistics.js';

test('the standard centre sets: 25 grid points two apart, 8 points on the unit circle', () => {
  assert.equal(GRID_25.centres.length, 25);
  assert.deepEqual(GRID_25.centres[0], [-4, -4]);
  assert.deepEqual(GRID_25.centres[24], [4, 4]);
  assert.equal(new Set(GRID_25.centres.map((c) => c.join())).size, 25);
  assert.equal(RING_8.centres.length, 8);
  for (const [x, y] of RING_8.centres) assert.ok(Math.abs(Math.hypot(x, y) - 1) < 1e-15);
  assert.deepEqual(
    RING_8.centres[2]!.map((v) => Math.round(v * 1e12) / 1e12),
    [0, 1],
  );
});

test('samples exactly at each centre: every mode, 100 % HQ, reverse KL 0', () => {
  const samples = GRID_25.centres.flatMap((c) => [c, c, c, c].flat());
  const result = modeCoverage(samples, GRID_25.centres, GRID_25.sigma);
  assert.equal(result.modes, 25);
  assert.equal(result.highQualityFraction, 1);
  assert.equal(result.reverseKl, 0);
  assert.deepEqual(result.counts, new Array(25).fill(4));
});

test('all samples on one mode: 1 mode, reverse KL log K', () => {
  const samples = new Array(2500).fill([2, -4]).flat();
  const grid = modeCoverage(samples, GRID_25.centres, GRID_25.sigma);
  assert.equal(grid.modes, 1);
  assert.equal(grid.reverseKl, Math.log(25));
  const ring = modeCoverage(new Array(100).fill([...RING_8.centres[3]!]).flat(), RING_8.centres, RING_8.sigma);
  assert.deepEqual([ring.modes, ring.reverseKl], [1, Math.log(8)]);
});

test('HQ is strictly inside 3σ of the nearest centre, and a mode counts only HQ samples', () => {
  const sigma = 0.125; // 3σ = 0.375 exactly in binary floating point
  const centres = [
    [0, 0],
    [1, 0],
  ];
  // 0.37 < 0.375: HQ for centre 0; 0.375 exactly is not; (0.5, 0) is off both modes; (1, 0.25) is HQ for centre 1.
  const result = modeCoverage([0.37, 0, 0, 0.375, 0.5, 0, 1, 0.25], centres, sigma);
  assert.deepEqual(result.counts, [1, 1]);
  assert.equal(result.highQualityFraction, 0.5);
  assert.equal(result.reverseKl, 0);
  // A mode whose only nearby samples are outside 3σ is not captured.
  const missed = modeCoverage([0, 0, 1.5, 0], centres, sigma);
  assert.deepEqual([missed.modes, missed.counts], [1, [1, 0]]);
  assert.equal(missed.reverseKl, Math.log(2));
  // No HQ sample at all: the HQ histogram, hence reverse KL, is undefined.
  const none = modeCoverage([5, 5, NaN, 0], centres, sigma);
  assert.deepEqual([none.modes, none.highQualityFraction, none.reverseKl], [0, 0, null]);
});

test('samples drawn from the mixture: ~98.9 % HQ (a 2-D normal lies within 3σ with probability 1 − e^{−4.5}) and reverse KL near 0', () => {
  const rng = Rng.fromSeed(9);
  for (const mixture of [GRID_25, RING_8]) {
    const samples: number[] = [];
    for (let i = 0; i < 2500; i++) {
      const centre = mixture.centres[rng.nextInt(mixture.centres.length)]!;
      samples.push(centre[0] + mixture.sigma * rng.nextNormal(), centre[1] + mixture.sigma * rng.nextNormal());
    }
    const result = modeCoverage(samples, mixture.centres, mixture.sigma);
    assert.equal(result.modes, mixture.centres.length);
    // The fraction of a 2-D standard normal within radius 3 is 1 − e^{−9/2} ≈ 0.98889; s.e. over 2500 ≈ 0.002.
    assert.ok(
      Math.abs(result.highQualityFraction - (1 - Math.exp(-4.5))) < 0.01,
      `${mixture.name}: HQ ${result.highQualityFraction}`,
    );
    // Multinomial noise alone: E[KL] ≈ (K − 1) / (2N) ≈ 0.005 for the grid.
    assert.ok(result.reverseKl !== null && result.reverseKl < 0.02, `${mixture.name}: reverse KL ${result.reverseKl}`);
  }
});

test('mode coverage names the bad argument', () => {
  assert.throws(() => modeCoverage([0, 0], [], 1), /at least one mode centre/);
  assert.throws(() => modeCoverage([0, 0], [[0, 0], [1]], 1), /centres\[1\] must be 2 finite coordinates/);
  assert.throws(() => modeCoverage([0, 0, 1], [[0, 0]], 1), /whole number of 2-coordinate points, got 3/);
  assert.throws(() => modeCoverage([0, 0], [[0, 0]], 0), /sigma must be a finite number > 0, got 0/);
});

test('mean and standard error: sample standard deviation over √n', () => {
  const result = meanWithStandardError([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.equal(result.mean, 5);
  // Σ(x − 5)² = 32, s² = 32 / 7, s.e. = √(32 / 7 / 8).
  assert.ok(Math.abs(result.standardError! - Math.sqrt(32 / 56)) < 1e-15);
  assert.deepEqual(meanWithStandardError([3]), { mean: 3, standardError: null, n: 1 });
  assert.throws(() => meanWithStandardError([]), /at least one value/);
});
