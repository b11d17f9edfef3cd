// Every shipped model whose card records evaluation metrics is evaluated again from its ONNX file with
// the same sample count and seed (gantry eval --model), and the card's figures must come back within
// the tolerances below: the run is deterministic but for float rounding in a different summation order
// (threads), which moves the Fréchet distance's eigenvalues by far less than these bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runGantry } from './cli.js';

/** Absolute tolerance per card metric (relative for the Fréchet distances). */
const TOLERANCE: Record<string, { absolute?: number; relative?: number }> = {
  frechetDistance: { relative: 0.01 },
  frechetDistanceRealVsReal: { relative: 0.01 },
  inceptionScore: { absolute: 0.01 },
  inceptionScoreReal: { absolute: 0.01 },
  confident: { absolute: 0.002 },
  classesCovered: { absolute: 0 },
  classMaxMinRatio: { absolute: 0.01 },
  precision: { absolute: 0.002 },
  recall: { absolute: 0.002 },
  classAccuracy: { absolute: 0.002 },
  evaluationSamples: { absolute: 0 },
  evaluationSeed: { absolute: 0 },
};

const modelsDir = join(repoRoot, 'models');
const shipped: Array<{ name: string; metrics: Record<string, number> }> = [];
for (const name of (await readdir(modelsDir)).sort()) {
  const card = await readFile(join(modelsDir, name, 'card.json'), 'utf8').then(
    (text) => JSON.parse(text) as { metrics?: Record<string, number> },
    () => null,
  );
  if (card?.metrics?.evaluationSamples !== undefined) shipped.push({ name, metrics: card.metrics });
}

test('the zoo ships evaluated models', () => {
  assert.ok(shipped.length >= 1, 'at least one model card records gantry eval metrics');
});

for (const { name, metrics } of shipped) {
  test(`${name}: gantry eval from generator.onnx reproduces the card's metrics`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gantry-zoo-'));
    try {
      const out = join(dir, 'metrics.json');
      // --out and --no-card leave the shipped metrics.json and card.json as they are.
      const args = [
        'eval',
        '--model',
        join(modelsDir, name),
        '--samples',
        String(metrics.evaluationSamples),
        '--seed',
        String(metrics.evaluationSeed ?? 0),
      ];
      const result = await runGantry([...args, '--out', out, '--no-card'], { timeoutMs: 600_000 });
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(await readFile(out, 'utf8')) as { cardMetrics: Record<string, number> };
      for (const [key, expected] of Object.entries(metrics)) {
        const tolerance = TOLERANCE[key];
        if (tolerance === undefined) continue;
        const actual = report.cardMetrics[key]!;
        const bound = tolerance.relative !== undefined ? tolerance.relative * Math.abs(expected) : tolerance.absolute!;
        assert.ok(
          Math.abs(actual - expected) <= bound,
          `${name} ${key}: card ${expected}, recomputed ${actual} (tolerance ${bound})`,
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
