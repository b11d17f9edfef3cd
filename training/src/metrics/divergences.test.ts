import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Rng } from '@gantry/core';
import { histogram, jsDivergence, klDivergence } from './divergences.js';

const close = (actual: number, expected: number, tolerance: number, what: string): void => {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
};

test('KL of two Bernoullis equals its closed form, in nats, from counts or probabilities', () => {
  const [a, b] = [0.3, 0.8];
  const expected = a * Math.log(a / b) + (1 - a) * Math.log((1 - a) / (1 - b));
  close(klDivergence([a, 1 - a], [b, 1 - b]), expected, 1e-15, 'probabilities');
  close(klDivergence([30, 70], [8, 2]), expected, 1e-15, 'counts are normalised');
});

test('KL(p ‖ uniform) = log K − H(p), and KL is 0 only for equal distributions', () => {
  const p = [0.5, 0.25, 0.125, 0.125];
  const entropy = -p.reduce((sum, x) => sum + x * Math.log(x), 0);
  close(klDivergence(p, [1, 1, 1, 1]), Math.log(4) - entropy, 1e-15, 'KL to uniform');
  assert.equal(klDivergence([1, 2, 3], [2, 4, 6]), 0);
  assert.equal(klDivergence([1, 0, 0], [1, 1, 1]), Math.log(3), 'a point mass is log K from uniform');
});

test('KL is +∞ where P has mass and Q has none; a pseudo-count makes it finite and it grows as the count shrinks', () => {
  assert.equal(klDivergence([5, 5, 0], [0, 5, 5]), Infinity);
  assert.equal(klDivergence([0, 5, 5], [1, 5, 5]), klDivergence([0, 1, 1], [1, 5, 5]), '0·log 0 counts as 0');
  // Disjoint supports, 100 counts each over 2 + 2 bins, α added to all 4 bins.
  for (const alpha of [0.5, 1e-3]) {
    const smoothed = klDivergence([50, 50, 0, 0], [0, 0, 50, 50], { pseudoCount: alpha });
    const total = 100 + 4 * alpha;
    const [hi, lo] = [(50 + alpha) / total, alpha / total];
    close(smoothed, 2 * hi * Math.log(hi / lo) + 2 * lo * Math.log(lo / hi), 1e-12, `α = ${alpha}`);
  }
  assert.ok(klDivergence([50, 0], [0, 50], { pseudoCount: 1e-3 }) > klDivergence([50, 0], [0, 50], { pseudoCount: 0.5 }));
});

test('JS is log 2 for disjoint supports, 0 for equal ones, symmetric and bounded', () => {
  assert.equal(jsDivergence([3, 0, 0], [0, 1, 1]), Math.LN2);
  assert.equal(jsDivergence([1, 2, 3], [1, 2, 3]), 0);
  const rng = Rng.fromSeed(4);
  for (let trial = 0; trial < 20; trial++) {
    const p = Array.from({ length: 6 }, () => (rng.nextFloat() < 0.3 ? 0 : rng.nextFloat()));
    const q = Array.from({ length: 6 }, () => rng.nextFloat());
    const js = jsDivergence(p, q);
    close(js, jsDivergence(q, p), 1e-15, 'symmetry');
    assert.ok(js >= 0 && js <= Math.LN2);
  }
});

test('KL and JS agree with PyTorch', {
  skip:
    spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0 ? false : 'PyTorch is not installed',
}, () => {
  const rng = Rng.fromSeed(11);
  const cases = Array.from({ length: 5 }, () => {
    const p = Array.from({ length: 7 }, () => (rng.nextFloat() < 0.2 ? 0 : rng.nextFloat() * 10));
    const q = Array.from({ length: 7 }, () => 0.01 + rng.nextFloat() * 10);
    return { p, q };
  });
  // torch.kl_div(log q, p) sums p·(log p − log q) with 0·log 0 = 0: an independent implementation.
  const script = `
import json, sys, torch
out = []
for c in json.load(sys.stdin):
    p = torch.tensor(c['p'], dtype=torch.float64); p = p / p.sum()
    q = torch.tensor(c['q'], dtype=torch.float64); q = q / q.sum()
    m = (p + q) / 2
    kl = lambda a, b: torch.nn.functional.kl_div(b.log(), a, reduction='sum').item()
    out.append([kl(p, q), 0.5 * kl(p, m) + 0.5 * kl(q, m)])
print(json.dumps(out))`;
  const result = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const reference = JSON.parse(result.stdout) as [number, number][];
  cases.forEach(({ p, q }, i) => {
    close(klDivergence(p, q), reference[i]![0], 1e-12, `KL case ${i}`);
    close(jsDivergence(p, q), reference[i]![1], 1e-12, `JS case ${i}`);
  });
});

test('divergences name the bad argument', () => {
  assert.throws(() => klDivergence([1, 2], [1, 2, 3]), /same non-zero number of bins, got 2 and 3/);
  assert.throws(() => klDivergence([1, -1], [1, 1]), /p\[1\] must be a finite number ≥ 0, got -1/);
  assert.throws(() => jsDivergence([0, 0], [1, 1]), /p has no mass/);
  assert.throws(() => klDivergence([1], [1], { pseudoCount: -0.5 }), /pseudoCount must be a finite number ≥ 0/);
});

test('histogram counts points in row-major product bins and refuses points outside', () => {
  const axes = [
    { lo: 0, hi: 2, bins: 2 },
    { lo: 0, hi: 3, bins: 3 },
  ];
  // (x, y) pairs: bin index = xBin * 3 + yBin; a value equal to hi falls in the last bin.
  const counts = histogram([0.1, 0.1, 1.5, 2.9, 2, 3, 0.99, 1.0, 0, 2.5], axes);
  assert.deepEqual(Array.from(counts), [1, 1, 1, 0, 0, 2]);
  assert.throws(
    () => histogram([2.5, 1], axes),
    /point 0 has coordinate 0 = 2.5, outside the histogram range \[0, 2\]; widen axes\[0\]/,
  );
  assert.throws(() => histogram([1, 1, 1], axes), /not a multiple of the 2 coordinates/);
  assert.throws(() => histogram([1], [{ lo: 1, hi: 1, bins: 2 }]), /axes\[0\] must have finite lo < hi/);
});
