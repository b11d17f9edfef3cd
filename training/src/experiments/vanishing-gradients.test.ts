import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../backend/select.js';
import { runExperiment } from './runner.js';
import { vanishingGradientsExperiment, type VanishingGradientsResult } from './vanishing-gradients.js';

test('vanishing-gradients --quick: at D(G(z)) ≈ ½ the two losses’ gradients σ(l)∇l and (1 − σ(l))∇l have equal norms', async () => {
  await selectBackend('wasm');
  const out = await mkdtemp(join(tmpdir(), 'gantry-vanishing-'));
  try {
    const { summary } = await runExperiment(vanishingGradientsExperiment, { outDir: out, quick: true, log: () => {} });
    const units = (summary.numbers as { units: unknown[] }).units;
    assert.equal(units.length, 1);
    const { readFile } = await import('node:fs/promises');
    const r = (JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { units: { result: VanishingGradientsResult }[] })
      .units[0]!.result;
    const p = vanishingGradientsExperiment.parameters.quick;
    assert.deepEqual(
      r.discriminatorSteps,
      Array.from({ length: p.discriminatorSteps / p.measureEvery + 1 }, (_, k) => k * p.measureEvery),
    );
    // A fresh D: D(G(z)) = σ(l) ≈ ½ on every sample, so the two gradients differ only by sign.
    const p0 = r.fakeProbability[0]!;
    assert.ok(Math.abs(p0 - 0.5) < 0.02, `D(G(z)) ${p0}`);
    const ratio = r.losses.minimax.mean[0]! / r.losses['non-saturating'].mean[0]!;
    assert.ok(Math.abs(ratio - 1) < 0.1, `minimax/non-saturating norm ratio ${ratio}`);
    for (const loss of ['minimax', 'non-saturating'] as const)
      r.losses[loss].mean.forEach((v) => assert.ok(Number.isFinite(v) && v > 0));
    assert.deepEqual((await readdir(out)).filter((f) => f.endsWith('.png')).sort(), [
      'gradient-norm.png',
      'gradient-variance.png',
    ]);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
