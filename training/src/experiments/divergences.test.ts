import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { divergencesExperiment, parallelLinesClosedForm, type DivergencesResult } from './divergences.js';
import { runExperiment } from './runner.js';

test('closed forms of the parallel-lines example', () => {
  assert.deepEqual(parallelLinesClosedForm(0), { w: 0, js: 0, kl: 0 });
  assert.deepEqual(parallelLinesClosedForm(-0.3), { w: 0.3, js: Math.LN2, kl: Infinity });
});

test('the quick divergences experiment: estimates beside closed forms, three plots, in seconds', async () => {
  const out = await mkdtemp(join(tmpdir(), 'gantry-divergences-'));
  try {
    const { summary } = await runExperiment(divergencesExperiment, { outDir: out, quick: true, log: () => {} });
    const numbers = summary.numbers as {
      thetas: number;
      w1MaxAbsoluteError: number;
      jsMaxAbsoluteErrorResolved: number;
      thetasResolvedByBins: number;
      thetasWithInfiniteHistogramKl: number;
      klSmoothedRange: [number, number];
    };
    const p = divergencesExperiment.parameters.quick;
    assert.equal(numbers.thetas, p.thetaSteps + 1);
    // W1 of two samples of n points is at least |θ| (Jensen) and exceeds it by the O(1/√n) mismatch of
    // the two uniform samples along y; 200 points give a few hundredths.
    assert.ok(numbers.w1MaxAbsoluteError < 0.1, `W1 error ${numbers.w1MaxAbsoluteError}`);
    // Quick θ values sit at x-bin centres: every θ ≠ 0 is resolved, so JS is exactly log 2 and KL is +∞.
    assert.equal(numbers.thetasResolvedByBins, p.thetaSteps);
    assert.ok(numbers.jsMaxAbsoluteErrorResolved < 1e-12);
    assert.equal(numbers.thetasWithInfiniteHistogramKl, p.thetaSteps);
    assert.ok(
      numbers.klSmoothedRange[0] > 1 && Number.isFinite(numbers.klSmoothedRange[1]),
      `smoothed KL ${numbers.klSmoothedRange}`,
    );
    assert.match(summary.table, /\| 0\.00 +\| 0\.000 \| 0\.0\d\d +\| 0\.000 \|/);
    assert.deepEqual((await readdir(out)).filter((f) => f.endsWith('.png')).sort(), ['divergences.png', 'kl.png', 'samples.png']);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('a θ whose segment shares a histogram bin with θ = 0 gets a small JS and a finite KL', async () => {
  const p = { ...divergencesExperiment.parameters.quick, thetaSteps: 50 };
  const unit = divergencesExperiment.units(p).find((u) => Math.abs(u.theta - 0.04) < 1e-12)!;
  const result: DivergencesResult = await divergencesExperiment.run(unit, p, { unitDir: '', log: () => {} });
  assert.equal(result.closedForm.js, Math.LN2);
  assert.ok(result.estimate.js < 0.1, `JS estimate ${result.estimate.js}`);
  assert.ok(Number.isFinite(result.estimate.kl));
  assert.ok(Math.abs(result.estimate.w1 - 0.04) < 0.1);
});
