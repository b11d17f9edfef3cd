import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleLatents } from './latents.js';
import { LatentRequestError, generateLatents, planArithmetic, planInterpolation, sampleRows, seedLatent } from './requests.js';

const spec = { size: 8, distribution: 'normal' as const };

test('a seed names the first row that {n, seed} draws, and {n, seed} is sampleLatents', () => {
  assert.deepEqual(seedLatent(spec, 7), sampleLatents(spec, 3, 7).subarray(0, 8));
  assert.deepEqual(generateLatents(spec, { n: 3, seed: 7 }), sampleLatents(spec, 3, 7));
  assert.deepEqual(generateLatents(spec, { seeds: [7, 9] }).subarray(8), seedLatent(spec, 9));
});

test('truncation keeps every component within the threshold and is deterministic', () => {
  const a = sampleRows(spec, 50, 3, 0.5);
  assert.ok(a.every((v) => Math.abs(v) <= 0.5));
  assert.deepEqual(a, sampleRows(spec, 50, 3, 0.5));
  assert.throws(() => sampleRows({ size: 2, distribution: 'uniform' }, 1, 0, 1), LatentRequestError);
});

test('interpolation frames start and end on the key points; a loop returns to the first', () => {
  const plan = planInterpolation(spec, { seeds: [1, 2, 3], steps: 5, method: 'slerp' });
  assert.equal(plan.frames, 9);
  assert.deepEqual(plan.keyFrames, [0, 4, 8]);
  for (const [i, seed] of [
    [0, 1],
    [4, 2],
    [8, 3],
  ] as const)
    assert.deepEqual(plan.latents.subarray(i * 8, i * 8 + 8), seedLatent(spec, seed));
  const loop = planInterpolation(spec, { seeds: [1, 2], steps: 4, loop: true });
  assert.equal(loop.frames, 6);
  assert.deepEqual(loop.keyFrames, [0, 3]);
});

test('arithmetic: each term is the mean of its latents; one term of coefficient 1 is its latent', () => {
  const single = planArithmetic(spec, [{ coef: 1, seeds: [5] }]);
  assert.deepEqual(single.result, seedLatent(spec, 5));
  const plan = planArithmetic(spec, [
    { coef: 1, seeds: [1, 2] },
    { coef: -1, seeds: [3] },
    { coef: 1, seeds: [4] },
  ]);
  const [a, b, c, d] = [1, 2, 3, 4].map((s) => seedLatent(spec, s));
  for (let j = 0; j < 8; j++) {
    const expected = (a![j]! + b![j]!) / 2 - c![j]! + d![j]!;
    assert.ok(Math.abs(plan.result[j]! - expected) < 1e-5);
  }
  assert.deepEqual([...plan.termOf], [0, 0, 1, 2]);
  assert.throws(() => planArithmetic(spec, [{ coef: 1, seeds: [1], latents: [[0]] }]), /terms\[0\]\.seeds/);
});
