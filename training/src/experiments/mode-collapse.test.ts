import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@gantry/core';
import { runExperiment } from './runner.js';
import {
  aggregateModeCollapse,
  MIXTURES,
  modeCollapseExperiment,
  modeCollapseTable,
  type GenerateSamples,
  type ModeCollapseUnit,
} from './mode-collapse.js';

/** Synthetic "generators": GAN puts every sample exactly on a mode (cycling through all of them); PacGAN2 collapses onto one. */
const syntheticGenerate =
  (calls: string[]): GenerateSamples =>
  async (unit, p) => {
    calls.push(unit.id);
    const { centres } = MIXTURES[unit.mixture];
    const samples = new Float32Array(2 * p.samples);
    for (let i = 0; i < p.samples; i++) {
      const centre = unit.method === 'GAN' ? centres[(i + unit.seed) % centres.length]! : centres[unit.seed % centres.length]!;
      samples[2 * i] = centre[0];
      samples[2 * i + 1] = centre[1];
    }
    return samples;
  };

test('mode-collapse scores synthetic runs, aggregates over seeds and prints them beside PacGAN Table 1', async () => {
  const out = await mkdtemp(join(tmpdir(), 'gantry-mode-collapse-'));
  try {
    const calls: string[] = [];
    const experiment = modeCollapseExperiment(syntheticGenerate(calls));
    const { summary } = await runExperiment(experiment, { outDir: out, quick: true, log: () => {} });
    const rows = (summary.numbers as { rows: ReturnType<typeof aggregateModeCollapse> }).rows;
    const row = (method: string, mixture: string) => rows.find((r) => r.method === method && r.mixture === mixture)!;
    // Samples exactly at the centres, spread evenly: every mode, 100 % HQ, reverse KL 0.
    assert.deepEqual([row('GAN', 'grid-25').modes.mean, row('GAN', 'grid-25').modes.standardError], [25, 0]);
    assert.equal(row('GAN', 'grid-25').highQualityPercent.mean, 100);
    // 2 500 samples over 25 modes is exactly 100 each; over 8 modes it is 312 or 313, so KL is tiny but not 0.
    assert.equal(row('GAN', 'grid-25').reverseKl!.mean, 0);
    assert.ok(row('GAN', 'ring-8').reverseKl!.mean < 1e-5);
    // Everything on one mode: 1 mode, reverse KL = log K.
    assert.equal(row('PacGAN2', 'grid-25').modes.mean, 1);
    assert.ok(Math.abs(row('PacGAN2', 'grid-25').reverseKl!.mean - Math.log(25)) < 1e-12);
    assert.ok(Math.abs(row('PacGAN2', 'ring-8').reverseKl!.mean - Math.log(8)) < 1e-12);
    assert.equal(row('PacGAN2', 'ring-8').runs, 2);

    assert.match(
      summary.table,
      /\| GAN \(Gantry, 2 runs\) +\| 8\.0±0\.0 +\| 100\.0±0\.0 +\| 0\.00±0\.00 +\| 25\.0±0\.0 +\| 100\.0±0\.0 +\| 0\.00±0\.00 +\|/,
    );
    assert.match(
      summary.table,
      /\| PacGAN2 \(Gantry, 2 runs\) +\| 1\.0±0\.0 +\| 100\.0±0\.0 +\| 2\.08±0\.00 +\| 1\.0±0\.0 +\| 100\.0±0\.0 +\| 3\.22±0\.00 +\|/,
    );
    assert.match(
      summary.table,
      /\| GAN \(PacGAN Table 1\) +\| 6\.3±0\.5 +\| 98\.2±0\.2 +\| 0\.45±0\.09 +\| 17\.3±0\.8 +\| 94\.8±0\.7 +\| 0\.70±0\.07 +\|/,
    );
    assert.doesNotMatch(summary.table, /PacGAN3/, 'only the methods that were run are listed');
    assert.equal(calls.length, 8);
    assert.deepEqual(await readdir(join(out, 'units', 'grid-25_GAN_seed0')), ['samples.npy']);
    assert.equal((await readdir(out)).filter((f) => f.startsWith('samples-')).length, 4);

    // Scores are recomputed from the kept samples without generating them again.
    await rm(join(out, 'units', 'ring-8_GAN_seed1.json'));
    await runExperiment(experiment, { outDir: out, quick: true, log: () => {} });
    assert.equal(calls.length, 8);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('aggregation gives mean ± standard error over seeds, and reverse KL only over runs with HQ samples', () => {
  const unit = (seed: number): ModeCollapseUnit => ({ id: `u${seed}`, method: 'GAN', mixture: 'ring-8', seed });
  const rows = aggregateModeCollapse([
    { unit: unit(0), result: { modes: 6, highQualityPercent: 90, reverseKl: 0.5, counts: [] } },
    { unit: unit(1), result: { modes: 8, highQualityPercent: 100, reverseKl: 0.1, counts: [] } },
    { unit: unit(2), result: { modes: 0, highQualityPercent: 0, reverseKl: null, counts: [] } },
  ]);
  assert.equal(rows.length, 1);
  const [row] = rows;
  assert.equal(row!.modes.mean, 14 / 3);
  // Sample variance of (6, 8, 0): (104/3) / 2 = 52/3; s.e. = √(52/3 / 3) ≈ 2.40.
  assert.ok(Math.abs(row!.modes.standardError! - Math.sqrt(52 / 3 / 3)) < 1e-12);
  assert.deepEqual([row!.reverseKl!.n, row!.reverseKl!.mean], [2, 0.3]);
  assert.match(
    modeCollapseTable(rows),
    /\| GAN \(Gantry, 3 runs\) +\| 4\.7±2\.4 +\| 63\.3±31\.8 +\| 0\.30±0\.20 +\| – +\| – +\| – +\|/,
  );
});

test('generated samples of the wrong size are refused with the expected size', async () => {
  const out = await mkdtemp(join(tmpdir(), 'gantry-mode-collapse-'));
  try {
    const experiment = modeCollapseExperiment(async () => new Float32Array(10));
    await assert.rejects(
      runExperiment(experiment, { outDir: out, quick: true, log: () => {} }),
      /holds 10 values; the mode-collapse experiment needs 2500 2-D samples \(5000 values\)/,
    );
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('samples drawn from the mixtures score near the ideal', async () => {
  // Independent of the synthetic generators above: Gaussian noise with the mixture's own σ.
  const rng = Rng.fromSeed(3);
  const generate: GenerateSamples = async (unit, p) => {
    const { centres, sigma } = MIXTURES[unit.mixture];
    const samples = new Float32Array(2 * p.samples);
    for (let i = 0; i < p.samples; i++) {
      const c = centres[rng.nextInt(centres.length)]!;
      samples[2 * i] = c[0] + sigma * rng.nextNormal();
      samples[2 * i + 1] = c[1] + sigma * rng.nextNormal();
    }
    return samples;
  };
  const experiment = modeCollapseExperiment(generate);
  const unit: ModeCollapseUnit = { id: 'x', method: 'GAN', mixture: 'grid-25', seed: 0 };
  const out = await mkdtemp(join(tmpdir(), 'gantry-mode-collapse-'));
  try {
    const result = await experiment.run(unit, experiment.parameters.full, { unitDir: out, log: () => {} });
    assert.equal(result.modes, 25);
    assert.ok(result.highQualityPercent > 97.5 && result.highQualityPercent < 100, `HQ ${result.highQualityPercent}`);
    assert.ok(result.reverseKl! < 0.02);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
