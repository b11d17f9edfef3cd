import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@gantry/core';
import { generateToyDataset, grid25, ring8, toyMixture } from './toy.js';
import { loadDataset, sampleShape } from './datasets.js';
import { parseTrainConfig } from '../run/config.js';

function nearest(point: readonly number[], centres: readonly (readonly number[])[]): { index: number; distance: number } {
  let best = { index: -1, distance: Infinity };
  centres.forEach((c, index) => {
    const distance = Math.hypot(...c.map((ck, k) => ck - point[k]!));
    if (distance < best.distance) best = { index, distance };
  });
  return best;
}

test('grid-25 and ring-8: every mode equally likely, each point within a few σ of its mode, per-axis std σ', () => {
  assert.equal(new Set(grid25.centres.map((c) => c.join(','))).size, 25);
  assert.deepEqual(
    [grid25.centres[0], grid25.centres[24]],
    [
      [-4, -4],
      [4, 4],
    ],
  );
  // Eight distinct angles, 45° apart (the Unrolled GAN notebook's linspace repeated one).
  assert.equal(new Set(ring8.centres.map((c) => c.map((v) => v.toFixed(6)).join(','))).size, 8);
  ring8.centres.forEach((c) => assert.ok(Math.abs(Math.hypot(c[0]!, c[1]!) - 1) < 1e-12));
  for (const [name, mixture] of [
    ['grid-25', grid25],
    ['ring-8', ring8],
  ] as const) {
    const count = 20_000;
    const data = generateToyDataset(name, count, Rng.fromSeed(9));
    const k = mixture.centres.length;
    const hits = new Array<number>(k).fill(0);
    let sumSquares = 0;
    for (let i = 0; i < count; i++) {
      const p = [data.points[2 * i]!, data.points[2 * i + 1]!];
      const { index, distance } = nearest(p, mixture.centres);
      assert.ok(distance < 6 * mixture.std, `${name}: point ${p} is ${distance} from its mode`);
      hits[index]! += 1;
      sumSquares += distance ** 2;
    }
    const std = Math.sqrt(sumSquares / (2 * count));
    assert.ok(Math.abs(std / mixture.std - 1) < 0.02, `${name}: per-axis std ${std}, expected ${mixture.std}`);
    // Multinomial counts: each within 5 standard deviations of count/k.
    const expected = count / k;
    const sd = Math.sqrt(expected * (1 - 1 / k));
    hits.forEach((h, i) =>
      assert.ok(Math.abs(h - expected) < 5 * sd, `${name}: mode ${i} drew ${h} points, expected ${expected}`),
    );
  }
});

test('gaussian-1d is N(0, 1); the Swiss roll follows t·(cos t, sin t)/7.5 for t in [1.5π, 4.5π]', () => {
  const count = 50_000;
  const g = generateToyDataset('gaussian-1d', count, Rng.fromSeed(2));
  assert.equal(g.dimensions, 1);
  const mean = g.points.reduce((a, b) => a + b, 0) / count;
  const variance = g.points.reduce((a, b) => a + (b - mean) ** 2, 0) / count;
  assert.ok(Math.abs(mean) < 5 / Math.sqrt(count), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.03, `variance ${variance}`);
  assert.deepEqual(toyMixture('gaussian-1d'), { centres: [[0]], std: 1 });

  const roll = generateToyDataset('swiss-roll', 5000, Rng.fromSeed(2));
  assert.equal(toyMixture('swiss-roll'), undefined);
  let maxRadius = 0;
  for (let i = 0; i < roll.count; i++) maxRadius = Math.max(maxRadius, Math.hypot(roll.points[2 * i]!, roll.points[2 * i + 1]!));
  // Radius t/7.5 ≤ 4.5π/7.5 ≈ 1.885, plus the noise (0.25/7.5 per axis).
  assert.ok(maxRadius > 1.7 && maxRadius < 1.885 + 0.2, `largest radius ${maxRadius}`);
});

test('a toy dataset is a function of the run seed alone: same seed, same points; other seed, other points', async () => {
  const config = parseTrainConfig({ seed: 4, data: { dataset: 'ring-8', points: 1000 }, model: { architecture: 'mlp' } });
  const a = await loadDataset(config.data, { seed: config.seed });
  const b = await loadDataset(config.data, { seed: config.seed });
  const c = await loadDataset(config.data, { seed: 5 });
  assert.deepEqual(sampleShape(a), [2]);
  assert.equal(a.count, 1000);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const full = await loadDataset(parseTrainConfig({ data: { dataset: 'grid-25' }, model: { architecture: 'mlp' } }).data, {
    seed: 1,
  });
  assert.equal(full.count, 100_000, "PacGAN's 100 000 points by default");
});
