import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../backend/select.js';
import { runExperiment } from './runner.js';
import { bestResponseBranches, gaussian1dExperiment, type Gaussian1dResult } from './gaussian-1d.js';

test('the two-sided branches are stationary points of D’s expected loss θD·θG + λ(|θD| − 1)², checked by finite differences', () => {
  const lambda = 1.5;
  for (const thetaG of [-1, 0.3, 2]) {
    const loss = (d: number): number => d * thetaG + lambda * (Math.abs(d) - 1) ** 2;
    for (const d of bestResponseBranches('gradient', lambda, thetaG)) {
      if (d === 0) continue;
      const h = 1e-6;
      assert.ok(Math.abs((loss(d + h) - loss(d - h)) / (2 * h)) < 1e-6, `θG ${thetaG}, θD ${d}`);
    }
  }
});

test('gaussian-1d --quick: WGAN-GP under best-response training follows θG(t) = λ + (θG₀ − λ)(1 − ηG/λ)^t to the spurious equilibrium; the one-sided runs stay near 0', async () => {
  await selectBackend('wasm');
  const out = await mkdtemp(join(tmpdir(), 'gantry-gaussian-1d-'));
  try {
    const { summary } = await runExperiment(gaussian1dExperiment, { outDir: out, quick: true, log: () => {} });
    const p = gaussian1dExperiment.parameters.quick;
    const results = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(join(out, 'results.json'), 'utf8'))) as {
      units: { unit: { id: string }; result: Gaussian1dResult }[];
    };
    const unit = (id: string): Gaussian1dResult => results.units.find((u) => u.unit.id === id)!.result;
    // With D on its + branch, G's manifold gradient is −1 + θG/λ, so SGD contracts θG − λ by (1 − ηG/λ) a step.
    const best = unit('gradient_best-response');
    best.steps.forEach((t, k) => {
      const expected = p.lambda + (p.initialShift - p.lambda) * (1 - p.generatorLearningRate / p.lambda) ** t;
      assert.ok(Math.abs(best.generatorShift[k]! - expected) < 0.06, `step ${t}: θG ${best.generatorShift[k]} vs ${expected}`);
    });
    assert.ok(
      Math.abs(best.final.criticWeight - (1 - best.final.generatorShift / (2 * p.lambda))) < 0.05,
      'D ends on the + branch',
    );
    for (const id of ['one-sided_best-response', 'one-sided_alternating'])
      assert.ok(unit(id).lastTenth.maxAbsShift < 0.35, `${id}: ${unit(id).lastTenth.maxAbsShift}`);
    assert.match(summary.table, /WGAN-GP \(two-sided\), best-response/);
    assert.deepEqual((await readdir(out)).filter((f) => f.endsWith('.png')).sort(), ['phase-portrait.png', 'theta-g.png']);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
