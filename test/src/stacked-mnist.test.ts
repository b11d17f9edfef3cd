// The Stacked MNIST experiment end to end at its quick settings: both methods train, their samples are
// counted by the shipped MNIST classifier; gantry eval scores a unit's run beside stacks of real test
// digits; gantry report renders the experiment folder's table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGantry } from './cli.js';

test('gantry experiment stacked-mnist --quick, then eval of a unit and the report of the folder', async () => {
  const out = await mkdtemp(join(tmpdir(), 'gantry-stacked-'));
  try {
    const experiment = await runGantry(['experiment', 'stacked-mnist', '--quick', '--out', out]);
    assert.equal(experiment.code, 0, experiment.stderr);
    assert.match(experiment.stdout, /\| DCGAN +\| 1 +\| [\d.]+ +\| [\d.]+ +\| 99\.0 +\| 3\.40 /);
    assert.match(experiment.stdout, /\| PacDCGAN2 +\| 1 +\| [\d.]+ +\| [\d.]+ +\| 1000\.0 +\| 0\.06 /);
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as {
      summary: { rows: Array<{ modes: { mean: number } }> };
    };
    for (const row of results.summary.rows)
      assert.ok(row.modes.mean >= 1 && row.modes.mean <= 200, `modes ${row.modes.mean} of 200 samples`);

    const evaluation = await runGantry(['eval', '--run', join(out, 'units', 'DCGAN-seed0', 'run'), '--samples', '300']);
    assert.equal(evaluation.code, 0, evaluation.stderr);
    const report = JSON.parse(await readFile(join(out, 'units', 'DCGAN-seed0', 'run', 'eval.json'), 'utf8')) as {
      kind: string;
      evaluation: { realVsReal: { modes: number; klToUniform: number; samples: number } };
    };
    assert.equal(report.kind, 'stacked');
    // 300 draws over 1 000 equally likely triples reach about 1 000·(1 − e^−0.3) ≈ 259 of them.
    assert.ok(report.evaluation.realVsReal.modes > 200, `real stacks cover ${report.evaluation.realVsReal.modes} modes`);

    const page = await runGantry(['report', out]);
    assert.equal(page.code, 0, page.stderr);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    assert.match(html, /<th>method<\/th><th>runs<\/th><th>modes \(of 1000\)<\/th>/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
